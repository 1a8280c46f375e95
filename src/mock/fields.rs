//! Unknown fields in MockServer's JSON. A misspelt field that is ignored
//! does not fail: it widens a matcher (`"pth"` matches every path) or drops
//! a setting (`"stausCode"` answers 200). So every object llmspy reads
//! names the fields it knows, and any other is an error naming the closest.

use serde_json::{Map, Value};

/// MockServer's own fields that llmspy does not implement: named as such
/// rather than as typos.
const MOCKSERVER_ONLY: [&str; 16] = [
    "httpResponseTemplate",
    "httpResponseClassCallback",
    "httpResponseObjectCallback",
    "httpForwardTemplate",
    "httpForwardClassCallback",
    "httpForwardObjectCallback",
    "httpError",
    "openAPIDefinition",
    "cookies",
    "pathParameters",
    "keepAlive",
    "secure",
    "socketAddress",
    "protocol",
    "connectionOptions",
    "specUrlOrPayload",
];

/// The first field of `obj` that is not in `known`, and what is wrong
/// with it.
pub(crate) fn unknown<'a>(
    obj: &'a Map<String, Value>,
    known: &[&str],
) -> Option<(&'a str, String)> {
    let key = obj.keys().find(|k| !known.contains(&k.as_str()))?;
    let problem = if MOCKSERVER_ONLY.contains(&key.as_str()) {
        format!("{key:?} is a MockServer field llmspy does not support")
    } else {
        match crate::similar::closest(key, known.iter().copied(), 3) {
            Some(meant) => format!("unknown field {key:?} (did you mean {meant}?)"),
            None => format!("unknown field {key:?}; known here: {}", known.join(", ")),
        }
    };
    Some((key, problem))
}

/// [`unknown`] as a mock error at `at`.
pub(crate) fn only(
    obj: &Map<String, Value>,
    known: &[&str],
    at: &str,
) -> Result<(), super::MockError> {
    match unknown(obj, known) {
        Some((key, problem)) => Err(super::MockError::Field {
            path: format!("{at}.{key}"),
            problem,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::unknown;

    #[test]
    fn typos_name_the_closest_field_and_mockserver_fields_say_so() {
        let known = ["httpRequest", "httpResponse", "priority"];
        let doc = |v: serde_json::Value| v.as_object().unwrap().clone();
        let typo = doc(json!({"httpRequst": {}}));
        assert_eq!(
            unknown(&typo, &known).map(|(_, p)| p).as_deref(),
            Some("unknown field \"httpRequst\" (did you mean httpRequest?)")
        );
        let theirs = doc(json!({"httpError": {}}));
        assert!(
            unknown(&theirs, &known)
                .unwrap()
                .1
                .contains("MockServer field")
        );
        let far = doc(json!({"zzz": 1}));
        assert!(
            unknown(&far, &known)
                .unwrap()
                .1
                .contains("known here: httpRequest")
        );
        assert!(unknown(&doc(json!({"priority": 1})), &known).is_none());
    }

    /// Each typo a user could make, at every level, is an error naming
    /// where it is; what llmspy's own recordings write loads.
    #[test]
    fn a_typo_anywhere_in_an_expectation_is_named_with_its_path() {
        let parse = |v: serde_json::Value| {
            crate::mock::expectation::parse_document(&v, "t")
                .err()
                .map(|e| e.to_string())
        };
        let ok = json!({"httpResponse": {"body": "x"}});
        assert_eq!(parse(ok), None);
        for (doc, says) in [
            (
                json!({"httpRequst": {}, "httpResponse": {}}),
                "$.httpRequst: unknown field \"httpRequst\" (did you mean httpRequest?)",
            ),
            (json!({"priorty": 1, "httpResponse": {}}), "$.priorty"),
            (
                json!({"httpRequest": {"pth": "/x"}, "httpResponse": {}}),
                "did you mean path?",
            ),
            (
                json!({"httpRequest": {"metod": "GET"}, "httpResponse": {}}),
                "did you mean method?",
            ),
            (
                json!({"httpRequest": {"cookies": {}}, "httpResponse": {}}),
                "MockServer field",
            ),
            (
                json!({"httpRequest": {"body": {"type": "LLM", "modle": "m"}}, "httpResponse": {}}),
                "did you mean model?",
            ),
            (
                json!({"httpResponse": {"stausCode": 201}}),
                "$.httpResponse.stausCode",
            ),
            (
                json!({"httpResponse": {"delay": {"timeUnit": "SECONDS", "value": "ten"}}}),
                "$.httpResponse.delay.value: expected a whole number",
            ),
            (
                json!({"httpSseResponse": {"events": [{"data": "x", "dalay": {}}]}}),
                "$.httpSseResponse.events[0].dalay",
            ),
            (
                json!({"httpLlmResponse": {"completion": {"txt": "hi"}}}),
                "did you mean text?",
            ),
            (json!({"httpForward": {"hots": "a"}}), "did you mean host?"),
            (
                json!({"httpResponse": {}, "times": {"remainingTime": 1}}),
                "did you mean remainingTimes?",
            ),
        ] {
            let err = parse(doc.clone()).unwrap_or_else(|| panic!("{doc} loaded"));
            assert!(err.contains(says), "{doc}: {err}");
        }
    }

    #[test]
    fn what_llmspys_recordings_write_loads() {
        let parse = |v: serde_json::Value| {
            crate::mock::expectation::parse_document(&v, "t")
                .err()
                .map(|e| e.to_string())
        };
        // MockServer's fields among them.
        let recorded = json!({
            "httpRequest": {"method": "POST", "path": "/x", "secure": true,
                "headers": {"Host": ["h"]}, "body": {"type": "BINARY", "base64Bytes": "AAE="}},
            "httpSseResponse": {"statusCode": 200, "events": [], "closeConnection": true},
            "times": {"unlimited": true}, "timeToLive": {"unlimited": true}
        });
        assert_eq!(parse(recorded), None);
    }
}
