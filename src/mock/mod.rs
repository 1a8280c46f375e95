//! Mock expectations and request matching (MockServer's JSON shapes).

pub mod matcher;
