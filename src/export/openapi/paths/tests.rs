use super::*;

fn paths_of(input: &[&str]) -> Vec<String> {
    templates(input).into_iter().map(|t| t.path).collect()
}

#[test]
fn single_paths() {
    let cases = [
        ("/", "/"),
        ("/v1/messages", "/v1/messages"),
        (
            "/v1/messages/batches/msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d",
            "/v1/messages/batches/{batch_id}",
        ),
        ("/users/42/orders/7", "/users/{user_id}/orders/{order_id}"),
        (
            "/items/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "/items/{item_id}",
        ),
        (
            "/commits/9fceb02d0ae598e95dc970b74767f19372d61af8",
            "/commits/{commit_id}",
        ),
        (
            "/v1beta/models/gemini-2.0-flash:generateContent",
            "/v1beta/models/{model}:generateContent",
        ),
        (
            "/v1beta/models/gemini-pro:streamGenerateContent",
            "/v1beta/models/{model}:streamGenerateContent",
        ),
        ("/v1/models/gpt-4o", "/v1/models/{model}"),
        (
            "/openai/deployments/my-gpt/chat/completions",
            "/openai/deployments/{deployment}/chat/completions",
        ),
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/api/chat", "/api/chat"),
        ("/v1/", "/v1/"),
        ("/2023-06-01/status", "/2023-06-01/status"),
        ("/a/{literal}", "/a/%7Bliteral%7D"),
    ];
    for (input, want) in cases {
        assert_eq!(templates(&[input])[0].path, want, "{input}");
    }
}

#[test]
fn varying_segments_among_equal_paths() {
    let got = paths_of(&[
        "/v1/runs/run7/steps",
        "/v1/runs/run8/steps",
        "/v1/runs/list",
    ]);
    assert_eq!(
        got,
        [
            "/v1/runs/{run_id}/steps",
            "/v1/runs/{run_id}/steps",
            "/v1/runs/list"
        ]
    );
}

#[test]
fn versions_are_not_merged() {
    let got = paths_of(&[
        "/v1/models/gpt-4o",
        "/v1beta/models/gemini-pro:generateContent",
        "/v1beta/models/x",
    ]);
    assert_eq!(
        got,
        [
            "/v1/models/{model}",
            "/v1beta/models/{model}:generateContent",
            "/v1beta/models/{model}"
        ]
    );
    for (text, want) in [
        ("v1", true),
        ("v1beta", true),
        ("v2alpha1", true),
        ("v", false),
        ("video", false),
        ("v1-2", false),
    ] {
        assert_eq!(is_version(text), want, "{text}");
    }
}

#[test]
fn plain_words_are_not_merged() {
    let got = paths_of(&["/v1/messages", "/v1/models", "/api/chat", "/api/generate"]);
    assert_eq!(
        got,
        ["/v1/messages", "/v1/models", "/api/chat", "/api/generate"]
    );
}

#[test]
fn colon_actions_stay_literal_and_split_operations() {
    let got = paths_of(&[
        "/v1beta/tunedModels/t1:generateContent",
        "/v1beta/tunedModels/t2:generateContent",
        "/v1beta/things/a1:run",
        "/v1beta/things/a2:stop",
    ]);
    assert_eq!(
        got,
        [
            "/v1beta/tunedModels/{tunedModel}:generateContent",
            "/v1beta/tunedModels/{tunedModel}:generateContent",
            "/v1beta/things/a1:run",
            "/v1beta/things/a2:stop",
        ]
    );
}

#[test]
fn params_carry_examples_types_and_unique_names() {
    let t = &templates(&["/a/1/b/2", "/x/9/9"])[0];
    assert_eq!(t.path, "/a/{a_id}/b/{b_id}");
    assert_eq!(
        t.params[0],
        PathParam {
            name: "a_id".into(),
            integer: true,
            example: "1".into()
        }
    );
    let t = &templates(&["/x/9/9"])[0];
    assert_eq!(t.path, "/x/{x_id}/{id}");
    let t = &templates(&["/1/2"])[0];
    assert_eq!(t.path, "/{id}/{id2}");
}

#[test]
fn singular_forms() {
    for (plural, want) in [
        ("batches", "batch"),
        ("files", "file"),
        ("boxes", "box"),
        ("class", "class"),
        ("data", "data"),
    ] {
        assert_eq!(singular(plural), want);
    }
}
