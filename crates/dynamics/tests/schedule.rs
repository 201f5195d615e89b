//! The lab fork's v3 protocol pieces: learning-rate epochs with decay, validation with
//! plasticity off, and self-nudging of the uncued somas in cued recall. With the defaults none
//! of them touches the network (bit-identical to the paper's protocol).

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::protocol::SAMPLE_EVERY_STEPS;
use elise_dynamics::{
    Network, NetworkConfig, NetworkSpec, Protocol, RateSchedule, ReplayConfig, TrainConfig, Uncued,
};
use elise_plasticity::{Layout, LayoutChoice, LearningRates};
use elise_scaffold::ScaffoldParams;

const N_VIS: usize = 13;

fn setup(n_latent: usize) -> (NetworkSpec, Teacher, NeuronParams) {
    let params = NeuronParams::default();
    let cfg = NetworkConfig {
        n_latent,
        ..NetworkConfig::default()
    };
    let spec =
        NetworkSpec::generate(N_VIS, &cfg, &ScaffoldParams::default(), &params, Seed(5)).unwrap();
    // 10 steps per state: a 250-step cycle.
    let teacher = Teacher::new(&Pattern::fuer_elise(), &params, 10);
    (spec, teacher, params)
}

static REPLAY: ReplayConfig = ReplayConfig {
    cycles: 4,
    nudged_cycles: 1,
    disruption_file: String::new(),
    disruption_cycle: 0,
};

fn protocol(train: &TrainConfig) -> Protocol<'_> {
    Protocol {
        train,
        replay: &REPLAY,
        disruption: None,
        sample_every_steps: SAMPLE_EVERY_STEPS,
    }
}

/// Trains `net` with `train` and its schedule; `each(net, c)` runs before every cycle c, after
/// the schedule; the schedule's `finish` runs at the end.
fn train_scheduled(
    net: &mut Network,
    teacher: &Teacher,
    train: &TrainConfig,
    each: &mut dyn FnMut(&mut Network, i64),
) {
    let mut schedule = RateSchedule::new(train, &LearningRates::default());
    protocol(train)
        .train_with(
            net,
            teacher,
            -70.0,
            &mut |net, c| {
                schedule.before_cycle(net, c);
                each(net, c);
            },
            &mut || {},
        )
        .unwrap();
    schedule.finish(net, train.cycles);
}

/// The distinct non-zero rates of visible -> visible and of all other synapses.
fn block_rates(net: &Network) -> (Vec<f64>, Vec<f64>) {
    let n = net.n_neurons();
    let eta = net.learning_rates();
    let (mut vv, mut other) = (Vec::new(), Vec::new());
    for post in 0..n {
        for pre in 0..n {
            let e = eta[post * n + pre];
            if post == pre {
                assert_eq!(e, 0.0, "self-synapse {post} has a rate");
                continue;
            }
            if post < N_VIS && pre < N_VIS {
                vv.push(e);
            } else {
                other.push(e);
            }
        }
    }
    for v in [&mut vv, &mut other] {
        v.sort_by(f64::total_cmp);
        v.dedup();
    }
    (vv, other)
}

#[test]
fn epochs_and_factors() {
    let t = TrainConfig {
        epoch_cycles: 3,
        lr_decay: 0.5,
        ..TrainConfig::paper(10, 4)
    };
    assert!(t.has_rate_schedule());
    let epochs: Vec<u64> = (-1..=10).map(|c| t.epoch_of(c)).collect();
    assert_eq!(epochs, vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]);
    assert_eq!(t.rate_factor(0), 1.0);
    assert_eq!(t.rate_factor(3), 0.125);
    assert!(t.is_validation(0) && t.is_validation(8) && !t.is_validation(-1));
    assert!(!t.is_validation(3));
    // The defaults are the paper's protocol: no schedule.
    let paper = TrainConfig::paper(10, 4);
    assert!(!paper.has_rate_schedule() && paper.validation_plasticity);
    assert_eq!(paper.epoch_of(9), 0);
    // An epoch length alone (decay 1) is no schedule either.
    assert!(
        !TrainConfig {
            epoch_cycles: 3,
            ..paper
        }
        .has_rate_schedule()
    );
}

