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
    /// llmspy's address: where the proxy (and its control API) listens, and
    /// where the other commands find the running llmspy.
    #[arg(long, env = "LLMSPY_LISTEN", default_value = DEFAULT_LISTEN, global = true, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Where the CA lives (default: the user data directory).
    #[arg(long, env = "LLMSPY_CA_DIR", global = true, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// The control API's token: the proxy requires it on every control
    /// request (`Authorization: Bearer TOKEN`); the other commands send it.
    /// Prefer the variable: a flag's value is visible to every user in `ps`.
    #[arg(
        long,
        env = "LLMSPY_CONTROL_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
}

/// Options of the proxy itself.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Run without the terminal UI: log one line per finished exchange.
    #[arg(long)]
    pub no_tui: bool,
    /// Log one JSON object per finished exchange (implies --no-tui).
    #[arg(long)]
    pub json: bool,
    /// Append each finished exchange to FILE as one JSON line (mode 0600,
    /// secrets masked as in exports).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Keep every finished exchange in this SQLite file (secrets masked,
    /// mode 0600) [default: history.sqlite in the data directory].
    #[arg(
        long,
        env = "LLMSPY_HISTORY",
        value_name = "FILE",
        conflicts_with = "no_history"
    )]
    pub history: Option<PathBuf>,
    /// Keep nothing on disk: no history database.
    #[arg(long)]
    pub no_history: bool,
    /// Prune the oldest runs from the history beyond this size [default 2 GiB].
    #[arg(long, value_name = "BYTES")]
    pub history_max_bytes: Option<u64>,
    /// Keep credentials in the --save file instead of masking them.
    #[arg(long, requires = "save")]
    pub save_secrets: bool,
    /// Export every LLM and MCP exchange as OpenTelemetry spans and metrics
    /// to this OTLP collector (a base URL: traces go to /v1/traces under it).
    /// Also set by OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_EXPORTER_OTLP_PROTOCOL=grpc
    /// switches from http/protobuf to gRPC.
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// Include prompts, completions and tool arguments in the exported
    /// spans (masked like exports). Off by default.
    #[arg(long)]
    pub otlp_content: bool,
    /// Also accept control requests whose Host is NAME (besides loopback
    /// names and addresses); repeatable.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// The one directory the control API may write and read files in
    /// (fixtures, exports, expectation files) [default: the current directory].
    #[arg(long, env = "LLMSPY_FILES_ROOT", value_name = "DIR")]
    pub files_root: Option<PathBuf>,
    /// Require proxy clients to authenticate (HTTP Basic or SOCKS5
    /// username/password); answered with 407 otherwise.
    #[arg(
        long,
        env = "LLMSPY_PROXY_AUTH",
        value_name = "USER:PASS",
        hide_env_values = true
    )]
    pub proxy_auth: Option<String>,
    /// Base-URL mode: relay `http://LISTEN/NAME/…` to URL/… and capture it
    /// under the real URL, e.g. `--route anthropic=https://api.anthropic.com`
    /// (`/via/https/HOST/…` needs no route); repeatable.
    #[arg(long = "route", value_name = "NAME=URL")]
    pub routes: Vec<String>,
    /// Also trust this CA (PEM) for upstream servers; repeatable. The
    /// variable names one file (a PEM may hold several certificates); it
    /// reaches a llmspy that `llmspy run --start` starts.
    #[arg(long = "upstream-ca", env = "LLMSPY_UPSTREAM_CA", value_name = "FILE")]
    pub upstream_ca: Vec<PathBuf>,
    /// DANGEROUS: accept any upstream certificate.
    #[arg(long)]
    pub insecure_upstream: bool,
    /// Threads that relay traffic, each serving the connections it is given
    /// from start to end [default: one per core].
    #[arg(long, env = "LLMSPY_WORKERS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
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
    /// Close a client connection with no request in progress this long:
    /// unfinished request head, idle keep-alive, stalled TLS or SOCKS5
    /// handshake, a CONNECT that never starts TLS, a stalled upload; also
    /// a client that takes nothing of its answer this long (an HTTP/2
    /// stream left without window is reset); 0 = never
    /// [clientIdleTimeoutSeconds, default 60].
    #[arg(long, value_name = "SECONDS")]
    pub client_idle_timeout_seconds: Option<u64>,
    /// Give up on an upstream whose TCP connect and TLS handshake take
    /// longer (504); 0 = never [upstreamConnectTimeoutSeconds, default 10].
    #[arg(long, value_name = "SECONDS")]
    pub upstream_connect_timeout_seconds: Option<u64>,
    /// Give up on an upstream that sends no response head this long after
    /// the request was sent (504); 0 = never [upstreamResponseTimeoutSeconds, default 600].
    #[arg(long, value_name = "SECONDS")]
    pub upstream_response_timeout_seconds: Option<u64>,
    /// Bytes of other bodies kept [maxBodyCaptureBytes, default 8388608].
    #[arg(long, value_name = "BYTES")]
    pub max_body_capture_bytes: Option<u64>,
    /// Exchanges kept before the oldest finished ones are evicted [maxExchanges, default 50000].
    #[arg(long, value_name = "COUNT")]
    pub max_exchanges: Option<u64>,
    /// Body bytes kept across all exchanges [maxCaptureBytes, default 512 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_capture_bytes: Option<u64>,
    /// Load mock expectations (a MockServer JSON file, a recorded fixture,
    /// or a directory of them) at start [initializationJsonPath].
    #[arg(long = "init", value_name = "PATH")]
    pub init: Option<PathBuf>,
    /// Answer requests that match no expectation with a 404 naming the
    /// closest expectation and what differed, instead of forwarding them.
    #[arg(long)]
    pub replay_strict: bool,
}

