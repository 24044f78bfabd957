//! Verifying a web identity token (AssumeRoleWithWebIdentity's `WebIdentityToken`).
//!
//! Only tokens signed by one of this deployment's keys are accepted, found by `kid`, with RS256
//! or RS512 for an RSA key and ES256 for an EC key (never `none`, an HMAC algorithm, or an
//! algorithm of the other key family, whatever the header claims), the deployment's
//! issuer, and an `exp` still in the future (with a small leeway for clock differences between
//! nodes). The audience is not checked here: for Cognito tokens AWS leaves it to the role's trust
//! policy (`cognito-identity.amazonaws.com:aud`).
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::UnixSeconds;
use crate::tokens::claims::SessionTagsClaim;
use crate::tokens::keys::{KeyRing, TokenAlgorithm};
use crate::tokens::recently_signed::RecentlySigned;

/// Why a presented token was refused. The messages are AWS's; each service answers them with its
/// own code (STS: `InvalidIdentityToken`, `ExpiredTokenException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Malformed, not signed by a key of ours, or from another issuer.
    #[error("{0}")]
    Invalid(String),
    /// Past its `exp` (and the leeway).
    #[error("{0}")]
    Expired(String),
}

/// How far past `exp` a token is still accepted, for clocks that disagree a little.
pub const EXPIRY_LEEWAY_SECONDS: u64 = 5;

/// AWS's answer to a token whose `kid` names no key of its issuer.
pub const UNKNOWN_KEY: &str = "Couldn't retrieve verification key from your identity provider, \
                               please reference AssumeRoleWithWebIdentity documentation for \
                               requirements";

/// AWS's answer to a token past its `exp` (its wording, missing space included).
pub fn expired_message(now: UnixSeconds, exp: UnixSeconds) -> String {
    format!("Token expired: current date/time {now} must be before the expiration date/time{exp}")
}

const NOT_A_JWT: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";

#[derive(Debug, Clone, Deserialize)]
pub struct WebIdentityClaims {
    pub sub: String,
    pub aud: String,
    #[serde(default)]
    pub amr: Vec<String>,
    pub iss: String,
    pub exp: UnixSeconds,
    #[serde(default)]
    pub iat: Option<UnixSeconds>,
    #[serde(rename = "https://aws.amazon.com/tags", default)]
    pub tags: Option<SessionTagsClaim>,
}

fn invalid(message: impl Into<String>) -> TokenError {
    TokenError::Invalid(message.into())
}

/// The payload's claims, read without verification: only to word an error message.
fn unverified_claim(token: &str, name: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let raw = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    value.get(name).cloned()
}

/// Verify `token` against the deployment's keys and issuer at time `now`. A token in
/// `recently_signed` (this process signed exactly these bytes) skips only its signature check.
pub fn verify(
    token: &str,
    keys: &KeyRing,
    issuer: &str,
    now: UnixSeconds,
    recently_signed: &RecentlySigned,
) -> Result<WebIdentityClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid(NOT_A_JWT))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS512 | Algorithm::ES256
    ) {
        return Err(invalid(format!(
            "The ID Token is signed with {:?}; only RS256, RS512 and ES256 are accepted.",
            header.alg
        )));
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.verifying(kid))
        .ok_or_else(|| invalid(UNKNOWN_KEY))?;
    let fits_the_key = match key.algorithm() {
        TokenAlgorithm::Rs512 => matches!(header.alg, Algorithm::RS256 | Algorithm::RS512),
        TokenAlgorithm::Es256 => header.alg == Algorithm::ES256,
    };
    if !fits_the_key {
        return Err(invalid(
            "The ID Token's algorithm does not match the identity provider's key.",
        ));
    }
    let signed_here = recently_signed.contains(token);
    let claims = if signed_here {
        claims_of_a_token_signed_here(token, issuer)?
    } else {
        verified_claims(token, key.decoding_key(), header.alg, issuer)?
    };
    if now > claims.exp.saturating_add(EXPIRY_LEEWAY_SECONDS as i64) {
        return Err(TokenError::Expired(expired_message(now, claims.exp)));
    }
    if signed_here {
        // Counted once the token is accepted here, so the count is of tokens that passed.
        static SKIPPED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
        SKIPPED
            .get_or_init(|| metrics::counter!("tegata_token_signature_checks_skipped_total"))
            .increment(1);
    }
    Ok(claims)
}

fn wrong_issuer(token: &str) -> TokenError {
    let iss = unverified_claim(token, "iss")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    invalid(format!(
        "No OpenIDConnect provider found in your account for {iss}"
    ))
}

