//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/{name}/values`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use argus_model::api::{ApiError, ErrorType};
use argus_model::{LabelHints, Labels, SelectHints, StorageError};
use axum::extract::{Path, State};

use super::envelope::{bad_data, invalid_param, success_with_warnings, ApiResult, Fail};
use super::exec::blocking;
use super::params::{
    parse_limit, parse_matchers, parse_time_param, Params, MAX_TIME_MS, MIN_TIME_MS,
};
use super::state::ApiState;

const TRUNCATED: &str = "results truncated due to limit";

/// A storage failure as Prometheus reports it from these endpoints (`execution`, or
/// `canceled` when the request went away).
pub fn storage_error(e: StorageError) -> Fail {
    let t = match e {
        StorageError::Canceled => ErrorType::Canceled,
        _ => ErrorType::Execution,
    };
    Fail(ApiError::new(t, e.to_string()))
}

fn check_canceled(cancel: &AtomicBool) -> Result<(), Fail> {
    if cancel.load(Ordering::Relaxed) {
        return Err(storage_error(StorageError::Canceled));
    }
    Ok(())
}

/// One more than `limit`, so storage returns enough to tell whether results were cut
/// (`toHintLimit`); 0 stays unlimited.
fn hint_limit(limit: usize) -> usize {
    if limit > 0 {
        limit.saturating_add(1)
    } else {
        0
    }
}

/// `GET|POST /api/v1/series`.
pub async fn series(State(st): State<ApiState>, p: Params) -> ApiResult {
    let selectors = p.all("match[]");
    if selectors.is_empty() {
        return Err(bad_data("no match[] parameter provided").into());
    }
    let limit = parse_limit(p.get("limit"))?;
    let start = parse_time_param(&p, "start", MIN_TIME_MS)?;
    let end = parse_time_param(&p, "end", MAX_TIME_MS)?;
    let sets = parse_matchers(&selectors).map_err(|e| invalid_param("match[]", e))?;
    let storage = st.storage.clone();
    let (mut found, mut warnings) = blocking(move |cancel| {
        let q = storage.querier(start, end).map_err(storage_error)?;
        let hints = SelectHints {
            start,
            end,
            func: Some("series".to_owned()),
            ..SelectHints::default()
        };
        // Several selectors may match the same series: merge and deduplicate, sorted.
        let mut found = BTreeSet::new();
        let mut warnings = Vec::new();
        for ms in &sets {
            let mut set = q.select(true, Some(&hints), ms);
            while let Some(s) = set.next() {
                check_canceled(&cancel)?;
                found.insert(s.map_err(storage_error)?.labels().clone());
                if sets.len() == 1 && limit > 0 && found.len() > limit {
                    break;
                }
            }
            warnings.extend(set.warnings());
        }
        Ok((found.into_iter().collect::<Vec<Labels>>(), warnings))
    })
    .await?;
    if limit > 0 && found.len() > limit {
        found.truncate(limit);
        warnings.push(TRUNCATED.to_owned());
    }
    success_with_warnings(&found, &warnings)
}

/// `GET|POST /api/v1/labels`.
pub async fn label_names(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = parse_limit(p.get("limit"))?;
    let start = parse_time_param(&p, "start", MIN_TIME_MS)?;
    let end = parse_time_param(&p, "end", MAX_TIME_MS)?;
    let sets = parse_matchers(&p.all("match[]")).map_err(bad_data)?;
    let storage = st.storage.clone();
    let (names, warnings) = blocking(move |cancel| {
        let q = storage.querier(start, end).map_err(storage_error)?;
        let hints = LabelHints {
            limit: hint_limit(limit),
        };
        collect_strings(&sets, &cancel, |ms| {
            q.label_names(&hints, ms).map_err(storage_error)
        })
    })
    .await?;
    respond_strings(names, warnings, limit)
}

