//! Scrape targets: turning discovered label sets into targets (Prometheus'
//! `PopulateLabels`), their URL, identity and health.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use argus_model::{parse_duration_ms, Labels, LabelsBuilder, PromDuration};
use parking_lot::Mutex;
use reqwest::Url;

use crate::config::ScrapeConfig;
use crate::discovery::LabelSet;
use crate::relabel;

/// `__address__`.
pub const ADDRESS_LABEL: &str = "__address__";
/// `__scheme__`.
pub const SCHEME_LABEL: &str = "__scheme__";
/// `__metrics_path__`.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// `__scrape_interval__`.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// `__scrape_timeout__`.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of URL parameter labels.
pub const PARAM_PREFIX: &str = "__param_";
/// Prefix of discovery metadata labels (removed after relabeling).
pub const META_PREFIX: &str = "__meta_";

/// A target's health, as reported by `/api/v1/targets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// Last scrape succeeded.
    Up,
    /// Last scrape failed.
    Down,
}

impl Health {
    /// `up`, `down` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of the last scrape of a target.
#[derive(Debug, Clone, Default)]
pub struct ScrapeStatus {
    /// Health.
    pub health: Health,
    /// Error of the last scrape, empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long it took.
    pub last_scrape_duration: Duration,
}

/// A target of a scrape pool.
#[derive(Debug)]
pub struct Target {
    /// Labels after relabeling, including internal `__` labels (not `__meta_*`).
    pub labels: Labels,
    /// Labels as discovered, before relabeling.
    pub discovered: Labels,
    /// The scrape URL.
    pub url: Url,
    /// Scrape interval (may be overridden by `__scrape_interval__`).
    pub interval: Duration,
    /// Scrape timeout.
    pub timeout: Duration,
    /// Identity within the pool (labels and URL).
    pub hash: u64,
    /// Last scrape outcome.
    pub status: Mutex<ScrapeStatus>,
    /// Metadata of the metric families the target exposes, by family name.
    pub metadata: Mutex<std::sync::Arc<BTreeMap<String, argus_model::MetricMetadata>>>,
}

impl Target {
    /// Labels without the internal `__` ones: the labels added to every scraped series.
    pub fn public_labels(&self) -> Labels {
        self.labels.filter(|l| !l.name.starts_with("__"))
    }
}

/// The result of turning one discovered label set into a target.
pub enum Populated {
    /// A target: labels after relabeling (with internal labels) and the discovered ones.
    Target(Labels, Labels),
    /// Dropped by relabeling; the discovered labels.
    Dropped(Labels),
}

/// Builds a target's labels as Prometheus' `PopulateLabels` does: target labels, then
/// group labels, then `job`, `__scrape_interval__`, `__scrape_timeout__`,
/// `__metrics_path__`, `__scheme__` and `__param_*` defaults, then `relabel_configs`;
/// `__meta_*` labels are removed and `instance` defaults to `__address__`.
pub fn populate_labels(
    cfg: &ScrapeConfig,
    target: &LabelSet,
    group: &LabelSet,
) -> Result<Populated, String> {
    let mut b = LabelsBuilder::new();
    for (k, v) in target {
        b.set(k, v);
    }
    for (k, v) in group {
        if !target.contains_key(k) {
            b.set(k, v);
        }
    }
    let defaults = [
        ("job", cfg.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, cfg.interval().to_string()),
        (SCRAPE_TIMEOUT_LABEL, cfg.timeout().to_string()),
        (METRICS_PATH_LABEL, cfg.metrics_path.clone()),
        (SCHEME_LABEL, cfg.scheme.clone()),
    ];
    for (k, v) in defaults {
        if b.get(k).is_none() {
            b.set(k, &v);
        }
    }
    for (k, v) in &cfg.params {
        let name = format!("{PARAM_PREFIX}{k}");
        if let Some(first) = v.first() {
            if b.get(&name).is_none() {
                b.set(&name, first);
            }
        }
    }
    let discovered = b.build();
    if !relabel::process_builder(&mut b, &cfg.relabel_configs) {
        return Ok(Populated::Dropped(discovered));
    }
    let Some(addr) = b.get(ADDRESS_LABEL).map(str::to_owned) else {
        return Err("no address".into());
    };
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    let interval = b.get(SCRAPE_INTERVAL_LABEL).unwrap_or("").to_owned();
    let interval_ms =
        parse_duration_ms(&interval).map_err(|e| format!("error parsing scrape interval: {e}"))?;
    if interval_ms == 0 {
        return Err("scrape interval cannot be 0".into());
    }
    let timeout = b.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("").to_owned();
    let timeout_ms =
        parse_duration_ms(&timeout).map_err(|e| format!("error parsing scrape timeout: {e}"))?;
    if timeout_ms == 0 {
        return Err("scrape timeout cannot be 0".into());
    }
    if timeout_ms > interval_ms {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
        ));
    }
    b.retain(|n, _| !n.starts_with(META_PREFIX));
    if b.get("instance").is_none() {
        b.set("instance", &addr);
    }
    Ok(Populated::Target(b.build(), discovered))
}

