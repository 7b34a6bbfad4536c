//! credit-registry: the command line. Parses flags, loads configuration in layers, runs one
//! command, and maps the outcome to the documented exit status.

mod cli;
mod commands;
mod config;
mod failure;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::failure::{EXIT_OK, EXIT_USAGE, Failure};

/// Records are allocated on the parsing thread and freed on the writing thread; glibc's malloc
/// serialises those cross-thread frees on an arena lock (a quarter of ingest time when
/// measured), mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    restore_default_sigpipe();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json_output = args.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = error.print();
                    ExitCode::from(EXIT_OK)
                }
                _ => {
                    if json_output {
                        let message = error.kind().as_str().unwrap_or("invalid command line").to_string();
                        let detail = error.to_string();
                        let first = detail.lines().next().unwrap_or(&message).trim_start_matches("error: ");
                        println!("{}", serde_json::json!({"error": {"code": "usage", "message": first}}));
                    }
                    let _ = error.print();
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
    };
    init_logging(&cli);
    let result = Config::load(&cli.global).and_then(|config| run(&config, cli.command));
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(failure) => {
            failure.report(json_output);
            ExitCode::from(failure.exit_status())
        }
    }
}

fn run(config: &Config, command: Command) -> Result<(), Failure> {
    match command {
        Command::Demo(args) => commands::demo::run(config, args),
        Command::Generate(args) => commands::generate::run(config, args),
        Command::Ingest(args) => commands::ingest::run(config, args),
        Command::Report(args) => commands::report::run(config, args),
        Command::Serve(args) => commands::serve::run(config, args),
        Command::Submission(args) => commands::submission::run(config, args),
        Command::History(args) => commands::history::run(config, args),
        Command::Archive(command) => commands::archive::run(config, command),
        Command::Export(args) => commands::export::run(config, args),
        Command::Metro2(command) => commands::metro2::run(config, command),
        Command::Migrate(args) => commands::migrate::run(config, args),
        Command::RegistryKeys(args) => commands::migrate::registry_keys(args),
        Command::Compact(args) => commands::migrate::compact(config, args),
        Command::Copy(args) => commands::migrate::copy(config, args),
        Command::Keys(command) => commands::keys::run(config, command),
        Command::Audit(command) => commands::keys::audit(config, command),
        Command::Retention(command) => commands::keys::retention(config, command),
        Command::Score(command) => commands::score::run(config, command),
        Command::Supervise(args) => commands::supervise::run(config, args),
        Command::Quality(args) => commands::quality::run(config, args),
    }
}

/// Output piped into `head` ends the process quietly, as for any Unix tool, instead of
/// panicking on the closed pipe (Rust ignores SIGPIPE by default).
#[allow(unsafe_code)]
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; sets a signal disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to stderr; servers say more by default than one-shot commands.
fn init_logging(cli: &Cli) {
    let serving = matches!(cli.command, Command::Serve(_) | Command::Demo(_));
    let level = match (cli.global.verbose, serving) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("CREDIT_REGISTRY_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(ansi).with_env_filter(filter).try_init();
}
