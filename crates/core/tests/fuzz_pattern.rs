//! Fuzzing the pattern parser (proptest): arbitrary bytes, token soup and mutated valid files
//! never make it panic (or reserve memory a header merely announces), and whatever it accepts
//! round-trips through the text format. The corpus `tests/corpus/pattern/` keeps the inputs
//! that once crashed or are otherwise hostile; every file there is replayed.

use elise_core::Pattern;
use elise_core::pattern::FUER_ELISE_TEXT;
use proptest::prelude::*;
use std::path::Path;

/// Parses `bytes` like a pattern file (through `Pattern::load`'s UTF-8 check); panics only if
/// the parser does.
fn parse_bytes(bytes: &[u8]) -> Result<Pattern, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let p = Pattern::parse(text, "fuzz").map_err(|e| e.to_string())?;
    // Accepted patterns are consistent and round-trip.
    assert!(p.n_neurons() > 0 && p.n_states() > 0);
    let again = Pattern::parse(&p.to_text(), "roundtrip").expect("own text parses");
    assert_eq!(again.n_neurons(), p.n_neurons());
    assert_eq!(again.n_states(), p.n_states());
    for i in 0..p.n_neurons() {
        assert_eq!(again.row(i), p.row(i));
    }
    Ok(p)
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Splice(usize, String),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Flip(k, b) if !bytes.is_empty() => bytes[k % n] ^= *b,
            Edit::Insert(k, b) => bytes.insert(k % (bytes.len() + 1), *b),
            Edit::Delete(k) if !bytes.is_empty() => {
                bytes.remove(k % n);
            }
            Edit::Truncate(k) => bytes.truncate(k % (bytes.len() + 1)),
            Edit::Splice(k, s) => {
                let at = k % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            _ => {}
        }
    }
    bytes
}

/// Pieces the format is made of, to build nearly valid files.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("#".to_owned()),
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("name:".to_owned()),
        Just("nNeurons:".to_owned()),
        Just("nSteps:".to_owned()),
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("0.5".to_owned()),
        Just("0.0".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just("NaN".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("99999999999999999999".to_owned()),
        (0u64..40).prop_map(|n| n.to_string()),
        "[a-z\u{e9}\u{1f3b5}]{0,3}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(k, b)| Edit::Flip(k, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(k, b)| Edit::Insert(k, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), token()).prop_map(|(k, s)| Edit::Splice(k, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_bytes(&bytes);
        let _ = Pattern::parse(&String::from_utf8_lossy(&bytes), "lossy");
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(token(), 0..80)) {
        let _ = parse_bytes(tokens.concat().as_bytes());
    }

    #[test]
    fn mutated_fuer_elise_never_panics(edits in proptest::collection::vec(edit(), 1..6)) {
        let bytes = apply(FUER_ELISE_TEXT.as_bytes().to_vec(), &edits);
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn headers_with_any_counts_never_panic(v in any::<u64>(), s in any::<u64>(), body in "[01 \n]{0,40}") {
        let text = format!("# name: h nNeurons: {v} nSteps: {s}\n{body}");
        let _ = parse_bytes(text.as_bytes());
    }
}

#[test]
fn corpus_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/pattern");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // Through the file loader (size limit, UTF-8 check) and the parser.
        let loaded = Pattern::load(&path);
        let parsed = parse_bytes(&std::fs::read(&path).unwrap());
        assert_eq!(loaded.is_ok(), parsed.is_ok(), "{}", path.display());
        if let Err(e) = loaded {
            assert!(
                e.to_string().starts_with(&path.display().to_string()),
                "{e}"
            );
        }
        n += 1;
    }
    assert!(n >= 10, "corpus has {n} files");
}
