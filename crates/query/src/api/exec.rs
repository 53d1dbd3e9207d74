//! Running blocking work (engine evaluation, storage reads) off the async runtime, with
//! cancellation when the client goes away.
//!
//! Hyper drops a handler's future when its connection closes. The future owns a
//! [`CancelOnDrop`] guard whose flag the engine polls (`QueryOptions::cancel`), so an
//! abandoned query stops instead of burning a core until it finishes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::api::ApiError;
use argus_model::Queryable;

use super::envelope::{invalid_param, Fail};
use super::state::ApiState;
use crate::engine::{Engine, QueryError, QueryOptions, QueryResult};

/// Sets its flag when dropped, unless disarmed first.
#[derive(Debug)]
pub struct CancelOnDrop {
    flag: Arc<AtomicBool>,
    armed: bool,
}

impl CancelOnDrop {
    /// A guard over `flag`.
    pub fn new(flag: Arc<AtomicBool>) -> Self {
        CancelOnDrop { flag, armed: true }
    }

    /// The work finished normally; dropping no longer cancels.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

/// A finished evaluation and how long it waited and ran.
#[derive(Debug)]
pub struct Ran {
    /// The engine's result.
    pub result: QueryResult,
    /// Time spent waiting for a concurrency slot.
    pub queue_time: Duration,
    /// Time spent evaluating.
    pub eval_time: Duration,
}

/// Evaluates `f` on a blocking thread once a concurrency slot is free. The query is
/// canceled if the calling future is dropped.
pub async fn run_query<F>(st: &ApiState, mut opts: QueryOptions, f: F) -> Result<Ran, Fail>
where
    F: FnOnce(&Engine, &dyn Queryable, &QueryOptions) -> Result<QueryResult, QueryError>
        + Send
        + 'static,
{
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    let guard = CancelOnDrop::new(cancel);
    let queued = Instant::now();
    let permit = st
        .query_concurrency
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("query concurrency limiter closed"))?;
    let queue_time = queued.elapsed();
    // The `timeout` parameter is a deadline set when the request arrived (Prometheus puts it
    // on the request context), so waiting for a slot uses it up.
    if let Some(t) = opts.timeout {
        match t.checked_sub(queue_time) {
            Some(left) if !left.is_zero() => opts.timeout = Some(left),
            _ => return Err(query_error(QueryError::Timeout("query queue"))),
        }
    }
    let engine = st.engine.clone();
    let storage = st.storage.clone();
    let handle = tokio::task::spawn_blocking(move || {
        // The slot stays taken until the engine returns, even if the client left.
        let _permit = permit;
        let started = Instant::now();
        let r = f(&engine, storage.as_ref(), &opts);
        (r, started.elapsed())
    });
    let (r, eval_time) = handle
        .await
        .map_err(|e| ApiError::internal(format!("query evaluation failed: {e}")))?;
    guard.disarm();
    match r {
        Ok(result) => Ok(Ran {
            result,
            queue_time,
            eval_time,
        }),
        Err(e) => Err(query_error(e)),
    }
}

/// Maps an engine error to the API error Prometheus returns for it (`returnAPIError`; parse
/// and type errors are `invalid parameter "query"`).
pub fn query_error(e: QueryError) -> Fail {
    match e {
        QueryError::Parse(p) => Fail(invalid_param("query", &p.message)),
        other => Fail(ApiError::new(other.error_type(), other.to_string())),
    }
}

/// Runs blocking storage work off the runtime; `cancel` is set if the caller is dropped.
pub async fn blocking<T, F>(f: F) -> Result<T, Fail>
where
    T: Send + 'static,
    F: FnOnce(Arc<AtomicBool>) -> Result<T, Fail> + Send + 'static,
{
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop::new(cancel.clone());
    let r = tokio::task::spawn_blocking(move || f(cancel))
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))?;
    guard.disarm();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_future_cancels() {
        let flag = Arc::new(AtomicBool::new(false));
        let f = {
            let flag = flag.clone();
            async move {
                let _guard = CancelOnDrop::new(flag);
                std::future::pending::<()>().await;
            }
        };
        // Poll once so the guard exists, then drop the future as hyper does on disconnect.
        let r = tokio::time::timeout(Duration::from_millis(10), f).await;
        assert!(r.is_err());
        assert!(flag.load(Ordering::SeqCst));

        let flag = Arc::new(AtomicBool::new(false));
        CancelOnDrop::new(flag.clone()).disarm();
        assert!(
            !flag.load(Ordering::SeqCst),
            "a finished request does not cancel"
        );
    }
}
