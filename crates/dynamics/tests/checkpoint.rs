//! Checkpoints: a training run resumed from a checkpoint (through the file format) gives bit for
//! bit the result of the uninterrupted run, in every mode and layout; damaged, truncated, newer
//! and foreign files are refused with a clear error.

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::checkpoint::{Checkpoint, FORMAT_VERSION, MAGIC};
use elise_dynamics::protocol::{SAMPLE_EVERY_STEPS, TrainProgress};
use elise_dynamics::{
    ConnectivityKind, Mode, Network, NetworkConfig, NetworkSpec, Protocol, ProtocolError,
    ProtocolResult, ReplayConfig, TrainConfig,
};
use elise_plasticity::LearningRates;
use elise_scaffold::ScaffoldParams;

const TRAIN: TrainConfig = TrainConfig::paper(23, 4);

fn replay_cfg() -> ReplayConfig {
    ReplayConfig {
        cycles: 6,
        nudged_cycles: 2,
        disruption_file: String::new(),
        disruption_cycle: 0,
    }
}

struct Setup {
    spec: NetworkSpec,
    rates: LearningRates,
    teacher: Teacher,
    params: NeuronParams,
}

/// A small network on Für Elise at 1 ms per state (250 steps per cycle).
fn setup(cfg: &NetworkConfig, seed: u64) -> Setup {
    let params = NeuronParams::default();
    let pattern = Pattern::fuer_elise();
    let spec = NetworkSpec::generate(
        pattern.n_neurons(),
        cfg,
        &ScaffoldParams::default(),
        &params,
        Seed(seed),
    )
    .unwrap();
    Setup {
        spec,
        rates: LearningRates::default(),
        teacher: Teacher::new(&pattern, &params, 10),
        params,
    }
}

impl Setup {
    fn network(&self) -> Network {
        Network::new(&self.spec, &self.params, &self.rates, self.teacher.clone()).unwrap()
    }
}

fn protocol(replay: &ReplayConfig) -> Protocol<'_> {
    Protocol {
        train: &TRAIN,
        replay,
        disruption: None,
        sample_every_steps: SAMPLE_EVERY_STEPS,
    }
}

fn bits(r: &ProtocolResult) -> Vec<u64> {
    let mut out: Vec<u64> = r
        .validation
        .iter()
        .chain(&r.replay)
        .flat_map(|p| [p.cycle as u64, p.mse.to_bits(), p.corr_sum.to_bits()])
        .collect();
    out.extend(r.replay_rates.iter().map(|x| x.to_bits()));
    if let Some((c, rates)) = &r.last_validation {
        out.push(*c as u64);
        out.extend(rates.iter().map(|x| x.to_bits()));
    }
    out.push(r.n_steps);
    out
}

/// Trains uninterrupted, and again stopped after cycle `stop` with a checkpoint written through
/// the file format and resumed from it in a fresh network; both then replay. Returns the
/// checkpoint's size.
fn resume_equals_uninterrupted(s: &Setup, stop: i64, clamp_during_training: bool) -> usize {
    let replay = replay_cfg();
    let p = protocol(&replay);
    let e_l = s.params.e_leak_mv;
    let clamp = |net: &mut Network, c: i64| {
        if clamp_during_training && c == 5 {
            net.clamp_visible(2..4, -60.0);
        } else if clamp_during_training && c == 9 {
            net.clear_clamp();
        }
    };

    let mut a = s.network();
    let trained = p
        .train_from(
            &mut a,
            &s.teacher,
            e_l,
            TrainProgress::start(),
            &mut |net, c| clamp(net, c),
            &mut |_, _| Ok(std::ops::ControlFlow::Continue(())),
            &mut || {},
        )
        .unwrap();
    let full = p
        .replay(&mut a, &s.teacher, e_l, trained, &mut || {})
        .unwrap();
    if !clamp_during_training {
        // train_from from the start is the plain Protocol::train, bit for bit.
        let mut plain = s.network();
        let trained = p.train(&mut plain, &s.teacher, e_l, &mut || {}).unwrap();
        let r = p
            .replay(&mut plain, &s.teacher, e_l, trained, &mut || {})
            .unwrap();
        assert_eq!(bits(&r), bits(&full));
    }

    let mut b = s.network();
    let mut saved = None;
    let err = p
        .train_from(
            &mut b,
            &s.teacher,
            e_l,
            TrainProgress::start(),
            &mut |net, c| clamp(net, c),
            &mut |net, progress| {
                if progress.next_cycle == stop + 1 {
                    let ckpt = Checkpoint {
                        meta: vec![("seed".into(), "7".into())],
                        network: net.state(),
                        train: Some(progress.clone()),
                    };
                    saved = Some(ckpt.to_bytes());
                    return Err("killed".into());
                }
                Ok(std::ops::ControlFlow::Continue(()))
            },
            &mut || {},
        )
        .unwrap_err();
    assert_eq!(
        err,
        ProtocolError::Stopped {
            phase: elise_dynamics::Phase::Validation,
            cycle: stop,
            problem: "killed".into()
        }
    );
    assert!(err.to_string().contains(&format!("training cycle {stop}")));
    drop(b);
    let bytes = saved.expect("checkpoint written");
    let ckpt = Checkpoint::from_bytes(&bytes, "mem").unwrap();
    assert_eq!(ckpt.meta("seed"), Some("7"));
    assert_eq!(ckpt.to_bytes(), bytes, "decode + encode is the identity");
    let mut c = Network::from_state(&s.spec, &s.rates, &ckpt.network, s.teacher.clone()).unwrap();
    assert_eq!(c.state(), ckpt.network, "state -> network -> state");
    let progress = ckpt.train.unwrap();
    assert_eq!(progress.next_cycle, stop + 1);
    let trained = p
        .train_from(
            &mut c,
            &s.teacher,
            e_l,
            progress,
            &mut |net, cy| clamp(net, cy),
            &mut |_, _| Ok(std::ops::ControlFlow::Continue(())),
            &mut || {},
        )
        .unwrap();
    let resumed = p
        .replay(&mut c, &s.teacher, e_l, trained, &mut || {})
        .unwrap();
    assert_eq!(
        bits(&full),
        bits(&resumed),
        "resumed run differs (stop {stop})"
    );
    assert_eq!(a.state(), c.state(), "final states differ (stop {stop})");
    assert_eq!(a.weights(), c.weights());
    bytes.len()
}

