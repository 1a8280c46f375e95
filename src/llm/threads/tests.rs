use super::*;
use crate::llm::{Conversation, Part, Reply, ThreadHints, ToolDef};

fn text(role: &str, t: &str) -> Message {
    Message::new(role, vec![Part::Text { text: t.into() }])
}

fn analysis(kind: Kind, system: Option<&str>, messages: &[(&str, &str)]) -> Analysis {
    Analysis {
        kind,
        provider: "anthropic",
        model: Some("claude-sonnet-4-5".into()),
        region: None,
        stream: false,
        request: Conversation {
            system: system.map(str::to_string),
            messages: messages.iter().map(|(r, t)| text(r, t)).collect(),
            ..Conversation::default()
        },
        reply: None,
        usage: None,
        cost: None,
        cost_source: None,
        cost_breakdown: None,
        timeline: None,
        mcp: None,
        notes: vec![],
    }
}

const PARENT: &str = "You are a coding agent. Work in /repo.";

#[test]
fn turns_that_extend_history_join_and_say_what_changed() {
    let mut t = ThreadTracker::new();
    let a1 = analysis(Kind::Anthropic, Some(PARENT), &[("user", "fix the bug")]);
    let a2 = analysis(
        Kind::Anthropic,
        Some(PARENT),
        &[
            ("user", "fix the bug"),
            ("assistant", "looking"),
            ("user", "thanks"),
        ],
    );
    let first = t.observe(1, &a1, Some("127.0.0.1:5000"));
    let second = t.observe(2, &a2, Some("127.0.0.1:5000"));
    assert_eq!((first.thread_id, first.turn_index), (1, 0));
    assert_eq!(first.changes.messages_added, 1);
    assert_eq!((second.thread_id, second.turn_index), (1, 1));
    assert_eq!(second.changes.messages_added, 2);
    assert!(!second.changes.system_changed && !second.changes.tools_changed);
}

#[test]
fn sub_agent_and_side_requests_stay_apart() {
    let mut t = ThreadTracker::new();
    let parent = analysis(Kind::Anthropic, Some(PARENT), &[("user", "fix the bug")]);
    let sub = analysis(
        Kind::Anthropic,
        Some("You are a file search specialist."),
        &[("user", "find callers of parse()")],
    );
    let side = analysis(
        Kind::Anthropic,
        Some("Write a 5-word title for this conversation."),
        &[("user", "fix the bug"), ("assistant", "ok"), ("user", "go")],
    );
    let p = t.observe(1, &parent, None).thread_id;
    let s = t.observe(2, &sub, None).thread_id;
    let x = t.observe(3, &side, None).thread_id;
    assert_ne!(p, s);
    assert_ne!(p, x, "unrelated system prompt over the same history");
    // The parent's next turn still finds the parent, not the side request.
    let next = analysis(
        Kind::Anthropic,
        Some(PARENT),
        &[
            ("user", "fix the bug"),
            ("assistant", "done"),
            ("user", "and tests"),
        ],
    );
    assert_eq!(t.observe(4, &next, None).thread_id, p);
}

#[test]
fn edited_system_prompt_and_tools_are_reported() {
    let mut t = ThreadTracker::new();
    let a1 = analysis(Kind::Anthropic, Some(PARENT), &[("user", "hi")]);
    let mut a2 = analysis(
        Kind::Anthropic,
        Some("You are a coding agent. Work in /repo. Today is Monday."),
        &[("user", "hi"), ("assistant", "hello"), ("user", "go")],
    );
    a2.request.tools.push(ToolDef {
        name: "bash".into(),
        description: None,
        schema: None,
        kind: None,
    });
    t.observe(1, &a1, None);
    let info = t.observe(2, &a2, None);
    assert_eq!(info.turn_index, 1);
    assert!(info.changes.system_changed && info.changes.tools_changed);
}

#[test]
fn conflicting_user_ids_never_join() {
    let mut t = ThreadTracker::new();
    let mut a1 = analysis(Kind::Anthropic, None, &[("user", "hi")]);
    a1.request.hints.user_id = Some("session_a".into());
    let mut a2 = analysis(
        Kind::Anthropic,
        None,
        &[("user", "hi"), ("assistant", "yo"), ("user", "x")],
    );
    a2.request.hints.user_id = Some("session_b".into());
    assert_ne!(
        t.observe(1, &a1, None).thread_id,
        t.observe(2, &a2, None).thread_id
    );
}

