//! Secret config values: read normally, but printed as `<secret>` wherever the config is
//! shown (`/api/v2/status` `config.original`, debug logs), as Alertmanager does.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MASK: &str = "<secret>";

/// A secret string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    /// True when unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(super::scalar_string(d)?))
    }
}

/// A secret URL (`http`/`https` with a host), e.g. a webhook endpoint with a token in it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(pub String);

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// Checks that `s` is an absolute `http`/`https` URL with a host.
pub fn validate_url(s: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(s).map_err(|e| format!("invalid URL: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("unsupported scheme {:?} for URL", u.scheme()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("missing host for URL".into());
    }
    Ok(())
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // A masked config read back (e.g. `amtool config routes` on our own
        // `config.original`) carries the mask instead of a URL; accept it as Alertmanager
        // does.
        if s != MASK {
            validate_url(&s).map_err(serde::de::Error::custom)?;
        }
        Ok(SecretUrl(s))
    }
}