impl ProxyArgs {
    /// No terminal UI: asked for, or implied by `--json`.
    pub fn headless(&self) -> bool {
        self.no_tui || self.json
    }
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
    /// Run a program set up to go through llmspy: proxy and CA variables
    /// for every common client, Node's fetch, NO_PROXY cleared, and
    /// LLMSPY_LISTEN so llmspy subcommands it starts find this llmspy.
    /// Exits with the program's exit code.
    Run(RunArgs),
    /// Print a shell completion script: `source <(llmspy completions bash)`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Write the traffic a running llmspy captured as a fixture file of
    /// mock expectations (secrets redacted), for `llmspy --init FILE`.
    Record(RecordArgs),
    /// Run a stdio MCP server, passing stdin/stdout through unchanged, and
    /// show each JSON-RPC exchange in the running llmspy.
    McpStdio {
        /// The llmspy to report to [default: the --listen address].
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// The server command and its arguments, after `--`.
        #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Browse a saved capture (`--save` JSON lines, a native JSON export, a
    /// HAR file, or a history database) in the terminal UI, without starting
    /// a proxy.
    Open {
        /// The capture file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Of a history database: only this run (see `llmspy history`).
        #[arg(long, value_name = "N")]
        run: Option<i64>,
    },
    /// Export captured traffic (or expectations) as JSON, HAR, OpenAPI,
    /// Postman or Bruno, from a running llmspy or a saved capture.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Print captured traffic, expectations, a conversation or the sessions
    /// as JSON on stdout (the control API's retrieve).
    #[command(after_help = EXIT_CODES)]
    Retrieve(RetrieveArgs),
    /// List the runs kept in the history database, or sum their tokens and
    /// cost by day, provider and model (--stats).
    History(HistoryArgs),
}

/// `llmspy history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The history database [default: history.sqlite in the data directory].
    #[arg(long = "history", env = "LLMSPY_HISTORY", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Tokens and cost by day, provider and model instead of the runs.
    #[arg(long)]
    pub stats: bool,
    /// Only since this time: 2026-12-01T10:00:00Z, 2026-12-01, or 30m/6h/7d ago.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// JSON on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// `llmspy run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// List every variable set (and cleared) for the program, and who reads it.
    #[arg(long)]
    pub explain: bool,
    /// Keep NO_PROXY/no_proxy (by default they are cleared for the program,
    /// so requests to local model servers are captured too).
    #[arg(long)]
    pub keep_no_proxy: bool,
    /// When no llmspy is listening, start one headless in the background
    /// for the program's lifetime (asked on a terminal otherwise).
    #[arg(long)]
    pub start: bool,
    /// The program and its arguments, after `--`.
    #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The exit status of `export` and `retrieve`, shown in their `--help`.
pub const EXIT_CODES: &str = "Exit status: 0 when something matched, 1 when nothing did \
(an empty but valid export is still written), 2 on a usage, file or server error.";

/// What to read and from where, for `export` and `retrieve`.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// What to return: REQUEST_RESPONSES, REQUESTS, RECORDED_EXPECTATIONS,
    /// ACTIVE_EXPECTATIONS, CONVERSATION (with --id) or SESSIONS (any case).
    #[arg(long = "type", value_name = "TYPE", default_value = "REQUEST_RESPONSES", value_parser = parse_type)]
    pub kind: crate::api::params::RetrieveType,
    /// Only exchanges matching this filter expression, e.g. '~p anthropic & ~c 200'.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Only requests matching this MockServer request matcher, e.g.
    /// '{"method":"POST","path":"/v1/messages"}'.
    #[arg(long = "match", value_name = "JSON")]
    pub matcher: Option<String>,
    /// The exchange a CONVERSATION is about.
    #[arg(long, value_name = "ID")]
    pub id: Option<u64>,
    /// Ask the llmspy running at this address [default: the --listen address].
    #[arg(long, value_name = "URL", conflicts_with = "from")]
    pub server: Option<String>,
    /// Read a saved capture instead (a --save file, a native JSON export, a
    /// HAR file, or a history database).
    #[arg(long, value_name = "FILE", conflicts_with = "history")]
    pub from: Option<PathBuf>,
    /// Read the history database FILE instead of a running llmspy.
    #[arg(long, value_name = "FILE", conflicts_with = "server")]
    pub history: Option<PathBuf>,
    /// With --history (or a history --from): only this run (see `llmspy history`).
    #[arg(long, value_name = "N")]
    pub run: Option<i64>,
    /// With --history: only since this time (2026-12-01T10:00:00Z, 2026-12-01, 30m, 6h, 7d).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
}

