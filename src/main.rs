//! The `strata` binary: parse flags, start logging, run the server until SIGINT/SIGTERM.

use clap::Parser;
use strata::config::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    strata::telemetry::init(config.log_format);
    match strata::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