#[test]
fn schedule_changes_the_rates_epoch_by_epoch() {
    let (spec, teacher, params) = setup(8);
    let base = LearningRates::default();
    let mut net = Network::new(&spec, &params, &base, teacher.clone()).unwrap();
    let train = TrainConfig {
        epoch_cycles: 2,
        lr_decay: 0.5,
        ..TrainConfig::paper(7, 3)
    };
    let mut seen = Vec::new();
    train_scheduled(&mut net, &teacher, &train, &mut |net, c| {
        seen.push((c, block_rates(net)));
    });
    assert_eq!(seen.len(), 8);
    for (c, (vv, other)) in &seen {
        let f = 0.5f64.powi(train.epoch_of(*c) as i32);
        assert_eq!(vv, &vec![base.eta_vv * f], "cycle {c}");
        assert_eq!(other, &vec![base.eta_other * f], "cycle {c}");
    }
    // Cycles 0-1 at full rate, 2-3 at half, 4-5 at a quarter, 6 at an eighth; replay after 7
    // cycles (3 full epochs) at an eighth.
    assert_eq!(seen[3].1.1, vec![base.eta_other * 0.5]);
    assert_eq!(seen[7].1.1, vec![base.eta_other * 0.125]);
    assert_eq!(block_rates(&net).1, vec![base.eta_other * 0.125]);
    let fresh = Network::new(&spec, &params, &base, teacher).unwrap();
    assert_eq!(net.n_plastic(), fresh.n_plastic());
}

#[test]
fn default_schedule_is_bit_identical_and_decay_changes_learning() {
    let (spec, teacher, params) = setup(8);
    let rates = LearningRates::default();
    let run = |train: TrainConfig| {
        let mut net = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
        train_scheduled(&mut net, &teacher, &train, &mut |_, _| {});
        (net.weights(), net.u().to_vec())
    };
    let paper = run(TrainConfig::paper(6, 3));
    // Not using the schedule at all.
    let mut plain = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
    protocol(&TrainConfig::paper(6, 3))
        .train(&mut plain, &teacher, -70.0, &mut || {})
        .unwrap();
    assert_eq!(paper, (plain.weights(), plain.u().to_vec()));
    // Epochs without decay: the same bits.
    let epochs_only = TrainConfig {
        epoch_cycles: 2,
        ..TrainConfig::paper(6, 3)
    };
    assert_eq!(run(epochs_only), paper);
    // A decay changes what is learned.
    let decayed = TrainConfig {
        epoch_cycles: 2,
        lr_decay: 0.9,
        ..TrainConfig::paper(6, 3)
    };
    assert_ne!(run(decayed).0, paper.0);
}

#[test]
fn setting_the_same_rates_changes_nothing_in_any_layout() {
    let (spec, teacher, params) = setup(8);
    let rates = LearningRates::default();
    for layout in [Layout::Structured, Layout::Masked, Layout::Csr] {
        let mut a = Network::with_layout(
            &spec,
            &params,
            &rates,
            teacher.clone(),
            LayoutChoice::Force(layout),
        )
        .unwrap();
        assert_eq!(a.layout(), layout);
        let mut b = a.clone();
        for k in 0..300 {
            a.step(k % 250, 1.0);
            b.step(k % 250, 1.0);
            if k % 97 == 5 {
                // Mid-run, with an update pending.
                b.set_learning_rates(&rates);
                assert_eq!(b.layout(), layout);
            }
        }
        assert_eq!(a.weights(), b.weights(), "{layout:?}");
        assert_eq!(a.u(), b.u(), "{layout:?}");
        // Other rates do change the learning.
        b.set_learning_rates(&LearningRates {
            eta_vv: 1e-5,
            eta_other: 1e-4,
            ..LearningRates::default()
        });
        for k in 0..50 {
            a.step(k, 1.0);
            b.step(k, 1.0);
        }
        assert_ne!(a.weights(), b.weights(), "{layout:?}");
    }
}

