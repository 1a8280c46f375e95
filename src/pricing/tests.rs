use proptest::prelude::*;

use super::*;

#[test]
fn embedded_list_parses_and_is_dated() {
    let table = PriceTable::from_json(EMBEDDED).expect("valid");
    assert!(table.len() > 40);
    assert_eq!(table.taken.as_deref(), Some("2026-11-25"));
}

#[test]
fn normalise_table() {
    let cases = [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        (
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "claude-3-5-haiku",
        ),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("GPT-5-Mini", "gpt-5-mini"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("llama3.2:3b", "llama3.2"),
        ("é-20250101", "é"),
        ("us.amazon.nova-pro-v1:0", "amazon.nova-pro"),
        ("amazon.nova-micro-v1:0", "amazon.nova-micro"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5",
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(normalise(raw), want, "{raw}");
    }
}

#[test]
fn lookup_table() {
    let t = PriceTable::embedded();
    let cases = [
        ("claude-sonnet-4-5-20250929", Some("claude-sonnet-4-5")),
        ("claude-sonnet-4-20250514", Some("claude-sonnet-4")),
        ("claude-opus-4-1-20250805", Some("claude-opus-4-1")),
        ("claude-haiku-4-5", Some("claude-haiku-4-5")),
        ("gpt-4o-mini-2024-07-18", Some("gpt-4o-mini")),
        ("gpt-4.1-nano", Some("gpt-4.1-nano")),
        ("o4-mini-2025-04-16", Some("o4-mini")),
        ("gemini-2.5-flash-preview-05-20", Some("gemini-2.5-flash")),
        ("gemini-2.5-flash-lite", Some("gemini-2.5-flash-lite")),
        ("gemini-2.0-flash-001", Some("gemini-2.0-flash")),
        // Another version or variant of a listed model is not priced as it.
        ("claude-opus-4-9", None),
        ("gpt-5.2", None),
        ("gpt-4o-mini-tts", None),
        ("gemini-2.5-flash-image-preview", None),
        ("llama3.2", None),
        ("", None),
    ];
    for (model, want) in cases {
        assert_eq!(t.lookup(model).map(|(k, _)| k), want, "{model}");
    }
}

fn usage(input: u64, output: u64, read: u64, write: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: write,
        ..Usage::default()
    }
}

#[test]
fn each_kind_of_token_has_its_price() {
    let t = PriceTable::embedded();
    // Sonnet 4.5: 3 in, 15 out, 0.30 cache read, 3.75 cache write (5m), 6 (1h).
    // 1,000 uncached + 10,000 read + 2,000 written, 500 out.
    let mut u = usage(13_000, 500, 10_000, 2_000);
    let c = t.cost("claude-sonnet-4-5", &u).expect("listed");
    assert_eq!(c.input_usd, 0.003);
    assert_eq!(c.cache_read_usd, 0.003);
    assert_eq!(c.cache_write_usd, 0.0075);
    assert_eq!(c.output_usd, 0.0075);
    assert_eq!(c.total_usd, 0.021);
    assert!(!c.long_prompt);
    u.cache_write_1h_tokens = 1_000;
    let c = t.cost("claude-sonnet-4-5", &u).expect("listed");
    assert_eq!(c.cache_write_usd, 0.00975, "1,000 at 3.75 + 1,000 at 6");
}

#[test]
fn openai_cached_tokens_are_a_discounted_part_of_the_prompt() {
    // gpt-4o: 2.50 in, 1.25 cached, 10 out. 2,000 prompt of which 1,000 cached.
    let c = PriceTable::embedded()
        .cost("gpt-4o", &usage(2_000, 100, 1_000, 0))
        .expect("listed");
    assert_eq!(c.input_usd, 0.0025);
    assert_eq!(c.cache_read_usd, 0.00125);
    assert_eq!(c.total_usd, 0.00475);
}

#[test]
fn long_prompt_tier_prices_the_whole_request() {
    let t = PriceTable::embedded();
    let short = t.cost("gemini-2.5-pro", &usage(200_000, 1_000, 0, 0));
    let long = t.cost("gemini-2.5-pro", &usage(200_001, 1_000, 0, 0));
    let (short, long) = (short.expect("listed"), long.expect("listed"));
    assert!(!short.long_prompt);
    assert_eq!(short.total_usd, 0.26);
    assert!(long.long_prompt);
    assert_eq!(long.output_usd, 0.015);
}

#[test]
fn unknown_model_has_no_cost_not_zero() {
    assert_eq!(
        PriceTable::embedded().cost("my-fine-tune", &usage(10, 10, 0, 0)),
        None
    );
}

#[test]
fn override_adds_and_replaces_entries() {
    let text = r#"{"taken": "2027-01-01", "models": {
        "my-model": {"input": 1, "output": 2},
        "GPT-4o": {"input": 5, "output": 20}
    }}"#;
    let t = PriceTable::with_override(text).expect("valid");
    assert_eq!(t.taken.as_deref(), Some("2027-01-01"));
    assert_eq!(t.lookup("my-model").map(|(_, p)| p.input), Some(1.0));
    assert_eq!(t.lookup("gpt-4o").map(|(_, p)| p.input), Some(5.0));
    assert!(
        t.lookup("claude-haiku-4-5").is_some(),
        "embedded entries stay"
    );
    let c = t
        .cost("my-model", &usage(1_000, 0, 500, 0))
        .expect("listed");
    assert_eq!(c.cache_read_usd, 0.0005, "no cache price: input price");
}

