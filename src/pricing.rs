//! What an exchange cost: per-million-token prices by model, from
//! `assets/pricing.json` (compiled in) or a user's override, applied to a
//! normalised [`Usage`].
//!
//! Each kind of token has its own price, so prompt caching is costed right:
//! [`Usage`] counts cache reads and writes *inside* `input_tokens` (see its
//! docs for how each provider's numbers are converted), and
//! [`PriceTable::cost`] charges only the uncached remainder at the input
//! price. An unknown model has no cost (`None`), never a cost of zero.
//!
//! The caller does the file IO: read the override file and hand its text to
//! [`PriceTable::with_override`], then [`install`] the result.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde::{Deserialize, Serialize};

use crate::usage::Usage;

const EMBEDDED: &str = include_str!("../assets/pricing.json");

/// Prices of one model, USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    /// Cache hits; the input price when absent.
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Cache writes with the default (5-minute) TTL; the input price when absent.
    #[serde(default)]
    pub cache_write: Option<f64>,
    /// Cache writes with a one-hour TTL; `cache_write` when absent.
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
    /// Prices for requests whose prompt exceeds a threshold.
    #[serde(default)]
    pub above: Option<Box<LongPrompt>>,
}

/// A long-prompt price tier: applies to every token of such a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongPrompt {
    pub threshold_tokens: u64,
    #[serde(flatten)]
    pub prices: Prices,
}

/// Per-use fees of tools a provider runs on its side, USD per 1,000 uses.
/// A tool without a price here adds nothing (web fetch is free; code
/// execution is billed by container time, not per use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolPrices {
    #[serde(default)]
    pub web_search: Option<f64>,
    #[serde(default)]
    pub web_fetch: Option<f64>,
    #[serde(default)]
    pub code_execution: Option<f64>,
}

/// What one exchange cost, split by kind of token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    pub total_usd: f64,
    pub input_usd: f64,
    pub cache_read_usd: f64,
    pub cache_write_usd: f64,
    pub output_usd: f64,
    /// Per-use fees of server-side tools (web search), included in the total.
    #[serde(skip_serializing_if = "is_zero")]
    pub tools_usd: f64,
    /// The price-list entry used (e.g. `claude-sonnet-4-5`).
    pub priced_as: String,
    /// True when the long-prompt tier applied.
    pub long_prompt: bool,
}

/// Why a pricing file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error(
        "pricing file is not valid: expected {{\"models\": {{\"<model>\": {{\"input\": …, \"output\": …}}}}}}"
    )]
    Invalid(#[source] serde_json::Error),
    #[error("pricing file: price of {model} must be a number ≥ 0")]
    BadPrice { model: String },
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Debug, Deserialize)]
struct PriceFile {
    #[serde(default)]
    taken: Option<String>,
    models: BTreeMap<String, Prices>,
    /// Model-name prefix → per-use tool fees.
    #[serde(default)]
    server_tools: BTreeMap<String, ToolPrices>,
}

/// A price list: model name → prices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    /// When the prices were read, as the file says.
    pub taken: Option<String>,
    models: BTreeMap<String, Prices>,
    tools: BTreeMap<String, ToolPrices>,
}

impl PriceTable {
    /// Parse a pricing file (the shape of `assets/pricing.json`).
    pub fn from_json(text: &str) -> Result<Self, PricingError> {
        let file: PriceFile = serde_json::from_str(text).map_err(PricingError::Invalid)?;
        let models: BTreeMap<String, Prices> = file
            .models
            .into_iter()
            .map(|(name, prices)| (name.to_ascii_lowercase(), prices))
            .collect();
        if let Some((model, _)) = models.iter().find(|(_, p)| !valid(p)) {
            return Err(PricingError::BadPrice {
                model: model.clone(),
            });
        }
        let tools: BTreeMap<String, ToolPrices> = file
            .server_tools
            .into_iter()
            .map(|(prefix, prices)| (prefix.to_ascii_lowercase(), prices))
            .collect();
        if let Some((prefix, _)) = tools.iter().find(|(_, p)| !valid_tools(p)) {
            return Err(PricingError::BadPrice {
                model: prefix.clone(),
            });
        }
        Ok(PriceTable {
            taken: file.taken,
            models,
            tools,
        })
    }

