//! Explainable denials, AWS's way (`--explain-denials`, for development): an AccessDenied
//! carries an encoded authorization failure message, as EC2 and other AWS services send, and
//! STS DecodeAuthorizationMessage opens it into the evaluation: who asked, for what, the
//! request's context, the statements that applied or nearly did, and why the decision fell as
//! it did.
//!
//! The message is sealed with AES-256-GCM under a key derived from the master key, so it tells
//! nothing to whoever holds it but cannot have it decoded; any node of the deployment can
//! decode it.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use aws_lc_rs::aead;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tegata_policy::{Context, PolicyDocument, Request};

use crate::account::Principal;
use crate::authz::{PrincipalPermissions, Verdict};
use crate::master_key::MasterKey;
use crate::random::{Randomness, bytes};

const MESSAGE_VERSION: u8 = 1;

/// DecodeAuthorizationMessage takes at most this many characters (the model's limit); the
/// explanation is trimmed to fit once sealed.
pub const MAX_ENCODED_LENGTH: usize = 10_240;

/// Seals and opens authorization failure messages.
pub struct DenialMessages {
    key: aead::LessSafeKey,
}

/// Why an encoded message could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the encoded authorization message is not one this deployment made")]
pub struct InvalidMessage;

impl DenialMessages {
    pub fn new(master: &MasterKey) -> Self {
        let key = master.derive_subkey("tegata authorization message v1");
        Self {
            key: aead::LessSafeKey::new(
                aead::UnboundKey::new(&aead::AES_256_GCM, &key)
                    .expect("32 bytes is an AES-256 key"),
            ),
        }
    }

    /// The encoded message for `explanation`, trimmed of detail until it fits
    /// [`MAX_ENCODED_LENGTH`].
    pub fn seal(&self, explanation: &Value, rng: &dyn Randomness) -> String {
        let mut explanation = explanation.clone();
        loop {
            let encoded = self.seal_exactly(&explanation, rng);
            if encoded.len() <= MAX_ENCODED_LENGTH || !trim(&mut explanation) {
                return encoded;
            }
        }
    }

    fn seal_exactly(&self, explanation: &Value, rng: &dyn Randomness) -> String {
        let nonce = bytes::<{ aead::NONCE_LEN }>(rng);
        let mut sealed = explanation.to_string().into_bytes();
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from([MESSAGE_VERSION]),
                &mut sealed,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut blob = Vec::with_capacity(1 + nonce.len() + sealed.len());
        blob.push(MESSAGE_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        STANDARD.encode(blob)
    }

    /// The decoded message: the explanation's JSON text.
    pub fn open(&self, encoded: &str) -> Result<String, InvalidMessage> {
        let blob = STANDARD
            .decode(encoded.trim())
            .map_err(|_| InvalidMessage)?;
        let Some((&MESSAGE_VERSION, sealed)) = blob.split_first() else {
            return Err(InvalidMessage);
        };
        if sealed.len() < aead::NONCE_LEN + 16 {
            return Err(InvalidMessage);
        }
        let (nonce, ciphertext) = sealed.split_at(aead::NONCE_LEN);
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| InvalidMessage)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from([MESSAGE_VERSION]), &mut in_out)
            .map_err(|_| InvalidMessage)?;
        String::from_utf8(plain.to_vec()).map_err(|_| InvalidMessage)
    }
}

/// Drop the least useful detail of an explanation: the statements that did not apply, then the
/// per-policy listing, then the context. `false` when nothing is left to drop.
fn trim(explanation: &mut Value) -> bool {
    let Some(object) = explanation.as_object_mut() else {
        return false;
    };
    if let Some(Value::Array(policies)) = object.get_mut("policies") {
        let before = policies.len();
        for policy in policies.iter_mut() {
            if let Some(Value::Array(statements)) = policy.get_mut("statements") {
                statements.retain(|s| s["applies"] == json!(true));
            }
        }
        policies.retain(|p| p["statements"].as_array().is_some_and(|s| !s.is_empty()));
        if policies.len() < before {
            return true;
        }
    }
    if object.remove("policies").is_some() {
        return true;
    }
    if object
        .get_mut("context")
        .and_then(Value::as_object_mut)
        .and_then(|context| context.remove("conditions"))
        .is_some()
    {
        return true;
    }
    // Last: halve the matched statements.
    match object
        .get_mut("matchedStatements")
        .and_then(|m| m.get_mut("items"))
        .and_then(Value::as_array_mut)
    {
        Some(items) if !items.is_empty() => {
            items.truncate(items.len() / 2);
            true
        }
        _ => false,
    }
}

