//! Shared harness: a real TLS upstream, llmspy in-process, real clients.
#![allow(dead_code)]

pub mod client;
pub mod proxy;
pub mod upstream;