#[test]
fn validation_without_plasticity_leaves_the_weights_unchanged() {
    let (spec, teacher, params) = setup(8);
    let rates = LearningRates::default();
    // (cycle, weights at its start, learning flag)
    let run = |validation_plasticity: bool| {
        let mut net = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
        let train = TrainConfig {
            validation_plasticity,
            ..TrainConfig::paper(7, 3)
        };
        let mut snaps = Vec::new();
        train_scheduled(&mut net, &teacher, &train, &mut |net, c| {
            snaps.push((c, net.weights(), net.learning()));
        });
        snaps.push((7, net.weights(), net.learning()));
        snaps
    };
    let off = run(false);
    let on = run(true);
    for k in 0..off.len() - 1 {
        let c = off[k].0;
        let validation = c >= 0 && c % 3 == 0;
        assert_eq!(off[k].2, !validation, "learning flag in cycle {c}");
        let unchanged = off[k].1 == off[k + 1].1;
        assert_eq!(
            unchanged, validation,
            "weights across cycle {c} (plasticity off)"
        );
        // The paper's protocol learns in validation cycles too.
        assert_ne!(
            on[k].1,
            on[k + 1].1,
            "weights across cycle {c} (plasticity on)"
        );
    }
    // Replay learns again.
    assert!(off.last().unwrap().2);
}

#[test]
fn self_nudged_uncued_somas_run_free_up_to_rounding() {
    let (spec, teacher, params) = setup(10);
    let rates = LearningRates::default();
    let mut net = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
    let train = TrainConfig::paper(30, 10);
    protocol(&train)
        .train(&mut net, &teacher, -70.0, &mut || {})
        .unwrap();
    let cued = |t: usize, i: usize| t < 60 || i < 4;
    let recall = |uncued: Uncued| {
        let mut n = net.clone();
        let r = protocol(&train)
            .cued_recall_with(&mut n, &teacher, teacher.cue_only(cued), &cued, uncued, 3)
            .unwrap();
        // The network's own teacher is back after the cue cycle.
        assert_eq!(n.teacher().g_exc(200), teacher.g_exc(200));
        r
    };
    let free = recall(Uncued::Free);
    let selfn = recall(Uncued::SelfNudged);
    // The default equals the plain cued recall bit for bit.
    let mut n = net.clone();
    let plain = protocol(&train)
        .cued_recall(&mut n, &teacher, teacher.cue_only(cued), 3)
        .unwrap();
    assert_eq!(plain.rates, free.rates);
    // Self-nudging takes another path (other rounding) ...
    assert_ne!(selfn.rates, free.rates);
    // ... but pulls towards where the soma already is: within rounding over the cue cycle.
    let s = free.samples_per_cycle;
    let total = free.rates.len() / N_VIS;
    let cue_cycle_diff = (0..N_VIS)
        .flat_map(|i| (0..s).map(move |k| i * total + k))
        .map(|k| (selfn.rates[k] - free.rates[k]).abs())
        .fold(0.0, f64::max);
    assert!(cue_cycle_diff < 1e-9, "{cue_cycle_diff}");
    // Nudging the same somas towards the pattern instead is far from free.
    let mut n = net.clone();
    let full = protocol(&train)
        .cued_recall(&mut n, &teacher, teacher.clone(), 3)
        .unwrap();
    let full_diff = (0..N_VIS * s)
        .map(|k| (full.rates[k / s * total + k % s] - free.rates[k / s * total + k % s]).abs())
        .fold(0.0, f64::max);
    assert!(full_diff > 1e-3, "{full_diff}");
}

