//! The layering of docs/DESIGN-NOTES.md, checked by parsing src/ with syn.
//!
//! Every path the code names counts: `use` trees (grouped, nested, renamed,
//! over several lines), paths in types and expressions, macro paths and
//! the paths inside macro bodies. Only the bodies of `#[cfg(test)]` items
//! are skipped (tests may use files and sockets); code after a test module
//! is checked. Every top-level module has a row in [`RULES`]: a new module
//! fails the test until it is placed in a layer. A self-test runs the
//! checker over a small tree with one violation of each kind.
//!
//! Size is checked the same way: a file holds at most [`MAX_FILE_LINES`]
//! lines outside its `#[cfg(test)]` items, so a file that grows past it is
//! split into modules with one job each.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;

/// The I/O a pure module may not touch.
const IO: &[&str] = &[
    "tokio",
    "hyper",
    "hyper_util",
    "rustls",
    "tokio_rustls",
    "std::net",
    "std::fs",
    "std::process",
    "rusqlite",
    "opentelemetry_otlp",
];

/// Everything above the pure analysers.
const ABOVE_PURE: &[&str] = &[
    "crate::engine",
    "crate::capture",
    "crate::tui",
    "crate::api",
    "crate::cli",
    "crate::headless",
    "crate::history",
    "crate::otel",
];

/// What sits below the engine (the CA, TLS, settings) may not reach up.
const BELOW_THE_ENGINE: &[&str] = &[
    "crate::engine",
    "crate::capture",
    "crate::tui",
    "crate::api",
    "crate::cli",
];

