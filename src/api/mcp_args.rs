//! Checking an MCP tool call's arguments against the tool's JSON schema,
//! so a bad call is answered with a sentence naming the argument and what
//! it should be.

use serde_json::Value;

/// Check `args` against a tool's `schema` (the subset `list` uses: an
/// object of typed properties, `required`, `enum`, `minimum`), naming the
/// argument at fault and what it should be. A `null` optional argument
/// counts as absent.
pub fn check_args(tool: &str, schema: &Value, args: &Value) -> Result<(), String> {
    let empty = serde_json::Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let takes = || {
        let names: Vec<&str> = props.keys().map(String::as_str).collect();
        if names.is_empty() {
            format!("{tool} takes no arguments")
        } else {
            format!("{tool} takes {}", names.join(", "))
        }
    };
    let Some(given) = args.as_object() else {
        return Err(format!(
            "the arguments must be a JSON object, got {}; {}",
            describe(args),
            takes()
        ));
    };
    for (key, value) in given {
        let Some(prop) = props.get(key) else {
            return Err(format!("unknown argument {key:?}; {}", takes()));
        };
        if value.is_null() {
            continue;
        }
        check_value(key, prop, value)?;
    }
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for key in required {
        if given.get(key).is_none_or(Value::is_null) {
            let what = props.get(key).map(expected).unwrap_or_default();
            return Err(format!("missing argument {key:?} ({what}); {}", takes()));
        }
    }
    Ok(())
}

/// One given argument against its property: type, `enum`, `minimum`.
fn check_value(key: &str, prop: &Value, value: &Value) -> Result<(), String> {
    if !type_matches(prop.get("type"), value) {
        return Err(format!(
            "argument {key:?} must be {}, got {}",
            expected(prop),
            describe(value)
        ));
    }
    // Words in any case, as the HTTP API takes them (`type=EXPECTATIONS`).
    let listed = |allowed: &[Value]| match value.as_str() {
        Some(word) => allowed
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(word))),
        None => allowed.contains(value),
    };
    if let Some(allowed) = prop.get("enum").and_then(Value::as_array)
        && !listed(allowed)
    {
        return Err(format!(
            "argument {key:?} must be one of {}, got {value}",
            Value::Array(allowed.clone())
        ));
    }
    if let (Some(min), Some(n)) = (prop.get("minimum").and_then(Value::as_f64), value.as_f64())
        && n < min
    {
        return Err(format!("argument {key:?} must be at least {min}, got {n}"));
    }
    Ok(())
}

fn type_matches(ty: Option<&Value>, v: &Value) -> bool {
    let one = |t: &str| match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    };
    match ty {
        Some(Value::String(t)) => one(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

/// `a string`, `an integer`, `an object or an array`.
fn expected(prop: &Value) -> String {
    let article = |t: &str| match t {
        "integer" | "object" | "array" => format!("an {t}"),
        other => format!("a {other}"),
    };
    match prop.get("type") {
        Some(Value::String(t)) => article(t),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(article)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".into(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

pub fn text_arg(args: &Value, key: &str) -> Result<String, String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| format!("missing argument {key:?} (a string)"))
}
