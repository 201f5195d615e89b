//! Teacher signal (docs/model.md (f)): target potentials with logistic ramps at note edges, and the
//! excitatory/inhibitory conductances that nudge a visible soma towards them.
//!
//! Ramps (x in ms): up(x) = E_L + 20/(1+exp(-0.7-x)), dn(x) = E_L + 20/(1+exp(-0.7+x)).
//! The step thresholds of the spec (67, 50, 66, 34, 33 for 100 steps per state) are the
//! fractions 2/3, 1/2 and 1/3 of the state length L, compared in exact integer arithmetic, so
//! other state durations (half or double speed) use the same rules.

use crate::{NeuronParams, Pattern};

const RAMP_AMPLITUDE_MV: f64 = 20.0;
const RAMP_OFFSET_MS: f64 = 0.7;
const RAMP_PLATEAU_MS: f64 = 10.0;

/// Teacher of one cycle, time-major: index `[t * n_visible + i]` for in-cycle step t.
#[derive(Clone, Debug)]
pub struct Teacher {
    n_visible: usize,
    steps_per_state: usize,
    cycle_len_steps: usize,
    target_mv: Vec<f64>,
    g_exc: Vec<f64>,
    g_inh: Vec<f64>,
    target_rate: Vec<f64>,
}

impl Teacher {
    /// Builds the teacher of `pattern` with `steps_per_state` integration steps per state.
    ///
    /// # Panics
    /// If `steps_per_state` is 0.
    pub fn new(pattern: &Pattern, params: &NeuronParams, steps_per_state: usize) -> Self {
        assert!(steps_per_state > 0, "steps_per_state must be positive");
        let n_visible = pattern.n_neurons();
        let cycle_len_steps = steps_per_state * pattern.n_states();
        let mut target_mv = vec![0.0; cycle_len_steps * n_visible];
        for i in 0..n_visible {
            for s in 0..pattern.n_states() {
                let s_i = s as isize;
                let (c, pr, nx) = (
                    pattern.at(i, s_i),
                    pattern.at(i, s_i - 1),
                    pattern.at(i, s_i + 1),
                );
                let amp = [
                    pattern.amplitude(i, s_i - 1),
                    pattern.amplitude(i, s_i),
                    pattern.amplitude(i, s_i + 1),
                ];
                for t in 0..steps_per_state {
                    let u = ramp_target(params, steps_per_state, t, c, pr, nx, amp);
                    target_mv[(s * steps_per_state + t) * n_visible + i] = u;
                }
            }
        }
        let (g_exc, g_inh): (Vec<f64>, Vec<f64>) = target_mv
            .iter()
            .map(|&u| params.teacher_conductances(u))
            .unzip();
        let target_rate = target_mv.iter().map(|&u| params.phi(u)).collect();
        Self {
            n_visible,
            steps_per_state,
            cycle_len_steps,
            target_mv,
            g_exc,
            g_inh,
            target_rate,
        }
    }

    pub fn n_visible(&self) -> usize {
        self.n_visible
    }
    pub fn steps_per_state(&self) -> usize {
        self.steps_per_state
    }
    /// Steps in one pass over the pattern.
    pub fn cycle_len_steps(&self) -> usize {
        self.cycle_len_steps
    }
    /// Target potentials of all visible neurons at in-cycle step `t` (mV).
    pub fn target_mv(&self, t: usize) -> &[f64] {
        &self.target_mv[t * self.n_visible..(t + 1) * self.n_visible]
    }
    /// Excitatory teacher conductances at step `t` (1/ms, not scaled by lambda).
    pub fn g_exc(&self, t: usize) -> &[f64] {
        &self.g_exc[t * self.n_visible..(t + 1) * self.n_visible]
    }
    /// Inhibitory teacher conductances at step `t` (1/ms, not scaled by lambda).
    pub fn g_inh(&self, t: usize) -> &[f64] {
        &self.g_inh[t * self.n_visible..(t + 1) * self.n_visible]
    }
    /// Target rates phi(Um) at step `t`.
    pub fn target_rate(&self, t: usize) -> &[f64] {
        &self.target_rate[t * self.n_visible..(t + 1) * self.n_visible]
    }