/// The layer of each top-level module: (module, forbidden path prefixes,
/// why). A module is `src/NAME.rs` or `src/NAME/`.
const RULES: &[(&str, &[&[&str]], &str)] = &[
    (
        "exchange",
        &[&["crate"]],
        "the exchange model depends on nothing else in the crate",
    ),
    (
        "note",
        &[&["crate"], IO],
        "vocabulary below every parser: depends on nothing",
    ),
    (
        "usage",
        &[&["crate"], IO],
        "vocabulary below the parsers and the price list: depends on nothing",
    ),
    (
        "digits",
        &[&["crate"], IO],
        "number formatting below every writer of lines: depends on nothing",
    ),
    (
        "urlcodec",
        &[&["crate"], IO],
        "a codec below every reader of URLs: depends on nothing",
    ),
    (
        "private",
        &[&["crate"]],
        "owner-only files: depends on nothing",
    ),
    (
        "alloc",
        &[&["crate"], IO],
        "the global allocator: depends on nothing",
    ),
    (
        "background",
        &[&["crate"], IO],
        "thread priority for background work: depends on nothing",
    ),
    (
        "respond",
        &[ABOVE_PURE, &["crate::mock"], IO],
        "the responder seam sits below both the engine and mock",
    ),
    (
        "analyses",
        &[ABOVE_PURE, IO],
        "the shared analysis cache sits below every reader of the store",
    ),
    (
        "content",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "sse",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "websocket",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "eventstream",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "grpc",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "llm",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "mcp",
        &[ABOVE_PURE, &["crate::llm"], IO],
        "MCP parsing sits beside the LLM parsers, not above them",
    ),
    (
        "pricing",
        &[ABOVE_PURE, &["crate::llm", "crate::mcp"], IO],
        "the price list sits below the parsers it costs",
    ),
    (
        "filter",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "export",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "redact",
        &[ABOVE_PURE, &["crate::export"], IO],
        "redaction sits below the exporters that use it",
    ),
    (
        "similar",
        &[ABOVE_PURE, IO],
        "parsers, analysers and exporters are IO-free",
    ),
    (
        "mock",
        &[ABOVE_PURE, IO],
        "mock matching and rendering are pure (mock/loader.rs reads files)",
    ),
    ("ca", &[BELOW_THE_ENGINE], "the CA sits below the engine"),
    (
        "tls",
        &[BELOW_THE_ENGINE],
        "the TLS primitives sit below the CA and the engine",
    ),
    (
        "config",
        &[BELOW_THE_ENGINE],
        "settings are read before anything runs",
    ),
    (
        "capture",
        &[&[
            "crate::engine",
            "crate::tui",
            "crate::api",
            "crate::cli",
            "crate::history",
            "crate::otel",
            "crate::headless",
            "std::net",
            "hyper",
            "tokio::net",
        ]],
        "the store knows nothing of sockets, its sinks or its consumers",
    ),
    (
        "engine",
        &[&[
            "crate::tui",
            "crate::export",
            "crate::llm",
            "crate::api",
            "crate::cli",
            "crate::headless",
            "crate::history",
            "crate::otel",
            "crate::mock",
        ]],
        "the engine relays and records; it never parses, exports, draws or decides mocks",
    ),
    (
        "history",
        &[&[
            "crate::engine",
            "crate::tui",
            "crate::api",
            "crate::cli",
            "crate::otel",
            "std::net",
            "hyper",
            "tokio::net",
        ]],
        "the history is a capture sink and the reader of its own file",
    ),
    (
        "otel",
        &[&[
            "crate::engine",
            "crate::tui",
            "crate::api",
            "crate::cli",
            "crate::history",
            "std::net",
            "hyper",
            "tokio::net",
        ]],
        "the exporter is a capture sink; it speaks OTLP only through the opentelemetry crates",
    ),
    (
        "api",
        &[&[
            "crate::tui",
            "crate::cli",
            "crate::engine::relay",
            "crate::engine::tee",
            "crate::engine::mitm",
            "crate::engine::listener",
        ]],
        "the API reads the store and meets the engine at its public seam only",
    ),
    (
        "tui",
        &[&[
            "crate::engine",
            "crate::api",
            "crate::ca",
            "crate::cli",
            "crate::history",
            "crate::otel",
            "hyper",
            "tokio::net",
            "rustls",
            "std::net",
            "rusqlite",
        ]],
        "front ends read the store and never touch sockets or databases",
    ),
    (
        "headless",
        &[&[
            "crate::engine",
            "crate::api",
            "crate::ca",
            "crate::cli",
            "hyper",
            "tokio::net",
            "rustls",
            "std::net",
        ]],
        "front ends read the store and never touch sockets",
    ),
    (
        "sessions",
        &[
            &[
                "crate::engine",
                "crate::tui",
                "crate::api",
                "crate::cli",
                "crate::history",
                "crate::otel",
                "crate::headless",
            ],
            IO,
        ],
        "the sessions story is a pure function of captured records",
    ),
    (
        "fuzz",
        &[&["crate::tui", "crate::cli"]],
        "fuzz entry points drive parsers, not front ends",
    ),
    ("cli", &[], "the binary edge wires everything"),
    ("main", &[], "the binary edge wires everything"),
    ("lib", &[], "the crate root declares the modules"),
];

/// Outside src/cli and main.rs, errors are thiserror types.
const EDGE_ONLY: &[&str] = &["anyhow"];

/// Most lines a file under src/ may have outside its test items.
const MAX_FILE_LINES: usize = 400;

/// Files inside pure modules that may read files, and why.
const FILE_READERS: &[&str] = &["mock/loader.rs"];

/// A path the code names, and where.
#[derive(Debug, Clone, PartialEq)]
struct Named {
    path: String,
    line: usize,
}

/// Collects every path outside `#[cfg(test)]` items.
#[derive(Default)]
struct Collector {
    found: Vec<Named>,
    /// Lines calling `print!`, `println!`, `eprint!` or `eprintln!`.
    printing: Vec<usize>,
}

/// std's printing macros panic when their stream is a closed pipe
/// (`llmspy --no-tui 2>&1 | head`): a log line would stop the proxy.
const PANICKING_PRINTS: [&str; 4] = ["print", "println", "eprint", "eprintln"];

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

impl Collector {
    fn add(&mut self, path: String, line: usize) {
        self.found.push(Named { path, line });
    }

