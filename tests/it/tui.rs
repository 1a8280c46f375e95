//! The terminal UI, driven through `update` with key strings and drawn into a
//! `TestBackend` at 80×24 and 160×48; screens are insta snapshots.

mod support;

mod agent_session;
mod detail;
mod keys;
mod live;
mod llm;
mod llm_samples;
mod mock;
mod runs;
mod screens;
mod traffic;
mod websocket;

/// The two sizes every view is checked at.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
