//! The seam through which the API reads (and clears) the active mock
//! expectations without knowing how the mock module keeps them.
//!
//! `retrieve?type=ACTIVE_EXPECTATIONS` lists them and `clear?type=…`
//! removes them; whoever owns the expectations implements
//! [`ActiveExpectations`] and puts it in `ApiContext::expectations`. A plain
//! `RwLock<Vec<Value>>` already implements it, for simple owners and tests.

use std::sync::RwLock;

use serde_json::Value;

/// Read and remove active expectations, in MockServer's JSON shape.
pub trait ActiveExpectations: Send + Sync {
    /// The active expectations, in the order they are matched.
    fn active(&self) -> Vec<Value>;

    /// Remove those `remove` picks; returns how many went.
    fn remove_where(&self, remove: &dyn Fn(&Value) -> bool) -> usize;
}

impl ActiveExpectations for RwLock<Vec<Value>> {
    fn active(&self) -> Vec<Value> {
        // A poisoned lock only means a writer panicked; the list is whole.
        self.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn remove_where(&self, remove: &dyn Fn(&Value) -> bool) -> usize {
        let mut list = self.write().unwrap_or_else(|e| e.into_inner());
        let before = list.len();
        list.retain(|v| !remove(v));
        before - list.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_locked_list_is_a_source() {
        let list = RwLock::new(vec![json!({"id": "a"}), json!({"id": "b"})]);
        let source: &dyn ActiveExpectations = &list;
        assert_eq!(source.active().len(), 2);
        assert_eq!(source.remove_where(&|v| v["id"] == "a"), 1);
        assert_eq!(source.active(), vec![json!({"id": "b"})]);
    }
}
