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
    let paths: Vec<&str> = exchanges
        .iter()
        .map(|ex| ex.request.path.as_str())
        .collect();
    let mut builder = Builder::new(&paths);
    for (i, ex) in exchanges.iter().enumerate() {
        builder.add_at(i, ex.clone(), options);
    }
    builder.finish(options)
}

/// An OpenAPI document built one exchange at a time: [`Builder::new`] with
/// every exchange's path (templates need all of them), then each exchange,
/// then [`Builder::finish`]. Bodies are folded into schemas and examples as
/// they come and dropped; the samples keep their heads only.
pub struct Builder {
    /// One per path given to [`Builder::new`], in that order.
    templates: Vec<Template>,
    groups: Vec<PathGroup>,
    servers: Vec<String>,
    hosts: Vec<String>,
    count: usize,
}

/// The exchanges of one path template, by method (lower case), both in
/// order of first appearance.
struct PathGroup {
    template: usize,
    methods: Vec<Operation>,
}

struct Operation {
    method: String,
    /// The samples without their bodies.
    samples: Vec<Exchange>,
    bodies: operation::Bodies,
}

impl Builder {
    /// `paths`: each exchange's request path, in the order they will be added.
    pub fn new(paths: &[&str]) -> Builder {
        let raw: Vec<&str> = paths.iter().map(|p| view::split_path(p).0).collect();
        Builder {
            templates: paths::templates(&raw),
            groups: Vec::new(),
            servers: Vec::new(),
            hosts: Vec::new(),
            count: 0,
        }
    }

    /// Add the exchange whose path was `index`th in [`Builder::new`].
    pub fn add_at(&mut self, index: usize, mut ex: Exchange, options: &Options) {
        self.count += 1;
        push_new(&mut self.servers, server(&ex));
        push_new(&mut self.hosts, view::authority(&ex));
        let method = ex.request.method.to_ascii_lowercase();
        let Some(template) = self.templates.get(index) else {
            return;
        };
        if !METHODS.contains(&method.as_str()) {
            return;
        }
        let group = match self
            .groups
            .iter()
            .position(|g| self.templates[g.template].path == template.path)
        {
            Some(i) => i,
            None => {
                self.groups.push(PathGroup {
                    template: index,
                    methods: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        let methods = &mut self.groups[group].methods;
        let op = match methods.iter().position(|o| o.method == method) {
            Some(i) => i,
            None => {
                methods.push(Operation {
                    method,
                    samples: Vec::new(),
                    bodies: operation::Bodies::default(),
                });
                methods.len() - 1
            }
        };
        let op = &mut methods[op];
        op.bodies.add(&ex, options);
        ex.request.body.bytes = Vec::new();
        if let Some(r) = &mut ex.response {
            r.body.bytes = Vec::new();
        }
        op.samples.push(ex);
    }

    pub fn finish(self, options: &Options) -> Value {
        let mut registry = operation::Registry::default();
        let mut paths_obj = Map::new();
        for group in &self.groups {
            let template = &self.templates[group.template];
            let mut item = Map::new();
            let mut path_servers = Vec::new();
            for op in &group.methods {
                op.samples
                    .iter()
                    .for_each(|ex| push_new(&mut path_servers, server(ex)));
            }
            if self.servers.len() > 1 && path_servers.len() < self.servers.len() {
                item.insert("servers".into(), server_list(&path_servers));
            }
            for op in &group.methods {
                let samples: Vec<&Exchange> = op.samples.iter().collect();
                let value =
                    operation::build(template, &op.method, &samples, &op.bodies, &mut registry);
                item.insert(op.method.clone(), value);
            }
            paths_obj.insert(template.path.clone(), Value::Object(item));
        }
        self.document(paths_obj, registry, options)
    }

    fn document(
        &self,
        paths: Map<String, Value>,
        registry: operation::Registry,
        options: &Options,
    ) -> Value {
        let tags: Vec<Value> = self.hosts.iter().map(|h| json!({ "name": h })).collect();
        let mut doc = json!({
            "openapi": "3.0.3",
            "info": {
                "title": options.title,
                "version": "1.0.0",
                "description": format!(
                    "Derived by llmspy from {} observed exchanges: schemas are inferred \
                     from the bodies seen, examples are the first sample.",
                    self.count
                ),
            },
            "servers": server_list(&self.servers),
            "tags": tags,
            "paths": paths,
        });
        if let Some(schemes) = registry.security_schemes() {
            doc["components"] = json!({ "securitySchemes": schemes });
        }
        doc
    }
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `scheme://host[:port]`.
fn server(ex: &Exchange) -> String {
    format!("{}://{}", ex.request.scheme, view::authority(ex))
}

fn server_list(urls: &[String]) -> Value {
    Value::Array(urls.iter().map(|u| json!({ "url": u })).collect())
}
