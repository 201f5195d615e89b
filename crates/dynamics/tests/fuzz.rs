//! Fuzzing the disruption and checkpoint parsers (proptest): arbitrary bytes and mutated valid
//! files never make them panic. Checkpoint mutations are tried twice: as they are (the
//! checksum catches them) and with the checksum recomputed, so the section decoder and
//! `Network::from_state` see the damage. The corpora `crates/core/tests/corpus/{disruption,
//! checkpoint}/` keep hostile and once-crashing inputs; every file there is replayed.

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::checkpoint::{Checkpoint, fnv1a_64};
use elise_dynamics::protocol::TrainProgress;
use elise_dynamics::{Disruption, Network, NetworkConfig, NetworkSpec};
use elise_plasticity::LearningRates;
use elise_scaffold::ScaffoldParams;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../core/tests/corpus/{kind}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn disruption(text: &str) {
    if let Ok(d) = Disruption::parse(text, "fuzz") {
        assert!(!d.lines.is_empty() && d.lines.len() <= 5);
        assert!(d.offset_mv.is_finite());
        for (len, vis) in [(0, 0), (2500, 13), (usize::MAX, usize::MAX)] {
            let _ = d.check_fits(len, vis);
        }
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    /// Overwrite 8 bytes with a little-endian u64 (lengths, counts, sizes).
    Word(usize, u64),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match *e {
            Edit::Flip(k, b) if !bytes.is_empty() => bytes[k % n] ^= b,
            Edit::Set(k, b) if !bytes.is_empty() => bytes[k % n] = b,
            Edit::Insert(k, b) => bytes.insert(k % (bytes.len() + 1), b),
            Edit::Delete(k) if !bytes.is_empty() => {
                bytes.remove(k % n);
            }
            Edit::Truncate(k) => bytes.truncate(k % (bytes.len() + 1)),
            Edit::Word(k, w) if bytes.len() >= 8 => {
                let at = k % (bytes.len() - 7);
                bytes[at..at + 8].copy_from_slice(&w.to_le_bytes());
            }
            _ => {}
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    let word = prop_oneof![
        Just(0u64),
        Just(1),
        Just(13),
        Just(u64::MAX),
        Just(1 << 40),
        Just(1 << 62),
        any::<u64>()
    ];
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(k, b)| Edit::Flip(k, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(k, b)| Edit::Set(k, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(k, b)| Edit::Insert(k, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), word).prop_map(|(k, w)| Edit::Word(k, w)),
    ]
}

/// Recomputes the trailer so that a mutated file passes the checksum.
fn fix_checksum(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() >= 32 {
        let end = bytes.len() - 8;
        let sum = fnv1a_64(&bytes[..end]);
        bytes[end..].copy_from_slice(&sum.to_le_bytes());
    }
    bytes
}

struct Fixture {
    spec: NetworkSpec,
    teacher: Teacher,
    bytes: Vec<u8>,
}

/// A small trained-a-little network's checkpoint.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let params = NeuronParams::default();
        let pattern = Pattern::fuer_elise();
        let cfg = NetworkConfig {
            n_latent: 3,
            delay_max_ms: 6.0,
            inh_extra_delay_ms: 1.0,
            ..NetworkConfig::default()
        };
        let scaffold = ScaffoldParams {
            max_in_degree: 100,
            ..ScaffoldParams::default()
        };
        let spec = NetworkSpec::generate(13, &cfg, &scaffold, &params, Seed(1)).unwrap();
        let teacher = Teacher::new(&pattern, &params, 2);
        let mut net =
            Network::new(&spec, &params, &LearningRates::default(), teacher.clone()).unwrap();
        for t in 0..120 {
            net.step(t % 50, 1.0);
        }
        let bytes = Checkpoint {
            meta: vec![("seed".into(), "1".into())],
            network: net.state(),
            train: Some(TrainProgress {
                next_cycle: 2,
                validation: Vec::new(),
                last_validation: Some((0, vec![0.25; 13 * 25])),
                n_steps: 120,
            }),
        }
        .to_bytes();
        Fixture {
            spec,
            teacher,
            bytes,
        }
    })
}

fn checkpoint(bytes: &[u8]) {
    let f = fixture();
    if let Ok(c) = Checkpoint::from_bytes(bytes, "fuzz") {
        // Whatever decodes re-encodes to the same bytes, and rebuilding never panics.
        assert_eq!(c.to_bytes(), bytes);
        let _ = Network::from_state(
            &f.spec,
            &LearningRates::default(),
            &c.network,
            f.teacher.clone(),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn disruption_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        disruption(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn disruption_near_valid(
        fields in proptest::collection::vec(
            prop_oneof![
                Just("t_start:".to_owned()), Just("t_end:".to_owned()),
                Just("nrn_start:".to_owned()), Just("nrn_end:".to_owned()),
                Just("offset_el:".to_owned()), Just("\n".to_owned()), Just("#".to_owned()),
                any::<u64>().prop_map(|x| x.to_string()),
                any::<i64>().prop_map(|x| x.to_string()),
                any::<f64>().prop_map(|x| x.to_string()),
                Just("18446744073709551616".to_owned()), Just("inf".to_owned()),
            ],
            0..40,
        )
    ) {
        disruption(&fields.join(" "));
    }

    #[test]
    fn checkpoint_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        checkpoint(&bytes);
        let mut with_magic = b"ELISECKP\x01\0\0\0".to_vec();
        with_magic.extend(&bytes);
        checkpoint(&with_magic);
        checkpoint(&fix_checksum(with_magic));
    }

    #[test]
    fn checkpoint_mutated(edits in proptest::collection::vec(edit(), 1..4)) {
        let bytes = apply(fixture().bytes.clone(), &edits);
        checkpoint(&bytes);
        checkpoint(&fix_checksum(bytes));
    }
}

#[test]
fn fixture_is_valid() {
    let f = fixture();
    let c = Checkpoint::from_bytes(&f.bytes, "fixture").unwrap();
    assert!(
        Network::from_state(
            &f.spec,
            &LearningRates::default(),
            &c.network,
            f.teacher.clone()
        )
        .is_ok()
    );
}

#[test]
fn corpora_replay_without_panic() {
    let files = corpus("disruption");
    assert!(files.len() >= 8);
    for path in &files {
        match Disruption::load(path) {
            // Parses, but no pattern is that long: check_fits refuses it.
            Ok(d) => assert!(d.check_fits(2500, 13).is_err(), "{}", path.display()),
            Err(e) => assert!(
                e.to_string().starts_with(&path.display().to_string()),
                "{e}"
            ),
        }
        disruption(&String::from_utf8_lossy(&std::fs::read(path).unwrap()));
    }
    let files = corpus("checkpoint");
    assert!(files.len() >= 10);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let e = Checkpoint::load(path).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        checkpoint(&bytes);
        checkpoint(&fix_checksum(bytes));
    }
}

/// Found by `checkpoint_mutated`: a clamp entry switched off but with a potential decoded, and
/// re-encoded to other bytes (a non-canonical file accepted).
#[test]
fn found_non_canonical_clamp_is_refused() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/corpus/checkpoint/found-clamp-off-with-potential.bin");
    let e = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(e.contains("clamp entry that is off"), "{e}");
}
