//! Small value types of the configuration file: byte sizes, secrets, nullable fields.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes written as Prometheus does (`10MB`, `512KiB`, `0`); every unit is a
/// power of 1024, as in Prometheus' `units.Base2Bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct ByteSize(pub u64);

const BYTE_UNITS: [(&str, u64); 13] = [
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("EiB", 1 << 60),
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
    ("PB", 1 << 50),
    ("EB", 1 << 60),
    ("B", 1),
];

impl ByteSize {
    /// Parses `<n><unit>` repeated (`1GB512MB`), or a bare integer.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let err = || format!("invalid byte size {s:?}");
        let s = s.trim();
        if let Ok(n) = s.parse::<u64>() {
            return Ok(ByteSize(n));
        }
        let mut rest = s;
        let mut total: u64 = 0;
        if rest.is_empty() {
            return Err(err());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            let (num, tail) = rest.split_at(digits);
            let n: u64 = num.parse().map_err(|_| err())?;
            let (unit, mult) = BYTE_UNITS
                .iter()
                .find(|(u, _)| tail.starts_with(u))
                .ok_or_else(err)?;
            total = n
                .checked_mul(*mult)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(err)?;
            rest = tail.get(unit.len()..).unwrap_or("");
        }
        Ok(ByteSize(total))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        for (u, m) in BYTE_UNITS.iter().take(6).rev() {
            if self.0 % m == 0 {
                return write!(f, "{}{}", self.0 / m, u);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml_ng::Value::deserialize(d)?;
        match v {
            serde_yaml_ng::Value::Number(n) => n
                .as_u64()
                .map(ByteSize)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid byte size {n}"))),
            serde_yaml_ng::Value::String(s) => {
                ByteSize::parse(&s).map_err(serde::de::Error::custom)
            }
            serde_yaml_ng::Value::Null => Ok(ByteSize(0)),
            other => Err(serde::de::Error::custom(format!(
                "invalid byte size {other:?}"
            ))),
        }
    }
}

/// A secret: read from the file, never written back out (`<secret>`), as Prometheus'
/// `config.Secret` does on `/api/v1/status/config`.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

/// Deserializes a field whose YAML value may be `null` (an empty block), giving the
/// default as Go's YAML decoder does.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(crate) fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_are_base2() {
        assert_eq!(ByteSize::parse("0"), Ok(ByteSize(0)));
        assert_eq!(ByteSize::parse("512B"), Ok(ByteSize(512)));
        assert_eq!(ByteSize::parse("10MB"), Ok(ByteSize(10 << 20)));
        assert_eq!(ByteSize::parse("1KiB"), Ok(ByteSize(1024)));
        assert_eq!(
            ByteSize::parse("1GB512MB"),
            Ok(ByteSize((1 << 30) + (512 << 20)))
        );
        assert!(ByteSize::parse("10XB").is_err());
        assert!(ByteSize::parse("MB").is_err());
        assert_eq!(ByteSize(10 << 20).to_string(), "10MiB");
    }
}
