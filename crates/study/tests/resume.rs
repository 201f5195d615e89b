//! A job interrupted mid-training (here: a panic after some cycles, as a kill would leave it)
//! resumes from its checkpoint to the result of the uninterrupted job — also with the noisy
//! tutor, whose noise process is regenerated and advanced on resume, and with a learning-rate
//! schedule and validation without plasticity (the v3 protocol), whose rates and plasticity
//! switch are set again on resume.

use elise_core::{Inputs, Seed};
use elise_study::checkpointing::{JobFiles, MemoryStore};
use elise_study::{Config, simulate_with};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn config(noise_mv: f64, train_extra: &str) -> Config {
    let text = elise_study::default_config_with(&format!(
        "[network]\nn_latent = 8\n[train]\ncycles = 30\nvalidate_every = 4\n{train_extra}\n[replay]\ncycles = 5\n[pattern]\nstate_ms = 2.0\ntutor_noise_sigma_mv = {noise_mv:?}\n[run]\ncheckpoint_every = 6\n"
    ));
    let mut table: toml::Table = text.parse().unwrap();
    table.remove("axes");
    table.try_into().unwrap()
}

fn bits(r: &elise_study::JobResult) -> Vec<u64> {
    let p = &r.protocol;
    p.validation
        .iter()
        .chain(&p.replay)
        .flat_map(|c| [c.cycle as u64, c.mse.to_bits(), c.corr_sum.to_bits()])
        .chain(p.replay_rates.iter().map(|x| x.to_bits()))
        .chain([p.n_steps])
        .collect()
}

fn check(noise_mv: f64, train_extra: &str) -> Vec<u64> {
    check_seed(noise_mv, train_extra, Seed(99))
}

fn check_seed(noise_mv: f64, train_extra: &str, seed: Seed) -> Vec<u64> {
    let cfg = config(noise_mv, train_extra);
    let inputs = Inputs::new();
    // The job's checkpoint slot (the harness keeps it in a file; here in memory).
    let store = MemoryStore::default();
    let files = JobFiles::new(Some(&store), 6, false);
    let reference = simulate_with(&cfg, &inputs, seed, &JobFiles::default(), &mut || {}).unwrap();
    // Killed after 17 cycles: the checkpoint of cycle 12 (cycles_done 12) is on disk.
    let mut n = 0;
    let killed = catch_unwind(AssertUnwindSafe(|| {
        simulate_with(&cfg, &inputs, seed, &files, &mut || {
            n += 1;
            assert!(n < 17, "killed");
        })
    }));
    assert!(killed.is_err());
    let ckpt =
        elise_dynamics::checkpoint::Checkpoint::from_bytes(&store.get().unwrap(), "job.ckpt")
            .unwrap();
    assert_eq!(ckpt.train.unwrap().next_cycle, 11);
    let mut resumed_cycles = 0;
    let resumed = simulate_with(&cfg, &inputs, seed, &files, &mut || resumed_cycles += 1).unwrap();
    assert_eq!(bits(&reference), bits(&resumed), "noise {noise_mv} mV");
    assert_eq!(
        resumed_cycles,
        31 + 5,
        "progress counts the cycles already done"
    );
    // The finished job left its end-of-training checkpoint; another job's is refused.
    let e = simulate_with(&cfg, &inputs, Seed(seed.0 + 1), &files, &mut || {})
        .err()
        .unwrap();
    assert!(format!("{e:#}").contains("belongs to another job"), "{e:#}");
    bits(&reference)
}

#[test]
fn interrupted_job_resumes_to_the_uninterrupted_result() {
    check(0.0, "");
}

#[test]
fn interrupted_noisy_tutor_job_resumes_to_the_uninterrupted_result() {
    check(2.0, "");
}

#[test]
fn interrupted_v3_protocol_job_resumes_to_the_uninterrupted_result() {
    // Epochs of 4 cycles: the checkpoint (after cycle 10) is mid-epoch, with decayed rates.
    let v3 = check(
        0.0,
        "epoch_cycles = 4\nlr_decay = 0.9\nvalidation_plasticity = false",
    );
    // The schedule acts (another result than the paper's protocol) ...
    let paper = check(0.0, "");
    assert_ne!(v3, paper);
    // ... and so does each of its parts alone.
    assert_ne!(check(0.0, "validation_plasticity = false"), paper);
    assert_ne!(check(0.0, "epoch_cycles = 4\nlr_decay = 0.9"), paper);
}

