//! An awsQuery request: query string and form body, then every typed read the services make.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tegata_server::protocol::aws_query::QueryParams;
use tegata_server::validate::Violations;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (query, body) = data.split_at(split);
    let params = QueryParams::parse(query, body);
    let mut v = Violations::new();
    let _ = params.integer("DurationSeconds", "durationSeconds", &mut v);
    let _ = params.boolean("Flag", "flag", &mut v);
    let _ = params.list("PolicyArns");
    let _ = params.struct_list("Tags");
    let _ = v.message();
});