    /// Overwrites this teacher with `clean`'s targets plus `noise_mv` (time-major, one value per
    /// step and visible neuron, e.g. from [`crate::OuProcess::fill`]) and the conductances that
    /// nudge towards the noisy targets (the noisy tutor). Allocates nothing.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn set_noisy_from(&mut self, clean: &Teacher, noise_mv: &[f64], params: &NeuronParams) {
        assert_eq!(
            (self.n_visible, self.cycle_len_steps),
            (clean.n_visible, clean.cycle_len_steps),
            "teacher shapes"
        );
        assert_eq!(noise_mv.len(), clean.target_mv.len(), "noise shape");
        for (k, (&u0, &x)) in clean.target_mv.iter().zip(noise_mv).enumerate() {
            let u = u0 + x;
            self.target_mv[k] = u;
            (self.g_exc[k], self.g_inh[k]) = params.teacher_conductances(u);
            self.target_rate[k] = params.phi(u);
        }
    }

    /// Sets the target of visible neuron `i` at in-cycle step `t` to `u_mv`, with the
    /// conductances that nudge towards it and its rate (one entry; allocates nothing). Used for
    /// self-nudging in cued recall: a target equal to the soma's own potential.
    ///
    /// # Panics
    /// If `t` or `i` is out of range.
    pub fn set_target(&mut self, t: usize, i: usize, u_mv: f64, params: &NeuronParams) {
        assert!(
            t < self.cycle_len_steps && i < self.n_visible,
            "teacher entry out of range"
        );
        let k = t * self.n_visible + i;
        self.target_mv[k] = u_mv;
        (self.g_exc[k], self.g_inh[k]) = params.teacher_conductances(u_mv);
        self.target_rate[k] = params.phi(u_mv);
    }

    /// A copy that nudges only where `cued(t, i)` holds: elsewhere both teacher conductances are
    /// 0, so a nudged step (lambda = 1) integrates that soma exactly like a free one. Targets
    /// are unchanged (they still serve for scoring).
    pub fn cue_only(&self, cued: impl Fn(usize, usize) -> bool) -> Teacher {
        let mut t = self.clone();
        for step in 0..self.cycle_len_steps {
            for i in 0..self.n_visible {
                if !cued(step, i) {
                    let k = step * self.n_visible + i;
                    t.g_exc[k] = 0.0;
                    t.g_inh[k] = 0.0;
                }
            }
        }
        t
    }
}

/// Rising ramp to `amp` x 20 mV above rest (`amp` = 1 for binary patterns: `1.0 * 20.0` is
/// exactly 20, so binary teachers are bit-identical to the spec's formula).
fn ramp_up(p: &NeuronParams, x_ms: f64, amp: f64) -> f64 {
    p.e_leak_mv + amp * RAMP_AMPLITUDE_MV / (1.0 + (-RAMP_OFFSET_MS - x_ms).exp())
}

fn ramp_dn(p: &NeuronParams, x_ms: f64, amp: f64) -> f64 {
    p.e_leak_mv + amp * RAMP_AMPLITUDE_MV / (1.0 + (-RAMP_OFFSET_MS + x_ms).exp())
}

