//! A held network (the Python package's `el.Network`) is the job's network: trained in pieces
//! it gives the job's validation curve bit for bit, a free run reproduces the job's replay
//! rates, and a checkpoint round trip continues bit for bit. The `record` table of a job
//! changes none of its results.

use elise_core::{Inputs, Seed};
use elise_study::Config;
use elise_study::network::HeldNetwork;
use elise_study::record::{Quantity, Recording};

fn config(extra: &str) -> Config {
    config_with_train("", extra)
}

/// The small config with `train` lines in its `[train]` table and `extra` tables at the end.
fn config_with_train(train: &str, extra: &str) -> Config {
    let text = elise_study::default_config_with(&format!(
        "[network]\nn_latent = 8\n[train]\ncycles = 30\nvalidate_every = 4\n{train}\n[replay]\ncycles = 5\nnudged_cycles = 2\n[pattern]\nstate_ms = 2.0\n{extra}"
    ));
    let mut table: toml::Table = text.parse().unwrap();
    table.remove("axes");
    table.try_into().unwrap()
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn held_network_is_the_jobs_network() {
    held_network_matches_the_job("");
}

/// With a learning-rate schedule (epochs, plasticity off in validation, a lock-in that fires
/// in this short run) the held network trains as the job does, in pieces too.
#[test]
fn held_network_follows_the_jobs_schedule() {
    let schedule = "epoch_cycles = 7\nlr_decay = 0.5\nvalidation_plasticity = false\n\
                    lock_in_corr = 0.001\nlock_in_mse = 1.0\nlock_in_window = 2\nlock_in_decay = 0.2\n";
    held_network_matches_the_job(schedule);
}

/// With `lock_in_stop` the job's training ends at the lock-in; so does the held network's,
/// whichever pieces it is trained in, and its replay is the job's.
#[test]
fn held_network_stops_at_the_lock_in_as_the_job_does() {
    let schedule = "epoch_cycles = 7\nlr_decay = 0.5\n\
                    lock_in_corr = 0.001\nlock_in_mse = 1.0\nlock_in_window = 2\nlock_in_decay = 0.2\n\
                    lock_in_stop = true\n";
    held_network_matches_the_job(schedule);
}

fn held_network_matches_the_job(train: &str) {
    let cfg = config_with_train(train, "");
    let inputs = Inputs::new();
    let seed = Seed(7);
    let job = elise_study::simulate(&cfg, &inputs, seed, &mut || {}).unwrap();
    // Cycles the job trained, the warm-up included.
    let mut ran = 31;
    if cfg.train.lock_in_corr > 0.0 {
        let nv = job
            .protocol
            .last_validation
            .as_ref()
            .map(|(_, r)| r.len())
            .unwrap()
            / job.protocol.samples_per_cycle;
        let at = cfg.train.lock_in_cycle(&job.protocol.validation, nv);
        assert!(
            at.is_some_and(|c| c > 0 && c < 28),
            "the lock-in should fire mid-training: {at:?}"
        );
        if cfg.train.lock_in_stop {
            // The job's training ended with the lock-in cycle.
            assert_eq!(job.protocol.validation.last().map(|p| p.cycle), at);
            ran = at.unwrap() + 2;
        }
    }

    let mut net = HeldNetwork::build(&cfg, &inputs, seed).unwrap();
    let mut points = net.train(11).unwrap();
    points.extend(net.train(19).unwrap());
    assert_eq!(net.cycles_trained() as i64, ran);
    if cfg.train.lock_in_stop {
        assert!(
            net.train(5).unwrap().is_empty(),
            "no training after the stop"
        );
        assert_eq!(net.cycles_trained() as i64, ran);
    }
    let flat = |ps: &[elise_dynamics::protocol::CurvePoint]| -> Vec<(i64, u64, u64)> {
        ps.iter()
            .map(|p| (p.cycle, p.mse.to_bits(), p.corr_sum.to_bits()))
            .collect()
    };
    assert_eq!(flat(&points), flat(&job.protocol.validation));

    // The replay: 2 nudged cycles, then free ones; the job samples every 2nd step.
    let saved = net.checkpoint().unwrap();
    let mut rec = net.recording(&[Quantity::Rate]);
    net.run(2, 1.0, 2, &mut rec);
    net.run(3, 0.0, 2, &mut rec);
    let nv = net.pattern().n_neurons();
    let n = rec.n;
    let rows = rec.rows();
    let s_len = job.protocol.samples_per_cycle;
    assert_eq!(rows, 5 * s_len);
    // job.protocol.replay_rates: neuron-major, (visible, samples of all cycles).
    for i in 0..nv {
        let mine: Vec<f64> = (0..rows).map(|r| rec.values[0][r * n + i]).collect();
        let theirs = &job.protocol.replay_rates[i * rows..(i + 1) * rows];
        assert_eq!(bits(&mine), bits(theirs), "visible neuron {i}");
    }

    // Checkpoint round trip: the loaded network continues like the original.
    let ckpt = elise_dynamics::checkpoint::Checkpoint::from_bytes(&saved, "held.ckpt").unwrap();
    let mut loaded = HeldNetwork::from_checkpoint(&cfg, &inputs, &ckpt).unwrap();
    let mut again = HeldNetwork::build(&cfg, &inputs, seed).unwrap();
    again.train(30).unwrap();
    let (mut a, mut b) = (
        Recording::new(&[Quantity::U, Quantity::V], n),
        Recording::new(&[Quantity::U, Quantity::V], n),
    );
    loaded.run(1, 0.0, 1, &mut a);
    again.run(1, 0.0, 1, &mut b);
    assert_eq!(bits(&a.values[0]), bits(&b.values[0]));
    assert_eq!(bits(&a.values[1]), bits(&b.values[1]));
}

#[test]
fn record_settings_are_checked() {
    let inputs = Inputs::new();
    for (extra, key) in [
        (
            "[output]\nrecord = [\"w\"]\nrecord_cycles = [0]\n",
            "output.record",
        ),
        (
            "[output]\nrecord = [\"u\", \"u\"]\nrecord_cycles = [0]\n",
            "output.record",
        ),
        ("[output]\nrecord = [\"u\"]\n", "output.record_cycles"),
        (
            "[output]\nrecord = [\"u\"]\nrecord_cycles = [5]\n",
            "output.record_cycles",
        ),
        (
            "[output]\nrecord = [\"u\"]\nrecord_cycles = [1]\nrecord_every = 0\n",
            "output.record_every",
        ),
    ] {
        let e = elise_study::validate(&config(extra), &inputs).unwrap_err();
        assert!(e.to_string().contains(key), "{extra}: {e}");
    }
    assert!(
        elise_study::validate(
            &config("[output]\nrecord = [\"u\"]\nrecord_cycles = [4]\n"),
            &inputs
        )
        .is_ok()
    );
}
