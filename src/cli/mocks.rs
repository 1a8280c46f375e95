//! The mock expectations the proxy starts with: `--init PATH` (or the
//! config's `initializationJsonPath`) and `--replay-strict`.

use std::path::PathBuf;

use anyhow::Context;

use super::args::ProxyArgs;
use crate::config::Layered;
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
    crate::note!(
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
