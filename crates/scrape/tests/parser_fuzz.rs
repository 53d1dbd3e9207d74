//! Property tests: no input makes a parser panic or loop; errors carry a line number.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use argus_scrape::parse::{parse_all, series_labels, Format};
use proptest::prelude::*;

const SEED_TEXT: &str = "# HELP m h\\n\n# TYPE m histogram\nm_bucket{le=\"0.5\",a=\"x\\\"y\"} 1 123\nm_bucket{le=\"+Inf\",a=\"x\\\"y\"} 2\nm_sum 3\nm_count 2\n";
const SEED_OM: &str =
    "# TYPE a counter\n# UNIT a_s s\na_total{x=\"1\"} 2 1.5 # {t=\"a\"} 0.5 1\n# EOF\n";

fn all_formats(body: &[u8]) {
    for f in [
        Format::PrometheusText,
        Format::OpenMetrics,
        Format::Protobuf,
    ] {
        for strict in [false, true] {
            match parse_all(f, body, strict) {
                Ok(samples) => {
                    for (s, _, _) in samples {
                        let _ = series_labels(&s);
                    }
                }
                Err(e) => assert!(e.line >= 1, "{f:?}: {e}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_formats(&body);
    }

    #[test]
    fn mutated_valid_inputs_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut body = if which == 0 { SEED_TEXT } else { SEED_OM }.as_bytes().to_vec();
        for (pos, byte) in edits {
            let i = pos % body.len();
            body[i] = byte;
        }
        body.truncate(cut % (body.len() + 1));
        all_formats(&body);
    }

    #[test]
    fn printable_noise_in_text_format_never_panics(body in "[ -~\\t\\n{}\"=,#\\\\]{0,300}") {
        all_formats(body.as_bytes());
    }
}
