//! Every flag and subcommand, in one place: the source of `--help` and of
//! the generated man page (man/llmspy.1).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:1080";

/// See exactly what your AI agents say to LLM APIs and MCP servers.
///
/// llmspy is an HTTPS proxy that decrypts, records and forwards every request
/// (streams relayed chunk by chunk) and shows the traffic live. Run it in one
/// terminal and your agent in another with `eval "$(llmspy env)"`, or start
/// the agent with `llmspy run -- CMD`.
#[derive(Debug, Parser)]
#[command(name = "llmspy", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub proxy: ProxyArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options shared by the proxy and the helper subcommands.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Address to listen on (the proxy and its control API share it).
    #[arg(long, env = "LLMSPY_LISTEN", default_value = DEFAULT_LISTEN, global = true, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Where the CA lives (default: the user data directory).
    #[arg(long, env = "LLMSPY_CA_DIR", global = true, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
}

/// Options of the proxy itself.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Run without the terminal UI: log one line per finished exchange.
    #[arg(long)]
    pub no_tui: bool,
    /// With --no-tui, log one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Append each finished exchange to FILE as one JSON line.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Also trust this CA (PEM) for upstream servers; repeatable.
    #[arg(long = "upstream-ca", value_name = "FILE")]
    pub upstream_ca: Vec<PathBuf>,
    /// DANGEROUS: accept any upstream certificate.
    #[arg(long)]
    pub insecure_upstream: bool,
    /// Settings file: JSON or MockServer-style properties
    /// (default: config.json in the user config directory, if present).
    #[arg(long, env = "LLMSPY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Forward response bodies frame by frame [streamingResponsesEnabled, default true].
    #[arg(long, value_name = "BOOL")]
    pub streaming_responses_enabled: Option<bool>,
    /// Bytes of a streamed (SSE/NDJSON) response kept [maxStreamingCaptureBytes, default 262144].
    #[arg(long, value_name = "BYTES")]
    pub max_streaming_capture_bytes: Option<u64>,
    /// Close a stream idle this long; 0 = never [streamIdleTimeoutSeconds, default 60].
    #[arg(long, value_name = "SECONDS")]
    pub stream_idle_timeout_seconds: Option<u64>,
    /// Bytes of other bodies kept [maxBodyCaptureBytes, default 8388608].
    #[arg(long, value_name = "BYTES")]
    pub max_body_capture_bytes: Option<u64>,
    /// Exchanges kept before the oldest are evicted [maxExchanges, default 50000].
    #[arg(long, value_name = "COUNT")]
    pub max_exchanges: Option<u64>,
    /// Body bytes kept across all exchanges [maxCaptureBytes, default 512 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_capture_bytes: Option<u64>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print `export …` lines for `eval "$(llmspy env)"`.
    Env,
    /// Print the CA certificate's path (or the PEM itself).
    Ca {
        /// Print the PEM instead of the path.
        #[arg(long)]
        pem: bool,
    },
    /// Run a program with the proxy variables set, through the llmspy
    /// already listening; exits with the program's exit code.
    Run {
        /// The program and its arguments, after `--`.
        #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
}