/// The fork's error dead zone: errors up to `error_dead_zone` are set to 0 before the weight
/// update (none left in (0, dz] after a learning step), a dead zone wider than any error
/// (rates lie in (0, 1)) freezes the weights, and 0 learns as without it. The schedule keeps
/// the dead zone when it scales the rates.
#[test]
fn error_dead_zone_drops_small_errors() {
    let (spec, teacher, params) = setup(8);
    let run = |dz: f64| {
        let rates = LearningRates {
            error_dead_zone: dz,
            ..LearningRates::default()
        };
        let mut net = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
        let mut small = 0;
        for k in 0..600 {
            net.step(k % 250, params.nudging);
            small += net
                .state()
                .err
                .iter()
                .filter(|e| e.abs() > 0.0 && e.abs() <= dz)
                .count();
        }
        (net.weights(), small)
    };
    let (w0, _) = run(0.0);
    let (w_mid, small) = run(0.05);
    let (w_all, _) = run(0.999);
    assert_eq!(small, 0, "errors left inside the dead zone");
    assert_eq!(
        w_all, spec.w_init,
        "a dead zone wider than every error learns nothing"
    );
    assert_ne!(w0, spec.w_init);
    assert_ne!(w_mid, w0);
    assert_ne!(w_mid, spec.w_init);
    let base = LearningRates {
        error_dead_zone: 0.1,
        ..LearningRates::default()
    };
    let train = TrainConfig {
        epoch_cycles: 5,
        lr_decay: 0.5,
        ..TrainConfig::paper(20, 0)
    };
    assert_eq!(
        RateSchedule::new(&train, &base).rates(2).error_dead_zone,
        0.1
    );
}

/// Uniform initial weights (the fork's v3 files): within mean ± sqrt(3) std, with the config's
/// mean and standard deviation; the normal default is what the paper's networks draw.
#[test]
fn uniform_initial_weights() {
    let params = NeuronParams::default();
    let draw = |init| {
        let cfg = NetworkConfig {
            n_latent: 50,
            weight_init_mean: 0.2,
            weight_init: init,
            ..NetworkConfig::default()
        };
        let spec = NetworkSpec::generate(N_VIS, &cfg, &ScaffoldParams::default(), &params, Seed(9))
            .unwrap();
        let n = N_VIS + 50;
        let w: Vec<f64> = (0..n * n)
            .filter(|&k| k / n != k % n && spec.mask[k])
            .map(|k| spec.w_init[k])
            .collect();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        let (lo, hi) = w
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        (mean, sd, lo, hi)
    };
    let half = 3f64.sqrt() * 0.5;
    let (mean, sd, lo, hi) = draw(elise_dynamics::WeightInit::Uniform);
    assert!(
        (mean - 0.2).abs() < 0.03 && (sd - 0.5).abs() < 0.03,
        "{mean} {sd}"
    );
    assert!(lo >= 0.2 - half && hi < 0.2 + half, "{lo} {hi}");
    assert!(
        lo < 0.2 - 0.95 * half && hi > 0.2 + 0.95 * half,
        "fills its range: {lo} {hi}"
    );
    let (mean, sd, lo, hi) = draw(elise_dynamics::WeightInit::Normal);
    assert!(
        (mean - 0.2).abs() < 0.03 && (sd - 0.5).abs() < 0.03,
        "{mean} {sd}"
    );
    assert!(
        lo < 0.2 - half && hi > 0.2 + half,
        "normal tails: {lo} {hi}"
    );
}

fn point(cycle: i64, corr_sum: f64, mse: f64) -> elise_dynamics::protocol::CurvePoint {
    elise_dynamics::protocol::CurvePoint {
        phase: elise_dynamics::protocol::Phase::Validation,
        cycle,
        mse,
        corr_sum,
    }
}

