//! Teacher signal (MODEL.md (f)): target potentials with logistic ramps at note edges, and the
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
                for t in 0..steps_per_state {
                    let u = ramp_target(params, steps_per_state, t, c, pr, nx);
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
}

fn ramp_up(p: &NeuronParams, x_ms: f64) -> f64 {
    p.e_leak_mv + RAMP_AMPLITUDE_MV / (1.0 + (-RAMP_OFFSET_MS - x_ms).exp())
}

fn ramp_dn(p: &NeuronParams, x_ms: f64) -> f64 {
    p.e_leak_mv + RAMP_AMPLITUDE_MV / (1.0 + (-RAMP_OFFSET_MS + x_ms).exp())
}

/// Target potential at in-state step `t` for current/previous/next values c, pr, nx. The rules
/// are applied in the spec's order; a later rule overwrites an earlier one.
fn ramp_target(p: &NeuronParams, len: usize, t: usize, c: u8, pr: u8, nx: u8) -> f64 {
    let dt = p.dt_ms;
    let x_here = t as f64 * dt;
    let x_to_end = (t as f64 - len as f64) * dt;
    let plateau = ramp_up(p, RAMP_PLATEAU_MS);
    let mut u = f64::NAN;
    // 1. Off, next on: ramp up in the last third.
    if c == 0 && nx == 1 {
        u = if 3 * t >= 2 * len {
            ramp_up(p, x_to_end)
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
            u = ramp_up(p, x_here);
        }
        if nx == 1 && 3 * t <= 2 * len {
            u = ramp_up(p, x_here);
        }
        if nx == 1 && 3 * t > 2 * len {
            u = plateau;
        }
    }
    // 4. On, next off.
    if c == 1 && nx == 0 {
        if pr == 0 && 2 * t >= len {
            u = ramp_dn(p, x_to_end);
        }
        if pr == 1 && 3 * t >= len {
            u = ramp_dn(p, x_to_end);
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
        u = ramp_dn(p, x_here);
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
}
