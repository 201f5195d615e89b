//! Reset to rest, teacher replacement and cued recall (the pieces of exp-completion and the
//! noisy tutor): a reset network behaves exactly like a fresh one with the learned weights, a
//! cue-only teacher leaves uncued somas exactly free, and a noisy tutor only acts through the
//! hook of `Protocol::train_with`.

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::protocol::SAMPLE_EVERY_STEPS;
use elise_dynamics::{Network, NetworkConfig, NetworkSpec, Protocol, ReplayConfig, TrainConfig};
use elise_plasticity::LearningRates;
use elise_scaffold::ScaffoldParams;

fn setup(n_latent: usize) -> (NetworkSpec, Teacher, NeuronParams) {
    let params = NeuronParams::default();
    let cfg = NetworkConfig {
        n_latent,
        ..NetworkConfig::default()
    };
    let spec =
        NetworkSpec::generate(13, &cfg, &ScaffoldParams::default(), &params, Seed(3)).unwrap();
    let teacher = Teacher::new(&Pattern::fuer_elise(), &params, 10);
    (spec, teacher, params)
}

#[test]
fn reset_network_equals_a_fresh_one_with_its_weights() {
    let (spec, teacher, params) = setup(20);
    let rates = LearningRates::default();
    let mut net = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
    for k in 0..3000 {
        net.step(k % 250, 1.0);
    }
    net.reset_to_rest();
    let fresh_spec = NetworkSpec {
        w_init: net.weights(),
        ..spec
    };
    let mut fresh = Network::new(&fresh_spec, &params, &rates, teacher).unwrap();
    assert_eq!(net.u(), fresh.u());
    for k in 0..700 {
        net.step(k % 250, if k < 300 { 1.0 } else { 0.0 });
        fresh.step(k % 250, if k < 300 { 1.0 } else { 0.0 });
    }
    assert_eq!(net.u(), fresh.u());
    assert_eq!(net.weights(), fresh.weights());
}

#[test]
fn cue_only_teacher_leaves_uncued_somas_free() {
    let (spec, teacher, params) = setup(10);
    let rates = LearningRates::default();
    let mut cued = Network::new(&spec, &params, &rates, teacher.clone()).unwrap();
    let mut free = cued.clone();
    // Nudge nobody: a nudged step equals a free one bit for bit.
    cued.set_teacher(teacher.cue_only(|_, _| false)).unwrap();
    for k in 0..500 {
        cued.step(k % 250, 1.0);
        free.step(k % 250, 0.0);
    }
    assert_eq!(cued.u(), free.u());
    // Shapes are checked.
    let other = Teacher::new(&Pattern::fuer_elise(), &params, 20);
    assert!(cued.set_teacher(other).is_err());
}

#[test]
fn cued_recall_records_cue_and_free_cycles() {
    let (spec, teacher, params) = setup(10);
    let mut net = Network::new(&spec, &params, &LearningRates::default(), teacher.clone()).unwrap();
    let train = TrainConfig::paper(4, 2);
    let replay = ReplayConfig {
        cycles: 5,
        nudged_cycles: 3,
        disruption_file: String::new(),
        disruption_cycle: 4,
    };
    let protocol = Protocol {
        train: &train,
        replay: &replay,
        disruption: None,
        sample_every_steps: SAMPLE_EVERY_STEPS,
    };
    // The hook sees every training cycle, in order.
    let mut seen = Vec::new();
    protocol
        .train_with(
            &mut net,
            &teacher,
            -70.0,
            &mut |_, c| seen.push(c),
            &mut || {},
        )
        .unwrap();
    assert_eq!(seen, vec![-1, 0, 1, 2, 3]);
    let steps = net.n_steps();
    let cue = teacher.cue_only(|t, _| t < 50);
    let r = protocol.cued_recall(&mut net, &teacher, cue, 3).unwrap();
    assert_eq!(r.samples_per_cycle, 125);
    assert_eq!(r.rates.len(), 13 * 4 * 125);
    assert_eq!(r.free.len(), 2);
    assert_eq!(net.n_steps(), steps + 4 * 250);
    // The network's own teacher is back: a nudged step uses the full teacher again.
    assert_eq!(net.teacher().g_exc(100), teacher.g_exc(100));
}
