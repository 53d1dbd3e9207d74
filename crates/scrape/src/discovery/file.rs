//! `file_sd_configs`: target groups read from JSON or YAML files, re-read on change.
//!
//! File format (Prometheus' `file_sd`):
//!
//! ```yaml
//! - targets: ["host1:9100", "host2:9100"]
//!   labels:
//!     env: prod
//! ```
//!
//! Files are matched by their glob patterns, polled for changes (modification time and
//! size) every second, and fully re-read every `refresh_interval`. A file that fails to
//! parse keeps its previous targets (with an error logged); a file that disappears
//! removes its targets. Each group gets `__meta_filepath`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{Discoverer, DiscoveryFuture, LabelSet, TargetGroup};
use crate::config::FileSdConfig;

/// How often files are checked for changes. Cheap (one `stat` per file), and it keeps
/// "re-read on change" within about a second without an inotify dependency.
const POLL: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    mtime: Option<SystemTime>,
    len: u64,
}

/// Discovers targets from files.
pub struct FileDiscoverer {
    index: usize,
    patterns: Vec<String>,
    refresh: Duration,
}

impl FileDiscoverer {
    /// A discoverer for the `index`-th `file_sd_configs` entry.
    pub fn new(index: usize, cfg: &FileSdConfig) -> Self {
        FileDiscoverer {
            index,
            patterns: cfg.files.clone(),
            refresh: cfg.refresh_interval.to_std().max(POLL),
        }
    }

    fn matching_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for p in &self.patterns {
            match glob::glob(p) {
                Ok(paths) => out.extend(paths.flatten()),
                Err(e) => warn!(pattern = %p, error = %e, "Invalid file SD pattern."),
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Parses one file into groups (source `file/<index>/<path>:<n>`).
pub(crate) fn read_groups(
    index: usize,
    path: &Path,
    data: &[u8],
) -> Result<Vec<TargetGroup>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let groups: Vec<FileGroup> = if ext == "json" {
        serde_json::from_slice(data).map_err(|e| e.to_string())?
    } else {
        let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
        if text.trim().is_empty() {
            Vec::new()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?
        }
    };
    let file = path.display().to_string();
    let mut out = Vec::with_capacity(groups.len());
    for (n, g) in groups.into_iter().enumerate() {
        let mut labels = g.labels.unwrap_or_default();
        for name in labels.keys() {
            if name.is_empty() {
                return Err(format!("group {n}: empty label name"));
            }
        }
        labels.insert("__meta_filepath".to_owned(), file.clone());
        let mut targets = Vec::with_capacity(g.targets.len());
        for t in g.targets {
            if t.is_empty() {
                return Err(format!("group {n}: empty target"));
            }
            targets.push(LabelSet::from([("__address__".to_owned(), t)]));
        }
        out.push(TargetGroup {
            source: format!("file/{index}/{file}:{n}"),
            targets,
            labels,
        });
    }
    Ok(out)
}

impl Discoverer for FileDiscoverer {
    fn run(
        self: Box<Self>,
        cancel: CancellationToken,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> DiscoveryFuture {
        Box::pin(async move {
            // Per file: its stamp and the sources of the groups it produced last.
            let mut known: HashMap<PathBuf, (Stamp, Vec<String>)> = HashMap::new();
            let mut last_full = Instant::now();
            let mut first = true;
            loop {
                let full = first || last_full.elapsed() >= self.refresh;
                if full {
                    last_full = Instant::now();
                }
                let mut update = Vec::new();
                let files = self.matching_files();
                for path in &files {
                    let stamp = match tokio::fs::metadata(path).await {
                        Ok(m) => Stamp {
                            mtime: m.modified().ok(),
                            len: m.len(),
                        },
                        Err(_) => continue,
                    };
                    if !full && known.get(path).is_some_and(|(s, _)| *s == stamp) {
                        continue;
                    }
                    let data = match tokio::fs::read(path).await {
                        Ok(d) => d,
                        Err(e) => {
                            warn!(file = %path.display(), error = %e, "Cannot read file SD file.");
                            continue;
                        }
                    };
                    match read_groups(self.index, path, &data) {
                        Ok(groups) => {
                            let sources: Vec<String> =
                                groups.iter().map(|g| g.source.clone()).collect();
                            if let Some((_, old)) = known.get(path) {
                                for s in old.iter().filter(|s| !sources.contains(s)) {
                                    update.push(TargetGroup {
                                        source: s.clone(),
                                        ..TargetGroup::default()
                                    });
                                }
                            }
                            update.extend(groups);
                            known.insert(path.clone(), (stamp, sources));
                        }
                        Err(e) => {
                            warn!(file = %path.display(), error = %e, "Cannot parse file SD file; keeping its previous targets.");
                            // Remember the stamp so the error is logged once per change.
                            let old = known.remove(path).map(|(_, s)| s).unwrap_or_default();
                            known.insert(path.clone(), (stamp, old));
                        }
                    }
                }
                let gone: Vec<PathBuf> = known
                    .keys()
                    .filter(|p| !files.contains(p))
                    .cloned()
                    .collect();
                for p in gone {
                    if let Some((_, sources)) = known.remove(&p) {
                        debug!(file = %p.display(), "File SD file removed.");
                        update.extend(sources.into_iter().map(|source| TargetGroup {
                            source,
                            ..TargetGroup::default()
                        }));
                    }
                }
                if (first || !update.is_empty()) && tx.send(update).await.is_err() {
                    return;
                }
                first = false;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_and_yaml() {
        let g = read_groups(
            0,
            Path::new("/t/a.json"),
            br#"[{"targets":["h:1","h:2"],"labels":{"env":"prod"}}]"#,
        )
        .unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].targets.len(), 2);
        assert_eq!(g[0].labels.get("env").map(String::as_str), Some("prod"));
        assert_eq!(
            g[0].labels.get("__meta_filepath").map(String::as_str),
            Some("/t/a.json")
        );
        let g = read_groups(0, Path::new("/t/a.yml"), b"- targets: ['x:9']\n").unwrap();
        assert_eq!(g[0].targets[0]["__address__"], "x:9");
        assert!(read_groups(
            0,
            Path::new("/t/a.yml"),
            b"- targets: ['x:9']\n  bogus: 1\n"
        )
        .is_err());
        assert!(read_groups(0, Path::new("/t/a.json"), b"[{").is_err());
        assert!(read_groups(0, Path::new("/t/a.yaml"), b"")
            .unwrap()
            .is_empty());
    }
}