/// `GET /api/v1/label/{name}/values`. Names may be escaped as `U__…` (UTF-8 names in
/// legacy-safe form, `model.UnescapeName`).
pub async fn label_values(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    p: Params,
) -> ApiResult {
    let name = if name.starts_with("U__") {
        unescape_name(&name)
    } else {
        name
    };
    if name.is_empty() {
        return Err(bad_data(format!(
            "invalid label name: {}",
            super::params::go_quote(&name)
        ))
        .into());
    }
    let limit = parse_limit(p.get("limit"))?;
    let start = parse_time_param(&p, "start", MIN_TIME_MS)?;
    let end = parse_time_param(&p, "end", MAX_TIME_MS)?;
    let sets = parse_matchers(&p.all("match[]")).map_err(bad_data)?;
    let storage = st.storage.clone();
    let (values, warnings) = blocking(move |cancel| {
        let q = storage.querier(start, end).map_err(storage_error)?;
        let hints = LabelHints {
            limit: hint_limit(limit),
        };
        collect_strings(&sets, &cancel, |ms| {
            q.label_values(&name, &hints, ms).map_err(storage_error)
        })
    })
    .await?;
    respond_strings(values, warnings, limit)
}

type Strings = (Vec<String>, Vec<String>);

/// Runs `f` once per matcher set (or once with no matchers) and unions the results, sorted.
fn collect_strings(
    sets: &[Vec<argus_model::Matcher>],
    cancel: &AtomicBool,
    f: impl Fn(&[argus_model::Matcher]) -> Result<Strings, Fail>,
) -> Result<Strings, Fail> {
    if sets.is_empty() {
        let (mut v, w) = f(&[])?;
        v.sort();
        v.dedup();
        return Ok((v, w));
    }
    let mut all = BTreeSet::new();
    let mut warnings = Vec::new();
    for ms in sets {
        check_canceled(cancel)?;
        let (v, w) = f(ms)?;
        all.extend(v);
        warnings.extend(w);
    }
    Ok((all.into_iter().collect(), warnings))
}

fn respond_strings(mut v: Vec<String>, mut warnings: Vec<String>, limit: usize) -> ApiResult {
    if limit > 0 && v.len() > limit {
        v.truncate(limit);
        warnings.push(TRUNCATED.to_owned());
    }
    success_with_warnings(&v, &warnings)
}

/// Reverses Prometheus' value-encoding escaping (`U__` prefix, `__` for `_`, `_hex_` for any
/// code point). Invalid input is returned unchanged, as `model.UnescapeName` does.
pub fn unescape_name(name: &str) -> String {
    let Some(escaped) = name.strip_prefix("U__") else {
        return name.to_owned();
    };
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            None => return name.to_owned(),
            Some('_') => {
                chars.next();
                out.push('_');
            }
            Some(_) => {
                let mut code: u32 = 0;
                let mut digits = 0;
                loop {
                    match chars.next() {
                        Some('_') if digits > 0 => break,
                        Some(h) if digits < 6 => match h.to_digit(16) {
                            Some(d) => {
                                code = code * 16 + d;
                                digits += 1;
                            }
                            None => return name.to_owned(),
                        },
                        _ => return name.to_owned(),
                    }
                }
                match char::from_u32(code) {
                    Some(ch) => out.push(ch),
                    None => return name.to_owned(),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaping() {
        assert_eq!(unescape_name("U__foo_2e_bar"), "foo.bar");
        assert_eq!(unescape_name("U__a__b"), "a_b");
        assert_eq!(unescape_name("U__1_20_x"), "1 x");
        assert_eq!(unescape_name("U___1f600_"), "😀");
        assert_eq!(unescape_name("U__bad_zz_"), "U__bad_zz_");
        assert_eq!(unescape_name("U__trailing_"), "U__trailing_");
        assert_eq!(unescape_name("U__open_2e"), "U__open_2e");
        assert_eq!(unescape_name("U___d800_"), "U___d800_");
        assert_eq!(unescape_name("plain"), "plain");
    }
}
