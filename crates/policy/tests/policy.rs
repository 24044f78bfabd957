//! Evaluation against AWS's documented examples, property tests, and a differential test against
//! the `iam-rs` crate where both implement the same semantics.

use proptest::prelude::*;
use tegata_policy::{Context, Decision, PolicyDocument, PolicyKind, Principal, Request, evaluate};

const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/lambda_role";
const POOL: &str = "us-east-1:11111111-2222-4333-8444-555555555555";
const OTHER_POOL: &str = "us-east-1:99999999-2222-4333-8444-555555555555";

fn cognito_context(aud: &str, amr: &[&str]) -> Context {
    let mut ctx = Context::new();
    ctx.insert("cognito-identity.amazonaws.com:aud", aud);
    ctx.insert(
        "cognito-identity.amazonaws.com:sub",
        "us-east-1:aaaaaaaa-0000-4000-8000-000000000000",
    );
    ctx.insert_multi(
        "cognito-identity.amazonaws.com:amr",
        amr.iter().map(|s| s.to_string()).collect(),
    );
    ctx
}

fn trust(text: &str, principal: &Principal, action: &str, ctx: &Context) -> Decision {
    let policy = PolicyDocument::parse(text, PolicyKind::Trust).unwrap();
    evaluate(
        [&policy],
        &Request {
            principal: Some(principal),
            action,
            resource: ROLE,
            context: ctx,
        },
    )
}

/// The trust policy the Cognito guides give, with the pool pinned.
fn canonical_cognito_trust(pool: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
        "Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
        "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{pool}"}},
                     "ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":"authenticated"}}}}}}]}}"#
    )
}

#[test]
fn cognito_trust_policy_allows_only_its_pool_and_authenticated_identities() {
    let cognito = Principal::federated("cognito-identity.amazonaws.com");
    let policy = canonical_cognito_trust(POOL);
    let auth = [
        "authenticated",
        "login.mycompany.myapp",
        "login.mycompany.myapp:p:u",
    ];
    let action = "sts:AssumeRoleWithWebIdentity";
    assert_eq!(
        trust(&policy, &cognito, action, &cognito_context(POOL, &auth)),
        Decision::Allow
    );
    assert_eq!(
        trust(
            &policy,
            &cognito,
            action,
            &cognito_context(OTHER_POOL, &auth)
        ),
        Decision::NotApplicable
    );
    assert_eq!(
        trust(
            &policy,
            &cognito,
            action,
            &cognito_context(POOL, &["unauthenticated"])
        ),
        Decision::NotApplicable
    );
    assert_eq!(
        trust(
            &policy,
            &cognito,
            "sts:AssumeRole",
            &cognito_context(POOL, &auth)
        ),
        Decision::NotApplicable
    );
    let google = Principal::federated("accounts.google.com");
    assert_eq!(
        trust(&policy, &google, action, &cognito_context(POOL, &auth)),
        Decision::NotApplicable
    );
}

#[test]
fn the_lambda_guide_trust_policy_trusts_any_pool() {
    // The policy users copy from the guides: two principal kinds, no conditions.
    let policy = r#"{"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}"#;
    let cognito = Principal::federated("cognito-identity.amazonaws.com");
    for pool in [POOL, OTHER_POOL] {
        assert_eq!(
            trust(
                policy,
                &cognito,
                "sts:AssumeRoleWithWebIdentity",
                &cognito_context(pool, &["authenticated"])
            ),
            Decision::Allow
        );
    }
    assert_eq!(
        trust(policy, &cognito, "sts:TagSession", &Context::new()),
        Decision::NotApplicable,
        "session tags need sts:TagSession"
    );
}

#[test]
fn explicit_deny_beats_allow_and_not_principal_excludes() {
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"sts:*"},
        {"Effect":"Deny","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity",
         "Condition":{"StringNotEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:11111111-2222-4333-8444-555555555555"}}}]}"#;
    let cognito = Principal::federated("cognito-identity.amazonaws.com");
    let action = "sts:AssumeRoleWithWebIdentity";
    assert_eq!(
        trust(policy, &cognito, action, &cognito_context(POOL, &[])),
        Decision::Allow
    );
    assert_eq!(
        trust(policy, &cognito, action, &cognito_context(OTHER_POOL, &[])),
        Decision::ExplicitDeny
    );

    let not_principal = r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"Federated":"accounts.google.com"},"Action":"sts:*"}}"#;
    assert_eq!(
        trust(not_principal, &cognito, action, &Context::new()),
        Decision::Allow
    );
    let google = Principal::federated("accounts.google.com");
    assert_eq!(
        trust(not_principal, &google, action, &Context::new()),
        Decision::NotApplicable
    );
}

