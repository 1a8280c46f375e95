//! Path templating: observed request paths → OpenAPI path templates.
//!
//! A segment becomes a `{parameter}` when it looks like an identifier on
//! its own (a number, a UUID, a long hex string, a long opaque id such as
//! `msg_01AbC…`), when it follows a collection that holds models or
//! deployments (`models/{model}`), or when paths that are otherwise equal
//! differ only there and every differing value contains a digit (ids and
//! model names do; `messages` vs `models` don't, so `/v1/messages` and
//! `/v1/models` stay apart). A Gemini-style `name:action` segment keeps its
//! action literal: `models/{model}:generateContent`.

use std::collections::HashMap;

/// The template for one observed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// `/v1beta/models/{model}:generateContent`.
    pub path: String,
    pub params: Vec<PathParam>,
}

/// A path parameter with the value it had in the observed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParam {
    pub name: String,
    pub integer: bool,
    pub example: String,
}

/// Collections whose members are named by the segment after them.
const NAMED_COLLECTIONS: [&str; 3] = ["models", "deployments", "tunedModels"];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Lit(String),
    /// A parameter; `integer` when every value seen was a number.
    Var {
        integer: bool,
    },
}

/// One observed path split into segments.
#[derive(Debug, Clone)]
struct Split {
    /// Segment values without the `:action` suffix.
    bases: Vec<String>,
    /// `:action` suffix per segment, or empty.
    suffixes: Vec<String>,
    segs: Vec<Seg>,
}

/// Templates for `paths` (without query strings), one per input, in order.
pub fn templates(paths: &[&str]) -> Vec<Template> {
    let mut splits: Vec<Split> = paths.iter().map(|p| split(p)).collect();
    merge_varying(&mut splits);
    splits.iter().map(render).collect()
}

fn split(path: &str) -> Split {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let raw: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    let mut bases = Vec::new();
    let mut suffixes = Vec::new();
    let mut segs = Vec::new();
    for (i, seg) in raw.iter().enumerate() {
        let (base, suffix) = split_action(seg);
        let after_collection = i > 0 && NAMED_COLLECTIONS.contains(&raw[i - 1]);
        segs.push(
            if !base.is_empty() && (after_collection || looks_like_id(base)) {
                Seg::Var {
                    integer: is_integer(base),
                }
            } else {
                Seg::Lit(base.to_string())
            },
        );
        bases.push(base.to_string());
        suffixes.push(suffix.to_string());
    }
    Split {
        bases,
        suffixes,
        segs,
    }
}

/// `gemini-2.0-flash:generateContent` → (`gemini-2.0-flash`, `:generateContent`).
fn split_action(seg: &str) -> (&str, &str) {
    match seg.rfind(':') {
        Some(i) if i > 0 && seg[i + 1..].chars().all(|c| c.is_ascii_alphabetic()) => {
            (&seg[..i], &seg[i..])
        }
        _ => (seg, ""),
    }
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `v1`, `v1beta`, `v2alpha1`: API versions are routes, not parameters.
fn is_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let tail = &rest[digits..];
    let letters = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
    digits > 0 && tail[letters..].bytes().all(|b| b.is_ascii_digit())
}

/// Identifiers a person would not have typed as a literal route.
fn looks_like_id(s: &str) -> bool {
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let hex = s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let opaque = s.len() >= 16
        && has_digit
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    is_integer(s) || is_uuid(s) || (hex && has_digit) || opaque
}

/// Paths with one position masked out, plus every `:action` suffix: the
/// paths that are "otherwise equal" share a key.
type GroupKey = (Vec<Option<Seg>>, Vec<String>);

/// Template positions where otherwise-equal paths differ in id-like values.
fn merge_varying(splits: &mut [Split]) {
    let longest = splits.iter().map(|s| s.segs.len()).max().unwrap_or(0);
    for pos in 0..longest {
        let mut groups: HashMap<GroupKey, Vec<usize>> = HashMap::new();
        for (i, s) in splits.iter().enumerate() {
            if pos >= s.segs.len() {
                continue;
            }
            let masked: Vec<Option<Seg>> = s
                .segs
                .iter()
                .enumerate()
                .map(|(j, seg)| (j != pos).then(|| seg.clone()))
                .collect();
            groups
                .entry((masked, s.suffixes.clone()))
                .or_default()
                .push(i);
        }
        for members in groups.values() {
            template_if_varying(splits, members, pos);
        }
    }
}

fn template_if_varying(splits: &mut [Split], members: &[usize], pos: usize) {
    let mut values: Vec<&str> = members
        .iter()
        .map(|&i| splits[i].bases[pos].as_str())
        .collect();
    values.sort_unstable();
    values.dedup();
    let id_like = values
        .iter()
        .all(|v| v.bytes().any(|b| b.is_ascii_digit()) && !is_version(v));
    if values.len() < 2 || !id_like {
        return;
    }
    let integer = values.iter().all(|v| is_integer(v));
    for &i in members {
        splits[i].segs[pos] = Seg::Var { integer };
    }
}

fn render(s: &Split) -> Template {
    let mut path = String::new();
    let mut params: Vec<PathParam> = Vec::new();
    for (i, seg) in s.segs.iter().enumerate() {
        path.push('/');
        match seg {
            // A literal brace would read as a template: keep it encoded.
            Seg::Lit(text) => path.push_str(&text.replace('{', "%7B").replace('}', "%7D")),
            Seg::Var { integer } => {
                let name = unique(param_name(s, i), &params);
                path.push_str(&format!("{{{name}}}"));
                params.push(PathParam {
                    name,
                    integer: *integer,
                    example: s.bases[i].clone(),
                });
            }
        }
        path.push_str(&s.suffixes[i]);
    }
    if path.is_empty() {
        path.push('/');
    }
    Template { path, params }
}

/// `models/{…}` → `model`; `files/{…}` → `file_id`; otherwise `id`.
fn param_name(s: &Split, i: usize) -> String {
    let prev = match i.checked_sub(1).map(|p| &s.segs[p]) {
        Some(Seg::Lit(text)) if !text.is_empty() => text.as_str(),
        _ => return "id".to_string(),
    };
    let word: String = prev
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let single = singular(&word);
    if NAMED_COLLECTIONS.contains(&prev) {
        single
    } else {
        format!("{single}_id")
    }
}

fn singular(word: &str) -> String {
    for ending in ["ches", "shes", "sses", "xes"] {
        if let Some(stem) = word.strip_suffix(ending) {
            return format!("{stem}{}", &ending[..ending.len() - 2]);
        }
    }
    match word.strip_suffix('s') {
        Some(stem) if !stem.is_empty() && !word.ends_with("ss") => stem.to_string(),
        _ => word.to_string(),
    }
}

fn unique(name: String, taken: &[PathParam]) -> String {
    if !taken.iter().any(|p| p.name == name) {
        return name;
    }
    (2..)
        .map(|n| format!("{name}{n}"))
        .find(|candidate| !taken.iter().any(|p| &p.name == candidate))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests;
