//! Every sentence the UI shows, in one place so wording stays consistent.

pub const APP: &str = "llmspy";
pub const NO_BODY: &str = "(no body)";
pub const NO_RESPONSE: &str = "(no response yet)";
/// The heading of a body's trailers in the Raw tab.
pub const TRAILERS: &str = "trailers (sent after the body):";
pub const NO_SELECTION: &str = "No exchange selected.";
pub const EMPTY_LIST: &str =
    "No traffic yet. Point your agent at the proxy (HTTPS_PROXY) and its requests appear here.";
pub const EMPTY_FILTERED: &str = "Nothing matches the filter. Press f to change it.";
pub const EMPTY_CLEARED: &str = "List cleared. New traffic appears here.";
pub const EMPTY_OPENED: &str = "The capture file holds no exchanges.";
pub const SECRET_MASK: &str = "••••••••";
pub const SECRET_HINT: &str = " (masked; R reveals)";
pub const FILTER_PROMPT: &str = "filter: ";
pub const SEARCH_PROMPT: &str = "search: ";
pub const PATH_PROMPT: &str = "path: ";
pub const HELP_TITLE: &str = " Keys ";
pub const FILTER_HELP_TITLE: &str = "Filter expressions";
pub const COPY_TITLE: &str = " Copy ";
pub const QUIT_HINT: &str = "Press Q to quit (q goes back).";
pub const NOTHING_TO_COPY: &str = "Nothing to copy here.";
pub const NO_ASSISTANT_TEXT: &str = "This exchange has no assistant text.";
pub const FOLLOW_ON: &str = "Following the newest exchange.";
pub const FOLLOW_OFF: &str = "Follow off.";
/// `z` in a live llmspy: the capture itself is dropped, not only the list.
pub const CLEARED: &str =
    "Capture cleared: the list, exports and the API start afresh (not kept anywhere else).";
/// As [`CLEARED`], with a history that saved what was captured.
pub const CLEARED_HISTORY_KEEPS: &str = "Capture cleared: the list, exports and the API start afresh (the history keeps what it saved).";
/// `z` over a file or a history run: only the list is emptied.
pub const LIST_CLEARED: &str = "List cleared (what it shows is unchanged on disk).";
pub const NO_MATCHES: &str = "No matches.";
pub const MARKED_ONLY: &str = "marked only";
pub const FOLLOW_BADGE: &str = "FOLLOW";
pub const LIVE_BADGE: &str = "live";
pub const OPENED_BADGE: &str = "file";

/// The title's badge while a history run is shown instead of live traffic.
pub fn run_badge(run: i64) -> String {
    format!("history run {run}")
}
pub const NO_EXPECTATIONS: &str = "No expectations yet. Load a file with `llmspy --init FILE` or add them through the control API (PUT /llmspy/expectation); they will be listed here.";
pub const NOTHING_TO_RECORD: &str = "Nothing to record: no finished exchange in the selection was answered by a real upstream (mocked answers are not recorded again).";
/// The Runs tab's first row.
pub const LIVE_TRAFFIC: &str = "● live traffic (this run)";
/// Said when the live traffic is back on screen.
pub const BACK_TO_LIVE: &str = "live traffic again";
/// Under the Runs tab.
pub const RUNS_HINT: &str =
    "Enter shows a run in place of the live traffic; the first row brings the live traffic back";
pub const RECORD_HINT: &str =
    "R records the selection (Export › What) as a replay fixture for llmspy --init.";
pub const UNSCOPED: &str = "Unscoped requests";
pub const NO_SESSIONS: &str = "No LLM conversations yet.";
pub const NO_THREADS_YET: &str = "Conversations appear here once LLM traffic is captured.";
pub const THINKING_COLLAPSED: &str = "thinking (t expands)";

pub const FILTER_SYNTAX: &[(&str, &str)] = &[
    (
        "~h RE  ~hq RE  ~hs RE",
        "header (either side, request, response)",
    ),
    ("~d RE", "domain"),
    ("~m RE", "method"),
    ("~c 200  ~c 4xx", "response status"),
    ("~u RE  or a bare word", "URL"),
    ("~b RE  ~bq RE  ~bs RE", "body (decoded)"),
    ("~t RE  ~tq RE  ~ts RE", "content type"),
    (
        "~e  ~q  ~s  ~all",
        "failed, no response yet, has response, everything",
    ),
    ("~p RE  ~model RE", "LLM provider, model"),
    ("~tool RE", "a tool called or defined"),
    ("~app RE", "the program that sent it"),
    (
        "~mcp  ~stream  ~ws",
        "MCP traffic, streamed response, WebSocket",
    ),
    (
        "~grpc  ~grpcerr",
        "gRPC call, one that ended with an error status",
    ),
    ("!  &  |  ( )", "not, and (or just a space), or, grouping"),
    ("\"…\"  '…'", "quote values with spaces or ( ) | &"),
];

