//! Email receiver over SMTP with lettre: implicit TLS on port 465, else STARTTLS when
//! `require_tls` (the default; failing if the server does not offer it), PLAIN/LOGIN
//! authentication, templated `To`/`From`/`Subject`/custom headers, and a
//! `multipart/alternative` body of the text and HTML parts, as Alertmanager sends.

use std::time::Duration;

use argus_template::Value;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Delivery, SendError};
use crate::config::EmailConfig;
use crate::templates::Templates;

/// Default HTML body (Alertmanager's).
pub const DEFAULT_HTML: &str = r#"{{ template "email.default.html" . }}"#;
/// Default subject (Alertmanager's).
pub const DEFAULT_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;

/// SMTP session timeout.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A ready email integration.
#[derive(Debug, Clone)]
pub struct Email {
    cfg: EmailConfig,
}

fn tmpl_err(what: &str, e: impl std::fmt::Display) -> SendError {
    SendError::permanent(format!("executing {what} template: {e}"), None)
}

impl Email {
    /// Wraps a validated config.
    pub fn new(cfg: &EmailConfig) -> Email {
        Email { cfg: cfg.clone() }
    }

    /// Renders the message (headers and body) without sending it.
    pub fn render(
        &self,
        t: &Templates,
        data: &Value,
        message_id: &str,
    ) -> Result<Message, SendError> {
        let c = &self.cfg;
        let to = t.text(&c.to, data).map_err(|e| tmpl_err("to", e))?;
        let from = t.text(&c.from, data).map_err(|e| tmpl_err("from", e))?;
        let mut headers = c.headers.clone();
        headers
            .entry("Subject".into())
            .or_insert_with(|| DEFAULT_SUBJECT.into());
        headers.entry("To".into()).or_insert_with(|| to.clone());
        headers.entry("From".into()).or_insert_with(|| from.clone());
        let mut b = Message::builder().message_id(Some(format!("<{message_id}@argus>")));
        let from_mb: Mailbox = from.parse().map_err(|e| {
            SendError::permanent(format!("parsing from address {from:?}: {e}"), None)
        })?;
        let rcpts: Mailboxes = to
            .parse()
            .map_err(|e| SendError::permanent(format!("parsing to addresses {to:?}: {e}"), None))?;
        let mut envelope_to = Vec::new();
        for m in rcpts.iter() {
            envelope_to.push(m.email.clone());
        }
        for (name, value) in &headers {
            let v = t
                .text(value, data)
                .map_err(|e| tmpl_err(&format!("header {name:?}"), e))?;
            match name.as_str() {
                "From" => {
                    b = b.from(v.parse().map_err(|e| {
                        SendError::permanent(format!("parsing From header {v:?}: {e}"), None)
                    })?)
                }
                "To" => {
                    let ms: Mailboxes = v.parse().map_err(|e| {
                        SendError::permanent(format!("parsing To header {v:?}: {e}"), None)
                    })?;
                    for m in ms {
                        b = b.to(m);
                    }
                }
                "Subject" => b = b.subject(v),
                other => {
                    let n = HeaderName::new_from_ascii(other.to_owned()).map_err(|_| {
                        SendError::permanent(format!("invalid header name {other:?}"), None)
                    })?;
                    b = b.raw_header(HeaderValue::new(n, v));
                }
            }
        }
        let envelope = lettre::address::Envelope::new(Some(from_mb.email), envelope_to)
            .map_err(|e| SendError::permanent(format!("envelope: {e}"), None))?;
        b = b.envelope(envelope).date_now();
        let text = t
            .text(c.text.as_deref().unwrap_or(""), data)
            .map_err(|e| tmpl_err("text", e))?;
        let html = t
            .html(c.html.as_deref().unwrap_or(DEFAULT_HTML), data)
            .map_err(|e| tmpl_err("html", e))?;
        let mut mp = MultiPart::alternative().build();
        if !text.is_empty() {
            mp = mp.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            );
        }
        if !html.is_empty() {
            mp = mp.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            );
        }
        b.multipart(mp)
            .map_err(|e| SendError::permanent(format!("building message: {e}"), None))
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let c = &self.cfg;
        let (host, port) = c.smarthost.rsplit_once(':').ok_or_else(|| {
            SendError::permanent(format!("bad smarthost {:?}", c.smarthost), None)
        })?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .map_err(|_| SendError::permanent(format!("bad smarthost port {port:?}"), None))?;
        let tls_params = || -> Result<TlsParameters, SendError> {
            let mut tb = TlsParameters::builder(
                c.tls_config
                    .as_ref()
                    .map(|t| t.server_name.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| host.to_owned()),
            );
            if let Some(t) = &c.tls_config {
                if t.insecure_skip_verify {
                    tb = tb.dangerous_accept_invalid_certs(true);
                }
                let ca = if !t.ca.is_empty() {
                    Some(t.ca.as_bytes().to_vec())
                } else if !t.ca_file.is_empty() {
                    Some(std::fs::read(&t.ca_file).map_err(|e| {
                        SendError::retry(format!("reading {}: {e}", t.ca_file), None)
                    })?)
                } else {
                    None
                };
                if let Some(ca) = ca {
                    let cert = lettre::transport::smtp::client::Certificate::from_pem(&ca)
                        .map_err(|e| SendError::permanent(format!("CA: {e}"), None))?;
                    tb = tb.add_root_certificate(cert);
                }
            }
            tb.build_rustls()
                .map_err(|e| SendError::permanent(format!("TLS setup: {e}"), None))
        };
        let tls = if port == 465 {
            Tls::Wrapper(tls_params()?)
        } else if c.require_tls.unwrap_or(true) {
            Tls::Required(tls_params()?)
        } else {
            Tls::None
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT))
            .hello_name(ClientId::Domain(if c.hello.is_empty() {
                "localhost".to_owned()
            } else {
                c.hello.clone()
            }));
        if !c.auth_username.is_empty() {
            let pass = if c.auth_password_file.is_empty() {
                c.auth_password.expose().to_owned()
            } else {
                std::fs::read_to_string(&c.auth_password_file)
                    .map(|s| s.trim().to_owned())
                    .map_err(|e| {
                        SendError::retry(format!("reading {}: {e}", c.auth_password_file), None)
                    })?
            };
            b = b
                .credentials(Credentials::new(c.auth_username.clone(), pass))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(b.build())
    }

    /// Renders and sends one message.
    pub async fn send(
        &self,
        t: &Templates,
        data: &Value,
        message_id: &str,
    ) -> Result<Delivery, SendError> {
        let msg = self.render(t, data, message_id)?;
        let transport = self.transport()?;
        match transport.send(msg).await {
            Ok(resp) => Ok(Delivery {
                status: Some(u16::from(resp.code())),
            }),
            Err(e) => {
                let status = e.status().map(u16::from);
                let m = format!("sending mail via {}: {e}", self.cfg.smarthost);
                if e.is_permanent() {
                    Err(SendError::permanent(m, status))
                } else {
                    Err(SendError::retry(m, status))
                }
            }
        }
    }
}