    /// The compiled-in list.
    pub fn embedded() -> &'static PriceTable {
        embedded_shared()
    }

    /// The compiled-in list with `text`'s entries added or replacing.
    pub fn with_override(text: &str) -> Result<Self, PricingError> {
        let over = PriceTable::from_json(text)?;
        let mut table = PriceTable::embedded().clone();
        table.models.extend(over.models);
        table.tools.extend(over.tools);
        table.taken = over.taken.or(table.taken);
        Ok(table)
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The entry for `model`: its key and prices.
    pub fn lookup(&self, model: &str) -> Option<(&str, &Prices)> {
        let name = normalise(model);
        if let Some((key, prices)) = self.models.get_key_value(&name) {
            return Some((key, prices));
        }
        self.models
            .iter()
            .filter(|(key, _)| extends(&name, key))
            .max_by_key(|(key, _)| key.len())
            .map(|(key, prices)| (key.as_str(), prices))
    }

    /// Cost of `usage` on `model`; `None` when the model is not listed.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<Cost> {
        let (key, prices) = self.lookup(model)?;
        let mut cost = cost_with(key, prices, usage);
        cost.tools_usd = round(self.tool_fees(model, usage));
        cost.total_usd = round(cost.total_usd + cost.tools_usd);
        Some(cost)
    }

    /// Per-use fees of the server-side tools in `usage`, from the entry
    /// whose prefix is the longest match for the model.
    fn tool_fees(&self, model: &str, usage: &Usage) -> f64 {
        let name = normalise(model);
        let Some(prices) = self
            .tools
            .iter()
            .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, p)| p)
        else {
            return 0.0;
        };
        let uses = usage.server_tools;
        let fee = |n: u64, per_1k: Option<f64>| n as f64 * per_1k.unwrap_or(0.0) / 1000.0;
        fee(uses.web_search, prices.web_search)
            + fee(uses.web_fetch, prices.web_fetch)
            + fee(uses.code_execution, prices.code_execution)
    }
}

fn valid_tools(p: &ToolPrices) -> bool {
    [p.web_search, p.web_fetch, p.code_execution]
        .iter()
        .flatten()
        .all(|x| x.is_finite() && *x >= 0.0)
}

fn valid(p: &Prices) -> bool {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    let opt = |x: Option<f64>| x.is_none_or(ok);
    ok(p.input)
        && ok(p.output)
        && opt(p.cache_read)
        && opt(p.cache_write)
        && opt(p.cache_write_1h)
        && p.above.as_ref().is_none_or(|a| valid(&a.prices))
}

fn cost_with(key: &str, prices: &Prices, usage: &Usage) -> Cost {
    let tier = prices
        .above
        .as_ref()
        .filter(|a| usage.input_tokens > a.threshold_tokens);
    let p = tier.map_or(prices, |a| &a.prices);
    let per = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
    let write = p.cache_write.unwrap_or(p.input);
    let write_1h_tokens = usage.cache_write_1h_tokens.min(usage.cache_write_tokens);
    let input_usd = per(usage.uncached_input(), p.input);
    let cache_read_usd = per(usage.cache_read_tokens, p.cache_read.unwrap_or(p.input));
    let cache_write_usd = per(usage.cache_write_tokens - write_1h_tokens, write)
        + per(write_1h_tokens, p.cache_write_1h.unwrap_or(write));
    let output_usd = per(usage.output_tokens, p.output);
    Cost {
        total_usd: round(input_usd + cache_read_usd + cache_write_usd + output_usd),
        input_usd: round(input_usd),
        cache_read_usd: round(cache_read_usd),
        cache_write_usd: round(cache_write_usd),
        output_usd: round(output_usd),
        tools_usd: 0.0,
        priced_as: key.to_string(),
        long_prompt: tier.is_some(),
    }
}

