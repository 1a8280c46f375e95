//! A head's header list, packed: every name and value back to back in one
//! string, and where each ends in a second list. The relay writes one down
//! for every request and response it sees; as a list of string pairs that
//! cost two allocations per header (about a third of all the allocations
//! of a small relayed exchange), freed later on the capture's thread. Packed,
//! a head costs two, however many headers it has.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Header list in the order received, a repeated name's values gathered at
/// its first place (as hyper's header map holds them and sends them on);
/// names are kept as received (lower-case for h2). Reads as `(name,
/// value)` pairs of `&str`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name and value, back to back, in order.
    text: String,
    /// Per header, where its name and its value end in `text`. A head is
    /// far below 4 GiB (hyper refuses heads over a few hundred KiB).
    ends: Vec<(u32, u32)>,
}

impl Headers {
    pub const fn new() -> Headers {
        Headers {
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Room for `count` headers of `bytes` bytes of names and values in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Headers {
        Headers {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Add a header after those already there.
    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = offset(self.text.len());
        self.text.push_str(value);
        self.ends.push((name_end, offset(self.text.len())));
    }

    /// Add a header whose value is not known to be UTF-8: bad sequences
    /// become U+FFFD, as `String::from_utf8_lossy` makes them.
    pub fn push_lossy(&mut self, name: &str, value: &[u8]) {
        self.push(name, &String::from_utf8_lossy(value));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `index`th header, in order.
    pub fn get(&self, index: usize) -> Option<(&str, &str)> {
        self.iter().nth(index)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            ends: self.ends.iter(),
            start: 0,
        }
    }

    /// Keep the headers `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.rebuild(|_, name, value| match keep(name, value) {
            true => Edit::Keep,
            false => Edit::Drop,
        });
    }

    /// Give each header a new value where `change` returns one; a header it
    /// answers `None` for keeps its value. Rebuilt only if one changed.
    pub fn change_values(&mut self, mut change: impl FnMut(&str, &str) -> Option<String>) {
        let mut changed: Vec<Option<String>> = self.iter().map(|(n, v)| change(n, v)).collect();
        if changed.iter().all(Option::is_none) {
            return;
        }
        self.rebuild(|at, _, _| match changed[at].take() {
            Some(new) => Edit::Set(new),
            None => Edit::Keep,
        });
    }

    /// The list again, with what `edit` says done to each header (given its
    /// position, name and value).
    fn rebuild(&mut self, mut edit: impl FnMut(usize, &str, &str) -> Edit) {
        let mut out = Headers::with_capacity(self.len(), self.text.len());
        for (at, (name, value)) in self.iter().enumerate() {
            match edit(at, name, value) {
                Edit::Keep => out.push(name, value),
                Edit::Set(new) => out.push(name, &new),
                Edit::Drop => {}
            }
        }
        *self = out;
    }
}

/// What a rebuild does to one header.
enum Edit {
    Keep,
    Drop,
    Set(String),
}

fn offset(len: usize) -> u32 {
    u32::try_from(len).expect("a head's headers fit in 4 GiB")
}

/// The headers of a [`Headers`], in order. Each step reads one entry of
/// the ends, as lookups by name walk every header of a head (the capture
/// thread asks a few per exchange, the UI a few per row).
pub struct Iter<'a> {
    text: &'a str,
    ends: std::slice::Iter<'a, (u32, u32)>,
    /// Where the next header's name starts.
    start: u32,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let &(name_end, value_end) = self.ends.next()?;
        let name = &self.text[self.start as usize..name_end as usize];
        let value = &self.text[name_end as usize..value_end as usize];
        self.start = value_end;
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ends.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        let mut out = Headers::new();
        out.extend(iter);
        out
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Extend<(N, V)> for Headers {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.push(name.as_ref(), value.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<str>> From<Vec<(N, V)>> for Headers {
    fn from(pairs: Vec<(N, V)>) -> Headers {
        pairs.into_iter().collect()
    }
}

impl<N: AsRef<str>, V: AsRef<str>, const K: usize> From<[(N, V); K]> for Headers {
    fn from(pairs: [(N, V); K]) -> Headers {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Written as a list of `[name, value]` pairs: what the list of string
/// pairs this type replaced wrote, so saved history reads back the same.
impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self)
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Headers, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer).map(Headers::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Headers {
        Headers::from([
            ("content-type", "text/event-stream"),
            ("x-empty", ""),
            ("", "no name"),
            ("date", "Mon, 07 Dec 2026 09:00:00 GMT"),
        ])
    }

    #[test]
    fn pairs_read_back_in_order_with_empty_names_and_values() {
        let h = sample();
        assert_eq!(h.len(), 4);
        let pairs: Vec<(&str, &str)> = h.iter().collect();
        assert_eq!(
            pairs,
            [
                ("content-type", "text/event-stream"),
                ("x-empty", ""),
                ("", "no name"),
                ("date", "Mon, 07 Dec 2026 09:00:00 GMT"),
            ]
        );
        assert_eq!(h.get(4), None);
        assert_eq!(h.iter().len(), 4);
    }

    #[test]
    fn edits_keep_the_others_in_order() {
        let mut h = sample();
        h.change_values(|name, _| (name == "x-empty").then(|| "now set".to_string()));
        assert_eq!(h.get(1), Some(("x-empty", "now set")));
        assert_eq!(h.get(3), Some(("date", "Mon, 07 Dec 2026 09:00:00 GMT")));
        h.retain(|name, _| !name.is_empty() && name != "content-type");
        let names: Vec<&str> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["x-empty", "date"]);
        h.change_values(|name, _| (name == "date").then(|| "masked".to_string()));
        assert_eq!(
            h,
            Headers::from([("x-empty", "now set"), ("date", "masked")])
        );
    }

    #[test]
    fn written_and_read_as_the_list_of_pairs_it_replaced() {
        let old: Vec<(String, String)> = sample()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let json = serde_json::to_string(&sample()).unwrap();
        assert_eq!(json, serde_json::to_string(&old).unwrap());
        let back: Headers = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
        // Escapes make the reader copy; the value must survive that too.
        let escaped: Headers = serde_json::from_str(r#"[["a\"b","c\\nd"]]"#).unwrap();
        assert_eq!(escaped.get(0), Some(("a\"b", "c\\nd")));
    }

    #[test]
    fn a_value_that_is_not_utf8_is_kept_lossily() {
        let mut h = Headers::new();
        h.push_lossy("x-bytes", b"ok\xffok");
        assert_eq!(h.get(0), Some(("x-bytes", "ok\u{fffd}ok")));
    }
}
