//! `argus check rules FILE...`: promtool's `check rules` (validation plus the
//! duplicate-rule lint), with promtool's output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::rulefmt::{parse_file, ParseOptions, RuleFileError, RuleFileSpec};

/// Options of `check rules`.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Parsing (name validation, unknown fields).
    pub parse: ParseOptions,
    /// Run the duplicate-rule lint (promtool `--lint=duplicate-rules`, the default).
    pub lint_duplicates: bool,
    /// Make lint findings fail the check (`--lint-fatal`, exit code 3).
    pub lint_fatal: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            parse: ParseOptions::default(),
            lint_duplicates: true,
            lint_fatal: false,
        }
    }
}

/// A rule defined more than once with the same name and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRule {
    /// Record or alert name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// The result for one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// The file as given.
    pub path: PathBuf,
    /// Rules found (when the file is valid).
    pub rules_found: usize,
    /// Validation errors (empty = valid).
    pub errors: Vec<RuleFileError>,
    /// Duplicate-rule lint findings.
    pub duplicates: Vec<DuplicateRule>,
}

/// The result of checking several files.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Per file, in the order given.
    pub files: Vec<FileCheck>,
    /// Whether lint findings are fatal.
    pub lint_fatal: bool,
}

impl CheckReport {
    /// True when every file is valid.
    pub fn valid(&self) -> bool {
        self.files.iter().all(|f| f.errors.is_empty())
    }

    /// promtool's exit code: 1 on invalid files, 3 on fatal lint findings, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.valid() {
            1
        } else if self.lint_fatal && self.files.iter().any(|f| !f.duplicates.is_empty()) {
            3
        } else {
            0
        }
    }

    /// The report in promtool's words.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            let _ = writeln!(out, "Checking {}", f.path.display());
            if !f.errors.is_empty() {
                let _ = writeln!(out, "  FAILED:");
                for e in &f.errors {
                    let _ = writeln!(out, "{e}");
                }
            } else if !f.duplicates.is_empty() {
                let _ = writeln!(out, "  FAILED:");
                let _ = writeln!(
                    out,
                    "lint error {} duplicate rule(s) found.",
                    f.duplicates.len()
                );
                for d in &f.duplicates {
                    let _ = writeln!(out, "Metric: {}\nLabel(s):", d.name);
                    for (k, v) in &d.labels {
                        let _ = writeln!(out, "\t{k}: {v}");
                    }
                }
                let _ = writeln!(out, "Might cause inconsistency while recording expressions");
            } else {
                let _ = writeln!(out, "  SUCCESS: {} rules found", f.rules_found);
            }
            out.push('\n');
        }
        out
    }
}

/// Rules with the same name and labels anywhere in the file, each reported once.
pub fn find_duplicates(spec: &RuleFileSpec) -> Vec<DuplicateRule> {
    let mut all: Vec<DuplicateRule> = spec
        .groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .map(|r| DuplicateRule {
            name: r.name().to_string(),
            labels: r.labels.clone(),
        })
        .collect();
    all.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    let mut dups: Vec<DuplicateRule> = Vec::new();
    for w in all.windows(2) {
        if let [a, b] = w {
            if a == b && dups.last() != Some(b) {
                dups.push(b.clone());
            }
        }
    }
    dups
}

/// Checks one file.
pub fn check_file(path: &Path, opts: &CheckOptions) -> FileCheck {
    match parse_file(path, opts.parse) {
        Ok(spec) => FileCheck {
            path: path.to_path_buf(),
            rules_found: spec.rule_count(),
            errors: Vec::new(),
            duplicates: if opts.lint_duplicates {
                find_duplicates(&spec)
            } else {
                Vec::new()
            },
        },
        Err(errors) => FileCheck {
            path: path.to_path_buf(),
            rules_found: 0,
            errors,
            duplicates: Vec::new(),
        },
    }
}

/// `check rules` over several files.
pub fn check_rule_files(paths: &[PathBuf], opts: &CheckOptions) -> CheckReport {
    CheckReport {
        files: paths.iter().map(|p| check_file(p, opts)).collect(),
        lint_fatal: opts.lint_fatal,
    }
}
