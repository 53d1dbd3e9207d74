//! `argus`: a Prometheus-compatible monitoring server in one binary.
//!
//! With no subcommand it runs the server; subcommands are operator tools (`tsdb`, `check`,
//! `test`, `query`).

mod cli;
mod cmd_tsdb;
mod logging;
mod run;
mod self_metrics;
mod storage;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    logging::init(&cli.log_level, &cli.log_format);
    let result = match cli.command {
        None => run::serve(cli.server),
        Some(cli::Command::Tsdb(cmd)) => cmd_tsdb::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "Fatal error.");
            std::process::ExitCode::FAILURE
        }
    }
}
