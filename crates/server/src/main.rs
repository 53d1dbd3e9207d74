//! `argus`: a Prometheus-compatible monitoring server in one binary.
//!
//! With no subcommand it runs the server; subcommands are operator tools (`tsdb`, `check`,
//! `test`, `query`).

mod adapter;
mod app;
mod builtin_am;
mod cli;
mod cluster;
mod cmd_check;
mod cmd_query;
mod cmd_tsdb;
mod config;
mod http;
mod http_metrics;
mod listener;
mod logging;
mod malloc_tuning;
mod providers;
mod run;
mod self_metrics;
mod storage;
mod web_config;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let malloc = malloc_tuning::apply();
    let cli = cli::Cli::parse();
    logging::init(&cli.log_level, &cli.log_format);
    if let Some(n) = malloc.arena_max {
        tracing::debug!(arenas = n, "glibc malloc arenas capped.");
    }
    let result = match cli.command {
        None => run::serve(cli.server),
        Some(cli::Command::Tsdb(cmd)) => cmd_tsdb::run(cmd),
        Some(cli::Command::Check(cmd)) => cmd_check::check(cmd, &cli.server),
        Some(cli::Command::Test(cmd)) => cmd_check::test(cmd),
        Some(cli::Command::Query(cmd)) => cmd_query::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "Fatal error.");
            std::process::ExitCode::FAILURE
        }
    }
}
