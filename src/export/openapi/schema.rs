//! JSON Schema inference (OpenAPI 3.0 dialect) from sample JSON documents.
//!
//! Every sample is folded into one [`Shape`] recording which JSON types
//! were seen at each place, which object fields appeared and how often.
//! A field is `required` when every object sample had it; a place seen
//! with several types becomes `oneOf`; `null` alongside a type becomes
//! `nullable`. Integers and numbers seen at one place widen to `number`.

use serde_json::{Map, Value, json};

/// What was observed at one place in the samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    null: bool,
    boolean: bool,
    integer: bool,
    number: bool,
    string: bool,
    /// Item shape, once any array was seen here.
    array: Option<Box<Shape>>,
    /// Fields, once any object was seen here.
    object: Option<Fields>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Fields {
    /// How many objects were seen here.
    samples: usize,
    /// Field name, its shape and how many of those objects had it, in
    /// first-seen order.
    fields: Vec<(String, Shape, usize)>,
}

impl Shape {
    /// The shape of one sample.
    pub fn of(value: &Value) -> Shape {
        let mut shape = Shape::default();
        shape.add(value);
        shape
    }

    /// Fold another sample into this shape.
    pub fn add(&mut self, value: &Value) {
        match value {
            Value::Null => self.null = true,
            Value::Bool(_) => self.boolean = true,
            Value::Number(n) if n.is_i64() || n.is_u64() => self.integer = true,
            Value::Number(_) => self.number = true,
            Value::String(_) => self.string = true,
            Value::Array(items) => {
                let inner = self.array.get_or_insert_with(Box::default);
                for item in items {
                    inner.add(item);
                }
            }
            Value::Object(map) => self.object.get_or_insert_with(Fields::default).add(map),
        }
    }

    fn is_unknown(&self) -> bool {
        *self == Shape::default()
    }

    /// The schema describing every sample folded in.
    pub fn to_schema(&self) -> Value {
        let mut variants = self.variants();
        let mut schema = match variants.len() {
            0 => json!({}),
            1 => variants.remove(0),
            _ => json!({ "oneOf": variants }),
        };
        if let (true, Value::Object(m)) = (self.null, &mut schema) {
            m.insert("nullable".into(), json!(true));
        }
        schema
    }

    fn variants(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.boolean {
            out.push(json!({ "type": "boolean" }));
        }
        match (self.integer, self.number) {
            (true, false) => out.push(json!({ "type": "integer" })),
            (_, true) => out.push(json!({ "type": "number" })),
            _ => {}
        }
        if self.string {
            out.push(json!({ "type": "string" }));
        }
        if let Some(items) = &self.array {
            let items = if items.is_unknown() {
                json!({})
            } else {
                items.to_schema()
            };
            out.push(json!({ "type": "array", "items": items }));
        }
        if let Some(fields) = &self.object {
            out.push(fields.to_schema());
        }
        out
    }
}

impl Fields {
    fn add(&mut self, map: &Map<String, Value>) {
        self.samples += 1;
        for (name, value) in map {
            match self.fields.iter_mut().find(|(n, _, _)| n == name) {
                Some((_, shape, seen)) => {
                    shape.add(value);
                    *seen += 1;
                }
                None => self.fields.push((name.clone(), Shape::of(value), 1)),
            }
        }
    }

    fn to_schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, shape, seen) in &self.fields {
            properties.insert(name.clone(), shape.to_schema());
            if *seen == self.samples {
                required.push(json!(name));
            }
        }
        // Sorted, so the document does not depend on the order samples
        // listed their fields in.
        required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        let mut out = json!({ "type": "object", "properties": properties });
        if !required.is_empty() {
            out["required"] = Value::Array(required);
        }
        out
    }
}

/// The schema of a query or header parameter from the values seen.
pub fn scalar_schema<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    let values: Vec<&str> = values.into_iter().collect();
    let all = |f: fn(&str) -> bool| !values.is_empty() && values.iter().all(|v| f(v));
    if all(|v| v.parse::<i64>().is_ok()) {
        json!({ "type": "integer" })
    } else if all(|v| v.parse::<f64>().is_ok()) {
        json!({ "type": "number" })
    } else if all(|v| v == "true" || v == "false") {
        json!({ "type": "boolean" })
    } else {
        json!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inferred schema with `required` lists sorted: without
    /// serde_json's `preserve_order`, fields are met in sorted order.
    fn infer(samples: &[Value]) -> Value {
        let mut shape = Shape::default();
        for s in samples {
            shape.add(s);
        }
        let mut schema = shape.to_schema();
        sort_required(&mut schema);
        schema
    }

    fn sort_required(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if let (true, Value::Array(items)) = (key == "required", &mut *child) {
                        items.sort_by_key(|i| i.to_string());
                    }
                    sort_required(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(sort_required),
            _ => {}
        }
    }

    #[test]
    fn scalars() {
        let cases = [
            (vec![json!(1)], json!({"type": "integer"})),
            (vec![json!(1), json!(1.5)], json!({"type": "number"})),
            (
                vec![json!("a"), json!(null)],
                json!({"type": "string", "nullable": true}),
            ),
            (vec![json!(true)], json!({"type": "boolean"})),
            (vec![json!(null)], json!({"nullable": true})),
            (
                vec![json!("a"), json!(2)],
                json!({"oneOf": [{"type": "integer"}, {"type": "string"}]}),
            ),
        ];
        for (samples, want) in cases {
            assert_eq!(infer(&samples), want, "{samples:?}");
        }
    }

    #[test]
    fn objects_merge_and_mark_required_fields() {
        let got = infer(&[
            json!({"model": "m", "stream": true, "max_tokens": 5}),
            json!({"model": "n", "max_tokens": 7, "temperature": 0.2}),
        ]);
        assert_eq!(
            got,
            json!({
                "type": "object",
                "properties": {
                    "model": {"type": "string"},
                    "stream": {"type": "boolean"},
                    "max_tokens": {"type": "integer"},
                    "temperature": {"type": "number"}
                },
                "required": ["max_tokens", "model"]
            })
        );
    }

    #[test]
    fn arrays_merge_their_items() {
        let got = infer(&[
            json!({"messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "text", "text": "yo"}]}
            ]}),
            json!({"messages": []}),
        ]);
        let items = &got["properties"]["messages"]["items"];
        assert_eq!(items["required"], json!(["content", "role"]));
        assert_eq!(
            items["properties"]["content"]["oneOf"][0],
            json!({"type": "string"})
        );
        assert_eq!(
            items["properties"]["content"]["oneOf"][1]["type"],
            json!("array")
        );
        assert_eq!(infer(&[json!([])]), json!({"type": "array", "items": {}}));
    }

    #[test]
    fn parameter_values() {
        assert_eq!(scalar_schema(["1", "20"]), json!({"type": "integer"}));
        assert_eq!(scalar_schema(["0.5"]), json!({"type": "number"}));
        assert_eq!(scalar_schema(["true", "false"]), json!({"type": "boolean"}));
        assert_eq!(scalar_schema(["sse"]), json!({"type": "string"}));
        assert_eq!(scalar_schema([]), json!({"type": "string"}));
    }
}
