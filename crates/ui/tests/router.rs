//! The UI router serves the embedded bundle: pages, assets, redirects, caching and gzip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use tower::ServiceExt;

async fn get(path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    argus_ui::router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(res: Response) -> Vec<u8> {
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

fn header(res: &Response, name: header::HeaderName) -> &str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The script and stylesheet paths index.html loads.
fn referenced_assets(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_page_serves_index_html() {
    for page in argus_ui::PAGES {
        let res = get(page, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{page}");
        assert_eq!(
            header(&res, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&res, header::CACHE_CONTROL), "no-cache");
        assert!(header(&res, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
        let html = String::from_utf8(body(res).await).unwrap();
        assert!(html.contains("<main id=\"app\">"), "{page}");
        assert!(html.contains("<title>Argus</title>"));
    }
}

#[tokio::test]
async fn index_html_loads_a_javascript_module_served_with_the_right_type() {
    let html = String::from_utf8(body(get("/query", &[]).await).await).unwrap();
    let assets = referenced_assets(&html);
    let js: Vec<_> = assets.iter().filter(|a| a.ends_with(".js")).collect();
    assert_eq!(js.len(), 1, "one entry script in {assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")));
    for path in &assets {
        let res = get(path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&res, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        let want = match path.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset type {other:?}"),
        };
        assert_eq!(header(&res, header::CONTENT_TYPE), want, "{path}");
        let bytes = body(res).await;
        assert_eq!(bytes, argus_ui::asset(path).unwrap().body);
    }
    let entry = String::from_utf8(body(get(js[0], &[]).await).await).unwrap();
    // The entry module loads one chunk per page (it names them as "assets/<name>-<hash>.js");
    // they are embedded too.
    let chunks: Vec<&str> = entry
        .split('"')
        .filter(|s| s.starts_with("assets/") && (s.ends_with(".js") || s.ends_with(".css")))
        .collect();
    assert!(
        chunks.len() >= 6,
        "page chunks named by the entry: {chunks:?}"
    );
    for chunk in chunks {
        let path = format!("/{chunk}");
        assert_eq!(get(&path, &[]).await.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn gzip_when_accepted_and_identical_after_decompression() {
    let html = String::from_utf8(body(get("/query", &[]).await).await).unwrap();
    let js = referenced_assets(&html)
        .into_iter()
        .find(|a| a.ends_with(".js"))
        .unwrap();
    let res = get(&js, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header(&res, header::VARY), "Accept-Encoding");
    let gz = body(res).await;
    assert_eq!(gunzip(&gz), argus_ui::asset(&js).unwrap().body);

    let plain = get(&js, &[("accept-encoding", "gzip;q=0, br")]).await;
    assert_eq!(header(&plain, header::CONTENT_ENCODING), "");
    assert_eq!(body(plain).await, argus_ui::asset(&js).unwrap().body);
}

#[tokio::test]
async fn etag_revalidation_answers_not_modified() {
    let res = get("/targets", &[]).await;
    let etag = header(&res, header::ETAG).to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = get("/targets", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body(again).await.is_empty());
    let other = get("/targets", &[("if-none-match", "W/\"0000\"")]).await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn root_and_graph_redirect_to_the_query_page() {
    let res = get("/", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, header::LOCATION), "/query");
    // The form Prometheus puts in alert generatorURLs keeps its panel state.
    let res = get("/graph?g0.expr=up%20%3D%3D%200&g0.tab=1", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        header(&res, header::LOCATION),
        "/query?g0.expr=up%20%3D%3D%200&g0.tab=1"
    );
    let res = get("/graph", &[]).await;
    assert_eq!(header(&res, header::LOCATION), "/query");
}

#[tokio::test]
async fn unknown_assets_are_not_found() {
    for path in [
        "/assets/nope.js",
        "/assets/../index.html",
        "/assets/",
        "/nope",
    ] {
        let res = get(path, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn head_requests_have_no_body() {
    let req = Request::head("/query").body(Body::empty()).unwrap();
    let res = argus_ui::router().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
}

#[test]
fn initial_page_load_stays_under_500_kib_gzipped() {
    // Everything a first visit to /query can load: index.html and every asset.
    let total: usize = argus_ui::assets()
        .iter()
        .map(|a| a.gzip.unwrap_or(a.body).len())
        .sum();
    assert!(total < 500 * 1024, "the whole UI is {total} bytes gzipped");
    assert!(argus_ui::assets().iter().any(|a| a.path == "/index.html"));
}