#[test]
fn account_principals_match_every_principal_of_the_account() {
    let caller = Principal::aws("arn:aws:iam::123456789012:user/alice", "123456789012");
    for id in [
        "123456789012",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/alice",
        "*",
    ] {
        let policy = format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{id}"}},"Action":"sts:AssumeRole"}}}}"#
        );
        assert_eq!(
            trust(&policy, &caller, "sts:AssumeRole", &Context::new()),
            Decision::Allow,
            "{id}"
        );
    }
    let other = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"sts:AssumeRole"}}"#;
    assert_eq!(
        trust(other, &caller, "sts:AssumeRole", &Context::new()),
        Decision::NotApplicable
    );
}

#[test]
fn identity_policies_with_variables_and_not_action() {
    // The "per-identity prefix" example of the Cognito guide.
    let policy = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
             "Resource":"arn:aws:s3:::mybucket/${cognito-identity.amazonaws.com:sub}/*"},
            {"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let ctx = cognito_context(POOL, &["authenticated"]);
    let check = |action: &str, resource: &str| {
        evaluate(
            [&policy],
            &Request {
                principal: None,
                action,
                resource,
                context: &ctx,
            },
        )
    };
    assert_eq!(
        check(
            "s3:GetObject",
            "arn:aws:s3:::mybucket/us-east-1:aaaaaaaa-0000-4000-8000-000000000000/photo.jpg"
        ),
        Decision::Allow
    );
    assert_eq!(
        check("s3:GetObject", "arn:aws:s3:::secret/x"),
        Decision::NotApplicable
    );
    assert_eq!(
        check("iam:CreateUser", "arn:aws:iam::123456789012:user/x"),
        Decision::NotApplicable
    );
    assert_eq!(
        check("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t"),
        Decision::Allow
    );
    let version_2008 = PolicyDocument::parse(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let mut named = Context::new();
    named.insert("aws:username", "alice");
    let request = Request {
        principal: None,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/alice",
        context: &named,
    };
    assert_eq!(
        evaluate([&version_2008], &request),
        Decision::NotApplicable,
        "no variables in 2008-10-17"
    );
}

// --- property tests ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Adding a Deny statement that applies to everything always wins; adding an Allow for
    /// everything never turns an explicit deny into an allow.
    #[test]
    fn deny_dominates(action in "(sts|s3|iam):[A-Za-z]{1,12}", allow_first in any::<bool>()) {
        let allow = r#"{"Effect":"Allow","Principal":"*","Action":"*"}"#;
        let deny = r#"{"Effect":"Deny","Principal":"*","Action":"*"}"#;
        let text = if allow_first { format!(r#"{{"Statement":[{allow},{deny}]}}"#) } else { format!(r#"{{"Statement":[{deny},{allow}]}}"#) };
        let policy = PolicyDocument::parse(&text, PolicyKind::Trust).unwrap();
        let p = Principal::federated("x");
        let ctx = Context::new();
        prop_assert_eq!(
            evaluate([&policy], &Request { principal: Some(&p), action: &action, resource: ROLE, context: &ctx }),
            Decision::ExplicitDeny
        );
    }

    /// A `*` action pattern built from any prefix of the action matches it, case-insensitively.
    #[test]
    fn action_prefix_wildcards_match(action in "sts:[A-Za-z]{1,20}", cut in 4usize..24) {
        let prefix: String = action.chars().take(cut.min(action.len())).collect();
        let text = format!(r#"{{"Statement":{{"Effect":"Allow","Principal":"*","Action":"{}*"}}}}"#, prefix.to_uppercase());
        let policy = PolicyDocument::parse(&text, PolicyKind::Trust).unwrap();
        let p = Principal::federated("x");
        let ctx = Context::new();
        prop_assert_eq!(
            evaluate([&policy], &Request { principal: Some(&p), action: &action, resource: ROLE, context: &ctx }),
            Decision::Allow
        );
    }
}

// --- differential: tegata-policy against iam-rs --------------------------------------------

fn iam_rs_decision(
    policy_json: &str,
    action: &str,
    ctx: &[(&str, Vec<String>)],
) -> Option<Decision> {
    use iam_rs::{Arn, ContextValue, IAMPolicy, IAMRequest, PrincipalId};
    // iam-rs treats a statement without Resource as matching nothing, while trust policies never
    // carry one: give it `"Resource": "*"` (the role is the only resource in play).
    let mut value: serde_json::Value = serde_json::from_str(policy_json).unwrap();
    for statement in value["Statement"].as_array_mut().unwrap() {
        statement["Resource"] = serde_json::json!("*");
    }
    let policy = IAMPolicy::from_json(&value.to_string()).ok()?;
    let mut context = iam_rs::Context::new();
    for (key, values) in ctx {
        let v = if values.len() == 1 {
            ContextValue::String(values[0].clone())
        } else {
            ContextValue::StringList(values.clone())
        };
        context.insert(key.to_string(), v);
    }
    let request = IAMRequest::new_with_context(
        iam_rs::Principal::Federated(PrincipalId::String("cognito-identity.amazonaws.com".into())),
        action,
        Arn::parse(ROLE).ok()?,
        context,
    );
    match iam_rs::evaluate_policy(&policy, &request).ok()? {
        iam_rs::Decision::Allow => Some(Decision::Allow),
        iam_rs::Decision::Deny => Some(Decision::ExplicitDeny),
        iam_rs::Decision::NotApplicable => Some(Decision::NotApplicable),
    }
}

fn condition_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![POOL, OTHER_POOL]).prop_map(|p| format!(
            r#""StringEquals":{{"cognito-identity.amazonaws.com:aud":"{p}"}}"#
        )),
        prop::sample::select(vec!["authenticated", "unauth*", "login.*"]).prop_map(|v| format!(
            r#""ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":"{v}"}}"#
        )),
        prop::sample::select(vec!["us-east-1:*", "eu-*"]).prop_map(|v| format!(
            r#""StringLike":{{"cognito-identity.amazonaws.com:sub":"{v}"}}"#
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_iam_rs_on_cognito_trust_policies(
        statements in prop::collection::vec((
            any::<bool>(),
            prop::sample::subsequence(vec!["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:*", "sts:AssumeRole"], 1..3),
            prop::option::of(condition_strategy()),
            prop::sample::select(vec!["cognito-identity.amazonaws.com", "accounts.google.com"]),
        ), 1..4),
        action in prop::sample::select(vec!["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]),
        aud in prop::sample::select(vec![POOL, OTHER_POOL]),
        authenticated in any::<bool>(),
    ) {
        let rendered: Vec<String> = statements.iter().map(|(allow, actions, condition, federated)| {
            let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
            let condition = condition.as_ref().map(|c| format!(r#","Condition":{{{c}}}"#)).unwrap_or_default();
            format!(
                r#"{{"Effect":"{}","Principal":{{"Federated":"{federated}"}},"Action":[{}]{condition}}}"#,
                if *allow { "Allow" } else { "Deny" },
                actions.join(",")
            )
        }).collect();
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, rendered.join(","));
        let amr: Vec<String> = if authenticated {
            vec!["authenticated".into(), "login.mycompany.myapp".into(), "login.mycompany.myapp:p:u".into()]
        } else {
            vec!["unauthenticated".into()]
        };
        let sub = vec!["us-east-1:aaaaaaaa-0000-4000-8000-000000000000".to_string()];
        let ctx_pairs = vec![
            ("cognito-identity.amazonaws.com:aud", vec![aud.to_string()]),
            ("cognito-identity.amazonaws.com:amr", amr.clone()),
            ("cognito-identity.amazonaws.com:sub", sub.clone()),
        ];
        let mut ctx = Context::new();
        for (k, v) in &ctx_pairs {
            ctx.insert_multi(k, v.clone());
        }
        let ours = trust(&text, &Principal::federated("cognito-identity.amazonaws.com"), action, &ctx);
        if let Some(theirs) = iam_rs_decision(&text, action, &ctx_pairs) {
            prop_assert_eq!(ours, theirs, "policy: {}", text);
        }
    }
}

#[test]
fn the_oracle_answers_on_the_canonical_policy() {
    // Guards the differential test against silently comparing nothing.
    let ctx = vec![
        ("cognito-identity.amazonaws.com:aud", vec![POOL.to_string()]),
        (
            "cognito-identity.amazonaws.com:amr",
            vec!["authenticated".to_string(), "x".to_string()],
        ),
    ];
    let policy = canonical_cognito_trust(POOL);
    assert_eq!(
        iam_rs_decision(&policy, "sts:AssumeRoleWithWebIdentity", &ctx),
        Some(Decision::Allow)
    );
    let other = vec![
        (
            "cognito-identity.amazonaws.com:aud",
            vec![OTHER_POOL.to_string()],
        ),
        ctx[1].clone(),
    ];
    assert_eq!(
        iam_rs_decision(&policy, "sts:AssumeRoleWithWebIdentity", &other),
        Some(Decision::NotApplicable)
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any text, as a policy of either kind: parsed or refused, never a panic; what parses is
    /// evaluated without one either.
    #[test]
    fn arbitrary_documents_never_panic(
        text in prop_oneof![
            "\\PC{0,200}",
            // Mostly well-formed JSON, with wildcards and variables in odd places.
            r#"\{"Version":"(2012-10-17|2008-10-17)","Statement":\[?\{"Effect":"(Allow|Deny)","(Not)?Action":"[a-z*?$\{\}:-]{0,20}","(Not)?Resource":"[a-z*?$\{\}:/-]{0,20}"(,"Condition":\{"[A-Za-z:]{0,20}":\{"[a-z:/]{0,20}":"[^"]{0,10}"\}\})?\}\]?\}"#,
        ],
    ) {
        for kind in [PolicyKind::Identity, PolicyKind::Trust] {
            if let Ok(document) = PolicyDocument::parse(&text, kind) {
                let context = Context::new();
                let _ = evaluate(
                    [&document],
                    &Request {
                        principal: None,
                        action: "sts:AssumeRoleWithWebIdentity",
                        resource: ROLE,
                        context: &context,
                    },
                );
            }
        }
    }
}
