//! OpenAPI 3.0.3 derived from observed traffic: one path per template
//! (varying segments become path parameters, see [`paths`]), one operation
//! per method seen there, with parameters, request and response schemas
//! inferred from every sample ([`schema`]) and the first sample as the
//! example; servers are the hosts seen.

pub mod paths;
pub mod schema;

mod operation;

use serde_json::{Map, Value, json};

use super::Options;
use super::view;
use crate::exchange::Exchange;
use paths::Template;

/// Methods an OpenAPI path item can hold; others (CONNECT, WebDAV verbs)
/// can't be described and are left out.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The OpenAPI document for `exchanges`.
pub fn to_openapi(exchanges: &[Exchange], options: &Options) -> Value {
    let raw: Vec<&str> = exchanges
        .iter()
        .map(|ex| view::split_path(&ex.request.path).0)
        .collect();
    let templates = paths::templates(&raw);
    let all_servers = servers(exchanges.iter());
    let mut registry = operation::Registry::default();
    let mut paths_obj = Map::new();
    for group in group_by_path(exchanges, &templates) {
        let mut item = Map::new();
        let path_servers = servers(group.methods.iter().flat_map(|(_, s)| s.iter().copied()));
        if all_servers.len() > 1 && path_servers.len() < all_servers.len() {
            item.insert("servers".into(), server_list(&path_servers));
        }
        for (method, samples) in &group.methods {
            let op = operation::build(group.template, method, samples, options, &mut registry);
            item.insert(method.clone(), op);
        }
        paths_obj.insert(group.template.path.clone(), Value::Object(item));
    }
    let tags: Vec<Value> = hosts(exchanges)
        .into_iter()
        .map(|h| json!({ "name": h }))
        .collect();
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": options.title,
            "version": "1.0.0",
            "description": format!(
                "Derived by llmspy from {} observed exchanges: schemas are inferred \
                 from the bodies seen, examples are the first sample.",
                exchanges.len()
            ),
        },
        "servers": server_list(&all_servers),
        "tags": tags,
        "paths": paths_obj,
    });
    if let Some(schemes) = registry.security_schemes() {
        doc["components"] = json!({ "securitySchemes": schemes });
    }
    doc
}

/// The exchanges of one path template, by method (lower case), both in
/// order of first appearance.
struct PathGroup<'a> {
    template: &'a Template,
    methods: Vec<(String, Vec<&'a Exchange>)>,
}

fn group_by_path<'a>(exchanges: &'a [Exchange], templates: &'a [Template]) -> Vec<PathGroup<'a>> {
    let mut groups: Vec<PathGroup<'a>> = Vec::new();
    for (ex, template) in exchanges.iter().zip(templates) {
        let method = ex.request.method.to_ascii_lowercase();
        if !METHODS.contains(&method.as_str()) {
            continue;
        }
        let index = match groups.iter().position(|g| g.template.path == template.path) {
            Some(i) => i,
            None => {
                groups.push(PathGroup {
                    template,
                    methods: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let methods = &mut groups[index].methods;
        match methods.iter_mut().find(|(m, _)| *m == method) {
            Some((_, list)) => list.push(ex),
            None => methods.push((method, vec![ex])),
        }
    }
    groups
}

/// Distinct `scheme://host[:port]` base URLs in order of first appearance.
fn servers<'a>(exchanges: impl Iterator<Item = &'a Exchange>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ex in exchanges {
        let url = format!("{}://{}", ex.request.scheme, view::authority(ex));
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

fn server_list(urls: &[String]) -> Value {
    Value::Array(urls.iter().map(|u| json!({ "url": u })).collect())
}

fn hosts(exchanges: &[Exchange]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ex in exchanges {
        let h = view::authority(ex);
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}
