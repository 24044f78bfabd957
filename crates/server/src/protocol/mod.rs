//! The wire protocols: how bytes become an operation's input and its output becomes bytes.

pub mod aws_json;
pub mod aws_query;