#[test]
fn previous_response_id_links_turns_without_history() {
    let mut t = ThreadTracker::new();
    let mut a1 = analysis(Kind::OpenAiResponses, Some("sys"), &[("user", "hi")]);
    a1.reply = Some(Reply {
        id: Some("resp_1".into()),
        ..Reply::default()
    });
    let mut a2 = analysis(Kind::OpenAiResponses, Some("sys"), &[("user", "more")]);
    a2.request.hints = ThreadHints {
        previous_response_id: Some("resp_1".into()),
        ..ThreadHints::default()
    };
    let first = t.observe(1, &a1, None);
    let second = t.observe(2, &a2, None);
    assert_eq!(first.thread_id, second.thread_id);
    assert_eq!(second.turn_index, 1);
}

#[test]
fn unrelated_conversations_get_their_own_threads() {
    let mut t = ThreadTracker::new();
    let ids: Vec<_> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let a = analysis(Kind::OpenAiChat, None, &[("user", q)]);
            t.observe(i as u64, &a, None).thread_id
        })
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn eviction_keeps_memory_bounded() {
    let mut t = ThreadTracker::new();
    for i in 0..(MAX_THREADS as u64 + 10) {
        let a = analysis(Kind::OpenAiChat, None, &[("user", &i.to_string())]);
        t.observe(i, &a, None);
    }
    assert_eq!(t.threads.len(), MAX_THREADS);
}

#[test]
fn the_agents_session_key_keeps_a_compacted_history_and_parts_sub_agents() {
    let mut t = ThreadTracker::new();
    let with_session = |system: &str, messages: &[(&str, &str)]| {
        let mut a = analysis(Kind::Anthropic, Some(system), messages);
        a.request.hints.session = Some("claude:s1".into());
        a.request.tools.push(ToolDef {
            name: "Agent".into(),
            description: None,
            schema: None,
            kind: None,
        });
        a
    };
    let first = t.observe(1, &with_session(PARENT, &[("user", "fix the bug")]), None);
    assert_eq!(first.session.as_deref(), Some("claude:s1"));
    // Compacted: the history no longer extends, the session and prompt match.
    let compacted = t.observe(
        2,
        &with_session(PARENT, &[("user", "summary so far")]),
        None,
    );
    assert_eq!(
        (compacted.thread_id, compacted.turn_index),
        (first.thread_id, 1)
    );
    // A sub-agent of the same session: its own thread, same session key.
    let sub = t.observe(
        3,
        &with_session("You are a search agent.", &[("user", "find x")]),
        None,
    );
    assert_ne!(sub.thread_id, first.thread_id);
    assert_eq!(sub.session.as_deref(), Some("claude:s1"));
    // Another session never joins, even with the same history.
    let mut other = analysis(
        Kind::Anthropic,
        Some(PARENT),
        &[
            ("user", "summary so far"),
            ("assistant", "ok"),
            ("user", "go"),
        ],
    );
    other.request.hints.session = Some("claude:s2".into());
    assert_ne!(t.observe(4, &other, None).thread_id, first.thread_id);
}

/// An agent run twice with the same prompt: the second run's turns form a
/// conversation of their own, not a continuation of the first run's
/// (whose last turn they repeat). A retry of an unanswered turn still
/// joins it.
#[test]
fn the_same_conversation_run_again_is_a_thread_of_its_own() {
    let answered = |mut a: Analysis| {
        a.reply = Some(Reply {
            stop_reason: Some("end_turn".into()),
            ..Reply::default()
        });
        a
    };
    let first = || {
        answered(analysis(
            Kind::Anthropic,
            Some(PARENT),
            &[("user", "weather?")],
        ))
    };
    let second = || {
        answered(analysis(
            Kind::Anthropic,
            Some(PARENT),
            &[
                ("user", "weather?"),
                ("assistant", "calling"),
                ("user", "sunny"),
            ],
        ))
    };
    let mut t = ThreadTracker::new();
    let run1 = [t.observe(1, &first(), None), t.observe(2, &second(), None)];
    let run2 = [t.observe(3, &first(), None), t.observe(4, &second(), None)];
    let run3 = [t.observe(5, &first(), None), t.observe(6, &second(), None)];
    for run in [&run1, &run2, &run3] {
        assert_eq!(run[0].thread_id, run[1].thread_id, "{run:?}");
        assert_eq!((run[0].turn_index, run[1].turn_index), (0, 1), "{run:?}");
    }
    assert_ne!(run1[0].thread_id, run2[0].thread_id);
    assert_ne!(run2[0].thread_id, run3[0].thread_id);

    // Unanswered (an overloaded API), the same request again is a retry.
    let unanswered = analysis(Kind::Anthropic, Some(PARENT), &[("user", "retry me")]);
    let a = t.observe(7, &unanswered, None);
    let b = t.observe(8, &answered(unanswered.clone()), None);
    assert_eq!(
        (a.thread_id, b.thread_id, b.turn_index),
        (a.thread_id, a.thread_id, 1)
    );
}
