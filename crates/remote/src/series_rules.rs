//! What a series looks like when it is sent: the external labels it lacks are added, then
//! `write_relabel_configs` run (the order of Prometheus' queue manager, so rules can match
//! external labels).

use argus_model::Labels;
use argus_scrape::relabel::{self, RelabelConfig};

/// Labels added and rules applied to every series of a queue.
pub(crate) struct SeriesRules {
    pub external: Vec<(String, String)>,
    pub relabel: Vec<RelabelConfig>,
}

impl SeriesRules {
    /// External labels first (only where the series lacks the label), then relabeling, as
    /// Prometheus' queue manager does.
    pub(crate) fn apply(&self, l: &Labels) -> Option<Labels> {
        let with_external = if self.external.iter().all(|(n, _)| l.has(n)) {
            l.clone()
        } else {
            let mut b = l.builder();
            for (n, v) in &self.external {
                if !l.has(n) {
                    b.set(n, v);
                }
            }
            b.build()
        };
        relabel::process(&with_external, &self.relabel)
    }
}

#[cfg(test)]
mod tests {
    use argus_model::labels;

    use super::*;

    fn rules(external: &[(&str, &str)], relabel_yaml: &str) -> SeriesRules {
        SeriesRules {
            external: external
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            relabel: serde_yaml_ng::from_str(relabel_yaml).unwrap(),
        }
    }

    #[test]
    fn external_labels_fill_in_missing_labels_only() {
        let r = rules(&[("cluster", "eu1"), ("job", "ext")], "[]");
        let got = r
            .apply(&labels!("__name__" => "up", "job" => "node"))
            .unwrap();
        assert_eq!(
            got,
            labels!("__name__" => "up", "cluster" => "eu1", "job" => "node")
        );
        let got = r.apply(&labels!("__name__" => "up")).unwrap();
        assert_eq!(
            got,
            labels!("__name__" => "up", "cluster" => "eu1", "job" => "ext")
        );
        let none = rules(&[], "[]");
        let l = labels!("a" => "b");
        assert_eq!(none.apply(&l).unwrap(), l);
    }

    #[test]
    fn relabeling_runs_after_external_labels() {
        // Relabeling sees the external label (Prometheus adds them first).
        let r = rules(
            &[("cluster", "eu1")],
            "- source_labels: [cluster, __name__]\n  regex: eu1;go_.*\n  action: drop\n- regex: instance\n  action: labeldrop\n",
        );
        assert_eq!(r.apply(&labels!("__name__" => "go_goroutines")), None);
        let got = r
            .apply(&labels!("__name__" => "up", "instance" => "h:1"))
            .unwrap();
        assert_eq!(got, labels!("__name__" => "up", "cluster" => "eu1"));
    }
}
