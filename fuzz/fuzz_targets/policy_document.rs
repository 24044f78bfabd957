//! A policy document of either kind, and what parses evaluated against a fixed request; the
//! simulator's walk over the statements' places in the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tegata_policy::{
    Context, PolicyDocument, PolicyKind, Principal, Request, evaluate, statement_positions,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut context = Context::new();
    context.insert("cognito-identity.amazonaws.com:aud", "us-east-1:pool");
    context.insert_multi(
        "cognito-identity.amazonaws.com:amr",
        vec!["authenticated".to_owned()],
    );
    let _ = statement_positions(text);
    let principal = Principal::federated("cognito-identity.amazonaws.com");
    for kind in [PolicyKind::Identity, PolicyKind::Managed, PolicyKind::Trust] {
        if let Ok(document) = PolicyDocument::parse(text, kind) {
            let _ = evaluate(
                [&document],
                &Request {
                    principal: Some(&principal),
                    action: "sts:AssumeRoleWithWebIdentity",
                    resource: "arn:aws:iam::123456789012:role/app",
                    context: &context,
                },
            );
            let _ = document.context_keys();
            let _ = document.reads_context();
        }
    }
});
