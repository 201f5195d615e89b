//! Would f32 weights keep the learning rule's updates? (Not a criterion bench: a measurement
//! behind the decision not to offer an f32 weight mode; see docs/performance.md.)
//!
//! Trains the demo network (13 + 50 neurons, Für Elise teacher on, plasticity on, f64) and, at a
//! few points of training, compares every weight's update of one step with the spacing of f32
//! numbers at that weight: an update smaller than half an f32 ulp of its weight is rounded away
//! when W is stored in f32. Prints, per checkpoint, the fraction of non-zero updates lost that
//! way and the median |update| / ulp_f32(w).
//!
//! ```sh
//! cargo bench -p elise-dynamics --bench precision [-- STEPS]   # default 2,000,000
//! ```

mod common;

use elise_plasticity::LayoutChoice;

/// Distance from |w| to the next f32 away from zero (as f64).
fn ulp_f32(w: f64) -> f64 {
    let x = (w as f32).abs();
    (f32::from_bits(x.to_bits() + 1) - x) as f64
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let steps: usize = args
        .first()
        .map_or(2_000_000, |s| s.parse().expect("steps"));
    let (mut net, _) = common::demo_network(63, 1.0, LayoutChoice::Auto);
    let checkpoints: Vec<usize> = [0, steps / 100, steps / 10, steps]
        .into_iter()
        .filter(|&s| s <= steps)
        .collect();
    eprintln!(
        "step (after the 2500-step transient) | non-zero updates | lost in f32 | median |dw| / ulp_f32(w) | median |w|"
    );
    let mut done = 0;
    for &at in &checkpoints {
        while done < at {
            net.step(done % 2500, 1.0);
            done += 1;
        }
        // Sample 100 consecutive steps: W before and after each.
        let (mut lost, mut nonzero) = (0usize, 0usize);
        let (mut ratios, mut mags) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            let w0 = net.weights();
            net.step(done % 2500, 1.0);
            done += 1;
            let w1 = net.weights();
            for (&a, &b) in w0.iter().zip(&w1) {
                let dw = (b - a).abs();
                if dw > 0.0 {
                    nonzero += 1;
                    let r = dw / ulp_f32(a);
                    if r < 0.5 {
                        lost += 1;
                    }
                    ratios.push(r);
                    mags.push(a.abs());
                }
            }
        }
        ratios.sort_by(f64::total_cmp);
        mags.sort_by(f64::total_cmp);
        let med = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
        eprintln!(
            "{at:>10} | {nonzero:>8} | {:>5.1} % | {:.3} | {:.3}",
            100.0 * lost as f64 / nonzero.max(1) as f64,
            med(&ratios),
            med(&mags)
        );
    }
}