#[test]
fn interrupted_lock_in_job_resumes_to_the_uninterrupted_result() {
    // Seed 7 learns enough in 30 short cycles for a low lock-in: with a window of 1 it fires
    // before the checkpoint (after cycle 10) and is found again on resume from the validation
    // scores the checkpoint carries; with a window of 6, after it.
    let seed = Seed(7);
    let plain = check_seed(0.0, "", seed);
    let nv = elise_core::Pattern::fuer_elise().n_neurons();
    let mut fired = Vec::new();
    for window in [1, 6] {
        let extra = format!(
            "lock_in_corr = 0.001\nlock_in_mse = 1.0\nlock_in_window = {window}\nlock_in_decay = 0.2"
        );
        let cfg = config(0.0, &extra);
        let job = elise_study::simulate(&cfg, &Inputs::new(), seed, &mut || {}).unwrap();
        let at = cfg.train.lock_in_cycle(&job.protocol.validation, nv);
        assert!(
            at.is_some_and(|c| c < 28),
            "window {window}: lock-in at {at:?}"
        );
        fired.push(at.unwrap());
        assert_ne!(
            check_seed(0.0, &extra, seed),
            plain,
            "window {window}: the lock-in acts"
        );
    }
    assert!(fired[0] < 10 && fired[1] > 10, "lock-in cycles {fired:?}");
}

#[test]
fn lock_in_stop_ends_training_and_resumes_to_the_same_result() {
    // A window of 6 locks seed 7 in after the first checkpoint (cycle 10) and before the end.
    let seed = Seed(7);
    let inputs = Inputs::new();
    let lock = "lock_in_corr = 0.001\nlock_in_mse = 1.0\nlock_in_window = 6\nlock_in_decay = 0.2";
    let cfg = config(0.0, &format!("{lock}\nlock_in_stop = true"));
    let mut counted = 0;
    let job = simulate_with(&cfg, &inputs, seed, &JobFiles::default(), &mut || {
        counted += 1
    })
    .unwrap();
    let nv = elise_core::Pattern::fuer_elise().n_neurons();
    let at = cfg
        .train
        .lock_in_cycle(&job.protocol.validation, nv)
        .unwrap();
    assert!(at > 10 && at < 28, "lock-in at {at}");
    // Training ended with the lock-in cycle, and the progress still counts every cycle.
    assert_eq!(job.protocol.validation.last().unwrap().cycle, at);
    assert_eq!(counted, 31 + 5);
    assert_eq!(job.protocol.replay.len(), 5 - 3 - 1);
    // It is the run whose training is scheduled to end there (without the stop).
    let mut shorter = config(0.0, lock);
    shorter.train.cycles = at as usize + 1;
    let short = simulate_with(&shorter, &inputs, seed, &JobFiles::default(), &mut || {}).unwrap();
    assert_eq!(bits(&job), bits(&short));
    // ... and not the full run with the lock-in's decay.
    let full = simulate_with(
        &config(0.0, lock),
        &inputs,
        seed,
        &JobFiles::default(),
        &mut || {},
    )
    .unwrap();
    assert_ne!(bits(&job), bits(&full));

    // Killed before the lock-in (resumes from the checkpoint of cycle 10) and killed in
    // replay (resumes from the end-of-training checkpoint): the same result.
    for kill_at in [14, 33] {
        let store = MemoryStore::default();
        let files = JobFiles::new(Some(&store), 6, false);
        let mut n = 0;
        let killed = catch_unwind(AssertUnwindSafe(|| {
            simulate_with(&cfg, &inputs, seed, &files, &mut || {
                n += 1;
                assert!(n < kill_at, "killed");
            })
        }));
        assert!(killed.is_err());
        let resumed = simulate_with(&cfg, &inputs, seed, &files, &mut || {}).unwrap();
        assert_eq!(bits(&job), bits(&resumed), "killed at {kill_at}");
        let ckpt =
            elise_dynamics::checkpoint::Checkpoint::from_bytes(&store.get().unwrap(), "job.ckpt")
                .unwrap();
        assert_eq!(
            ckpt.train.unwrap().next_cycle,
            at + 1,
            "training ended there"
        );
    }
}
