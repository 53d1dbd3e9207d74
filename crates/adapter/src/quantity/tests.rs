//! Canonical forms checked against the tables of apimachinery's `quantity_test.go`
//! (`TestQuantityString`, `TestQuantityParseEmit`, `TestQuantityParse`), restated here as
//! (input → canonical string) pairs.

use super::*;

fn dec(unscaled: i128, scale: i32, format: Format) -> Quantity {
    Quantity {
        unscaled,
        scale,
        format,
    }
}

#[test]
fn canonical_strings_match_apimachinery() {
    use Format::*;
    let table: &[(Quantity, &str)] = &[
        (dec(1024 * 1024 * 1024, 0, BinarySI), "1Gi"),
        (dec(300 * 1024 * 1024, 0, BinarySI), "300Mi"),
        (dec(6 * 1024, 0, BinarySI), "6Ki"),
        (dec(1001 * 1024 * 1024 * 1024, 0, BinarySI), "1001Gi"),
        (dec(1024 * 1024 * 1024 * 1024, 0, BinarySI), "1Ti"),
        (dec(5, 0, BinarySI), "5"),
        (dec(500, -3, BinarySI), "500m"),
        (dec(1, 9, DecimalSI), "1G"),
        (dec(1000, 6, DecimalSI), "1G"),
        (dec(1000000, 3, DecimalSI), "1G"),
        (dec(1000000000, 0, DecimalSI), "1G"),
        (dec(1, -3, DecimalSI), "1m"),
        (dec(80, -3, DecimalSI), "80m"),
        (dec(1080, -3, DecimalSI), "1080m"),
        (dec(108, -2, DecimalSI), "1080m"),
        (dec(10800, -4, DecimalSI), "1080m"),
        (dec(300, 6, DecimalSI), "300M"),
        (dec(1, 12, DecimalSI), "1T"),
        (dec(1, 18, DecimalSI), "1E"),
        (dec(1, 21, DecimalSI), "1e21"),
        (dec(5, 21, DecimalSI), "5e21"),
        (dec(1, 24, DecimalSI), "1e24"),
        (dec(1, 70, BinarySI), "10e69"),
        (dec(2, 70, BinarySI), "20e69"),
        (dec(1, 72, BinarySI), "1e72"),
        (dec(1234567, 6, DecimalSI), "1234567M"),
        (dec(1234567, -3, BinarySI), "1234567m"),
        (dec(3, 3, DecimalSI), "3k"),
        (dec(1025, 0, BinarySI), "1025"),
        (dec(0, 0, DecimalSI), "0"),
        (dec(0, 0, BinarySI), "0"),
        (dec(1, 9, DecimalExponent), "1e9"),
        (dec(1, -3, DecimalExponent), "1e-3"),
        (dec(1, -9, DecimalExponent), "1e-9"),
        (dec(80, -3, DecimalExponent), "80e-3"),
        (dec(300, 6, DecimalExponent), "300e6"),
        (dec(1, 12, DecimalExponent), "1e12"),
        (dec(1, 3, DecimalExponent), "1e3"),
        (dec(3, 3, DecimalExponent), "3e3"),
        (dec(0, 0, DecimalExponent), "0"),
        (dec(1, -9, DecimalSI), "1n"),
        (dec(80, -9, DecimalSI), "80n"),
        (dec(1080, -9, DecimalSI), "1080n"),
        (dec(108, -8, DecimalSI), "1080n"),
        (dec(10800, -10, DecimalSI), "1080n"),
        (dec(1, -6, DecimalSI), "1u"),
        (dec(80, -6, DecimalSI), "80u"),
        (dec(1080, -6, DecimalSI), "1080u"),
        (dec(2000, 0, BinarySI), "2000"),
        (dec(-2000, 0, BinarySI), "-2000"),
        (dec(1, -12, DecimalSI), "1e-12"),
        (dec(1, -10, DecimalSI), "100e-12"),
        (dec(901, -2, DecimalSI), "9010m"),
    ];
    for (q, want) in table {
        assert_eq!(q.to_string(), *want, "{q:?}");
        if !q.is_zero() {
            let neg = Quantity {
                unscaled: -q.unscaled,
                ..*q
            };
            if q.unscaled > 0 {
                assert_eq!(neg.to_string(), format!("-{want}"), "{neg:?}");
            }
        }
    }
    // 2^70 has no binary suffix and no trailing decimal zeros: exact digits.
    assert_eq!(
        dec(1i128 << 70, 0, BinarySI).to_string(),
        "1180591620717411303424"
    );
}

