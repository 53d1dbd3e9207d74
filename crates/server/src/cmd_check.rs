//! `argus check ...` and `argus test rules`: the promtool/amtool checks, with their output
//! and exit codes, so scripts and CI jobs written for promtool work with Argus.
//!
//! - `argus check config FILE...`: the main configuration (scrape configs, service
//!   discovery, relabeling, `alerting`, `storage`) and every rule file it names; settings
//!   Argus accepts but does not act on are listed as warnings.
//! - `argus check rules FILE...`: rule files (`--lint duplicate-rules|none`, `--lint-fatal`).
//! - `argus check alertmanager-config FILE...`: Alertmanager configuration (amtool's
//!   `check-config`).
//! - `argus test rules FILE...`: promtool-format rule unit tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use argus_alert::{CheckOptions, UnitTestOptions};
use clap::{Args, Subcommand};

use crate::cli::ServerArgs;

/// `argus check` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Validate configuration files and the rule files they name.
    Config(ConfigArgs),
    /// Validate rule files.
    Rules(RulesArgs),
    /// Validate Alertmanager configuration files.
    #[command(name = "alertmanager-config")]
    AlertmanagerConfig(FilesArgs),
}

/// `argus test` subcommands.
#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run rule unit tests (promtool's format).
    Rules(TestRulesArgs),
}

/// Files to check.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// The files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Flags of `argus check config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only check the configuration syntax, not the rule files it names.
    #[arg(long = "syntax-only")]
    pub syntax_only: bool,
}

/// Flags of `argus check rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// The files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Linting: `duplicate-rules` (default) or `none`.
    #[arg(long, default_value = "duplicate-rules")]
    pub lint: String,
    /// Make lint findings fail the check (exit code 3).
    #[arg(long = "lint-fatal")]
    pub lint_fatal: bool,
    /// Ignore unknown fields in rule files.
    #[arg(long = "ignore-unknown-fields")]
    pub ignore_unknown_fields: bool,
}

/// Flags of `argus test rules`.
#[derive(Debug, Args)]
pub struct TestRulesArgs {
    /// Test files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only run test groups whose name matches this regex (repeatable).
    #[arg(long)]
    pub run: Vec<String>,
    /// Ignore unknown fields in rule files.
    #[arg(long = "ignore-unknown-fields")]
    pub ignore_unknown_fields: bool,
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn out(text: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()?;
    Ok(())
}

/// Runs a `check` subcommand.
pub fn check(cmd: CheckCommand, _server: &ServerArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        CheckCommand::Config(a) => check_config(&a),
        CheckCommand::Rules(a) => {
            let opts = CheckOptions {
                lint_duplicates: a.lint != "none",
                lint_fatal: a.lint_fatal,
                parse: argus_alert::rulefmt::ParseOptions {
                    ignore_unknown_fields: a.ignore_unknown_fields,
                    ..Default::default()
                },
            };
            let report = argus_alert::check_rule_files(&a.files, &opts);
            out(&report.render())?;
            Ok(exit(report.exit_code()))
        }
        CheckCommand::AlertmanagerConfig(a) => {
            let mut failed = false;
            for f in &a.files {
                match argus_alertmanager::check_config(f) {
                    Ok(r) => out(&format!("{r}\n"))?,
                    Err(e) => {
                        failed = true;
                        out(&format!("Checking '{}'  FAILED: {e}\n\n", f.display()))?;
                    }
                }
            }
            Ok(exit(i32::from(failed)))
        }
    }
}

fn check_config(a: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let mut text = String::new();
    let mut rule_files = Vec::new();
    for f in &a.files {
        text.push_str(&format!("Checking {}\n", f.display()));
        match argus_scrape::config::load_file(f) {
            Err(e) => {
                failed = true;
                text.push_str(&format!("  FAILED: {e}\n\n"));
            }
            Ok(c) => {
                let mut errors = Vec::new();
                if let Err(e) = crate::config::decode_sections(&c, &f.display().to_string()) {
                    errors.push(format!("{e:#}"));
                }
                if errors.is_empty() {
                    let files = if a.syntax_only {
                        Vec::new()
                    } else {
                        match argus_alert::rules::manager::expand_globs(&c.rule_files) {
                            Ok(f) => f,
                            Err(e) => {
                                errors.push(e.to_string());
                                Vec::new()
                            }
                        }
                    };
                    if !files.is_empty() {
                        text.push_str(&format!("  SUCCESS: {} rule files found\n", files.len()));
                    }
                    for w in c.unsupported() {
                        text.push_str(&format!("  WARNING: {w}\n"));
                    }
                    rule_files.extend(files);
                }
                if errors.is_empty() {
                    text.push_str(&format!(
                        " SUCCESS: {} is valid prometheus config file syntax\n\n",
                        f.display()
                    ));
                } else {
                    failed = true;
                    text.push_str(&format!("  FAILED: {}\n\n", errors.join("; ")));
                }
            }
        }
    }
    out(&text)?;
    if !rule_files.is_empty() {
        let report = argus_alert::check_rule_files(&rule_files, &CheckOptions::default());
        out(&report.render())?;
        failed |= !report.valid();
    }
    Ok(exit(i32::from(failed)))
}

/// Runs a `test` subcommand.
pub fn test(cmd: TestCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TestCommand::Rules(a) => {
            let run = a
                .run
                .iter()
                .map(|r| regex::Regex::new(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("invalid --run regex: {e}"))?;
            let opts = UnitTestOptions {
                run,
                parse: argus_alert::rulefmt::ParseOptions {
                    ignore_unknown_fields: a.ignore_unknown_fields,
                    ..Default::default()
                },
            };
            let report = argus_alert::run_rule_tests(&a.files, &opts);
            out(&report.render())?;
            Ok(exit(report.exit_code()))
        }
    }
}