#[test]
fn resumed_training_equals_uninterrupted_run() {
    let base = NetworkConfig {
        n_latent: 12,
        ..NetworkConfig::default()
    };
    let s = setup(&base, 11);
    // Stops in the warm-up cycle, right after a validation cycle, in the middle and at the end.
    for stop in [-1, 0, 4, 10, 22] {
        resume_equals_uninterrupted(&s, stop, false);
    }
    // A clamp active at the checkpoint (cycles 5-8), learning on.
    resume_equals_uninterrupted(&s, 6, true);
    // Other modes and layouts (reservoir, soma-only, sparse CSR).
    for cfg in [
        NetworkConfig {
            mode: Mode::Reservoir,
            ..base.clone()
        },
        NetworkConfig {
            mode: Mode::SomaOnly,
            ..base.clone()
        },
        NetworkConfig {
            connectivity: ConnectivityKind::Sparse,
            density: 0.2,
            ..base.clone()
        },
    ] {
        resume_equals_uninterrupted(&setup(&cfg, 3), 9, false);
    }
}

fn small_checkpoint() -> (Setup, Vec<u8>) {
    let s = setup(
        &NetworkConfig {
            n_latent: 4,
            ..NetworkConfig::default()
        },
        5,
    );
    let mut net = s.network();
    for t in 0..300 {
        net.step(t % 250, 1.0);
    }
    let ckpt = Checkpoint {
        meta: vec![("config".into(), "x = 1".into())],
        network: net.state(),
        train: Some(TrainProgress {
            next_cycle: 1,
            validation: Vec::new(),
            last_validation: Some((0, vec![0.5; 13])),
            n_steps: 300,
        }),
    };
    (s, ckpt.to_bytes())
}

fn problem(bytes: &[u8]) -> String {
    Checkpoint::from_bytes(bytes, "job.ckpt")
        .unwrap_err()
        .to_string()
}

#[test]
fn damaged_files_are_refused_with_a_clear_error() {
    let (_, good) = small_checkpoint();
    assert!(Checkpoint::from_bytes(&good, "job.ckpt").is_ok());
    assert_eq!(&good[..8], &MAGIC);
    // Every truncation.
    for len in 0..good.len() {
        let e = problem(&good[..len]);
        assert!(e.starts_with("checkpoint job.ckpt: "), "{e}");
        assert!(
            e.contains("truncated") || e.contains("not an elise-lab checkpoint"),
            "length {len}: {e}"
        );
    }
    // Trailing garbage.
    let mut long = good.clone();
    long.push(0);
    assert!(problem(&long).contains("trailing"), "{}", problem(&long));
    // Every single-bit flip after the header is caught (by the checksum).
    for k in (24..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[k] ^= 1 << (k % 8);
        let e = problem(&bad);
        assert!(e.contains("checksum mismatch"), "byte {k}: {e}");
    }
    // A newer format version, even with a valid checksum.
    let mut newer = good.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let e = problem(&newer);
    assert!(e.contains("format version 2") && e.contains("newer"), "{e}");
    // Not a checkpoint at all.
    let e = problem(b"# name: x nNeurons: 1 nSteps: 1\n1\n");
    assert!(e.contains("not an elise-lab checkpoint"), "{e}");
    // A file path is named.
    let path = std::env::temp_dir().join(format!("elise-ckpt-missing-{}", std::process::id()));
    let e = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(
        e.contains(&path.display().to_string()) && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn a_state_for_another_network_or_teacher_is_refused() {
    let (s, bytes) = small_checkpoint();
    let ckpt = Checkpoint::from_bytes(&bytes, "x").unwrap();
    assert!(Network::from_state(&s.spec, &s.rates, &ckpt.network, s.teacher.clone()).is_ok());
    // Another teacher (state duration).
    let other = Teacher::new(&Pattern::fuer_elise(), &s.params, 20);
    let e = Network::from_state(&s.spec, &s.rates, &ckpt.network, other).unwrap_err();
    assert!(e.to_string().contains("another teacher"), "{e}");
    // Another seed: other delays.
    let s2 = setup(
        &NetworkConfig {
            n_latent: 4,
            ..NetworkConfig::default()
        },
        6,
    );
    let e = Network::from_state(&s2.spec, &s.rates, &ckpt.network, s.teacher.clone()).unwrap_err();
    assert!(e.to_string().contains("other"), "{e}");
    // Another size.
    let s3 = setup(&NetworkConfig::default(), 5);
    let e = Network::from_state(&s3.spec, &s.rates, &ckpt.network, s.teacher.clone()).unwrap_err();
    assert!(e.to_string().contains("4 latent"), "{e}");
    // Other learning rates: a different count of plastic synapses is caught only when it
    // differs, so a zero rate is the test.
    let frozen = LearningRates {
        eta_vv: 0.0,
        ..s.rates.clone()
    };
    let e = Network::from_state(&s.spec, &frozen, &ckpt.network, s.teacher.clone()).unwrap_err();
    assert!(e.to_string().contains("plastic synapses"), "{e}");
}