/// Target potential at in-state step `t` for current/previous/next values c, pr, nx and their
/// amplitudes `[previous, current, next]`. The rules are applied in the spec's order; a later
/// rule overwrites an earlier one. Ramps into a note use that note's amplitude, ramps out of a
/// note the amplitude of the note that ends.
fn ramp_target(
    p: &NeuronParams,
    len: usize,
    t: usize,
    c: u8,
    pr: u8,
    nx: u8,
    [a_pr, a_c, a_nx]: [f64; 3],
) -> f64 {
    let dt = p.dt_ms;
    let x_here = t as f64 * dt;
    let x_to_end = (t as f64 - len as f64) * dt;
    let plateau = ramp_up(p, RAMP_PLATEAU_MS, a_c);
    let ramp_up = |x: f64| ramp_up(p, x, a_c);
    let ramp_dn = |x: f64| ramp_dn(p, x, a_c);
    let mut u = f64::NAN;
    // 1. Off, next on: ramp up in the last third.
    if c == 0 && nx == 1 {
        u = if 3 * t >= 2 * len {
            self::ramp_up(p, x_to_end, a_nx)
        } else {
            p.e_leak_mv
        };
    }
    // 2. Off, next off: rest.
    if c == 0 && nx == 0 {
        u = p.e_leak_mv;
    }
    // 3. On after off.
    if c == 1 && pr == 0 {
        if nx == 0 && 2 * t <= len {
            u = ramp_up(x_here);
        }
        if nx == 1 && 3 * t <= 2 * len {
            u = ramp_up(x_here);
        }
        if nx == 1 && 3 * t > 2 * len {
            u = plateau;
        }
    }
    // 4. On, next off.
    if c == 1 && nx == 0 {
        if pr == 0 && 2 * t >= len {
            u = ramp_dn(x_to_end);
        }
        if pr == 1 && 3 * t >= len {
            u = ramp_dn(x_to_end);
        }
        if pr == 1 && 3 * t < len {
            u = plateau;
        }
    }
    // 5. On inside a run.
    if c == 1 && pr == 1 && nx == 1 {
        u = plateau;
    }
    // 6. Off after on: ramp down in the first third.
    if c == 0 && pr == 1 && 3 * t <= len {
        u = self::ramp_dn(p, x_here, a_pr);
    }
    debug_assert!(!u.is_nan(), "teacher rules cover every case");
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_values_of_neuron_2_and_6() {
        let p = NeuronParams::default();
        let t = Teacher::new(&Pattern::fuer_elise(), &p, 100);
        assert_eq!(t.cycle_len_steps(), 2500);
        assert_eq!(t.target_mv(666)[2], -70.0);
        assert!((t.target_mv(667)[2] - -68.617_231_6).abs() < 1e-7);
        assert!((t.target_mv(700)[2] - -56.636_2).abs() < 1e-4);
        assert_eq!(t.target_mv(834)[2], -70.0);
        for k in 0..=33 {
            assert!((t.target_mv(k)[6] - -50.000_450_9).abs() < 1e-7);
        }
        for k in 0..2500 {
            for i in 0..13 {
                assert!((t.g_exc(k)[i] + t.g_inh(k)[i] - 3.15).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn graded_notes_scale_the_target_above_rest() {
        let p = NeuronParams::default();
        let pat = Pattern::parse("# name: g nNeurons: 1 nSteps: 4\n0 0.5 0.5 0\n", "g").unwrap();
        assert!(pat.is_graded());
        let t = Teacher::new(&pat, &p, 100);
        let binary = Teacher::new(
            &Pattern::parse("# name: b nNeurons: 1 nSteps: 4\n0 1 1 0\n", "b").unwrap(),
            &p,
            100,
        );
        for k in 0..400 {
            let (g, b) = (t.target_mv(k)[0] + 70.0, binary.target_mv(k)[0] + 70.0);
            assert!((g - 0.5 * b).abs() < 1e-12, "step {k}: {g} vs {b}");
        }
        // Plateau half-way (in mV) between rest and the full note: a rate between the two.
        let r = t.target_rate(150)[0];
        assert!(r > 0.1 && r < 0.9 * binary.target_rate(150)[0], "{r}");
    }

    #[test]
    fn noisy_and_cue_only_copies() {
        let p = NeuronParams::default();
        let clean = Teacher::new(&Pattern::fuer_elise(), &p, 10);
        let mut noisy = clean.clone();
        let noise = vec![2.0; 250 * 13];
        noisy.set_noisy_from(&clean, &noise, &p);
        assert!((noisy.target_mv(7)[3] - clean.target_mv(7)[3] - 2.0).abs() < 1e-12);
        assert!((noisy.g_exc(7)[3] + noisy.g_inh(7)[3] - 3.15).abs() < 1e-12);
        let (ge, gi) = p.teacher_conductances(clean.target_mv(7)[3] + 2.0);
        assert_eq!((noisy.g_exc(7)[3], noisy.g_inh(7)[3]), (ge, gi));
        let cue = clean.cue_only(|t, i| t < 50 && i < 2);
        assert_eq!(cue.g_exc(10)[1], clean.g_exc(10)[1]);
        assert_eq!((cue.g_exc(10)[2], cue.g_inh(10)[2]), (0.0, 0.0));
        assert_eq!((cue.g_exc(60)[0], cue.g_inh(60)[0]), (0.0, 0.0));
        assert_eq!(cue.target_mv(60), clean.target_mv(60));
    }
}
