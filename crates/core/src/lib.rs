//! tegata's domain: identity pools and identities, IAM roles, STS sessions, the account and its
//! access keys, the OpenID tokens and their keys, and the [`store::Store`] trait the domain
//! persists through.
//!
//! Nothing here knows about HTTP or wire formats. Every function that needs the time or random
//! bytes takes them as arguments (`now` in Unix seconds, a [`random::Randomness`]), so expiry and
//! identifier generation are ordinary table tests.

pub mod access_keys;
pub mod account;
pub mod app_users;
pub mod audit;
pub mod authz;
pub mod cache;
pub mod cognito_identity;
pub mod cpu_pool;
pub mod denials;
pub mod deployment;
pub mod error;
pub mod iam;
pub mod ids;
pub mod master_key;
pub mod pagination;
pub mod random;
pub mod revocations;
pub mod store;
pub mod sts;
pub mod tokens;

pub use deployment::Deployment;
pub use error::{AwsError, Fault, Internal};
pub use random::{Randomness, SystemRandomness};

/// Seconds since the Unix epoch. The domain's only notion of time.
pub type UnixSeconds = i64;