/// The signature check and jsonwebtoken's validation of issuer and required claims.
fn verified_claims(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    algorithm: Algorithm,
    issuer: &str,
) -> Result<WebIdentityClaims, TokenError> {
    let mut validation = Validation::new(algorithm);
    validation.leeway = EXPIRY_LEEWAY_SECONDS;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
    // jsonwebtoken reads the clock itself; `verify` checks exp against the `now` given.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<WebIdentityClaims>(token, key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidIssuer => wrong_issuer(token),
            ErrorKind::InvalidSignature => {
                invalid("The ID Token's signature could not be verified.")
            }
            ErrorKind::MissingRequiredClaim(claim) => invalid(format!(
                "The ID Token is missing the required claim '{claim}'."
            )),
            _ => invalid(NOT_A_JWT),
        })?
        .claims;
    Ok(claims)
}

/// The claims of a token this process signed (see [`RecentlySigned`]): its signature is ours by
/// construction, so only the checks that do not involve it are made, as jsonwebtoken makes them
/// (the required claims are fields the claims cannot deserialize without).
fn claims_of_a_token_signed_here(
    token: &str,
    issuer: &str,
) -> Result<WebIdentityClaims, TokenError> {
    let claims: WebIdentityClaims =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| invalid(NOT_A_JWT))?;
    if claims.iss != issuer {
        return Err(wrong_issuer(token));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::master_key::MasterKey;
    use crate::random::SeededRandomness;
    use crate::tokens::keys::TokenAlgorithm;
    use crate::tokens::keys::{KeyState, SigningKey, generate_signing_key};

    const ISSUER: &str = "https://tokens.example.com";

    /// Verification of a token this process did not sign lately: the signature is checked.
    fn verify_fully(
        token: &str,
        keys: &KeyRing,
        issuer: &str,
        now: UnixSeconds,
    ) -> Result<WebIdentityClaims, TokenError> {
        verify(token, keys, issuer, now, &RecentlySigned::default())
    }

    /// One key for every case (generating an RSA key takes tens of milliseconds).
    fn ring() -> &'static (KeyRing, SigningKey) {
        static RING: std::sync::OnceLock<(KeyRing, SigningKey)> = std::sync::OnceLock::new();
        RING.get_or_init(|| {
            let rng = SeededRandomness::new(21);
            let master = MasterKey::generate(&rng);
            let record =
                generate_signing_key(&master, TokenAlgorithm::Rs512, KeyState::Active, 0, &rng)
                    .unwrap();
            let key = SigningKey::load(&record, &master).unwrap();
            (
                KeyRing::new(vec![SigningKey::load(&record, &master).unwrap()]),
                key,
            )
        })
    }

    fn token(key: &SigningKey, exp: UnixSeconds) -> String {
        key.sign_jws(&serde_json::json!({
            "sub": "us-east-1:0000", "aud": "us-east-1:pool", "iss": ISSUER,
            "amr": ["authenticated"], "exp": exp, "iat": exp - 900,
        }))
    }

    /// Expiry as a table of instants around `exp`, with the leeway: no waiting on a real clock.
    #[test]
    fn expiry_is_checked_against_the_given_now_with_leeway() {
        let (ring, key) = ring();
        let exp = 1_800_000_000;
        let token = token(key, exp);
        let leeway = EXPIRY_LEEWAY_SECONDS as i64;
        for (now, accepted) in [
            (exp - 900, true),
            (exp - 1, true),
            (exp, true),
            (exp + leeway, true),
            (exp + leeway + 1, false),
            (exp + 86_400, false),
        ] {
            let result = verify_fully(&token, ring, ISSUER, now);
            match (accepted, result) {
                (true, Ok(claims)) => assert_eq!(claims.exp, exp),
                (false, Err(TokenError::Expired(message))) => assert_eq!(
                    message,
                    format!(
                        "Token expired: current date/time {now} must be before the expiration date/time{exp}"
                    )
                ),
                (accepted, other) => panic!(
                    "now = exp{:+}: expected accepted={accepted}, got {other:?}",
                    now - exp
                ),
            }
        }
        assert!(matches!(
            verify_fully(&token, ring, "https://elsewhere.example.com", exp),
            Err(TokenError::Invalid(_))
        ));
    }

    /// An EC key's tokens verify as ES256 and only as ES256; an RSA key's never as ES256.
    #[test]
    fn es256_tokens_verify_by_their_own_key_family_only() {
        let rng = SeededRandomness::new(22);
        let master = MasterKey::generate(&rng);
        let load = |algorithm| {
            let record =
                generate_signing_key(&master, algorithm, KeyState::Active, 0, &rng).unwrap();
            SigningKey::load(&record, &master).unwrap()
        };
        let (ec, rsa) = (load(TokenAlgorithm::Es256), load(TokenAlgorithm::Rs512));
        let (ec_kid, rsa_kid) = (ec.kid().to_owned(), rsa.kid().to_owned());
        let exp = 1_800_000_000;
        let es256 = token(&ec, exp);
        let rs512 = token(&rsa, exp);
        let ring = KeyRing::new(vec![ec, rsa]);
        assert_eq!(verify_fully(&es256, &ring, ISSUER, exp).unwrap().exp, exp);
        assert_eq!(verify_fully(&rs512, &ring, ISSUER, exp).unwrap().exp, exp);

        // The same payload and signature under a header naming the other key or algorithm.
        let swap_header = |token: &str, header: serde_json::Value| {
            let rest = token.split_once('.').unwrap().1;
            let header = URL_SAFE_NO_PAD.encode(header.to_string());
            format!("{header}.{rest}")
        };
        for forged in [
            swap_header(&es256, serde_json::json!({"kid": ec_kid, "alg": "RS512"})),
            swap_header(&es256, serde_json::json!({"kid": rsa_kid, "alg": "ES256"})),
            swap_header(&rs512, serde_json::json!({"kid": ec_kid, "alg": "RS512"})),
            swap_header(&rs512, serde_json::json!({"kid": rsa_kid, "alg": "ES256"})),
            swap_header(&es256, serde_json::json!({"kid": ec_kid, "alg": "ES384"})),
        ] {
            assert!(
                matches!(
                    verify_fully(&forged, &ring, ISSUER, exp),
                    Err(TokenError::Invalid(_))
                ),
                "{forged}"
            );
        }
        // A signature altered by one bit.
        let mut tampered = es256.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(verify_fully(&tampered, &ring, ISSUER, exp).is_err());
    }

    /// A token this process signed skips only its signature check: the same claims come out,
    /// and a key gone from the ring, another issuer or a past expiry still refuse it.
    #[test]
    fn remembered_tokens_skip_only_the_signature_check() {
        let (ring, key) = ring();
        let exp = 1_800_000_000;
        let token = token(key, exp);
        let recent = RecentlySigned::default();
        recent.remember(&token);
        let remembered = verify(&token, ring, ISSUER, exp, &recent).unwrap();
        let checked = verify_fully(&token, ring, ISSUER, exp).unwrap();
        assert_eq!(
            (
                &remembered.sub,
                &remembered.aud,
                &remembered.amr,
                remembered.exp
            ),
            (&checked.sub, &checked.aud, &checked.amr, checked.exp)
        );

        // The signature is what is skipped: a remembered token with a broken signature passes,
        // which is why only the issuer's own signing remembers tokens.
        let mut broken = token.clone().into_bytes();
        let last = broken.len() - 2;
        broken[last] = if broken[last] == b'A' { b'B' } else { b'A' };
        let broken = String::from_utf8(broken).unwrap();
        assert!(verify_fully(&broken, ring, ISSUER, exp).is_err());
        recent.remember(&broken);
        assert!(verify(&broken, ring, ISSUER, exp, &recent).is_ok());

        let other_key = KeyRing::new(Vec::new());
        assert_eq!(
            verify(&token, &other_key, ISSUER, exp, &recent).unwrap_err(),
            TokenError::Invalid(UNKNOWN_KEY.to_owned())
        );
        assert_eq!(
            verify(&token, ring, "https://elsewhere.example.com", exp, &recent).unwrap_err(),
            verify_fully(&token, ring, "https://elsewhere.example.com", exp).unwrap_err()
        );
        assert!(matches!(
            verify(&token, ring, ISSUER, exp + 86_400, &recent),
            Err(TokenError::Expired(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any text as a token: refused or accepted, never a panic.
        #[test]
        fn arbitrary_tokens_never_panic(
            text in prop_oneof!["\\PC{0,300}", "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}"],
        ) {
            let (ring, _) = ring();
            let _ = verify_fully(&text, ring, ISSUER, 0);
        }

        /// Any payload under a header naming a key of the ring, remembered as if signed here (so
        /// the claims are read without a signature check): refused or accepted, never a panic.
        #[test]
        fn arbitrary_payloads_of_remembered_tokens_never_panic(
            payload in any::<Vec<u8>>(),
            exp in prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()],
        ) {
            let (ring, key) = ring();
            let header = serde_json::json!({"alg": "RS512", "kid": key.kid()}).to_string();
            let claims = serde_json::json!({
                "sub": "s", "aud": "a", "iss": ISSUER, "exp": exp,
            }).to_string();
            let recent = RecentlySigned::default();
            for payload in [payload, claims.into_bytes()] {
                let token = format!(
                    "{}.{}.c2ln",
                    URL_SAFE_NO_PAD.encode(&header),
                    URL_SAFE_NO_PAD.encode(&payload)
                );
                recent.remember(&token);
                let _ = verify(&token, ring, ISSUER, i64::MAX, &recent);
                let _ = verify(&token, ring, ISSUER, 0, &recent);
            }
        }
    }
}
