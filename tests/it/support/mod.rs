//! Shared harness: a real TLS upstream, llmspy in-process, real clients.
#![allow(dead_code)]

pub mod binary;
pub mod client;
pub mod otlp;
pub mod proxy;
pub mod upstream;
pub mod ws_echo;