/// The scrape URL of a target: `__scheme__://__address____metrics_path__?params`, with
/// `__param_<name>` labels overriding the first value of configured parameters.
pub fn target_url(cfg: &ScrapeConfig, labels: &Labels) -> Result<Url, String> {
    let scheme = labels.get(SCHEME_LABEL).unwrap_or("http");
    let addr = labels.get(ADDRESS_LABEL).unwrap_or("");
    let path = labels.get(METRICS_PATH_LABEL).unwrap_or("/metrics");
    let mut url = Url::parse(&format!("{scheme}://{addr}"))
        .map_err(|e| format!("invalid target URL {scheme}://{addr}: {e}"))?;
    url.set_path(path);
    let mut params: BTreeMap<String, Vec<String>> = cfg.params.clone();
    for l in labels.iter() {
        if let Some(k) = l.name.strip_prefix(PARAM_PREFIX) {
            let e = params.entry(k.to_owned()).or_default();
            match e.first_mut() {
                Some(first) => *first = l.value.to_owned(),
                None => e.push(l.value.to_owned()),
            }
        }
    }
    if !params.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, vs) in &params {
            for v in vs {
                q.append_pair(k, v);
            }
        }
    }
    Ok(url)
}

/// Builds a target from populated labels.
pub fn new_target(
    cfg: &ScrapeConfig,
    labels: Labels,
    discovered: Labels,
) -> Result<Target, String> {
    let url = target_url(cfg, &labels)?;
    let ms = |name: &str, default: PromDuration| {
        labels
            .get(name)
            .and_then(|v| parse_duration_ms(v).ok())
            .map(PromDuration)
            .unwrap_or(default)
            .to_std()
    };
    let interval = ms(SCRAPE_INTERVAL_LABEL, cfg.interval());
    let timeout = ms(SCRAPE_TIMEOUT_LABEL, cfg.timeout());
    // Identity is the public labels and the URL, not `__scrape_interval__` and friends,
    // so a reload that only changes timing keeps the target (and its series state).
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let public = labels.filter(|l| !l.name.starts_with("__"));
    h.update(&public.stable_hash().to_le_bytes());
    h.update(url.as_str().as_bytes());
    Ok(Target {
        hash: h.digest(),
        labels,
        discovered,
        url,
        interval,
        timeout,
        status: Mutex::new(ScrapeStatus::default()),
        metadata: Mutex::new(Default::default()),
    })
}

/// Delay until the target's first scrape: spreads targets over the interval by their
/// hash (and a per-server seed), pinned to absolute time so restarts keep the phase, as
/// Prometheus' `Target.offset`.
pub fn scrape_offset(hash: u64, seed: u64, interval: Duration) -> Duration {
    let iv = interval.as_nanos().max(1);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let base = iv - now % iv;
    let offset = u128::from(hash ^ seed) % iv;
    let mut next = base + offset;
    if next > iv {
        next -= iv;
    }
    Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn cfg(extra: &str) -> ScrapeConfig {
        let text =
            format!("scrape_configs:\n  - job_name: node\n    scrape_interval: 15s\n{extra}");
        load_str(&text, "t.yml").unwrap().scrape_configs.remove(0)
    }

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn populates_defaults_and_instance() {
        let c = cfg("    params:\n      module: [http_2xx, x]\n");
        let Populated::Target(l, d) = populate_labels(
            &c,
            &set(&[("__address__", "h:9100")]),
            &set(&[("env", "p"), ("__meta_x", "y")]),
        )
        .unwrap() else {
            panic!("dropped");
        };
        assert_eq!(l.get("job"), Some("node"));
        assert_eq!(l.get("instance"), Some("h:9100"));
        assert_eq!(l.get("env"), Some("p"));
        assert_eq!(l.get("__meta_x"), None);
        assert_eq!(d.get("__meta_x"), Some("y"));
        assert_eq!(l.get("__scrape_interval__"), Some("15s"));
        assert_eq!(l.get("__param_module"), Some("http_2xx"));
        let url = target_url(&c, &l).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:9100/metrics?module=http_2xx&module=x"
        );
        let t = new_target(&c, l.clone(), d).unwrap();
        assert_eq!(t.interval, Duration::from_secs(15));
        assert_eq!(t.public_labels().len(), 3);
    }

    #[test]
    fn relabeling_can_drop_or_rewrite_targets() {
        let c = cfg("    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'drop.*'\n        action: drop\n      - source_labels: [__address__]\n        target_label: __param_target\n      - target_label: __address__\n        replacement: prober:9115\n      - target_label: __scrape_interval__\n        replacement: 30s\n");
        assert!(matches!(
            populate_labels(&c, &set(&[("__address__", "drop-me:1")]), &LabelSet::new()).unwrap(),
            Populated::Dropped(_)
        ));
        let Populated::Target(l, _) = populate_labels(
            &c,
            &set(&[("__address__", "example.com")]),
            &LabelSet::new(),
        )
        .unwrap() else {
            panic!("dropped");
        };
        let t = new_target(&c, l, Labels::empty()).unwrap();
        assert_eq!(
            t.url.as_str(),
            "http://prober:9115/metrics?target=example.com"
        );
        assert_eq!(t.labels.get("instance"), Some("prober:9115"));
        assert_eq!(t.interval, Duration::from_secs(30));
        let c = cfg("    relabel_configs:\n      - target_label: __scrape_timeout__\n        replacement: 1m\n");
        let e = populate_labels(&c, &set(&[("__address__", "h:1")]), &LabelSet::new())
            .err()
            .unwrap();
        assert!(e.contains("cannot be greater"), "{e}");
    }

    #[test]
    fn offsets_stay_within_the_interval() {
        for h in [0, 1, u64::MAX, 12345] {
            let o = scrape_offset(h, 7, Duration::from_secs(15));
            assert!(o <= Duration::from_secs(15));
        }
    }
}
