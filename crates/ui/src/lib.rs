//! The Argus web UI, embedded in the binary.
//!
//! The front end lives in `web/ui` (TypeScript, Vite, CodeMirror, uPlot) and is built into
//! `crates/ui/dist`, which is committed: `cargo build` never needs Node.js. `build.rs` turns
//! every file there into a static [`Asset`] with a pre-compressed gzip copy, and
//! `web/ui/scripts/check-bundle.mjs` (run by `npm test` in CI) fails when `dist` is not
//! exactly what the sources build to.
//!
//! [`router`] serves the single-page app: every page path answers with `index.html` and the
//! client-side router renders the page. The UI talks only to the public APIs on the same
//! origin (`/api/v1/*` for Prometheus, `/api/v2/*` for the alert manager).

mod headers;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file of the built UI.
#[derive(Debug)]
pub struct Asset {
    /// The URL path it is served at, e.g. `/assets/index-CONRkNll.js`.
    pub path: &'static str,
    /// The file as built.
    pub body: &'static [u8],
    /// A gzip copy, when compression saves space.
    pub gzip: Option<&'static [u8]>,
    /// The `Content-Type` header value.
    pub content_type: &'static str,
    /// A content hash, quoted, used as a weak `ETag`.
    pub etag: &'static str,
    /// Content-hashed file name: cacheable forever.
    pub immutable: bool,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The page paths of the UI; each serves `index.html`. `/graph` (Prometheus' old path, still
/// used in alert `generatorURL`s) redirects to `/query` keeping the query string.
pub const PAGES: &[&str] = &[
    "/query",
    "/alerts",
    "/rules",
    "/targets",
    "/silences",
    "/status",
    "/tsdb-status",
    "/flags",
    "/config",
];

/// Security headers for the HTML page: scripts and connections only from this origin.
/// Styles allow inline because CodeMirror and uPlot set element styles at run time.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'";

/// All embedded files.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

/// Looks up an embedded file by its URL path.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The UI's routes: `/` (redirect to `/query`), the [`PAGES`], `/graph` and `/assets/*`.
/// It has no fallback, so the server can merge it with its API routers and keep its own.
pub fn router() -> Router {
    let mut r = Router::new()
        .route("/", get(root))
        .route("/graph", get(graph))
        .route("/assets/{*file}", get(asset_file));
    for page in PAGES {
        r = r.route(page, get(index));
    }
    r
}

async fn root() -> Response {
    found("/query")
}

async fn graph(uri: Uri) -> Response {
    match uri.query() {
        Some(q) if !q.is_empty() => found(&format!("/query?{q}")),
        _ => found("/query"),
    }
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn index(headers: HeaderMap) -> Response {
    match asset("/index.html") {
        Some(a) => serve(a, &headers),
        None => not_found(),
    }
}

async fn asset_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match asset(&format!("/assets/{file}")) {
        Some(a) => serve(a, &headers),
        None => not_found(),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// Serves an asset with its content type, cache policy and ETag; gzip when the client takes it.
fn serve(a: &'static Asset, req: &HeaderMap) -> Response {
    let cache = if a.immutable {
        "public, max-age=31536000, immutable"
    } else {
        // The HTML names the hashed assets, so it must be revalidated to pick up new builds.
        "no-cache"
    };
    let mut res = if headers::if_none_match(req, a.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match a.gzip {
            Some(gz) if headers::accepts_gzip(req) => {
                let mut r = gz.into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            _ => a.body.into_response(),
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_static(a.etag));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if a.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    res
}
