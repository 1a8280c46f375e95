//! A small JSONPath for `{"type": "JSON_PATH", "jsonPath": "…"}` body
//! matchers: `$`, `.name`, `['name']`, `[n]`, `[*]`, `..name` and filters
//! `[?(@.field == 'value')]` / `[?(@.field)]`. A body matches when the
//! path selects at least one value.

use serde_json::Value;

/// One step of a compiled path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    Wildcard,
    Descendant(String),
    Filter {
        field: Vec<String>,
        equals: Option<Value>,
    },
}

/// A compiled JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Compile `text`; the error says what was expected where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .trim()
            .strip_prefix('$')
            .ok_or("a JSONPath starting with $")?;
        let mut steps = Vec::new();
        let mut rest = rest;
        while !rest.is_empty() {
            let (step, tail) = next_step(rest)?;
            steps.push(step);
            rest = tail;
        }
        Ok(JsonPath { steps })
    }

    /// The values the path selects in `doc`.
    pub fn select<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![doc];
        for step in &self.steps {
            current = current.into_iter().flat_map(|v| apply(step, v)).collect();
        }
        current
    }
}

fn next_step(rest: &str) -> Result<(Step, &str), String> {
    if let Some(after) = rest.strip_prefix("..") {
        let (name, tail) = split_name(after);
        return Ok((Step::Descendant(name.to_string()), tail));
    }
    if let Some(after) = rest.strip_prefix('.') {
        let (name, tail) = split_name(after);
        let step = if name == "*" {
            Step::Wildcard
        } else {
            Step::Field(name.to_string())
        };
        return Ok((step, tail));
    }
    let inner_end = rest.find(']').ok_or("a closing ]")?;
    let inner = rest.get(1..inner_end).ok_or("[ … ]")?;
    let tail = &rest[inner_end + 1..];
    Ok((bracket(inner)?, tail))
}

fn split_name(s: &str) -> (&str, &str) {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn bracket(inner: &str) -> Result<Step, String> {
    let inner = inner.trim();
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(filter) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return parse_filter(filter);
    }
    if let Ok(n) = inner.parse::<usize>() {
        return Ok(Step::Index(n));
    }
    let quoted = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
    quoted
        .map(|name| Step::Field(name.to_string()))
        .ok_or_else(|| format!("an index, '*', a quoted name or a filter in [{inner}]"))
}

fn parse_filter(filter: &str) -> Result<Step, String> {
    let (lhs, rhs) = match filter.split_once("==") {
        Some((l, r)) => (l.trim(), Some(r.trim())),
        None => (filter.trim(), None),
    };
    let field = lhs
        .strip_prefix("@.")
        .ok_or("a filter on @.field")?
        .split('.')
        .map(String::from)
        .collect();
    let equals = rhs.map(|r| {
        let unquoted = r.trim_matches(|c| c == '\'' || c == '"');
        if unquoted.len() != r.len() {
            Value::String(unquoted.to_string())
        } else {
            serde_json::from_str(r).unwrap_or(Value::String(r.to_string()))
        }
    });
    Ok(Step::Filter { field, equals })
}

fn apply<'a>(step: &Step, v: &'a Value) -> Vec<&'a Value> {
    match step {
        Step::Field(name) => v.get(name).into_iter().collect(),
        Step::Index(i) => v.get(*i).into_iter().collect(),
        Step::Wildcard => children(v),
        Step::Descendant(name) => descendants(v, name),
        Step::Filter { field, equals } => children(v)
            .into_iter()
            .filter(|c| filter_hit(c, field, equals.as_ref()))
            .collect(),
    }
}

fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    }
}

fn descendants<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = v.get(name).into_iter().collect();
    for c in children(v) {
        out.extend(descendants(c, name));
    }
    out
}

fn filter_hit(v: &Value, field: &[String], equals: Option<&Value>) -> bool {
    let found = field.iter().try_fold(v, |cur, f| cur.get(f));
    match (found, equals) {
        (Some(got), Some(want)) => got == want,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects() {
        let doc = json!({"model": "m", "messages": [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"}], "stream": true});
        let cases = [
            ("$.model", 1),
            ("$.messages[0].role", 1),
            ("$.messages[*].content", 2),
            ("$..content", 2),
            ("$.messages[?(@.role == 'user')]", 1),
            ("$.messages[?(@.role == 'tool')]", 0),
            ("$['stream']", 1),
            ("$.nope", 0),
        ];
        for (path, n) in cases {
            let p = JsonPath::parse(path).unwrap();
            assert_eq!(p.select(&doc).len(), n, "{path}");
        }
        assert!(JsonPath::parse("model").is_err());
    }
}
