//! Requests to the metadata endpoints (`/api/v1/series`, `/labels`, `/label/<name>/values`),
//! whose answers are sorted by Prometheus and so compared byte for byte.

use super::queries::Times;

/// Path and query string of each request (form-encoded where needed).
pub fn requests(t: &Times) -> Vec<String> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let m = |sel: &str| format!("match[]={}", enc(sel));
    let (start, end) = (t.at(0), t.at(2690));
    // Windows before the late series start, and after the stale one stopped.
    let (early_start, early_end) = (t.at(100), t.at(1200));
    let (late_start, late_end) = (t.at(2300), t.at(2690));
    let mut out = vec![
        "/api/v1/labels".to_owned(),
        format!("/api/v1/labels?start={start}&end={end}"),
        format!("/api/v1/labels?{}", m("up")),
        format!(
            "/api/v1/labels?{}&{}",
            m(r#"{job="api"}"#),
            m("queue_depth")
        ),
        "/api/v1/label/job/values".to_owned(),
        "/api/v1/label/__name__/values".to_owned(),
        format!("/api/v1/label/instance/values?{}", m(r#"up{job="web"}"#)),
        "/api/v1/label/nonexistent/values".to_owned(),
        format!("/api/v1/label/le/values?{}", m("odd_histogram_bucket")),
        format!("/api/v1/label/v/values?{}", m("weird_labels")),
        format!("/api/v1/series?{}", m("up")),
        format!(
            "/api/v1/series?{}&{}",
            m("up"),
            m(r#"build_info{version="1.2.0"}"#)
        ),
        format!("/api/v1/series?{}", m("weird_labels")),
        format!("/api/v1/series?{}&{}", m("up"), m("up")),
        format!("/api/v1/series?{}", m(r#"{__name__=~"stale_.*|late_.*"}"#)),
        format!(
            "/api/v1/series?{}&end={}",
            m(r#"{__name__=~"stale_.*|late_.*"}"#),
            end
        ),
        "/api/v1/series".to_owned(),
        format!("/api/v1/series?{}", m("up{")),
        format!("/api/v1/series?{}", m(r#"{job=~".*"}"#)),
        format!("/api/v1/label/job/values?start=abc"),
        format!("/api/v1/labels?end=abc"),
        format!("/api/v1/series?{}&start={end}&end={start}", m("up")),
    ];
    // Windows that miss the data entirely, in the past and in the future.
    let (future_start, future_end) = (t.at(7200), t.at(9000));
    for (s, e) in [("0", "1"), (future_start.as_str(), future_end.as_str())] {
        out.push(format!("/api/v1/labels?start={s}&end={e}"));
        out.push(format!("/api/v1/label/job/values?start={s}&end={e}"));
        out.push(format!("/api/v1/labels?{}&start={s}&end={e}", m("up")));
        out.push(format!("/api/v1/series?{}&start={s}&end={e}", m("up")));
    }
    for (s, e) in [(&early_start, &early_end), (&late_start, &late_end)] {
        out.push(format!(
            "/api/v1/series?{}&start={s}&end={e}",
            m(r#"{__name__=~"stale_.*|late_.*"}"#)
        ));
        out.push(format!(
            "/api/v1/label/instance/values?{}&start={s}&end={e}",
            m(r#"{job=~"batch|late"}"#)
        ));
        out.push(format!("/api/v1/labels?start={s}&end={e}"));
        out.push(format!(
            "/api/v1/labels?{}&start={s}&end={e}",
            m(r#"{job=~"batch|late"}"#)
        ));
    }
    out
}