/// Round to a nano-dollar so sums print cleanly.
fn round(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

/// Reduce a model name as sent to the form the price list uses.
pub fn normalise(model: &str) -> String {
    let mut name = model.trim().to_ascii_lowercase();
    if let Some(i) = name.rfind('/') {
        name.drain(..=i);
    }
    if let Some(i) = name.find("anthropic.") {
        name.drain(..i + "anthropic.".len());
    }
    strip_geography(&mut name);
    for cut in ['@', ':', '['] {
        if let Some(i) = name.find(cut) {
            name.truncate(i);
        }
    }
    strip_version_suffix(&mut name);
    strip_date_suffix(&mut name);
    if name.starts_with("claude") {
        name = name.replace('.', "-");
    }
    name
}

/// Drop a Bedrock cross-region inference profile's geography
/// (`us.amazon.nova-pro` → `amazon.nova-pro`).
fn strip_geography(name: &mut String) {
    const GEOGRAPHIES: [&str; 8] = [
        "us.", "us-gov.", "eu.", "apac.", "global.", "jp.", "au.", "ca.",
    ];
    if let Some(geo) = GEOGRAPHIES.iter().find(|g| name.starts_with(*g))
        && name[geo.len()..].contains('.')
    {
        name.drain(..geo.len());
    }
}

/// Drop a Bedrock `-v1` (its `:0` went with the `:` cut).
fn strip_version_suffix(name: &mut String) {
    if let Some(i) = name.rfind("-v")
        && name.len() > i + 2
        && name[i + 2..].bytes().all(|b| b.is_ascii_digit())
    {
        name.truncate(i);
    }
}

/// Drop `-20250929`, `-2024-08-06` and `-latest`.
fn strip_date_suffix(name: &mut String) {
    if let Some(base) = name.strip_suffix("-latest") {
        let keep = base.len();
        name.truncate(keep);
        return;
    }
    let b = name.as_bytes();
    let n = b.len();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // Indices below point at ASCII bytes just checked, so truncating there
    // stays on a char boundary.
    if n > 9 && b[n - 9] == b'-' && digits(&b[n - 8..]) {
        name.truncate(n - 9);
    } else if n > 11
        && b[n - 11] == b'-'
        && b[n - 6] == b'-'
        && b[n - 3] == b'-'
        && digits(&b[n - 10..n - 6])
        && digits(&b[n - 5..n - 3])
        && digits(&b[n - 2..])
    {
        name.truncate(n - 11);
    }
}

/// True when `name` is `key` plus a suffix that names the same model:
/// a preview or experimental tag or a build number, not another version.
fn extends(name: &str, key: &str) -> bool {
    let Some(rest) = name.strip_prefix(key) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let first = rest.split('-').next().unwrap_or_default();
    first.starts_with("preview")
        || first.starts_with("exp")
        || (first.len() == 3 && first.bytes().all(|b| b.is_ascii_digit()))
}

static ACTIVE: RwLock<Option<Arc<PriceTable>>> = RwLock::new(None);

/// Make `table` the one [`active`] returns (e.g. embedded + user override).
pub fn install(table: PriceTable) {
    let mut slot = ACTIVE.write().unwrap_or_else(|e| e.into_inner());
    *slot = Some(Arc::new(table));
}

/// Parse a user's override file text and install it over the embedded list.
pub fn install_override(text: &str) -> Result<(), PricingError> {
    install(PriceTable::with_override(text)?);
    Ok(())
}

/// The table in use: the installed one, or the embedded list.
pub fn active() -> Arc<PriceTable> {
    let slot = ACTIVE.read().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(table) => table.clone(),
        None => embedded_shared().clone(),
    }
}

fn embedded_shared() -> &'static Arc<PriceTable> {
    static TABLE: OnceLock<Arc<PriceTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        Arc::new(
            PriceTable::from_json(EMBEDDED)
                .expect("assets/pricing.json is valid: a unit test parses it"),
        )
    })
}

#[cfg(test)]
mod tests;
