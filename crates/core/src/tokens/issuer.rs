//! Signing tokens with the deployment's active key.

use std::sync::{Arc, PoisonError, RwLock};

use crate::UnixSeconds;
use crate::cpu_pool::{CpuPool, CpuPoolStopped};
use crate::error::Internal;
use crate::tokens::claims::OpenIdClaims;
use crate::tokens::keys::{KeyRing, TokenAlgorithm};
use crate::tokens::recently_signed::RecentlySigned;
use crate::tokens::verify::{self, TokenError, WebIdentityClaims};

/// How many signatures may wait for a signing thread. Beyond it a caller is refused at once
/// (throttled) rather than queued: a queue that only grows answers everyone late.
pub const MAX_QUEUED_SIGNATURES: usize = 4096;

/// Why a token was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signing queue is full: the caller should slow down.
    #[error("too many tokens are waiting to be signed")]
    Busy,
    #[error(transparent)]
    Internal(#[from] Internal),
}

/// Signs tokens with the deployment's active key, and verifies the deployment's tokens when
/// they are presented; shared by every service that issues or accepts them.
pub struct TokenIssuer {
    keys: RwLock<Arc<KeyRing>>,
    /// RSA signatures run here, off the async workers (see [`CpuPool`] for why).
    signer: CpuPool,
    /// What this process signed lately, whose exchange skips the signature check.
    recently_signed: RecentlySigned,
}

impl TokenIssuer {
    /// Starts one signing thread per core.
    pub fn new(keys: KeyRing) -> std::io::Result<Self> {
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            signer: CpuPool::per_core("tegata-signer", MAX_QUEUED_SIGNATURES)?,
            recently_signed: RecentlySigned::default(),
        })
    }

    /// The current key ring (cheap: an `Arc` clone).
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Tokens waiting for a signing thread.
    pub fn waiting(&self) -> usize {
        self.signer.waiting()
    }

    /// Swap in a reloaded key ring (after a rotation).
    pub fn replace_keys(&self, keys: KeyRing) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }

    pub async fn sign(&self, claims: &OpenIdClaims) -> Result<String, SignError> {
        let key = self
            .keys()
            .active()
            .cloned()
            .ok_or_else(|| Internal::new("no active signing key"))?;
        let payload = serde_json::to_vec(claims)
            .map_err(|e| Internal::caused_by("serializing token claims", e))?;
        let token = match key.algorithm() {
            // A P-256 signature takes 15-25 µs, less than handing it to a signing thread and
            // waking the caller again (two context switches), and about a quarter of the ES256
            // verification every exchange already runs on an async worker. So it runs here.
            TokenAlgorithm::Es256 => key.sign_jws_payload(&payload),
            TokenAlgorithm::Rs512 => match self
                .signer
                .run(move || key.sign_jws_payload(&payload))
                .await
            {
                Ok(token) => token,
                Err(CpuPoolStopped::Full) => return Err(SignError::Busy),
                Err(stopped) => {
                    return Err(Internal::caused_by("signing a token", stopped).into());
                }
            },
        };
        self.recently_signed.remember(&token);
        static ISSUED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
        ISSUED
            .get_or_init(|| metrics::counter!("tegata_tokens_issued_total"))
            .increment(1);
        Ok(token)
    }

    /// Verify a token presented as the deployment's own (issuer `issuer`) at `now`, with the
    /// current key ring; see [`verify::verify`].
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        now: UnixSeconds,
    ) -> Result<WebIdentityClaims, TokenError> {
        verify::verify(token, &self.keys(), issuer, now, &self.recently_signed)
    }
}
