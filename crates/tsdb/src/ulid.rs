//! ULIDs for block directory names: 48-bit millisecond timestamp + 80 random bits, Crockford
//! base32, 26 characters. Sorting names sorts blocks by creation time, as in Prometheus.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS once per process and perturbed per instance; mixing in
    // a counter and the time keeps successive values distinct.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// A new ULID string for time `ms`.
pub fn new_ulid(ms: i64) -> String {
    let ts = (ms.max(0) as u128) & ((1u128 << 48) - 1);
    let rand =
        (u128::from(random_u64()) << 16 | u128::from(random_u64() & 0xffff)) & ((1u128 << 80) - 1);
    let v = ts << 80 | rand;
    let mut out = String::with_capacity(26);
    for i in (0..26).rev() {
        let idx = ((v >> (i * 5)) & 31) as usize;
        out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'0')));
    }
    out
}

/// True for a syntactically valid ULID.
pub fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes()
            .all(|b| ALPHABET.contains(&b.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_sort_by_time_and_are_unique() {
        let a = new_ulid(1_000);
        let b = new_ulid(2_000);
        let c = new_ulid(2_000);
        assert!(is_ulid(&a));
        assert!(a < b);
        assert_ne!(b, c);
        assert!(!is_ulid("wal"));
    }
}
