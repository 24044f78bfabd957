//! Who signed a request: SigV4 verification against the deployment's access keys.
//!
//! Long-term keys (`AKIA…`) are resolved by the domain's [`AccessKeys`] (which caches them for a
//! short while, and forgets a key that changes through this node).
//!
//! Temporary keys (`ASIA…`) read nothing: the session token is opened with a key derived from
//! the master key, and the secret is recomputed from the access key id. A client signs many
//! requests with one set of credentials, so what that costs (opening the token, deriving the day's
//! signing key: most of a request's work) is kept per access key id for the next request, bounded
//! by [`KNOWN_SESSIONS`]; a request must present the same token and scope to reuse it.

use std::sync::Arc;

use aws_lc_rs::{constant_time, hmac};
use tegata_core::access_keys::AccessKeys;
use tegata_core::account::Principal;
use tegata_core::cache::GenerationCache;
use tegata_core::revocations::SessionRevocations;
use tegata_core::sts::credentials::{CredentialMinter, SessionClaims, SessionKind};
use tegata_sigv4::{CredentialScope, HttpRequest, SigV4Error, SignedRequest, VerifyOptions};
use time::{Duration, OffsetDateTime};

use crate::RawRequest;

/// How far a request's `X-Amz-Date` may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// Temporary credentials remembered per generation of the session cache (so at most twice this
/// many, ~2 KB each). Credentials beyond it still work; their next request redoes the work.
pub const KNOWN_SESSIONS: usize = 1024;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub access_key_id: String,
    /// The region the request was signed for (its credential scope).
    pub region: String,
    /// Set when the caller used temporary credentials.
    pub session: Option<Arc<SessionClaims>>,
}

impl Caller {
    pub fn is_session(&self) -> bool {
        self.session.is_some()
    }

    /// Whether the caller acts as an IAM user: with the user's own keys, or with a user's
    /// session from GetSessionToken.
    pub fn is_user(&self) -> bool {
        self.session
            .as_ref()
            .is_none_or(|claims| claims.kind == SessionKind::User)
    }
}

/// Why authentication failed. Each protocol maps these to its own codes (aws-api.md §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// A signed-only operation arrived without any signature.
    Missing,
    /// The signature parameters are malformed or incomplete.
    Incomplete(String),
    /// The access key id is not one this deployment issued (or it is inactive).
    UnknownAccessKey,
    /// Temporary credentials past their expiration.
    ExpiredToken,
    /// Scope, time window or signature check failed.
    Signature(SigV4Error),
    /// Something on our side failed; the text is for the log only.
    Internal(String),
}

/// Temporary credentials whose request verified: what their token opened to, and `kSigning` for
/// the scope they signed with.
struct KnownSession {
    session_token: String,
    claims: Arc<SessionClaims>,
    principal: Principal,
    scope: CredentialScope,
    signing_key: hmac::Key,
}

impl KnownSession {
    fn token_is(&self, token: &str) -> bool {
        // Constant time: the remembered token is a credential, and a byte-by-byte comparison
        // would tell a caller how much of a guess was right.
        constant_time::verify_slices_are_equal(self.session_token.as_bytes(), token.as_bytes())
            .is_ok()
    }
}

/// Checks requests signed with temporary credentials; needs no store.
pub struct SessionVerifier {
    minter: Arc<CredentialMinter>,
    known: GenerationCache<Arc<KnownSession>>,
}

impl SessionVerifier {
    pub fn new(minter: Arc<CredentialMinter>) -> Self {
        Self {
            minter,
            known: GenerationCache::new(KNOWN_SESSIONS),
        }
    }

    /// Temporary credentials: the session token must be present, ours and bound to the key id;
    /// the signature must verify with the derived secret; and the session must not have expired.
    pub fn verify(
        &self,
        request: &HttpRequest<'_>,
        signed: SignedRequest,
        now: OffsetDateTime,
        options: &VerifyOptions<'_>,
    ) -> Result<Caller, AuthError> {
        let token = signed
            .security_token
            .as_deref()
            .ok_or(AuthError::UnknownAccessKey)?;
        let known = self
            .known
            .get(&signed.access_key_id)
            .filter(|known| known.token_is(token));
        let (session, fresh) = match known {
            Some(known) if known.scope == signed.scope => (known, false),
            known => {
                let (claims, secret) = self
                    .minter
                    .open_with_secret(&signed.access_key_id, token)
                    .map_err(|_| AuthError::UnknownAccessKey)?;
                // The same token signing for another day, region or service keeps its claims.
                let claims = match known {
                    Some(known) => known.claims.clone(),
                    None => Arc::new(claims),
                };
                let session = KnownSession {
                    session_token: token.to_owned(),
                    principal: Principal::of_session(&claims),
                    claims,
                    signing_key: signed.scope.signing_key(&secret),
                    scope: signed.scope.clone(),
                };
                (Arc::new(session), true)
            }
        };
        tegata_sigv4::verify_with_signing_key(request, &signed, &session.signing_key, now, options)
            .map_err(AuthError::Signature)?;
        if session.claims.expires_at <= now.unix_timestamp() {
            return Err(AuthError::ExpiredToken);
        }
        // Only what a verified request presented is remembered: a token without its secret, or
        // a key for a scope nobody signed with, never enters the cache.
        if fresh {
            self.known
                .insert(signed.access_key_id.clone(), session.clone());
        }
        Ok(Caller {
            principal: session.principal.clone(),
            access_key_id: signed.access_key_id,
            region: signed.scope.region,
            session: Some(session.claims.clone()),
        })
    }
}