pub fn truncated(kept: usize, wire: u64) -> String {
    format!(
        "[capture cap: kept {} of {}]",
        bytes(kept as u64),
        bytes(wire)
    )
}

/// A gRPC body's bytes after its last whole message.
pub fn grpc_left_over(len: usize) -> String {
    format!("({len} bytes after the last whole message: the capture was cut, or this is not gRPC)")
}

pub const GRPC_NOT_DECOMPRESSED: &str = "(compressed with an encoding llmspy does not decode)";

pub fn binary(len: usize) -> String {
    format!("(binary, {len} bytes)")
}

pub fn copied(what: &str, len: usize, how: &str) -> String {
    format!("Copied {what} ({}) {how}.", bytes(len as u64))
}

pub fn copy_failed(reason: &str) -> String {
    format!("Copy failed: {reason}")
}

pub fn matches(current: usize, total: usize) -> String {
    format!("match {current} of {total}")
}

pub fn sorted_by(label: &str, reverse: bool) -> String {
    let dir = if reverse { "descending" } else { "ascending" };
    format!("Sorted by {label}, {dir}.")
}

pub fn marked(count: usize) -> String {
    format!("{count} marked")
}

/// `1.2 KB`, `3.4 MB`: sizes as people read them.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Token counts compactly: `950`, `12.3k`, `1.2M`.
pub fn tokens(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// Dollars with enough precision for small amounts.
pub fn cost(usd: f64) -> String {
    // Sums adjusted up and down drift by tiny amounts, and an empty sum is
    // -0.0; nobody wants to read "$-0.0000".
    let usd = if usd.abs() < 1e-9 { 0.0 } else { usd };
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else if usd > 0.0 && usd < 0.00005 {
        // A cost too small for four places is not free (a local model is):
        // "$0.0000" would say it was.
        "<$.0001".to_string()
    } else {
        format!("${usd:.4}")
    }
}

/// Microseconds as `850ms`, `2.3s`, `1m05s`.
pub fn duration_us(us: u64) -> String {
    let ms = us / 1000;
    match ms {
        0..=999 => format!("{ms}ms"),
        1000..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60),
    }
}

pub const STREAMING: &str = "streaming…";
pub const COST_UNKNOWN: &str = "cost unknown";
pub const COST_UNKNOWN_SHORT: &str = "$?";
pub const NOT_ANALYSED: &str =
    "This exchange could not be analysed; the Raw tab shows it as captured.";
pub const REFUSAL: &str = "⊘ refusal";
pub const THINKING_REDACTED: &str = "▸ thinking (redacted by the provider)";
pub const WAITING_REPLY: &str = "waiting for the reply…";
pub const SYSTEM_MORE: &str = "more lines: the Messages tab shows the whole system prompt";
pub const NO_EVENTS: &str = "No stream events decoded.";
pub const NO_WS_MESSAGES: &str = "No WebSocket messages yet.";
pub const APPROXIMATE: &str = "times are approximate";

pub fn more_lines(n: usize) -> String {
    format!("… {n} {SYSTEM_MORE}")
}
pub const EDIT_HINT: &str = "  (enter edits)";
pub const WRITE_BUTTON: &str = "[ Write ]";
pub const REDACTED: &str = "redacted (***REDACTED***)";
pub const KEPT: &str = "kept as captured";
pub const NOT_SCRIPTED: &str = "No scripted conversation answered this exchange.";
pub const SCRIPT_GONE: &str = "The expectation that scripted this turn is no longer active.";
pub const STRICT_MISS: &str = "strict replay: no expectation matched this request.";
pub const FILTER_ERROR_HINT: &str = "(not applied; Esc keeps the previous filter)";

/// The Raw tab's note on a request that went out twice (`at_us` from the
/// exchange's start).
pub fn sent_twice(at_us: u64) -> String {
    format!(
        "⟳ sent twice: the server closed a kept connection as this request went out; it went again on another one {:.1} ms in (the server may have read it twice)",
        at_us as f64 / 1000.0
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cost_too_small_to_show_is_not_shown_as_free() {
        assert_eq!(super::cost(0.000_008), "<$.0001");
        assert_eq!(super::cost(0.0), "$0.0000");
        assert_eq!(super::cost(-0.0), "$0.0000");
        assert_eq!(super::cost(0.00012), "$0.0001");
        assert_eq!(super::cost(1.234), "$1.23");
    }
}