#[test]
fn parse_then_emit_matches_apimachinery() {
    let table = [
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        ("0", "0"),
        ("0Ki", "0"),
        ("50k", "50k"),
        ("100.035k", "100035"),
        ("0.0005k", "500m"),
        ("10.035M", "10035k"),
        ("1.2e3", "1200"),
        ("1.3E+6", "1300e3"),
        ("9.01", "9010m"),
        ("8.1k", "8100"),
        ("7.123456M", "7123456"),
        ("3.001n", "4n"),
        ("1.1E-9", "2e-9"),
        ("0.0000000001", "1n"),
        ("0.9n", "1n"),
        ("0.00000012345", "124n"),
        ("9Ei", "9223372036854775807"),
        ("12E", "12E"),
        ("100.035Ki", "102435840m"),
        ("0.5Mi", "512Ki"),
        ("0.000000000001Ki", "2n"),
        (".0001k", "100m"),
        ("1.", "1"),
        ("1.G", "1G"),
        ("-1.5", "-1500m"),
        ("+5", "5"),
    ];
    for (input, want) in table {
        let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(q.to_string(), want, "{input}");
    }
}

#[test]
fn parse_rejects_what_apimachinery_rejects() {
    for bad in [
        "",
        "1.1.M",
        "1+1.0M",
        "0.1mi",
        "0.1am",
        "aoeu",
        ".5i",
        "1i",
        "-3.01i",
        "-3.01e-",
        "1e4294967297",
        " 1",
        "1 ",
        "-",
        "k",
    ] {
        assert!(Quantity::parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn floats_become_exact_decimals_rounded_to_nearest_but_never_to_zero() {
    let milli = |v: f64| Quantity::from_metric_value(v).unwrap().to_string();
    assert_eq!(milli(1.5), "1500m");
    assert_eq!(milli(2.0), "2");
    assert_eq!(milli(20000.0), "20k");
    assert_eq!(milli(0.066), "66m");
    // Decimal digits, not binary noise: 2.675 * 1000 would be 2675.0000000000005.
    assert_eq!(milli(2.675), "2675m");
    // Arithmetic noise does not add a whole unit.
    assert_eq!(milli(0.25000000000000006), "250m");
    assert_eq!(milli(0.1 + 0.2), "300m");
    assert_eq!(milli(0.24999999999999997), "250m");
    assert_eq!(milli(0.0025), "3m", "halves away from zero");
    assert_eq!(milli(-0.0025), "-3m");
    assert_eq!(milli(0.0024), "2m");
    assert_eq!(milli(0.0001), "1m", "non-zero rounds up to one unit");
    assert_eq!(milli(-0.0001), "-1m", "away from zero");
    assert_eq!(milli(1.0001), "1");
    assert_eq!(milli(1.0006), "1001m");
    assert_eq!(milli(0.0), "0");
    assert_eq!(milli(-0.0), "0");
    assert_eq!(milli(1e21), "1e21");
    assert_eq!(milli(123456789.0), "123456789");
    assert_eq!(milli(1.2e9), "1200M");

    let cores = |v: f64| Quantity::from_cores(v).unwrap().to_string();
    assert_eq!(cores(0.123456789), "123456789n");
    assert_eq!(cores(0.005), "5m");
    assert_eq!(cores(2.0), "2");
    assert_eq!(cores(0.25), "250m");
    assert_eq!(cores(1.0000000001), "1");
    assert_eq!(cores(1.000000001), "1000000001n");
    assert_eq!(cores(0.25000000000000006), "250m");
    assert_eq!(
        cores(0.0020000000005),
        "2m",
        "rate noise from counter cancellation"
    );
    assert_eq!(cores(1e-12), "1n");

    let bytes = |v: f64| Quantity::from_bytes(v).unwrap().to_string();
    assert_eq!(bytes(128.0 * 1024.0 * 1024.0), "128Mi");
    assert_eq!(bytes(1000.0), "1k", "below 1024 prints as DecimalSI");
    assert_eq!(bytes(1025.0), "1025");
    assert_eq!(bytes(1536.0 * 1024.0 * 1024.0), "1536Mi");
    assert_eq!(bytes(1024.5), "1025", "whole bytes, rounded up");
    assert_eq!(bytes(3_221_225_472.0), "3Gi");
    assert_eq!(bytes(123_456_789.0), "123456789");

    assert!(Quantity::from_metric_value(f64::NAN).is_err());
    assert!(Quantity::from_metric_value(f64::INFINITY).is_err());
}

#[test]
fn constructors_match_kubernetes() {
    assert_eq!(
        Quantity::new_milli(1500, Format::DecimalSI).to_string(),
        "1500m"
    );
    assert_eq!(Quantity::new_scaled(5_000_000, -9).to_string(), "5m");
    assert_eq!(Quantity::new(1000, Format::BinarySI).to_string(), "1k");
    assert_eq!(Quantity::new(2048, Format::BinarySI).to_string(), "2Ki");
}

#[test]
fn serde_round_trip() {
    let q = Quantity::parse("1536Mi").unwrap();
    let j = serde_json::to_string(&q).unwrap();
    assert_eq!(j, "\"1536Mi\"");
    let back: Quantity = serde_json::from_str(&j).unwrap();
    assert_eq!(back.to_string(), "1536Mi");
}
