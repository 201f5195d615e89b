//! The role every sequence model plays (ELiSe networks, echo-state networks, FORCE networks), so
//! that one protocol trains, validates and replays any of them and scores them identically.
//!
//! A model steps on the time base of its own [`crate::Teacher`] (in-cycle index `t`, cycle length
//! `teacher.cycle_len_steps()`), and `lambda` says whether the teacher is present (1: nudged,
//! teacher-forced or supervised; 0: free running). Its outputs are rates in the units of the
//! teacher's target rates phi(Um), one per visible unit.

use std::ops::Range;

/// A model that learns a pattern from a teacher and replays it without.
pub trait Model {
    /// Number of outputs (visible units).
    fn n_outputs(&self) -> usize;

    /// Advances one step at in-cycle teacher index `t` with teacher presence `lambda` in [0, 1].
    fn step(&mut self, t: usize, lambda: f64);

    /// Outputs after the last step (`n_outputs` values).
    fn output(&self) -> &[f64];

    /// Whether every state variable is finite (a diverged model is stopped with an error).
    fn is_finite(&self) -> bool;

    /// Whether [`Model::clamp_outputs`] is supported (disruption experiments need it).
    fn supports_clamp(&self) -> bool {
        false
    }

    /// Holds outputs `range` at the potential `u_mv` (a disruption) until
    /// [`Model::clear_clamp`]. Only called when [`Model::supports_clamp`] is true.
    fn clamp_outputs(&mut self, _range: Range<usize>, _u_mv: f64) {
        unreachable!("clamp_outputs called on a model without clamp support");
    }

    /// Releases every clamp.
    fn clear_clamp(&mut self) {}

    /// Number of plastic (trained) parameters.
    fn n_plastic(&self) -> usize;
}
