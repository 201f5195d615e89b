//! Conformance with the golden traces (data/golden, from docs/model.md (a)-(f) by an independent
//! reference simulator): every state variable after every recorded step and the weights at the
//! recorded steps agree within 1e-9, in all three modes; the Für Elise teacher agrees with the
//! reference CSV.

use elise_core::{NeuronParams, Pattern, Teacher};
use elise_dynamics::{Mode, Network, NetworkSpec};
use elise_plasticity::LearningRates;
use elise_scaffold::Scaffold;
use serde_json::Value;

const TOL: f64 = 1e-9;

fn golden(name: &str) -> Value {
    let path = format!("{}/../../data/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|x| {
            if x.is_array() {
                floats(x)
            } else {
                vec![x.as_f64().unwrap()]
            }
        })
        .collect()
}

fn ints(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Builds the fixture's network and checks its constants against our defaults.
fn network_of(d: &Value) -> (Network, Vec<f64>) {
    let p = &d["params"];
    let params = NeuronParams::default();
    for (key, ours) in [
        ("dt", params.dt_ms),
        ("E_L", params.e_leak_mv),
        ("E_I", params.e_inh_mv),
        ("g_L", params.g_leak),
        ("g_D", params.g_den),
        ("g_E0", params.g_exc0),
        ("g_I0", params.g_inh0),
        ("a", params.phi_slope_per_mv),
        ("b", params.phi_mid_mv),
        ("l", params.nudging),
    ] {
        assert_eq!(p[key].as_f64().unwrap(), ours, "param {key}");
    }
    let rates = LearningRates {
        eta_vv: p["eta_vv"].as_f64().unwrap(),
        eta_other: p["eta_other"].as_f64().unwrap(),
        ..LearningRates::default()
    };
    let net = &d["network"];
    let (nv, nl) = (
        net["n_visible"].as_u64().unwrap() as usize,
        net["n_latent"].as_u64().unwrap() as usize,
    );
    let edges = net["scaffold_edges_teacher_student"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_u64().unwrap() as usize,
                e[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let mode = match d["mode"].as_str().unwrap() {
        "elise" => Mode::Elise,
        "reservoir" => Mode::Reservoir,
        "somaonly" => Mode::SomaOnly,
        other => panic!("mode {other}"),
    };
    let spec = NetworkSpec {
        n_visible: nv,
        n_latent: nl,
        mode,
        mask: floats(&net["dendritic_mask"])
            .iter()
            .map(|&m| m == 1.0)
            .collect(),
        w_init: floats(&net["w_init"]),
        delay_den_steps: ints(&net["delay_den_steps"]),
        delay_exc_steps: ints(&net["delay_exc_steps"]),
        delay_inh_steps: ints(&net["delay_inh_steps"]),
        scaffold: Scaffold::from_edges(nv, nl, edges),
    };
    let rows: Vec<Vec<u8>> = d["pattern"]["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| ints(r).iter().map(|&x| x as u8).collect())
        .collect();
    let steps_per_state = d["pattern"]["steps_per_state"].as_u64().unwrap() as usize;
    let teacher = Teacher::new(&Pattern::from_rows("tiny", &rows), &params, steps_per_state);
    assert_eq!(
        teacher.cycle_len_steps(),
        d["pattern"]["cycle_len_steps"].as_u64().unwrap() as usize
    );
    (
        Network::new(&spec, &params, &rates, teacher).unwrap(),
        floats(&d["lambda_per_cycle"]),
    )
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Runs a fixture and returns the largest deviation; panics at the first value beyond 1e-9.
fn check_fixture(name: &str) -> f64 {
    let d = golden(name);
    let (mut net, lambdas) = network_of(&d);
    let cycle_len = net.teacher().cycle_len_steps();
    let n = net.n_neurons();
    let states = &d["states"];
    let state_steps = ints(&states["after_n_steps"]);
    let weights = &d["weights"];
    let weight_steps = ints(&weights["after_n_steps"]);
    let (mut next_state, mut next_weight, mut worst) = (0, 0, 0.0f64);
    for k in 0..d["n_steps"].as_u64().unwrap() as usize {
        net.step(k % cycle_len, lambdas[k / cycle_len]);
        let after = k + 1;
        if next_state < state_steps.len() && state_steps[next_state] == after {
            for (key, ours) in [
                ("U", net.u()),
                ("V", net.v()),
                ("Vstar", net.v_star()),
                ("trace", net.trace()),
                ("r", net.rate()),
                ("rstar", net.rate_star()),
            ] {
                let reference = floats(&states[key][next_state]);
                let diff = max_diff(ours, &reference);
                assert!(
                    diff <= TOL,
                    "{name}: {key} after {after} steps deviates by {diff:e}\n ours {ours:?}\n  ref {reference:?}"
                );
                worst = worst.max(diff);
            }
            next_state += 1;
        }
        if next_weight < weight_steps.len() && weight_steps[next_weight] == after {
            let reference = floats(&weights["W"][next_weight]);
            let ours = net.weights();
            let ours = ours.as_slice();
            assert_eq!(ours.len(), n * n);
            let diff = max_diff(ours, &reference);
            assert!(
                diff <= TOL,
                "{name}: W after {after} steps deviates by {diff:e}"
            );
            worst = worst.max(diff);
            next_weight += 1;
        }
    }
    assert_eq!(
        next_state,
        state_steps.len(),
        "{name}: every recorded state was compared"
    );
    assert_eq!(
        next_weight,
        weight_steps.len(),
        "{name}: every recorded weight matrix was compared"
    );
    worst
}

#[test]
fn tiny_elise_matches_golden_trace() {
    let worst = check_fixture("tiny.json");
    assert!(worst < 1e-11, "largest deviation {worst:e}");
}

#[test]
fn tiny_reservoir_matches_golden_trace() {
    check_fixture("tiny_reservoir.json");
}

#[test]
fn tiny_somaonly_matches_golden_trace() {
    check_fixture("tiny_somaonly.json");
}

#[test]
fn fuer_elise_teacher_matches_reference_csv() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/golden/teacher_fuer_elise.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let teacher = Teacher::new(&Pattern::fuer_elise(), &NeuronParams::default(), 100);
    let mut rows = 0;
    for (t, line) in text.lines().skip(1).enumerate() {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v[0] as usize, t);
        for i in 0..13 {
            assert!(
                (teacher.target_mv(t)[i] - v[1 + i]).abs() <= 1e-7,
                "Um_{i} at step {t}"
            );
        }
        assert!(
            (teacher.g_exc(t)[2] - v[14]).abs() <= 1e-8,
            "gT_E_2 at step {t}"
        );
        assert!(
            (teacher.g_inh(t)[2] - v[15]).abs() <= 1e-8,
            "gT_I_2 at step {t}"
        );
        rows += 1;
    }
    assert_eq!(rows, 2500);
}
