//! Scaffold growth statistics against the golden reference (data/golden/scaffold_stats.json):
//! 20,000 networks of 13 visible + 50 latent, p = 0.2, q = 0.15, p0 = 0.04 grown by an
//! independent implementation of docs/model.md (c). Every mean and pmf entry (p >= 0.001) must agree
//! within |z| < 4 with z = (ours - ref) / sqrt(se_ref^2 + se_ours^2).

use elise_core::Seed;
use elise_scaffold::{ScaffoldParams, grow};
use serde_json::Value;

const M: usize = 20_000;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/golden/scaffold_stats.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden scaffold stats")).unwrap()
}

fn check(what: &str, ours: f64, reference: f64, se_ref: f64) {
    let se_ours = se_ref * (20_000.0 / M as f64).sqrt();
    let z = (ours - reference) / (se_ref * se_ref + se_ours * se_ours).sqrt();
    assert!(
        z.abs() < 4.0,
        "{what}: ours {ours:.5} vs reference {reference:.5} (z = {z:.2})"
    );
}

#[test]
fn growth_matches_reference_statistics() {
    let reference = fixture();
    let params = ScaffoldParams::default();
    let (mut edges, mut reached, mut dups) = (Vec::new(), Vec::new(), Vec::new());
    let mut out_counts = [0usize; 8];
    let mut in_counts = [0usize; 8];
    let (mut n_teachers, mut n_latent_total) = (0usize, 0usize);
    for net in 0..M {
        let sc = grow(13, 50, &params, &mut Seed(net as u64).stream("scaffold")).unwrap();
        edges.push(sc.edges().len() as f64);
        reached.push(sc.latent_reached() as f64);
        let mut distinct = sc.edges().to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        dups.push((sc.edges().len() - distinct.len()) as f64);
        let (n_out, n_in) = (sc.n_out(), sc.n_in());
        for i in 0..63 {
            let is_teacher = i < 13 || n_in[i] > 0;
            if is_teacher {
                out_counts[n_out[i].min(7)] += 1;
                n_teachers += 1;
            }
            if i >= 13 {
                in_counts[n_in[i].min(7)] += 1;
                n_latent_total += 1;
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for (key, ours) in [
        ("total_edges", mean(&edges)),
        ("latent_reached", mean(&reached)),
        ("duplicate_edges", mean(&dups)),
    ] {
        let r = &reference[key];
        check(
            key,
            ours,
            r["mean"].as_f64().unwrap(),
            r["se_mean"].as_f64().unwrap(),
        );
    }
    for (key, counts, total) in [
        ("n_out", &out_counts, n_teachers),
        ("n_in", &in_counts, n_latent_total),
    ] {
        for entry in reference[key]["pmf"].as_array().unwrap() {
            let p_ref = entry["p"].as_f64().unwrap();
            if p_ref < 0.001 {
                continue;
            }
            let k = entry["k"].as_u64().unwrap() as usize;
            let ours = counts[k] as f64 / total as f64;
            check(
                &format!("P({key} = {k})"),
                ours,
                p_ref,
                entry["se"].as_f64().unwrap(),
            );
        }
    }
    // The headline numbers of the spec, as a readable cross-check.
    assert!((mean(&edges) - 72.29).abs() < 0.2);
    let p_out: Vec<f64> = out_counts[..4]
        .iter()
        .map(|&c| c as f64 / n_teachers as f64)
        .collect();
    for (ours, spec) in p_out.iter().zip([0.04, 0.77, 0.19, 0.01]) {
        assert!((ours - spec).abs() < 0.01, "{p_out:?}");
    }
}
