//! What identifies a deployment to its clients: the account its resources belong to and the URL
//! its tokens name as issuer. Decided at first start (the account) and by configuration (the
//! URL); passed to every service that writes an ARN or a token.

/// The partition of every ARN tegata writes (`arn:aws:…`), as AWS's commercial regions have it.
pub const PARTITION: &str = "aws";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Twelve digits, the account of every resource.
    pub account_id: String,
    /// The tokens' `iss`: the server's public URL, without a trailing slash.
    pub issuer: String,
}