pub struct Authenticator {
    access_keys: Arc<AccessKeys>,
    sessions: SessionVerifier,
    /// Identities whose sessions were revoked before they expire.
    revocations: Arc<SessionRevocations>,
}

impl Authenticator {
    pub fn new(
        access_keys: Arc<AccessKeys>,
        minter: Arc<CredentialMinter>,
        revocations: Arc<SessionRevocations>,
    ) -> Self {
        Self {
            access_keys,
            sessions: SessionVerifier::new(minter),
            revocations,
        }
    }

    /// Authenticate `raw` for `service`. `Ok(None)` when the request carries no signature at
    /// all; whether that is acceptable depends on the operation.
    pub async fn authenticate(
        &self,
        raw: &RawRequest,
        service: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Caller>, AuthError> {
        let view = raw.sigv4();
        let request = view.request();
        let signed = tegata_sigv4::parse_signed_request(&request).map_err(|e| match e {
            SigV4Error::IncompleteSignature(message) => AuthError::Incomplete(message),
            other => AuthError::Signature(other),
        })?;
        let Some(signed) = signed else {
            return Ok(None);
        };
        let options = VerifyOptions {
            service,
            max_skew: MAX_CLOCK_SKEW,
            normalize_path: true,
        };
        if CredentialMinter::is_temporary_key_id(&signed.access_key_id) {
            let caller = self.sessions.verify(&request, signed, now, &options)?;
            // Checked at every request, remembered sessions included: a revocation applies to
            // credentials already in use. They are refused as AWS refuses a session token it
            // no longer accepts.
            if caller
                .session
                .as_deref()
                .is_some_and(|claims| self.revocations.session_is_revoked(claims))
            {
                return Err(AuthError::UnknownAccessKey);
            }
            return Ok(Some(caller));
        }
        let key = self
            .access_keys
            .resolve(&signed.access_key_id)
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?
            .ok_or(AuthError::UnknownAccessKey)?;
        tegata_sigv4::verify(&request, &signed, key.secret(), now, &options)
            .map_err(AuthError::Signature)?;
        if self.access_keys.use_is_due(&signed.access_key_id) {
            let (keys, id) = (self.access_keys.clone(), signed.access_key_id.clone());
            let (region, service) = (signed.scope.region.clone(), service.to_owned());
            tokio::spawn(async move {
                keys.record_use(&id, now.unix_timestamp(), &region, &service)
                    .await;
            });
        }
        Ok(Some(Caller {
            principal: key.principal.clone(),
            access_key_id: signed.access_key_id,
            region: signed.scope.region,
            session: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use tegata_core::master_key::MasterKey;
    use tegata_core::random::SeededRandomness;
    use tegata_core::sts::credentials::TemporaryCredentials;
    use tegata_sigv4::format_amz_date;

    use super::*;

    const SIGNED_AT: i64 = 1_780_000_000;

    fn verifier() -> (SessionVerifier, TemporaryCredentials) {
        let rng = SeededRandomness::new(11);
        let minter = Arc::new(CredentialMinter::new(&MasterKey::generate(&rng)));
        let claims = SessionClaims {
            account_id: "123456789012".into(),
            role_name: "app".into(),
            role_id: "AROAEXAMPLEEXAMPLE12".into(),
            role_path: "/".into(),
            session_name: "alice".into(),
            subject: "us-east-1:0000".into(),
            audience: "us-east-1:pool".into(),
            amr: Vec::new(),
            issued_at: SIGNED_AT,
            expires_at: SIGNED_AT + 900,
            session_policy: None,
            tags: Vec::new(),
            web_identity_key_prefix: None,
            ..SessionClaims::default()
        };
        let creds = minter.mint(&claims, &rng);
        (SessionVerifier::new(minter), creds)
    }

    /// A GetCallerIdentity signed at `at` for `region` with `secret` and `token`, verified at
    /// `at` by `verifier`.
    fn call(
        verifier: &SessionVerifier,
        akid: &str,
        secret: &str,
        token: &str,
        region: &str,
        at: i64,
    ) -> Result<Caller, AuthError> {
        let at = OffsetDateTime::from_unix_timestamp(at).unwrap();
        let amz_date = format_amz_date(at);
        let payload = tegata_sigv4::sha256_hex(b"Action=GetCallerIdentity&Version=2011-06-15");
        let authorization = |signature: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential={akid}/{}/{region}/sts/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-security-token, Signature={signature}",
                &amz_date[..8]
            )
        };
        let request_with = |authorization: &str, f: &mut dyn FnMut(&HttpRequest<'_>)| {
            let headers = [
                ("host", "localhost"),
                ("x-amz-date", amz_date.as_str()),
                ("x-amz-security-token", token),
                ("authorization", authorization),
            ];
            f(&HttpRequest {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                payload_sha256: &payload,
            })
        };
        let mut signature = String::new();
        request_with(&authorization(&"0".repeat(64)), &mut |req| {
            let signed = tegata_sigv4::parse_signed_request(req).unwrap().unwrap();
            signature = hex::encode(tegata_sigv4::compute_signature(req, &signed, secret, true));
        });
        let options = VerifyOptions {
            service: "sts",
            max_skew: MAX_CLOCK_SKEW,
            normalize_path: true,
        };
        let mut result = None;
        request_with(&authorization(&signature), &mut |req| {
            let signed = tegata_sigv4::parse_signed_request(req).unwrap().unwrap();
            result = Some(verifier.verify(req, signed, at, &options));
        });
        result.unwrap()
    }

    fn signed_with_a_wrong_secret(
        verifier: &SessionVerifier,
        akid: &str,
        token: &str,
    ) -> Result<Caller, AuthError> {
        call(
            verifier,
            akid,
            &"A".repeat(40),
            token,
            "us-east-1",
            SIGNED_AT,
        )
    }

    #[test]
    fn a_remembered_session_is_checked_like_a_new_one() {
        let (verifier, creds) = verifier();
        let (akid, secret, token) = (
            creds.access_key_id.as_str(),
            creds.secret_access_key.as_str(),
            creds.session_token.as_str(),
        );
        let first = call(&verifier, akid, secret, token, "us-east-1", SIGNED_AT).unwrap();
        assert_eq!(
            first.principal.arn,
            "arn:aws:sts::123456789012:assumed-role/app/alice"
        );
        assert_eq!(verifier.known.len(), 1);
        let again = call(&verifier, akid, secret, token, "us-east-1", SIGNED_AT + 1).unwrap();
        assert_eq!(again.principal.arn, first.principal.arn);
        assert_eq!(again.session, first.session);

        // With the session remembered, a wrong secret, another token under the same key id, or
        // no token at all are still refused.
        assert!(matches!(
            signed_with_a_wrong_secret(&verifier, akid, token),
            Err(AuthError::Signature(SigV4Error::SignatureDoesNotMatch))
        ));
        let mut tampered = token.to_owned();
        tampered.replace_range(10..11, if &token[10..11] == "A" { "B" } else { "A" });
        assert_eq!(
            call(&verifier, akid, secret, &tampered, "us-east-1", SIGNED_AT).unwrap_err(),
            AuthError::UnknownAccessKey
        );
        assert_eq!(
            call(&verifier, akid, secret, "", "us-east-1", SIGNED_AT).unwrap_err(),
            AuthError::UnknownAccessKey
        );

        // Another region is another signing key, derived for it; both keep working.
        assert!(call(&verifier, akid, secret, token, "eu-west-1", SIGNED_AT).is_ok());
        assert!(call(&verifier, akid, secret, token, "us-east-1", SIGNED_AT).is_ok());

        // Expiry is checked on every request, remembered or not.
        assert_eq!(
            call(&verifier, akid, secret, token, "us-east-1", SIGNED_AT + 900).unwrap_err(),
            AuthError::ExpiredToken
        );
    }

    #[test]
    fn only_verified_requests_are_remembered() {
        let (verifier, creds) = verifier();
        let (akid, token) = (creds.access_key_id.as_str(), creds.session_token.as_str());
        // The genuine token without its secret: opened, but the signature fails.
        assert!(signed_with_a_wrong_secret(&verifier, akid, token).is_err());
        assert!(verifier.known.is_empty());
        assert!(
            call(
                &verifier,
                akid,
                &creds.secret_access_key,
                token,
                "us-east-1",
                SIGNED_AT
            )
            .is_ok()
        );
        assert_eq!(verifier.known.len(), 1);
    }
}
