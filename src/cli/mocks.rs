//! Wiring of mock expectations into the proxy: `--init PATH` (or the
//! config's `initializationJsonPath`), `--replay-strict`, and the mock
//! routes in front of the control API.

use std::path::PathBuf;

use anyhow::Context;

use super::args::ProxyArgs;
use crate::capture::{Recorder, StoreReader};
use crate::config::Layered;
use crate::engine::ApiHandler;
use crate::mock::Expectations;

/// The expectations the proxy starts with. A broken file stops the start,
/// naming the file, the JSON path and what was expected.
pub fn load(args: &ProxyArgs) -> anyhow::Result<Expectations> {
    let mock = Expectations::new();
    mock.set_strict(args.replay_strict);
    let Some(path) = init_path(args)? else {
        return Ok(mock);
    };
    let list = crate::mock::loader::load(&path)
        .with_context(|| format!("loading expectations (--init {})", path.display()))?;
    eprintln!(
        "llmspy: loaded {} expectations from {}",
        list.len(),
        path.display()
    );
    mock.upsert(list);
    Ok(mock)
}

fn init_path(args: &ProxyArgs) -> anyhow::Result<Option<PathBuf>> {
    if let Some(p) = &args.init {
        return Ok(Some(p.clone()));
    }
    let file = args.config.clone().or_else(|| {
        let path = super::project_dirs()?.config_dir().join("config.json");
        path.exists().then_some(path)
    });
    let layered = Layered::load(file.as_deref())?;
    Ok(layered.string("initializationJsonPath").map(PathBuf::from))
}

/// The API handler with the mock routes (expectation, fixtures/record,
/// mcp, mcp-stdio/ingest) in front.
pub fn routes(
    mock: &Expectations,
    store: &StoreReader,
    recorder: &Recorder,
    files: crate::api::files::FilesRoot,
    api: ApiHandler,
) -> ApiHandler {
    let ctx = crate::api::expectations::MockContext::new(
        mock.clone(),
        store.clone(),
        recorder.clone(),
        files,
    );
    crate::api::expectations::with_mock_routes(ctx, api)
}
