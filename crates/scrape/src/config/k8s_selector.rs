//! Syntax checks of Kubernetes label and field selectors, so that a typo is a config
//! error at load (as in Prometheus, which parses them with apimachinery) rather than a
//! 400 from the API server at every list call.
//!
//! Label selectors: comma-separated requirements `k`, `!k`, `k=v`, `k==v`, `k!=v`,
//! `k in (v1,v2)`, `k notin (v1,v2)`, `k>n`, `k<n`. Field selectors: `k=v`, `k==v`, `k!=v`.

fn valid_key(k: &str) -> bool {
    // A qualified name with an optional DNS prefix (`app.kubernetes.io/name`).
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    name_ok && prefix_ok
}

fn valid_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Splits on commas outside parentheses.
fn requirements(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced parenthesis in selector {s:?}"));
                }
            }
            ',' if depth == 0 => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced parenthesis in selector {s:?}"));
    }
    out.push(s.get(start..).unwrap_or(""));
    Ok(out)
}

/// Checks a label selector; the empty selector selects everything.
pub(crate) fn check_label_selector(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    for req in requirements(s)? {
        let r = req.trim();
        let err = || format!("invalid label selector requirement {r:?} in {s:?}");
        if let Some(k) = r.strip_prefix('!') {
            if !valid_key(k.trim()) {
                return Err(err());
            }
            continue;
        }
        let set_op = [" notin ", " in "]
            .iter()
            .find_map(|op| r.find(op).map(|i| (i, op.len())));
        if let Some((i, len)) = set_op {
            let k = r.get(..i).unwrap_or("").trim();
            let vals = r.get(i + len..).unwrap_or("").trim();
            let inner = vals
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(err)?;
            if !valid_key(k) || !inner.split(',').all(|v| valid_value(v.trim())) {
                return Err(err());
            }
            continue;
        }
        let ops = ["==", "!=", "=", ">", "<"];
        match ops.iter().find_map(|op| r.find(op).map(|i| (i, *op))) {
            Some((i, op)) => {
                let k = r.get(..i).unwrap_or("").trim();
                let v = r.get(i + op.len()..).unwrap_or("").trim();
                let v_ok = if matches!(op, ">" | "<") {
                    v.parse::<i64>().is_ok()
                } else {
                    valid_value(v)
                };
                if !valid_key(k) || !v_ok {
                    return Err(err());
                }
            }
            None => {
                if !valid_key(r) {
                    return Err(err());
                }
            }
        }
    }
    Ok(())
}

/// Checks a field selector; the empty selector selects everything.
pub(crate) fn check_field_selector(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    for req in s.split(',') {
        let r = req.trim();
        let found = ["==", "!=", "="]
            .iter()
            .find_map(|op| r.find(op).map(|i| (i, op.len())));
        let Some((i, len)) = found else {
            return Err(format!("invalid field selector: {r:?}: no operator"));
        };
        let k = r.get(..i).unwrap_or("").trim();
        let v = r.get(i + len..).unwrap_or("");
        if k.is_empty() || v.contains(['=', '!']) {
            return Err(format!("invalid field selector requirement {r:?} in {s:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        for ok in [
            "",
            "app=web",
            "app==web,tier!=cache",
            "app.kubernetes.io/name in (argus, prometheus)",
            "env notin (dev),!canary,release",
            "replicas>1",
        ] {
            assert!(check_label_selector(ok).is_ok(), "{ok}");
        }
        for bad in [
            "app=web=x",
            "=web",
            "app in web",
            "a in (b",
            "app=we b",
            "x>y",
            "-a=b",
        ] {
            assert!(check_label_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selectors() {
        assert!(check_field_selector("spec.nodeName=node-1,status.phase!=Failed").is_ok());
        assert!(check_field_selector("metadata.name==x").is_ok());
        assert!(check_field_selector("spec.nodeName").is_err());
        assert!(check_field_selector("=x").is_err());
    }
}