#[test]
fn bad_override_files_are_refused_with_a_reason() {
    let cases = [
        ("not json", "not valid"),
        (
            r#"{"models": {"m": {"input": -1, "output": 1}}}"#,
            "price of m",
        ),
        (r#"{"models": {"m": {"output": 1}}}"#, "not valid"),
    ];
    for (text, want) in cases {
        let err = PriceTable::with_override(text).expect_err(text).to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn install_switches_the_active_table() {
    // Only this test installs a table, so parallel tests are unaffected
    // beyond seeing the embedded prices plus one extra model.
    install_override(r#"{"models": {"installed-test-model": {"input": 1, "output": 1}}}"#)
        .expect("valid");
    assert!(active().lookup("installed-test-model").is_some());
    assert!(active().lookup("gpt-4o").is_some());
}

proptest! {
    #[test]
    fn arbitrary_names_and_counts_never_panic(
        model in "\\PC{0,40}",
        counts in proptest::array::uniform6(any::<u64>()),
    ) {
        let u = Usage {
            input_tokens: counts[0],
            output_tokens: counts[1],
            cache_read_tokens: counts[2],
            cache_write_tokens: counts[3],
            cache_write_1h_tokens: counts[4],
            reasoning_tokens: counts[5],
            ..Usage::default()
        };
        let t = PriceTable::embedded();
        let _ = t.cost(&model, &u);
        let _ = t.cost("claude-sonnet-4-5", &u);
    }

    #[test]
    fn arbitrary_override_text_never_panics(text in "\\PC{0,200}") {
        let _ = PriceTable::with_override(&text);
    }
}

#[test]
fn server_tool_fees_by_model_prefix() {
    let t = PriceTable::embedded();
    let mut u = usage(1000, 100, 0, 0);
    u.server_tools.web_search = 3;
    u.server_tools.web_fetch = 2;
    let claude = t.cost("claude-sonnet-4-5", &u).expect("priced");
    assert!(
        (claude.tools_usd - 0.03).abs() < 1e-12,
        "$10 per 1,000 searches"
    );
    let plain = t
        .cost("claude-sonnet-4-5", &usage(1000, 100, 0, 0))
        .expect("priced");
    assert!((claude.total_usd - plain.total_usd - 0.03).abs() < 1e-9);
    let gpt4o = t.cost("gpt-4o", &u).expect("priced");
    assert!(
        (gpt4o.tools_usd - 0.075).abs() < 1e-12,
        "$25 per 1,000 on gpt-4o"
    );
    let gpt5 = t.cost("gpt-5-mini", &u).expect("priced");
    assert!((gpt5.tools_usd - 0.03).abs() < 1e-12);
    let gemini = t.cost("gemini-2.5-flash", &u).expect("priced");
    assert_eq!(gemini.tools_usd, 0.0);
}
