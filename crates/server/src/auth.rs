//! Who signed a request: SigV4 verification against the deployment's access keys.
//!
//! Long-term keys (`AKIA…`) are looked up in the store and their secrets decrypted with the
//! master key; the result is cached for a short while so a busy node does not read the database
//! on every request, and a deactivated key stops working everywhere within that time.
//!
//! Temporary keys (`ASIA…`) read nothing: the session token is opened with a key derived from
//! the master key, and the secret is recomputed from the access key id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use tegata_core::account::Principal;
use tegata_core::master_key::MasterKey;
use tegata_core::store::Store;
use tegata_core::sts::credentials::CredentialMinter;
use tegata_sigv4::{HttpRequest, SigV4Error, SignedRequest, VerifyOptions};
use time::{Duration, OffsetDateTime};

use crate::RawRequest;

/// How far a request's `X-Amz-Date` may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// How long a looked-up access key is trusted before it is read again.
const KEY_CACHE_TTL: StdDuration = StdDuration::from_secs(30);

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub access_key_id: String,
    /// The region the request was signed for (its credential scope).
    pub region: String,
    /// Set when the caller used temporary credentials.
    pub session: Option<tegata_core::sts::credentials::SessionClaims>,
}

impl Caller {
    pub fn is_session(&self) -> bool {
        self.session.is_some()
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

struct CachedKey {
    secret: String,
    principal: Principal,
    fetched: Instant,
}

pub struct Authenticator {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    minter: Arc<CredentialMinter>,
    account_id: String,
    cache: Mutex<HashMap<String, Arc<CachedKey>>>,
}

impl Authenticator {
    pub fn new(
        store: Arc<dyn Store>,
        master: Arc<MasterKey>,
        minter: Arc<CredentialMinter>,
        account_id: String,
    ) -> Self {
        Self {
            store,
            master,
            minter,
            account_id,
            cache: Mutex::new(HashMap::new()),
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
            return self.temporary(&request, signed, now, &options).map(Some);
        }
        let key = self.long_term_key(&signed).await?;
        tegata_sigv4::verify(&request, &signed, &key.secret, now, &options)
            .map_err(AuthError::Signature)?;
        Ok(Some(Caller {
            principal: key.principal.clone(),
            access_key_id: signed.access_key_id,
            region: signed.scope.region,
            session: None,
        }))
    }

    /// Temporary credentials: the session token must be present, ours and bound to the key id;
    /// the signature must verify with the derived secret; and the session must not have expired.
    fn temporary(
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
        let claims = self
            .minter
            .open(&signed.access_key_id, token)
            .map_err(|_| AuthError::UnknownAccessKey)?;
        let secret = self.minter.secret_for(&signed.access_key_id);
        tegata_sigv4::verify(request, &signed, &secret, now, options)
            .map_err(AuthError::Signature)?;
        if claims.expires_at <= now.unix_timestamp() {
            return Err(AuthError::ExpiredToken);
        }
        Ok(Caller {
            principal: Principal::assumed_role(&claims),
            access_key_id: signed.access_key_id,
            region: signed.scope.region,
            session: Some(claims),
        })
    }

    async fn long_term_key(&self, signed: &SignedRequest) -> Result<Arc<CachedKey>, AuthError> {
        let akid = &signed.access_key_id;
        if let Some(hit) = self.cached(akid) {
            return Ok(hit);
        }
        let record = self
            .store
            .access_key(akid)
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?
            .filter(|r| r.active)
            .ok_or(AuthError::UnknownAccessKey)?;
        let secret = record
            .secret(&self.master)
            .map_err(|e| AuthError::Internal(format!("access key {akid}: {e}")))?;
        let entry = Arc::new(CachedKey {
            secret,
            principal: Principal::iam_user(&self.account_id, &record.user_name, &record.user_id),
            fetched: Instant::now(),
        });
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(akid.clone(), entry.clone());
        Ok(entry)
    }

    fn cached(&self, akid: &str) -> Option<Arc<CachedKey>> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(akid)
            .filter(|entry| entry.fetched.elapsed() < KEY_CACHE_TTL)
            .cloned()
    }
}