/// `llmspy export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// JSON (llmspy's own, loadable again), HAR, OPENAPI, POSTMAN or BRUNO (a .zip).
    #[arg(long, short, value_name = "FORMAT", default_value = "JSON", value_parser = parse_format)]
    pub format: crate::export::Format,
    /// Write here instead of stdout (`-` is stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep credentials (Authorization, API keys, cookies, secret fields)
    /// instead of replacing them with ***REDACTED***.
    #[arg(long)]
    pub no_redact: bool,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `llmspy retrieve`.
#[derive(Debug, Clone, Args)]
pub struct RetrieveArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Keep credentials (Authorization, API keys, cookies, secret fields)
    /// instead of replacing them with ***REDACTED***: what is printed often
    /// ends up in a file, a terminal's scrollback or a chat.
    #[arg(long, conflicts_with = "redact")]
    pub no_redact: bool,
    /// Mask credentials (the default; kept for scripts that ask for it).
    #[arg(long, hide = true)]
    pub redact: bool,
}

fn parse_type(text: &str) -> Result<crate::api::params::RetrieveType, String> {
    text.parse()
        .map_err(|e: crate::api::params::ParamError| e.to_string())
}

fn parse_format(text: &str) -> Result<crate::export::Format, String> {
    text.parse()
        .map_err(|e: crate::export::ExportError| e.to_string())
}

/// `llmspy record`.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// The fixture file to write.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Only requests whose path matches (exact or regex).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Only requests to this host (exact or regex).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Replay streamed events with their recorded gaps (default: 50 ms apart).
    #[arg(long)]
    pub keep_timing: bool,
    /// The running llmspy [default: the --listen address].
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}
