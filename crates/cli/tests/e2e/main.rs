//! End-to-end tests: the real `tegata` binary on loopback, driven by aws-sdk-rust and by
//! hand-signed HTTP requests for what SDKs never send. One test binary for the whole crate.

mod auth;
mod cognito_identity;
mod edge;
mod lambda;
mod multi_node;
mod sts;
mod support;
