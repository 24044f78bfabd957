//! The deployment's OpenID tokens: the signing keys ([`keys`]), the claims Cognito Identity puts
//! in a token ([`claims`]), signing them ([`TokenIssuer`]) and verifying a presented token
//! ([`verify`]). The key ring is swapped whole, so a rotation never tears a request.

pub mod claims;
pub mod federation;
pub mod issuer;
pub mod keeper;
pub mod keys;
pub mod lifecycle;
pub mod recently_signed;
pub mod verify;

pub use issuer::TokenIssuer;