/// One evaluation, as the authorizer made it.
pub struct Evaluation<'a> {
    pub principal: &'a Principal,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
    pub permissions: &'a PrincipalPermissions,
    pub session_policies: &'a [PolicyDocument],
    pub verdict: Verdict,
}

/// The explanation of an evaluation, in the shape of AWS's decoded messages (`allowed`,
/// `explicitDeny`, `matchedStatements`, `failures`, `context`) with tegata's detail beside it:
/// `reason`, and `policies`, each with the statements whose action matched the request and
/// which of their elements did.
pub fn explain(evaluation: &Evaluation<'_>) -> Value {
    let request = Request {
        principal: None,
        action: evaluation.action,
        resource: evaluation.resource,
        context: evaluation.context,
    };
    let permissions = evaluation.permissions;
    let mut sources: Vec<(String, &'static str, &PolicyDocument)> = Vec::new();
    for policy in &permissions.identity {
        sources.push((
            policy.source.label(),
            "identity-based policy",
            &policy.document,
        ));
    }
    for policy in &permissions.boundary {
        sources.push((
            policy.source.label(),
            "permissions boundary",
            &policy.document,
        ));
    }
    for document in evaluation.session_policies {
        sources.push(("session policy".to_owned(), "session policy", document));
    }
    let mut matched = Vec::new();
    let mut policies = Vec::new();
    for (source, kind, document) in &sources {
        let mut statements = Vec::new();
        for (index, statement) in document.statements.iter().enumerate() {
            let trace = statement.trace(document.version, &request);
            if !trace.action {
                continue;
            }
            let effect = match statement.effect {
                tegata_policy::Effect::Allow => "Allow",
                tegata_policy::Effect::Deny => "Deny",
            };
            if trace.applies() {
                matched.push(json!({
                    "statementId": statement.sid.clone().unwrap_or_default(),
                    "effect": effect.to_ascii_uppercase(),
                    "policy": source,
                    "policyType": kind,
                    "index": index,
                }));
            }
            let conditions: Vec<Value> = statement
                .conditions
                .iter()
                .zip(&trace.conditions)
                .map(|(condition, held)| {
                    json!({
                        "operator": format!(
                            "{}{:?}{}",
                            condition
                                .qualifier
                                .map(|q| format!("{q:?}:"))
                                .unwrap_or_default(),
                            condition.operator,
                            if condition.if_exists { "IfExists" } else { "" }
                        ),
                        "key": condition.key,
                        "values": condition.values,
                        "held": held,
                    })
                })
                .collect();
            statements.push(json!({
                "index": index,
                "sid": statement.sid,
                "effect": effect,
                "applies": trace.applies(),
                "actionMatched": trace.action,
                "resourceMatched": trace.resource,
                "conditions": conditions,
            }));
        }
        policies.push(json!({"policy": source, "policyType": kind, "statements": statements}));
    }
    // The tags of the resource acted on stay out: the decoder may not be allowed to read them.
    let mut conditions: Vec<(&str, &[String])> = evaluation
        .context
        .iter()
        .filter(|(key, _)| {
            !(key.starts_with("aws:resourcetag/") || key.starts_with("iam:resourcetag/"))
        })
        .collect();
    conditions.sort_unstable_by_key(|(key, _)| *key);
    let conditions: Vec<Value> = conditions
        .into_iter()
        .map(|(key, values)| {
            let values: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
            json!({"key": key, "values": {"items": values}})
        })
        .collect();
    json!({
        "allowed": evaluation.verdict == Verdict::Allowed,
        "explicitDeny": matches!(evaluation.verdict, Verdict::ExplicitDeny(_)),
        "matchedStatements": {"items": matched},
        "failures": {"items": []},
        "context": {
            "principal": {
                "id": evaluation.principal.user_id,
                "arn": evaluation.principal.arn,
            },
            "action": evaluation.action,
            "resource": evaluation.resource,
            "conditions": {"items": conditions},
        },
        "reason": evaluation.verdict.reason(evaluation.action),
        "policies": policies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::{EntityKind, PolicySource, PrincipalPolicySet, SourcedDocument};
    use crate::random::SeededRandomness;

    fn permissions() -> PrincipalPermissions {
        let inline = |name: &str, document: &str| SourcedDocument {
            source: PolicySource::Inline {
                kind: EntityKind::User,
                entity: "alice".into(),
                policy_name: name.into(),
            },
            document: document.into(),
        };
        PrincipalPermissions::from_set(PrincipalPolicySet {
            id: "AIDAALICE".into(),
            inline: vec![
                inline(
                    "reads",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Reads","Effect":"Allow","Action":"iam:Get*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                ),
                inline(
                    "guard",
                    r#"{"Version":"2012-10-17","Statement":{"Sid":"NoRoles","Effect":"Deny","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}"#,
                ),
            ],
            attached: Vec::new(),
            boundary: None,
            tags: Vec::new(),
        })
        .unwrap()
    }

    #[test]
    fn a_denial_decodes_to_the_statement_that_denied_it() {
        let rng = SeededRandomness::new(3);
        let messages = DenialMessages::new(&MasterKey::generate(&rng));
        let permissions = permissions();
        let mut context = Context::new();
        context.insert("aws:RequestedRegion", "us-east-1");
        let verdict = crate::authz::decide(&permissions, &[], "iam:GetRole", "*", &context);
        let principal = Principal::iam_user("1", "/", "alice", "AIDAALICE");
        let explanation = explain(&Evaluation {
            principal: &principal,
            action: "iam:GetRole",
            resource: "*",
            context: &context,
            permissions: &permissions,
            session_policies: &[],
            verdict,
        });
        let encoded = messages.seal(&explanation, &rng);
        assert!(!encoded.contains("NoRoles") && !encoded.contains("alice"));
        let decoded: Value = serde_json::from_str(&messages.open(&encoded).unwrap()).unwrap();
        assert_eq!(decoded["allowed"], json!(false));
        assert_eq!(decoded["explicitDeny"], json!(true));
        let matched = &decoded["matchedStatements"]["items"];
        assert_eq!(matched.as_array().unwrap().len(), 2, "{decoded:#}");
        assert_eq!(matched[1]["statementId"], json!("NoRoles"));
        assert_eq!(matched[1]["effect"], json!("DENY"));
        assert_eq!(
            decoded["reason"],
            json!("with an explicit deny in an identity-based policy")
        );
        // The s3 statement's action did not match: it is not listed.
        assert_eq!(
            decoded["policies"][0]["statements"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Another deployment's key, a changed byte, or garbage: refused.
        let other = DenialMessages::new(&MasterKey::generate(&rng));
        assert_eq!(other.open(&encoded), Err(InvalidMessage));
        let mut tampered = encoded.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            messages.open(std::str::from_utf8(&tampered).unwrap()),
            Err(InvalidMessage)
        );
        assert_eq!(messages.open("not base64 !"), Err(InvalidMessage));
        assert_eq!(messages.open(""), Err(InvalidMessage));
    }

    #[test]
    fn large_explanations_are_trimmed_to_fit() {
        let rng = SeededRandomness::new(4);
        let messages = DenialMessages::new(&MasterKey::generate(&rng));
        let matched: Vec<Value> = (0..400)
            .map(|n| json!({"statementId": format!("S{n}"), "policy": "p".repeat(40)}))
            .collect();
        let huge = json!({
            "allowed": false,
            "matchedStatements": {"items": matched},
            "context": {"conditions": {"items": ["x".repeat(9000)]}},
            "policies": [{"statements": [{"applies": false, "pad": "y".repeat(9000)}]}],
        });
        let encoded = messages.seal(&huge, &rng);
        assert!(encoded.len() <= MAX_ENCODED_LENGTH, "{}", encoded.len());
        let decoded: Value = serde_json::from_str(&messages.open(&encoded).unwrap()).unwrap();
        assert_eq!(decoded["allowed"], json!(false));
    }
}
