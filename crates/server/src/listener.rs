//! The main listener as `--web.config.file` asks for it: plain HTTP or TLS (optionally with
//! client certificates), basic authentication on every endpoint, and extra response
//! headers.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::web_config::{add_headers, header_list, require_basic_auth, BasicAuth, WebConfig};

/// What the web configuration file asks of the listener.
#[derive(Default)]
pub struct WebSetup {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub basic_auth: Option<Arc<BasicAuth>>,
    pub headers: Vec<(axum::http::HeaderName, axum::http::HeaderValue)>,
}

impl WebSetup {
    /// Reads `--web.config.file` (nothing when absent).
    pub fn load(path: Option<&Path>) -> anyhow::Result<WebSetup> {
        let Some(p) = path else {
            return Ok(WebSetup::default());
        };
        let (cfg, base) = WebConfig::load(p)?;
        Ok(WebSetup {
            tls: cfg.tls(&base)?,
            basic_auth: (!cfg.basic_auth_users.is_empty())
                .then(|| Arc::new(BasicAuth::new(cfg.basic_auth_users.clone()))),
            headers: header_list(&cfg)?,
        })
    }

    /// Serves `router` on `listener` until `stop`, as configured.
    pub fn serve(
        self,
        listener: tokio::net::TcpListener,
        router: Router,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let mut router = router;
        if !self.headers.is_empty() {
            router = router.layer(axum::middleware::from_fn_with_state(
                Arc::new(self.headers),
                add_headers,
            ));
        }
        if let Some(a) = self.basic_auth {
            router = router.layer(axum::middleware::from_fn_with_state(a, require_basic_auth));
        }
        tokio::spawn(async move {
            let r = match self.tls {
                Some(tls) => {
                    argus_adapter::serve_tls(listener, tls, router, stop.cancelled_owned())
                        .await
                        .map_err(|e| e.to_string())
                }
                None => axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = r {
                tracing::error!(error = %e, "Web server failed.");
            }
        })
    }
}
