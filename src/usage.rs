//! Token usage, normalised across providers: the vocabulary the LLM
//! parsers produce and the price list consumes, kept below both.

use serde::Serialize;

/// Token counts, normalised across providers.
///
/// The top-level counts are totals and the others are parts of them:
/// `input_tokens` is every prompt token the model read, *including*
/// `cache_read_tokens` and `cache_write_tokens`; `output_tokens` is every
/// generated token, *including* `reasoning_tokens`. Providers differ on the
/// wire — Anthropic reports `input_tokens` *without* the cached ones
/// (`cache_read_input_tokens` and `cache_creation_input_tokens` come on
/// top), OpenAI reports `prompt_tokens` *with* `cached_tokens` inside,
/// Gemini reports `thoughtsTokenCount` *beside* `candidatesTokenCount` —
/// and each parser converts to this one convention. Pricing then charges
/// `input_tokens - cache_read_tokens - cache_write_tokens` at the input
/// price and each part at its own price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a one-hour TTL
    /// (Anthropic), priced higher than the default five minutes.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_1h_tokens: u64,
    pub reasoning_tokens: u64,
    /// Server-side tool uses billed per use (Anthropic and OpenAI web
    /// search, Anthropic web fetch and code execution), counted apart from
    /// tokens.
    #[serde(skip_serializing_if = "ServerTools::is_empty")]
    pub server_tools: ServerTools,
}

/// How many times the provider ran a tool on its own side for this reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerTools {
    pub web_search: u64,
    pub web_fetch: u64,
    pub code_execution: u64,
}

impl ServerTools {
    pub fn is_empty(&self) -> bool {
        *self == ServerTools::default()
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }
}
