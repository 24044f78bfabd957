//! The wire protocols: how bytes become an operation's input and its output becomes bytes.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

pub mod aws_json;
pub mod aws_query;
