//! An awsJson body, decoded into the largest Cognito Identity input shape and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tegata_server::cognito_identity::shapes::{
    CreateIdentityPoolInput, GetOpenIdTokenForDeveloperIdentityInput,
};
use tegata_server::protocol::aws_json::JsonBody;
use tegata_server::validate::{Validate, Violations};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = JsonBody::parse(data) else {
        return;
    };
    let _ = body.member("IdentityPoolId");
    if let Ok(input) = body.clone().decode::<CreateIdentityPoolInput>() {
        let mut v = Violations::new();
        input.validate(&mut v);
        let _ = v.message();
    }
    if let Ok(input) = body.decode::<GetOpenIdTokenForDeveloperIdentityInput>() {
        let mut v = Violations::new();
        input.validate(&mut v);
        let _ = v.message();
    }
});
