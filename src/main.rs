//! The `strata` binary: parse flags, start logging, then run a subcommand (`strata keys …`) or
//! the server until SIGINT/SIGTERM.

use clap::Parser;
use strata::config::Config;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    strata::telemetry::init(config.log_format);
    if let Some(command) = &config.command {
        return match strata::cli::run(command) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match strata::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
