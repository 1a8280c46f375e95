//! The agent's own session key, when it sends one: Claude Code's
//! `x-claude-code-session-id` header (2.1.86+), else the `session_id` in
//! its `metadata.user_id` — a JSON string (`{"session_id": …}`, 2.1.78+)
//! or the older `user_…_account_…_session_UUID`. Every request of one
//! Claude Code session carries the same key: its main conversation, its
//! sub-agents and its side requests alike.

use serde_json::Value;

use crate::exchange::{Headers, header};

const HEADER: &str = "x-claude-code-session-id";

/// `claude:{id}` for a Claude Code session, else `None`.
pub fn session_key(headers: &Headers, user_id: Option<&str>) -> Option<String> {
    let from_header = header(headers, HEADER)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    from_header
        .or_else(|| user_id.and_then(from_user_id))
        .map(|id| format!("claude:{id}"))
}

fn from_user_id(user_id: &str) -> Option<String> {
    if user_id.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(user_id).ok()?;
        return v
            .get("session_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    let (_, session) = user_id.rsplit_once("_session_")?;
    (!session.is_empty()).then(|| session.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_json_then_legacy_user_id() {
        let h = Headers::from([("X-Claude-Code-Session-Id", "abc")]);
        assert_eq!(
            session_key(&h, Some("user_x_session_zzz")).as_deref(),
            Some("claude:abc")
        );
        let none = Headers::new();
        let json = r#"{"device_id":"d","account_uuid":"","session_id":"54c1"}"#;
        assert_eq!(
            session_key(&none, Some(json)).as_deref(),
            Some("claude:54c1")
        );
        assert_eq!(
            session_key(&none, Some("user_ab12_account__session_57a1-e3")).as_deref(),
            Some("claude:57a1-e3")
        );
        assert_eq!(session_key(&none, Some("plain-user")), None);
        assert_eq!(session_key(&none, Some("{bad json")), None);
        assert_eq!(session_key(&none, None), None);
    }
}