    fn use_tree(&mut self, prefix: &str, tree: &syn::UseTree) {
        let join = |p: &str, name: &str| {
            if p.is_empty() {
                name.to_string()
            } else {
                format!("{p}::{name}")
            }
        };
        match tree {
            syn::UseTree::Path(p) => self.use_tree(&join(prefix, &p.ident.to_string()), &p.tree),
            syn::UseTree::Name(n) => {
                let line = n.ident.span().start().line;
                let name = n.ident.to_string();
                let path = if name == "self" {
                    prefix.to_string()
                } else {
                    join(prefix, &name)
                };
                self.add(path, line);
            }
            syn::UseTree::Rename(r) => self.add(
                join(prefix, &r.ident.to_string()),
                r.ident.span().start().line,
            ),
            syn::UseTree::Glob(g) => self.add(prefix.to_string(), g.star_token.span.start().line),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Paths inside a macro's tokens (`tokio::select! { … tokio::time::sleep … }`).
    fn tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            match &flat[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let line = first.span().start().line;
                    let mut path = first.to_string();
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (flat.get(j), flat.get(j + 1), flat.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push_str("::");
                        path.push_str(&next.to_string());
                        j += 3;
                    }
                    if j > i + 1 {
                        self.add(path, line);
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_test_only(item_attrs(item)) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree("", &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() > 1 {
            let path = p
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            let line = p.segments[0].ident.span().start().line;
            self.add(path, line);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(name) = m.path.get_ident()
            && PANICKING_PRINTS.contains(&name.to_string().as_str())
        {
            self.printing.push(name.span().start().line);
        }
        self.tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}

/// Lines of `text` outside its top-level `#[cfg(test)]` items (a test
/// module inline or declared, test-only helpers), attributes included.
fn lines_outside_tests(text: &str, file: &syn::File) -> usize {
    let tests: usize = file
        .items
        .iter()
        .filter(|item| is_test_only(item_attrs(item)))
        .map(|item| {
            let span = item.span();
            span.end().line - span.start().line + 1
        })
        .sum();
    text.lines().count().saturating_sub(tests)
}

/// `path` names `prefix` itself or something inside it.
fn within(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// The top-level module of a file under src/ (`src/llm/gemini.rs` → `llm`).
fn module_of(rel: &str) -> String {
    let inner = rel.strip_prefix("src/").unwrap_or(rel);
    let first = inner.split('/').next().unwrap_or(inner);
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every broken rule under `root/src`, as `src/file.rs:line uses X: why`.
fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).expect("read");
        let parsed = match syn::parse_file(&text) {
            Ok(f) => f,
            Err(e) => {
                found.push(format!("{rel}: does not parse: {e}"));
                continue;
            }
        };
        let lines = lines_outside_tests(&text, &parsed);
        if lines > MAX_FILE_LINES {
            found.push(format!(
                "{rel}: {lines} lines outside its tests (at most {MAX_FILE_LINES}): split it into modules with one job each"
            ));
        }
        let mut c = Collector::default();
        c.visit_file(&parsed);
        let module = module_of(&rel);
        let Some((_, forbidden, why)) = RULES.iter().find(|(m, _, _)| *m == module) else {
            found.push(format!(
                "{rel}: module `{module}` has no row in the layering rules"
            ));
            continue;
        };
        let reads_files = FILE_READERS.iter().any(|f| rel.ends_with(f));
        for named in &c.found {
            let bad = forbidden
                .iter()
                .flat_map(|list| list.iter())
                .find(|f| within(&named.path, f) && !(reads_files && **f == "std::fs"));
            if let Some(bad) = bad {
                found.push(format!(
                    "{rel}:{} uses {}: {why} (no {bad})",
                    named.line, named.path
                ));
            }
            let edge = module == "cli" || module == "main";
            if !edge && EDGE_ONLY.iter().any(|f| within(&named.path, f)) {
                found.push(format!(
                    "{rel}:{} uses {}: anyhow belongs at the binary edge (src/cli, main); modules use thiserror",
                    named.line, named.path
                ));
            }
        }
        if module != "main" {
            for line in &c.printing {
                found.push(format!(
                    "{rel}:{line} prints with std's macros, which panic on a closed pipe: use llmspy::note! or a write whose error is ignored"
                ));
            }
        }
        if module == "capture" && !rel.ends_with("capture/save.rs") {
            for named in c.found.iter().filter(|n| within(&n.path, "std::fs")) {
                found.push(format!(
                    "{rel}:{} uses {}: only capture/save.rs touches files",
                    named.line, named.path
                ));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn modules_respect_the_layering() {
    let v = violations(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(v.is_empty(), "architecture rules broken:\n{}", v.join("\n"));
}

#[test]
fn every_layer_in_the_design_notes_has_rules_here() {
    let notes =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/DESIGN-NOTES.md"))
            .expect("design notes");
    for (module, _, _) in RULES
        .iter()
        .filter(|(m, _, _)| !["main", "lib", "fuzz"].contains(m))
    {
        assert!(
            notes.contains(module),
            "docs/DESIGN-NOTES.md does not mention `{module}`"
        );
    }
}

/// The checker itself, over a tree with one violation of each kind.
#[test]
fn the_checker_reports_every_kind_of_violation() {
    let dir = tempfile::tempdir().expect("tmp");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    };
    // A grouped import over several lines, two layers up at once.
    write(
        "src/llm/grouped.rs",
        "use crate::{\n    engine::Shared,\n    tui::App,\n};\n",
    );
    // A nested group with `self`, and a rename.
    write(
        "src/engine/nested.rs",
        "use crate::{export::{self, har}};\nuse crate::llm as parsers;\n",
    );
    // A fully qualified path in an expression, no `use` at all.
    write(
        "src/sse.rs",
        "pub fn f() {\n    let _ = std::fs::read(\"x\");\n}\n",
    );
    // Code after a test module is checked; the test module is not.
    write(
        "src/filter.rs",
        "#[cfg(test)]\nmod tests {\n    use tokio::net::TcpStream;\n}\n\npub fn g() {\n    tokio::spawn(async {});\n}\n",
    );
    // Paths inside a macro's body.
    write(
        "src/pricing.rs",
        "pub async fn h() {\n    tokio::select! {\n        _ = tokio::time::sleep(d) => {}\n    }\n}\n",
    );
    // anyhow below the binary edge, and a module with no row.
    write(
        "src/mcp.rs",
        "pub fn e() -> anyhow::Result<()> { Ok(()) }\n",
    );
    write("src/gadget.rs", "pub fn z() {}\n");
    // A printing macro outside main.
    write(
        "src/headless.rs",
        "pub fn say() {\n    eprintln!(\"x\");\n}\n",
    );
    // Allowed: its own layer's imports, and a test-only function.
    write(
        "src/export/fine.rs",
        "use crate::llm::Usage;\n#[cfg(test)]\nfn t() { let _ = std::fs::read(\"x\"); }\n",
    );

    // Too long outside its tests; and as long, but the rest is tests.
    let code = |n: usize| -> String { (0..n).map(|i| format!("pub fn f{i}() {{}}\n")).collect() };
    write("src/engine/long.rs", &code(MAX_FILE_LINES + 1));
    write(
        "src/engine/tested.rs",
        &format!(
            "{}#[cfg(test)]\nmod tests {{\n{}}}\n",
            code(MAX_FILE_LINES),
            code(50)
        ),
    );

    let v = violations(dir.path());
    let text = v.join("\n");
    for expected in [
        "src/llm/grouped.rs:2 uses crate::engine::Shared",
        "src/llm/grouped.rs:3 uses crate::tui::App",
        "src/engine/nested.rs:1 uses crate::export",
        "src/engine/nested.rs:1 uses crate::export::har",
        "src/engine/nested.rs:2 uses crate::llm",
        "src/sse.rs:2 uses std::fs::read",
        "src/filter.rs:7 uses tokio::spawn",
        "src/pricing.rs:2 uses tokio::select",
        "src/pricing.rs:3 uses tokio::time::sleep",
        "src/mcp.rs:1 uses anyhow::Result",
        "src/gadget.rs: module `gadget` has no row",
        "src/headless.rs:2 prints with std's macros",
    ] {
        assert!(text.contains(expected), "not reported: {expected}\n{text}");
    }
    let long = format!(
        "src/engine/long.rs: {} lines outside its tests",
        MAX_FILE_LINES + 1
    );
    assert!(text.contains(&long), "not reported: {long}\n{text}");
    assert!(
        !text.contains("src/filter.rs:3"),
        "a test module was checked:\n{text}"
    );
    assert!(
        !text.contains("src/export/fine.rs") && !text.contains("src/engine/tested.rs"),
        "allowed code was reported:\n{text}"
    );
}