#[test]
fn lock_in_is_the_first_window_that_qualifies() {
    let t = TrainConfig {
        lock_in_corr: 0.9,
        lock_in_mse: 0.01,
        lock_in_window: 3,
        lock_in_decay: 0.1,
        ..TrainConfig::paper(100, 20)
    };
    assert!(t.has_lock_in() && !TrainConfig::paper(100, 20).has_lock_in());
    // 2 visible neurons: corr_sum 1.9 is 0.95 per neuron.
    let pts = [
        point(0, 1.0, 0.05),
        point(20, 1.9, 0.005),
        point(40, 1.9, 0.005),
        point(60, 1.9, 0.005),
        point(80, 1.9, 0.02),
    ];
    // Window 0-40: mean corr 0.8 per neuron; window 20-60: 0.95 and MSE 0.005.
    assert_eq!(t.lock_in_cycle(&pts, 2), Some(60));
    // A window's mean MSE above the bound does not qualify; nor does a silent (NaN) score.
    let strict = TrainConfig {
        lock_in_mse: 0.004,
        ..t.clone()
    };
    assert_eq!(strict.lock_in_cycle(&pts, 2), None);
    let silent = [
        point(0, f64::NAN, 0.0),
        point(20, 1.9, 0.0),
        point(40, 1.9, 0.0),
    ];
    assert_eq!(t.lock_in_cycle(&silent, 2), None);
    // Off: threshold 0, or a factor of 1.
    for off in [
        TrainConfig {
            lock_in_corr: 0.0,
            ..t.clone()
        },
        TrainConfig {
            lock_in_decay: 1.0,
            ..t.clone()
        },
    ] {
        assert_eq!(off.lock_in_cycle(&pts, 2), None);
    }
    // Seen in pieces (a run resumed from a checkpoint), the same lock-in.
    let mut pieces = RateSchedule::new(&t, &LearningRates::default());
    for k in 0..=pts.len() {
        pieces.observe(&pts[..k], 2);
        assert_eq!(
            pieces.locked_at(),
            if k >= 4 { Some(60) } else { None },
            "{k}"
        );
        // Without lock_in_stop training always runs to its end.
        assert!(!pieces.stops());
        assert_eq!(pieces.cycles_run(100), 100);
    }
    // With it, training ends after the lock-in cycle (also with a factor of 1 on the rates).
    for decay in [0.1, 1.0] {
        let stop = TrainConfig {
            lock_in_stop: true,
            lock_in_decay: decay,
            ..t.clone()
        };
        assert!(stop.has_lock_in());
        let mut s = RateSchedule::new(&stop, &LearningRates::default());
        s.observe(&pts[..3], 2);
        assert!(!s.stops());
        assert_eq!(s.cycles_run(100), 100);
        s.observe(&pts, 2);
        assert!(s.stops());
        assert_eq!(s.cycles_run(100), 61);
        assert_eq!(s.cycles_run(50), 50, "never beyond the schedule");
    }
}

#[test]
fn lock_in_slows_learning_from_the_next_cycle_on_top_of_the_epochs() {
    let (spec, teacher, params) = setup(8);
    let base = LearningRates::default();
    let mut net = Network::new(&spec, &params, &base, teacher).unwrap();
    let train = TrainConfig {
        epoch_cycles: 2,
        lr_decay: 0.5,
        lock_in_corr: 0.5,
        lock_in_mse: 0.05,
        lock_in_window: 1,
        lock_in_decay: 0.1,
        ..TrainConfig::paper(7, 4)
    };
    let mut schedule = RateSchedule::new(&train, &base);
    // Validation cycle 0 does not qualify, cycle 4 does (13 visible neurons).
    schedule.observe(&[point(0, 1.0, 0.08)], N_VIS);
    schedule.before_cycle(&mut net, 3);
    assert_eq!(block_rates(&net).1, vec![base.eta_other * 0.5]);
    schedule.observe(&[point(0, 1.0, 0.08), point(4, 12.0, 0.01)], N_VIS);
    assert_eq!(schedule.locked_at(), Some(4));
    schedule.before_cycle(&mut net, 4);
    assert_eq!(
        block_rates(&net).1,
        vec![base.eta_other * 0.25],
        "cycle 4 itself is not slowed"
    );
    schedule.before_cycle(&mut net, 5);
    let (vv, other) = block_rates(&net);
    assert_eq!(other, vec![base.eta_other * (0.25 * 0.1)]);
    assert_eq!(vv, vec![base.eta_vv * (0.25 * 0.1)]);
    // Replay after 7 cycles: 3 epochs and the lock-in.
    schedule.finish(&mut net, 7);
    assert_eq!(block_rates(&net).1, vec![base.eta_other * (0.125 * 0.1)]);
}
