//! The captured response as a Bruno example (`example { … }`), so Bruno
//! shows it next to the request the way Postman shows a saved response.
//!
//! Examples nest blocks: the response body sits in a `'''` text block
//! indented eight spaces, which Bruno strips when reading. A body holding
//! `'''` itself can't be written that way; the caller then keeps the body
//! in the docs block instead.

use super::{body_mode, key, one_line};
use crate::exchange::Exchange;
use crate::export::view::{self, BodyView};

/// The `example` block for `ex`'s response, when it can be written.
pub(super) fn block(ex: &Exchange) -> Option<String> {
    let resp = ex.response.as_ref()?;
    let body = BodyView::of(&resp.headers, &resp.body);
    let text = body.text.as_deref()?;
    if text.contains("'''") {
        return None;
    }
    let request = BodyView::of(&ex.request.headers, &ex.request.body);
    let mut lines = vec![
        "example {".to_string(),
        format!("  name: {} {}", resp.status, view::status_text(resp.status))
            .trim_end()
            .to_string(),
        format!("  description: Captured by llmspy (exchange #{})", ex.id),
        String::new(),
        "  request: {".to_string(),
        format!("    url: {}", one_line(&ex.url())),
        format!("    method: {}", ex.request.method.to_ascii_lowercase()),
        format!("    mode: {}", body_mode(&request)),
        "  }".to_string(),
        String::new(),
        "  response: {".to_string(),
    ];
    let headers = view::replay_headers(&resp.headers);
    // An empty dictionary doesn't parse: leave the block out instead.
    if !headers.is_empty() {
        lines.push("    headers: {".to_string());
        lines.extend(
            headers
                .iter()
                .map(|(n, v)| format!("      {}: {}", key(n), one_line(v))),
        );
        lines.push("    }".to_string());
        lines.push(String::new());
    }
    lines.extend([
        "    status: {".to_string(),
        format!("      code: {}", resp.status),
        format!("      text: {}", view::status_text(resp.status)),
        "    }".to_string(),
    ]);
    if !text.is_empty() {
        lines.push(String::new());
        lines.extend(body_lines(text, body.json().is_some()));
    }
    lines.extend(["  }".to_string(), "}".to_string()]);
    Some(lines.join("\n"))
}

fn body_lines(text: &str, is_json: bool) -> Vec<String> {
    let mut out = vec![
        "    body: {".to_string(),
        format!("      type: {}", if is_json { "json" } else { "text" }),
        "      content: '''".to_string(),
    ];
    out.extend(text.trim_end_matches('\n').lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!("        {l}")
        }
    }));
    out.extend(["      '''".to_string(), "    }".to_string()]);
    out
}
