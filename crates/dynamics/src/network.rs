//! The network state and one integration step.
//!
//! Delay lines (`delay.rs`, staged in blocks of steps) give the rates of earlier steps,
//! equivalent to the CUDA ring buffers (one per neuron and kind) and pinned by the golden
//! traces:
//! - dendritic input in step k reads r_j(k - (D_den_j - 1));
//! - scaffold conductances in step k read r_c(k - D_exc_c) and r_c(k - D_inh_c), floored at the
//!   resting rate;
//! - rates of steps before 0 are the resting rate.
//!
//! The weight update of step k is applied lazily, fused with the dendritic mat-vec of step k+1
//! (same operations in the same order, one pass over W). [`Network::weights`] flushes it.

use crate::build::{Mode, NetworkSpec};
use crate::delay::DelayLines;
use elise_core::{AlignedVec, NeuronParams, Teacher};
use elise_plasticity::{
    Dendrites, Layout, LayoutChoice, LearningRates, PlasticRows, SparseWeights,
};
use elise_scaffold::Scaffold;

/// Why a network spec was rejected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BuildError {
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("delay {kind} of neuron {neuron} is {steps} steps; delays must be at least 2 steps")]
    DelayTooShort {
        kind: &'static str,
        neuron: usize,
        steps: usize,
    },
    #[error("the teacher has {teacher} visible neurons but the network has {network}")]
    TeacherSize { teacher: usize, network: usize },
    #[error("synapse {post} <- {pre} is absent in the mask but has weight {w}")]
    AbsentWeight { post: usize, pre: usize, w: f64 },
}

/// A running ELiSe network.
#[derive(Clone, Debug)]
pub struct Network {
    n: usize,
    n_visible: usize,
    mode: Mode,
    params: NeuronParams,
    teacher: Teacher,
    /// Dendritic weights and learning rates (dense or sparse layout, same results).
    dendrites: Dendrites,
    // Per-neuron state, `stride` entries each (n rounded up to 8): the padding lanes are
    // integrated like neurons at rest without input (finite, never read as neurons; the trace
    // padding stays exactly 0, which the weight kernels need).
    u: AlignedVec,
    v: AlignedVec,
    v_star: AlignedVec,
    trace: AlignedVec,
    rate: AlignedVec,
    rate_star: AlignedVec,
    /// r - r* of the last step (the rule's error term).
    err: AlignedVec,
    delay_den: Vec<usize>,
    delay_exc: Vec<usize>,
    delay_inh: Vec<usize>,
    /// Rate history: the delayed reads of each step.
    delays: DelayLines,
    /// Scaffold teachers per student, compressed rows: teachers of i are
    /// `teacher_idx[teacher_ptr[i]..teacher_ptr[i + 1]]`, a multiset in growth order (the order
    /// of the conductance sums), which the scaffold's sprs matrix (sorted, distinct columns with
    /// counts) does not keep; hence a list of its own for the step.
    teacher_ptr: Vec<usize>,
    teacher_idx: Vec<usize>,
    /// Steps executed so far.
    n_steps: u64,
    pending_update: bool,
    learning: bool,
    /// [`LearningRates::error_dead_zone`] (0 = none).
    error_dead_zone: f64,
    /// Per visible neuron: Some(U in mV) while it is clamped by a disruption.
    clamp_mv: Vec<Option<f64>>,
    any_clamp: bool,
    // Scratch, reused every step (`stride` entries).
    drive: AlignedVec,
    /// Somatic conductances: the teacher's for visible neurons, the scaffold's for latent ones.
    g_exc_out: AlignedVec,
    g_inh_out: AlignedVec,
    /// Per neuron: nudging factor (lambda for visible neurons, 1 for latent ones) and
    /// dendrite-to-soma coupling.
    nudge: AlignedVec,
    g_couple: AlignedVec,
    /// Whether the CPU has AVX2 (the fused neuron pass).
    avx2: bool,
    // Constants.
    phi_rest: f64,
    trace_coef: f64,
    /// The scaffold it was built with (not read by the step; see `export.rs`).
    scaffold: Scaffold,
}

impl Network {
    /// A network at rest (docs/model.md (a) initial state) for an explicit spec.
    pub fn new(
        spec: &NetworkSpec,
        params: &NeuronParams,
        rates: &LearningRates,
        teacher: Teacher,
    ) -> Result<Self, BuildError> {
        Self::with_layout(spec, params, rates, teacher, LayoutChoice::Auto)
    }

    /// [`Network::new`] with an explicit storage layout of the dendritic weights (the default
    /// picks the fastest; every layout gives the same results bit for bit).
    pub fn with_layout(
        spec: &NetworkSpec,
        params: &NeuronParams,
        rates: &LearningRates,
        teacher: Teacher,
        layout: LayoutChoice,
    ) -> Result<Self, BuildError> {
        let n = spec.n_visible + spec.n_latent;
        let shape = |what, expected, got| {
            if expected == got {
                Ok(())
            } else {
                Err(BuildError::Shape {
                    what,
                    expected,
                    got,
                })
            }
        };
        shape("dendritic mask entries (n x n)", n * n, spec.mask.len())?;
        shape("initial weights (n x n)", n * n, spec.w_init.len())?;
        shape("dendritic delays", n, spec.delay_den_steps.len())?;
        shape("excitatory delays", n, spec.delay_exc_steps.len())?;
        shape("inhibitory delays", n, spec.delay_inh_steps.len())?;
        shape("scaffold neurons", n, spec.scaffold.n_neurons())?;
        if teacher.n_visible() != spec.n_visible {
            return Err(BuildError::TeacherSize {
                teacher: teacher.n_visible(),
                network: spec.n_visible,
            });
        }
        for (kind, delays) in [
            ("dendritic", &spec.delay_den_steps),
            ("excitatory", &spec.delay_exc_steps),
            ("inhibitory", &spec.delay_inh_steps),
        ] {
            if let Some((neuron, &steps)) = delays.iter().enumerate().find(|&(_, &d)| d < 2) {
                return Err(BuildError::DelayTooShort {
                    kind,
                    neuron,
                    steps,
                });
            }
        }
        for (k, (&m, &w)) in spec.mask.iter().zip(&spec.w_init).enumerate() {
            if !m && w != 0.0 {
                return Err(BuildError::AbsentWeight {
                    post: k / n,
                    pre: k % n,
                    w,
                });
            }
        }
        let rows = match spec.mode {
            Mode::Elise | Mode::SomaOnly => PlasticRows::All,
            Mode::Reservoir => PlasticRows::VisibleOnly,
        };
        let dendrites = Dendrites::new(
            &spec.mask,
            &spec.w_init,
            n,
            spec.n_visible,
            rates,
            rows,
            layout,
        );
        let stride = dendrites.stride();
        let phi_rest = params.phi_rest();
        let mut teacher_ptr = vec![0];
        let mut teacher_idx = Vec::new();
        for teachers in spec.scaffold.teachers_of() {
            teacher_idx.extend(teachers);
            teacher_ptr.push(teacher_idx.len());
        }
        // The step reads the scaffold sums without bounds checks.
        assert!(
            teacher_idx.iter().all(|&c| c < n),
            "scaffold teacher out of range"
        );
        let e_l = params.e_leak_mv;
        let delays = DelayLines::new(
            stride,
            &spec.delay_den_steps,
            &spec.delay_exc_steps,
            &spec.delay_inh_steps,
            !teacher_idx.is_empty(),
            phi_rest,
            params.g_exc0,
            params.g_inh0,
        );
        let g_d_latent = if spec.mode == Mode::SomaOnly {
            0.0
        } else {
            params.g_den
        };
        let mut g_couple = vec![0.0; stride];
        g_couple[..spec.n_visible].fill(params.g_den);
        g_couple[spec.n_visible..n].fill(g_d_latent);
        Ok(Self {
            n,
            n_visible: spec.n_visible,
            mode: spec.mode,
            params: params.clone(),
            teacher,
            dendrites,
            u: AlignedVec::filled(stride, e_l),
            v: AlignedVec::filled(stride, e_l),
            v_star: AlignedVec::filled(stride, e_l),
            trace: AlignedVec::filled(stride, 0.0),
            rate: AlignedVec::filled(stride, phi_rest),
            rate_star: AlignedVec::filled(stride, phi_rest),
            err: AlignedVec::filled(stride, 0.0),
            delay_den: spec.delay_den_steps.clone(),
            delay_exc: spec.delay_exc_steps.clone(),
            delay_inh: spec.delay_inh_steps.clone(),
            delays,
            teacher_ptr,
            teacher_idx,
            n_steps: 0,
            pending_update: false,
            learning: true,
            error_dead_zone: rates.error_dead_zone,
            clamp_mv: vec![None; spec.n_visible],
            any_clamp: false,
            drive: AlignedVec::filled(stride, 0.0),
            g_exc_out: AlignedVec::filled(stride, 0.0),
            g_inh_out: AlignedVec::filled(stride, 0.0),
            nudge: AlignedVec::filled(stride, 1.0),
            g_couple: g_couple.into(),
            avx2: avx2_available(),
            phi_rest,
            trace_coef: params.trace_coefficient(),
            scaffold: spec.scaffold.clone(),
        })
    }

    /// One integration step at in-cycle teacher index `t` with nudging factor `lambda` for the
    /// visible neurons (1 = nudged, 0 = free). Allocates nothing.
    pub fn step(&mut self, t: usize, lambda: f64) {
        let n = self.n;
        let nv = self.n_visible;
        let k = self.n_steps;
        let p = &self.params;
        // Sub-step 1: delayed rates and dendritic input (fused with the previous step's update).
        self.delays.advance(k);
        let delayed = self.delays.den(k);
        if self.pending_update {
            self.dendrites.update_and_drive(
                &self.err[..n],
                &self.trace,
                delayed,
                &mut self.drive[..n],
            );
            self.pending_update = false;
        } else {
            self.dendrites.drive(delayed, &mut self.drive[..n]);
        }
        // Scaffold conductances of each latent soma: the sum over its teachers (a multiset) of
        // their delayed rates floored at rest, scaled; kept at the student's index.
        let (se, si) = self.delays.scaffold(k);
        let idx = &self.teacher_idx[..];
        for ((g_e, g_i), w) in self.g_exc_out[nv..n]
            .iter_mut()
            .zip(&mut self.g_inh_out[nv..n])
            .zip(self.teacher_ptr[nv..=n].windows(2))
        {
            let (mut e, mut i) = (0.0, 0.0);
            for &c in &idx[w[0]..w[1]] {
                // SAFETY: every teacher index is below n (checked in `with_layout`).
                unsafe {
                    e += *se.get_unchecked(c);
                    i += *si.get_unchecked(c);
                }
            }
            *g_e = e;
            *g_i = i;
        }
        self.g_exc_out[..nv].copy_from_slice(self.teacher.g_exc(t));
        self.g_inh_out[..nv].copy_from_slice(self.teacher.g_inh(t));
        self.nudge[..nv].fill(lambda);
        // Sub-step 2: soma (visible: teacher, latent: scaffold), dendritic prediction (both from
        // V before its update), dendrite, trace; every neuron (and the padding) in one pass.
        let consts = Integration::new(p, self.trace_coef);
        let st = NeuronSlices {
            u: &mut self.u,
            v: &mut self.v,
            v_star: &mut self.v_star,
            trace: &mut self.trace,
            g_e: &self.g_exc_out,
            g_i: &self.g_inh_out,
            m: &self.nudge,
            g_d: &self.g_couple,
            drive: &self.drive,
            delayed,
        };
        let out = RateSlices {
            rate: &mut self.rate,
            rate_star: &mut self.rate_star,
            err: &mut self.err,
        };
        // Sub-step 3 (rates and error terms) follows in the same pass; then the new rate
        // enters the delay line.
        let clamp = if self.any_clamp {
            &self.clamp_mv[..]
        } else {
            &[]
        };
        #[cfg(target_arch = "x86_64")]
        if self.avx2 && clamp.is_empty() {
            // SAFETY: AVX2 was detected at construction.
            unsafe { neuron_pass_avx2(st, out, p, &consts) };
        } else {
            neuron_pass(st, out, p, &consts, clamp);
        }
        #[cfg(not(target_arch = "x86_64"))]
        neuron_pass(st, out, p, &consts, clamp);
        self.delays.push(k, &self.rate);
        // Sub-step 4: the weight update, applied with the next step's mat-vec; small errors
        // first set to 0 when there is a dead zone.
        if self.learning && self.error_dead_zone > 0.0 {
            let dz = self.error_dead_zone;
            for e in &mut self.err[..self.n] {
                if e.abs() <= dz {
                    *e = 0.0;
                }
            }
        }
        self.pending_update = self.learning;
        self.n_steps += 1;
    }

    /// Applies a pending weight update now.
    pub fn flush_weights(&mut self) {
        if self.pending_update {
            self.dendrites.update(&self.err[..self.n], &self.trace);
            self.pending_update = false;
        }
    }

    /// Dendritic weights after the last step, row-major `[post * n + pre]` (a copy).
    pub fn weights(&mut self) -> Vec<f64> {
        self.flush_weights();
        self.dendrites.to_dense()
    }

    /// Dendritic weights after the last step as a sparse matrix (a copy): row = post, column =
    /// pre, one entry per existing synapse (absent synapses have none). Applies a pending
    /// update first, as [`Network::weights`] (which changes no result).
    pub fn weights_sparse(&mut self) -> SparseWeights {
        self.flush_weights();
        self.dendrites.to_sparse()
    }

    /// The scaffold the network was built with; [`Scaffold::matrix`] is its adjacency matrix.
    pub fn scaffold(&self) -> &Scaffold {
        &self.scaffold
    }

    /// Switches plasticity on or off (it is on by default, as in the CUDA code).
    pub fn set_learning(&mut self, on: bool) {
        self.learning = on;
    }

    /// Whether plasticity is on.
    pub fn learning(&self) -> bool {
        self.learning
    }

    /// Learning rates per synapse, row-major `[post * n + pre]` (0 for absent or frozen
    /// synapses).
    pub fn learning_rates(&self) -> Vec<f64> {
        self.dendrites.rates_dense()
    }

    /// Gives every plastic synapse the rate of its block in `rates` (as if the network had been
    /// built with them; absent and frozen synapses stay at 0). Weights, state and the storage
    /// layout are kept; a pending update (of the last step) is applied in the next step with
    /// the new rates. Rebuilds the weight storage: O(n^2), meant for rare changes such as a
    /// learning-rate schedule ([`crate::protocol::RateSchedule`]).
    pub fn set_learning_rates(&mut self, rates: &LearningRates) {
        self.error_dead_zone = rates.error_dead_zone;
        let n = self.n;
        let mut mask = vec![false; n * n];
        let synapses = self.dendrites.to_sparse();
        for (post, row) in synapses.outer_iterator().enumerate() {
            for (pre, _) in row.iter() {
                mask[post * n + pre] = true;
            }
        }
        let rows = match self.mode {
            Mode::Elise | Mode::SomaOnly => PlasticRows::All,
            Mode::Reservoir => PlasticRows::VisibleOnly,
        };
        let w = self.dendrites.to_dense();
        self.dendrites = Dendrites::new(
            &mask,
            &w,
            n,
            self.n_visible,
            rates,
            rows,
            LayoutChoice::Force(self.dendrites.layout()),
        );
    }

    /// Sets the teacher's target of visible neuron `i` at in-cycle step `t` to `u_mv` (with
    /// its conductances; [`Teacher::set_target`]), e.g. the soma's own potential (self-nudging
    /// in cued recall). Allocates nothing.
    pub fn set_teacher_target(&mut self, t: usize, i: usize, u_mv: f64) {
        self.teacher.set_target(t, i, u_mv, &self.params);
    }

    /// Holds the soma of visible neurons `neurons` at `u_mv` instead of integrating it, until
    /// [`Network::clear_clamp`]. V, traces, rates and delay lines go on as usual.
    pub fn clamp_visible(&mut self, neurons: std::ops::Range<usize>, u_mv: f64) {
        for c in &mut self.clamp_mv[neurons] {
            *c = Some(u_mv);
        }
        self.any_clamp = self.clamp_mv.iter().any(Option::is_some);
    }

    /// Releases every clamp.
    pub fn clear_clamp(&mut self) {
        self.clamp_mv.fill(None);
        self.any_clamp = false;
    }

    pub fn n_neurons(&self) -> usize {
        self.n
    }
    pub fn n_visible(&self) -> usize {
        self.n_visible
    }
    pub fn n_steps(&self) -> u64 {
        self.n_steps
    }
    pub fn teacher(&self) -> &Teacher {
        &self.teacher
    }
    pub fn params(&self) -> &NeuronParams {
        &self.params
    }
    /// Soma potentials (mV).
    pub fn u(&self) -> &[f64] {
        &self.u[..self.n]
    }
    /// Dendrite potentials (mV).
    pub fn v(&self) -> &[f64] {
        &self.v[..self.n]
    }
    /// Dendritic predictions of the soma (mV).
    pub fn v_star(&self) -> &[f64] {
        &self.v_star[..self.n]
    }
    /// Presynaptic traces.
    pub fn trace(&self) -> &[f64] {
        &self.trace[..self.n]
    }
    /// Rates phi(U).
    pub fn rate(&self) -> &[f64] {
        &self.rate[..self.n]
    }
    /// Predicted rates phi(V*).
    pub fn rate_star(&self) -> &[f64] {
        &self.rate_star[..self.n]
    }
    /// Number of plastic synapses (non-zero learning rate).
    pub fn n_plastic(&self) -> usize {
        self.dendrites.n_plastic()
    }
    /// Storage layout of the dendritic weights.
    pub fn layout(&self) -> Layout {
        self.dendrites.layout()
    }
    /// Heap bytes of the network state (weights, rates, delay lines, buffers).
    pub fn memory_bytes(&self) -> usize {
        self.dendrites.memory_bytes()
            + [
                &self.u,
                &self.v,
                &self.v_star,
                &self.trace,
                &self.rate,
                &self.rate_star,
                &self.err,
                &self.drive,
                &self.g_exc_out,
                &self.g_inh_out,
                &self.nudge,
                &self.g_couple,
            ]
            .into_iter()
            .map(AlignedVec::heap_bytes)
            .sum::<usize>()
            + 8 * (self.teacher_ptr.capacity() + self.teacher_idx.capacity())
            + 16 * self.scaffold.edges().len()
            + 8 * self.scaffold.matrix().indptr().len()
            + 12 * self.scaffold.matrix().nnz()
            + self.delays.memory_bytes()
    }
    /// Whether every state variable is finite.
    pub fn is_finite(&self) -> bool {
        let n = self.n;
        self.u[..n]
            .iter()
            .chain(&self.v[..n])
            .chain(&self.trace[..n])
            .all(|x| x.is_finite())
    }

    /// Replaces the teacher the visible somas are nudged by (same visible neurons and cycle
    /// length) and returns the previous one; e.g. a noisy tutor per training cycle, or a cue
    /// that nudges only some neurons or steps ([`Teacher::cue_only`]).
    pub fn set_teacher(&mut self, teacher: Teacher) -> Result<Teacher, BuildError> {
        if teacher.n_visible() != self.n_visible {
            return Err(BuildError::TeacherSize {
                teacher: teacher.n_visible(),
                network: self.n_visible,
            });
        }
        if teacher.cycle_len_steps() != self.teacher.cycle_len_steps() {
            return Err(BuildError::Shape {
                what: "teacher cycle length (steps)",
                expected: self.teacher.cycle_len_steps(),
                got: teacher.cycle_len_steps(),
            });
        }
        Ok(std::mem::replace(&mut self.teacher, teacher))
    }

    /// Resets all activity to rest (the initial state of docs/model.md (a): U = V = V* = E_L, rates
    /// at phi(E_L), traces 0, delay lines at rest, no clamp) and keeps the learned weights (a
    /// pending weight update is applied first). The step counter keeps counting.
    pub fn reset_to_rest(&mut self) {
        self.flush_weights();
        let e_l = self.params.e_leak_mv;
        self.u.fill(e_l);
        self.v.fill(e_l);
        self.v_star.fill(e_l);
        self.trace.fill(0.0);
        self.rate.fill(self.phi_rest);
        self.rate_star.fill(self.phi_rest);
        self.err.fill(0.0);
        self.delays.reset();
        self.clear_clamp();
    }

    // --- Checkpoint accessors (logical state, independent of the storage layout) ---

    /// The complete logical state, for [`crate::checkpoint`]: the weights as an n x n matrix
    /// (the pending update not applied), every per-neuron vector, the delay lines as the rates
    /// of the last `history_steps` steps (newest first), the scaffold and the clamp.
    pub fn state(&self) -> crate::checkpoint::NetworkState {
        let n = self.n;
        let max_delay = longest_delay(&self.delay_den, &self.delay_exc, &self.delay_inh);
        let history = self.delays.history(self.n_steps, max_delay);
        crate::checkpoint::NetworkState {
            n_visible: self.n_visible,
            n_latent: n - self.n_visible,
            mode: self.mode,
            params: self.params.clone(),
            w: self.dendrites.to_dense(),
            n_plastic: self.dendrites.n_plastic(),
            pending_update: self.pending_update,
            learning: self.learning,
            u: self.u[..n].to_vec(),
            v: self.v[..n].to_vec(),
            v_star: self.v_star[..n].to_vec(),
            trace: self.trace[..n].to_vec(),
            rate: self.rate[..n].to_vec(),
            rate_star: self.rate_star[..n].to_vec(),
            err: self.err[..n].to_vec(),
            delay_den: self.delay_den.clone(),
            delay_exc: self.delay_exc.clone(),
            delay_inh: self.delay_inh.clone(),
            history,
            scaffold_ptr: self.teacher_ptr.clone(),
            scaffold_idx: self.teacher_idx.clone(),
            n_steps: self.n_steps,
            clamp_mv: self.clamp_mv.clone(),
            teacher_fingerprint: crate::checkpoint::teacher_fingerprint(&self.teacher),
        }
    }

    /// Rebuilds the network that [`Network::state`] was taken from: `spec` (its mask, delays
    /// and scaffold; the initial weights are ignored) and `rates` are those it was built with,
    /// `teacher` the one it ran with. Delays, scaffold, the number of plastic synapses and the
    /// teacher's fingerprint are checked against the state. The rebuilt network continues bit
    /// for bit like the original.
    pub fn from_state(
        spec: &NetworkSpec,
        rates: &LearningRates,
        state: &crate::checkpoint::NetworkState,
        teacher: Teacher,
    ) -> Result<Self, crate::checkpoint::StateError> {
        use crate::checkpoint::StateError;
        state.validate().map_err(StateError)?;
        let differs = |what: &str| {
            StateError(format!(
                "the saved network has other {what} than the network of this config and seed"
            ))
        };
        if (spec.n_visible, spec.n_latent) != (state.n_visible, state.n_latent) {
            return Err(StateError(format!(
                "the saved network has {} visible + {} latent neurons, this config {} + {}",
                state.n_visible, state.n_latent, spec.n_visible, spec.n_latent
            )));
        }
        if spec.mode != state.mode {
            return Err(differs("a mode"));
        }
        if spec.delay_den_steps != state.delay_den
            || spec.delay_exc_steps != state.delay_exc
            || spec.delay_inh_steps != state.delay_inh
        {
            return Err(differs("delays"));
        }
        let mut ptr = vec![0];
        let mut idx = Vec::new();
        for teachers in spec.scaffold.teachers_of() {
            idx.extend(teachers);
            ptr.push(idx.len());
        }
        if ptr != state.scaffold_ptr || idx != state.scaffold_idx {
            return Err(differs("scaffold edges"));
        }
        let fingerprint = crate::checkpoint::teacher_fingerprint(&teacher);
        if fingerprint != state.teacher_fingerprint {
            return Err(StateError(format!(
                "the saved network ran with another teacher (fingerprint {:016x}; this config gives {fingerprint:016x}): the pattern, pattern.state_ms and the neuron parameters must be those of the run that saved it",
                state.teacher_fingerprint
            )));
        }
        let with_weights = NetworkSpec {
            w_init: state.w.clone(),
            ..spec.clone()
        };
        let mut net = Self::new(&with_weights, &state.params, rates, teacher)
            .map_err(|e| StateError(format!("the saved weights do not fit the mask: {e}")))?;
        if net.n_plastic() != state.n_plastic {
            return Err(StateError(format!(
                "the saved network has {} plastic synapses, this config {} (network.mode, connectivity or [plasticity] differ)",
                state.n_plastic,
                net.n_plastic()
            )));
        }
        let n = state.n_neurons();
        net.u[..n].copy_from_slice(&state.u);
        net.v[..n].copy_from_slice(&state.v);
        net.v_star[..n].copy_from_slice(&state.v_star);
        net.trace[..n].copy_from_slice(&state.trace);
        net.rate[..n].copy_from_slice(&state.rate);
        net.rate_star[..n].copy_from_slice(&state.rate_star);
        net.err[..n].copy_from_slice(&state.err);
        net.delays.restore(state.n_steps, &state.history);
        net.n_steps = state.n_steps;
        net.pending_update = state.pending_update;
        net.learning = state.learning;
        net.clamp_mv.clone_from(&state.clamp_mv);
        net.any_clamp = net.clamp_mv.iter().any(Option::is_some);
        Ok(net)
    }

    /// Cheap numerical health check (O(n), meant once per cycle): every potential within
    /// `max_abs_mv` of 0 mV (non-finite or runaway weights show up in V within a step) and every
    /// rate, trace and error term finite; otherwise what is wrong, naming the neuron.
    pub fn health(&self, max_abs_mv: f64) -> Result<(), String> {
        let n = self.n;
        for (name, xs) in [("U", &self.u), ("V", &self.v), ("V*", &self.v_star)] {
            let xs = &xs[..n];
            if let Some((i, x)) = xs
                .iter()
                .enumerate()
                .find(|(_, x)| x.is_nan() || x.abs() > max_abs_mv)
            {
                return Err(format!(
                    "{name} of neuron {i} is {x:e} mV (the limit is +-{max_abs_mv:e} mV)"
                ));
            }
        }
        for (name, xs) in [
            ("rate", &self.rate),
            ("predicted rate", &self.rate_star),
            ("trace", &self.trace),
            ("error term", &self.err),
        ] {
            let xs = &xs[..n];
            if let Some((i, x)) = xs.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(format!("{name} of neuron {i} is {x}"));
            }
        }
        Ok(())
    }
}

/// Constants of the Euler step (docs/model.md (a)), computed as the step writes them.
struct Integration {
    dt: f64,
    g_l: f64,
    g_den: f64,
    e_l: f64,
    e_i: f64,
    g_sum: f64,
    decay: f64,
    trace_coef: f64,
}

impl Integration {
    fn new(p: &NeuronParams, trace_coef: f64) -> Self {
        Self {
            dt: p.dt_ms,
            g_l: p.g_leak,
            g_den: p.g_den,
            e_l: p.e_leak_mv,
            e_i: p.e_inh_mv,
            g_sum: p.g_leak + p.g_den,
            decay: 1.0 - p.g_leak * p.dt_ms,
            trace_coef,
        }
    }
}

/// The per-neuron vectors for [`integrate`] (all of the same length).
struct NeuronSlices<'a> {
    u: &'a mut [f64],
    v: &'a mut [f64],
    v_star: &'a mut [f64],
    trace: &'a mut [f64],
    g_e: &'a [f64],
    g_i: &'a [f64],
    /// Nudging factor and soma coupling per neuron.
    m: &'a [f64],
    g_d: &'a [f64],
    drive: &'a [f64],
    delayed: &'a [f64],
}

/// Sub-step 2 for every neuron with its nudging factor `m` and soma coupling `g_d`: U, V*, V and
/// the trace (U and V* from V before its update). Vectorized with AVX2 where available (no
/// FMA: the same bits as the scalar loop).
fn integrate(st: NeuronSlices, c: &Integration) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { integrate_avx2(st, c) };
        return;
    }
    integrate_body(st, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn integrate_avx2(st: NeuronSlices, c: &Integration) {
    integrate_body(st, c);
}

#[inline(always)]
fn integrate_body(st: NeuronSlices, c: &Integration) {
    let len = st.u.len();
    let (v, v_star, trace) = (
        &mut st.v[..len],
        &mut st.v_star[..len],
        &mut st.trace[..len],
    );
    let (g_e, g_i, m, g_d) = (&st.g_e[..len], &st.g_i[..len], &st.m[..len], &st.g_d[..len]);
    let (drive, delayed) = (&st.drive[..len], &st.delayed[..len]);
    let Integration {
        dt,
        g_l,
        g_den,
        e_l,
        e_i,
        g_sum,
        decay,
        trace_coef,
    } = *c;
    for i in 0..len {
        let (u, v_old) = (st.u[i], v[i]);
        let (g_e, g_i, m, g_d) = (g_e[i], g_i[i], m[i], g_d[i]);
        st.u[i] = (1.0 - dt * (g_d + g_l + m * (g_e + g_i))) * u
            + dt * g_l * e_l
            + dt * e_i * m * g_i
            + dt * g_d * v_old;
        v_star[i] = (g_l * e_l + g_den * v_old) / g_sum;
        v[i] = decay * v_old + g_l * dt * (e_l + drive[i]);
        trace[i] = decay * trace[i] + trace_coef * delayed[i];
    }
}

/// The outputs of sub-step 3 (same length as the neuron vectors).
struct RateSlices<'a> {
    rate: &'a mut [f64],
    rate_star: &'a mut [f64],
    err: &'a mut [f64],
}

/// Sub-step 3: `rate = phi(U)`, `rate_star = phi(V*)` and the rule's error `rate - rate_star`
/// (the same bits as [`NeuronParams::phi`]).
fn rates_and_errors(p: &NeuronParams, u: &[f64], v_star: &[f64], out: RateSlices) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { rates_and_errors_avx2(p, u, v_star, out.rate, out.rate_star, out.err) };
        return;
    }
    rates_and_errors_body(p, u, v_star, out.rate, out.rate_star, out.err);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rates_and_errors_avx2(
    p: &NeuronParams,
    u: &[f64],
    v_star: &[f64],
    rate: &mut [f64],
    rate_star: &mut [f64],
    err: &mut [f64],
) {
    rates_and_errors_body(p, u, v_star, rate, rate_star, err);
}

#[inline(always)]
fn rates_and_errors_body(
    p: &NeuronParams,
    u: &[f64],
    v_star: &[f64],
    rate: &mut [f64],
    rate_star: &mut [f64],
    err: &mut [f64],
) {
    let len = u.len();
    let (v_star, rate, rate_star, err) = (
        &v_star[..len],
        &mut rate[..len],
        &mut rate_star[..len],
        &mut err[..len],
    );
    for i in 0..len {
        let (r, rs) = (p.phi(u[i]), p.phi(v_star[i]));
        rate[i] = r;
        rate_star[i] = rs;
        err[i] = r - rs;
    }
}

/// Sub-steps 2 and 3, the reference: [`integrate`], the clamps (`clamp[i]`: U of neuron i held
/// at that value), then [`rates_and_errors`].
fn neuron_pass(
    st: NeuronSlices,
    out: RateSlices,
    p: &NeuronParams,
    c: &Integration,
    clamp: &[Option<f64>],
) {
    let (u, v_star) = integrate_clamped(st, c, clamp);
    rates_and_errors(p, u, v_star, out);
}

/// [`integrate`], then the clamps; returns U and V*.
fn integrate_clamped<'a>(
    st: NeuronSlices<'a>,
    c: &Integration,
    clamp: &[Option<f64>],
) -> (&'a [f64], &'a [f64]) {
    let NeuronSlices {
        u,
        v,
        v_star,
        trace,
        g_e,
        g_i,
        m,
        g_d,
        drive,
        delayed,
    } = st;
    integrate(
        NeuronSlices {
            u: &mut *u,
            v,
            v_star: &mut *v_star,
            trace,
            g_e,
            g_i,
            m,
            g_d,
            drive,
            delayed,
        },
        c,
    );
    for (u, c) in u.iter_mut().zip(clamp) {
        if let Some(c) = c {
            *u = *c;
        }
    }
    (u, v_star)
}

/// Sub-steps 2 and 3 without clamps ([`neuron_pass`]) in one pass of AVX2 intrinsics, four
/// neurons at a time: the same operations in the same order, so the same bits.
///
/// # Safety
/// AVX2 is available. Every slice has the same length, a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn neuron_pass_avx2(st: NeuronSlices, out: RateSlices, p: &NeuronParams, c: &Integration) {
    use std::arch::x86_64::*;
    let len = st.u.len();
    assert!(len.is_multiple_of(8));
    assert!(
        [st.v.len(), st.v_star.len(), st.trace.len(), out.rate.len()]
            .into_iter()
            .chain([
                out.rate_star.len(),
                out.err.len(),
                st.g_e.len(),
                st.g_i.len()
            ])
            .chain([st.m.len(), st.g_d.len(), st.drive.len(), st.delayed.len()])
            .all(|l| l == len)
    );
    let b = _mm256_set1_pd;
    let Integration {
        dt,
        g_l,
        g_den,
        e_l,
        e_i,
        g_sum,
        decay,
        trace_coef,
    } = *c;
    let (one, dt_v, g_l_v, e_l_v) = (b(1.0), b(dt), b(g_l), b(e_l));
    let (dt_gl_el, dt_ei) = (b(dt * g_l * e_l), b(dt * e_i));
    let (gl_el, g_den_v, g_sum_v) = (b(g_l * e_l), b(g_den), b(g_sum));
    let (decay_v, gl_dt, coef) = (b(decay), b(g_l * dt), b(trace_coef));
    let ld = |x: &[f64], i: usize| {
        // SAFETY: i + 4 <= len = x.len().
        unsafe { _mm256_loadu_pd(x.as_ptr().add(i)) }
    };
    let stv = |x: &mut [f64], i: usize, y: __m256d| {
        // SAFETY: i + 4 <= len = x.len().
        unsafe { _mm256_storeu_pd(x.as_mut_ptr().add(i), y) }
    };
    // Sub-step 2, four neurons at a time.
    for j in (0..len).step_by(4) {
        let (u, v_old, tr) = (ld(st.u, j), ld(st.v, j), ld(st.trace, j));
        let (g_e, g_i, m, g_d) = (ld(st.g_e, j), ld(st.g_i, j), ld(st.m, j), ld(st.g_d, j));
        // (1 - dt (g_d + g_l + m (g_e + g_i))) u + dt g_l e_l + dt e_i m g_i + dt g_d v_old
        let g_tot = _mm256_add_pd(
            _mm256_add_pd(g_d, g_l_v),
            _mm256_mul_pd(m, _mm256_add_pd(g_e, g_i)),
        );
        let a = _mm256_mul_pd(_mm256_sub_pd(one, _mm256_mul_pd(dt_v, g_tot)), u);
        let u_new = _mm256_add_pd(
            _mm256_add_pd(
                _mm256_add_pd(a, dt_gl_el),
                _mm256_mul_pd(_mm256_mul_pd(dt_ei, m), g_i),
            ),
            _mm256_mul_pd(_mm256_mul_pd(dt_v, g_d), v_old),
        );
        let v_star = _mm256_div_pd(_mm256_add_pd(gl_el, _mm256_mul_pd(g_den_v, v_old)), g_sum_v);
        let v_new = _mm256_add_pd(
            _mm256_mul_pd(decay_v, v_old),
            _mm256_mul_pd(gl_dt, _mm256_add_pd(e_l_v, ld(st.drive, j))),
        );
        let tr_new = _mm256_add_pd(
            _mm256_mul_pd(decay_v, tr),
            _mm256_mul_pd(coef, ld(st.delayed, j)),
        );
        stv(st.u, j, u_new);
        stv(st.v_star, j, v_star);
        stv(st.v, j, v_new);
        stv(st.trace, j, tr_new);
    }
    // Sub-step 3: the rate function is a long dependency chain (Horner), so eight vectors
    // (32 neurons) run interleaved, then pairs of vectors for the rest.
    let rates = |x: &[f64], y: &mut [f64]| {
        let mut j = 0;
        while j + 32 <= len {
            let r = p.phi4x::<8>(std::array::from_fn(|q| ld(x, j + 4 * q)));
            for (q, r) in r.into_iter().enumerate() {
                stv(y, j + 4 * q, r);
            }
            j += 32;
        }
        while j < len {
            let r = p.phi4x::<2>([ld(x, j), ld(x, j + 4)]);
            stv(y, j, r[0]);
            stv(y, j + 4, r[1]);
            j += 8;
        }
    };
    rates(st.u, out.rate);
    rates(st.v_star, out.rate_star);
    for j in (0..len).step_by(4) {
        stv(
            out.err,
            j,
            _mm256_sub_pd(ld(out.rate, j), ld(out.rate_star, j)),
        );
    }
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl elise_core::Model for Network {
    fn n_outputs(&self) -> usize {
        self.n_visible
    }
    fn step(&mut self, t: usize, lambda: f64) {
        Network::step(self, t, lambda);
    }
    /// Rates of the visible neurons.
    fn output(&self) -> &[f64] {
        &self.rate[..self.n_visible]
    }
    fn is_finite(&self) -> bool {
        Network::is_finite(self)
    }
    fn supports_clamp(&self) -> bool {
        true
    }
    fn clamp_outputs(&mut self, range: std::ops::Range<usize>, u_mv: f64) {
        self.clamp_visible(range, u_mv);
    }
    fn clear_clamp(&mut self) {
        Network::clear_clamp(self);
    }
    fn n_plastic(&self) -> usize {
        Network::n_plastic(self)
    }
}

/// The longest of all delays in steps (2 without neurons): the delay lines' depth.
fn longest_delay(den: &[usize], exc: &[usize], inh: &[usize]) -> usize {
    den.iter().chain(exc).chain(inh).copied().max().unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use elise_core::Pattern;
    use elise_scaffold::Scaffold;

    /// One visible + one latent neuron; `w10` is the weight from 0 onto 1.
    fn pair(w10: f64, edges: Vec<(usize, usize)>, delay_den: usize, delay_exc: usize) -> Network {
        let params = NeuronParams::default();
        let spec = NetworkSpec {
            n_visible: 1,
            n_latent: 1,
            mode: Mode::Elise,
            mask: vec![false, true, true, false],
            w_init: vec![0.0, 0.0, w10, 0.0],
            delay_den_steps: vec![delay_den, 50],
            delay_exc_steps: vec![delay_exc, 50],
            delay_inh_steps: vec![delay_exc + 250, 300],
            scaffold: Scaffold::from_edges(1, 1, edges),
        };
        let teacher = Teacher::new(&Pattern::from_rows("off", &[vec![0]]), &params, 100);
        Network::new(&spec, &params, &LearningRates::default(), teacher).unwrap()
    }

    #[test]
    fn one_euler_step_by_hand() {
        let mut net = pair(10.0, vec![], 50, 50);
        net.step(0, 1.0);
        // Dendrite of neuron 1: 0.99 * (-70) + 0.01 * (-70 + 10 * phi_L).
        let phi_l = 0.026_596_993_576_865_863;
        assert!((net.v()[1] - (0.99 * -70.0 + 0.01 * (-70.0 + 10.0 * phi_l))).abs() < 1e-12);
        assert!((net.v()[1] - -69.997_340_300_642_3).abs() < 1e-12);
        // V* uses V before the update: still rest.
        assert_eq!(net.v_star()[1], -70.0);
        // Trace: 0 + dt g_L g_D / (g_L + g_D) * phi_L.
        assert!((net.trace()[0] - 0.009_523_809_523_809_525 * phi_l).abs() < 1e-18);
        // The visible soma nudged towards rest stays at rest: (1 - 0.1 (2 + 0.1 + 3.15)) (-70)
        // + 0.1 * 0.1 * (-70) + 0.1 * (-75) * 2.94 + 0.1 * 2 * (-70) = -70.
        assert!((net.u()[0] - -70.0).abs() < 1e-12);
        // Second step: the latent soma (no scaffold input) sees the depolarized dendrite:
        // U = (1 - 0.1 * 2.1) (-70) + 0.1 * 0.1 * (-70) + 0.1 * 2 * V1.
        let v1 = net.v()[1];
        net.step(1, 1.0);
        assert!((net.u()[1] - (0.79 * -70.0 - 0.7 + 0.2 * v1)).abs() < 1e-12);
        assert!((net.u()[1] - -69.999_468_060_128_46).abs() < 1e-11);
    }

    /// First step index at which `probe` differs between a network whose visible neuron fires
    /// once in step 0 and an undisturbed twin.
    fn first_effect(mut a: Network, probe: impl Fn(&Network) -> f64) -> usize {
        let mut b = a.clone();
        a.set_learning(false);
        b.set_learning(false);
        for k in 0..400 {
            if k == 0 {
                a.clamp_visible(0..1, -40.0);
            }
            a.step(k, 0.0);
            a.clear_clamp();
            b.step(k, 0.0);
            if probe(&a) != probe(&b) && k > 0 {
                return k;
            }
        }
        panic!("no effect within 400 steps");
    }

    #[test]
    fn delay_line_latencies() {
        // Dendritic: a rate computed in step 0 is first read in step D_den - 1.
        let k = first_effect(pair(10.0, vec![], 7, 50), |n| n.v()[1]);
        assert_eq!(k, 6);
        // Scaffold excitation: a rate of step 0 first acts on the student's soma in step D_exc
        // (the dendritic weight is 0, so only the scaffold carries the impulse).
        let k = first_effect(pair(0.0, vec![(0, 1)], 60, 9), |n| n.u()[1]);
        assert_eq!(k, 9);
    }

    /// Every storage layout of the dendritic weights (structured, CSR, masked dense) gives the
    /// same trajectory bit for bit, in every mode and for sparse connectivity.
    #[test]
    fn layouts_give_identical_trajectories() {
        use crate::build::{ConnectivityKind, NetworkConfig};
        use elise_scaffold::ScaffoldParams;
        let params = NeuronParams::default();
        let pattern = Pattern::from_rows("p", &[vec![0, 1], vec![1, 0], vec![1, 1]]);
        let cases = [
            (
                Mode::Elise,
                ConnectivityKind::AllToAll,
                1.0,
                Layout::Structured,
            ),
            (
                Mode::Reservoir,
                ConnectivityKind::AllToAll,
                1.0,
                Layout::Structured,
            ),
            // 23 neurons: the dense masked kernel is faster than CSR below 128.
            (
                Mode::SomaOnly,
                ConnectivityKind::AllToAll,
                1.0,
                Layout::Masked,
            ),
            (Mode::Elise, ConnectivityKind::Sparse, 0.2, Layout::Masked),
        ];
        for (mode, connectivity, density, want) in cases {
            let cfg = NetworkConfig {
                n_latent: 20,
                mode,
                connectivity,
                density,
                ..NetworkConfig::default()
            };
            let sp = ScaffoldParams::default();
            let spec = NetworkSpec::generate(3, &cfg, &sp, &params, elise_core::Seed(3)).unwrap();
            let teacher = Teacher::new(&pattern, &params, 100);
            let rates = LearningRates::default();
            let mk = |l| Network::with_layout(&spec, &params, &rates, teacher.clone(), l).unwrap();
            let mut auto = mk(LayoutChoice::Auto);
            assert_eq!(auto.layout(), want, "{mode:?} {connectivity:?}");
            let mut others = [
                mk(LayoutChoice::Force(Layout::Masked)),
                mk(LayoutChoice::Force(Layout::Csr)),
            ];
            let w0 = auto.weights();
            let cycle = teacher.cycle_len_steps();
            for k in 0..1500 {
                let lambda = if k < 1000 { 1.0 } else { 0.0 };
                auto.step(k % cycle, lambda);
                for o in &mut others {
                    o.step(k % cycle, lambda);
                }
            }
            for o in &mut others {
                assert_eq!(o.u(), auto.u(), "{:?} vs {:?}", o.layout(), auto.layout());
                assert_eq!(o.rate_star(), auto.rate_star());
                assert_eq!(o.weights(), auto.weights());
            }
            assert_ne!(auto.weights(), w0, "the weights learn");
        }
    }

    /// Deterministic values in [0, 1).
    fn unit(k: usize) -> f64 {
        ((k.wrapping_mul(2_654_435_761) >> 5) % 10_007) as f64 / 10_007.0
    }

    /// The fused AVX2 neuron pass gives the bits of the reference passes (integrate, then
    /// rates), on every lane.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn fused_neuron_pass_equals_reference() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let p = NeuronParams::default();
        let c = Integration::new(&p, p.trace_coefficient());
        // 72: two blocks of 32 neurons and a tail of 8 (both code paths of the rates).
        let len = 72;
        let vec = |seed: usize, lo: f64, hi: f64| -> Vec<f64> {
            (0..len)
                .map(|i| lo + (hi - lo) * unit(i * 7 + seed))
                .collect()
        };
        for round in 0..20 {
            let r = 1000 * round;
            let (g_e, g_i) = (vec(r + 5, 0.0, 3.0), vec(r + 6, 0.0, 6.0));
            let m: Vec<f64> = (0..len).map(|i| if i < 13 { 0.5 } else { 1.0 }).collect();
            let g_d = vec(r + 7, 0.0, 2.0);
            let (drive, delayed) = (vec(r + 8, -30.0, 30.0), vec(r + 9, 0.0, 1.0));
            let state = [
                vec(r + 1, -90.0, -30.0),
                vec(r + 2, -90.0, -30.0),
                vec(r + 3, -90.0, -30.0),
                vec(r + 4, 0.0, 0.2),
            ];
            let mut out = [(); 2].map(|_| {
                (
                    state.clone(),
                    [vec![0.0; len], vec![0.0; len], vec![0.0; len]],
                )
            });
            for (k, (st, rs)) in out.iter_mut().enumerate() {
                let [u, v, v_star, trace] = st;
                let [rate, rate_star, err] = rs;
                let slices = NeuronSlices {
                    u,
                    v,
                    v_star,
                    trace,
                    g_e: &g_e,
                    g_i: &g_i,
                    m: &m,
                    g_d: &g_d,
                    drive: &drive,
                    delayed: &delayed,
                };
                let rates = RateSlices {
                    rate,
                    rate_star,
                    err,
                };
                if k == 0 {
                    neuron_pass(slices, rates, &p, &c, &[]);
                } else {
                    // SAFETY: AVX2 was detected above.
                    unsafe { neuron_pass_avx2(slices, rates, &p, &c) };
                }
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let [(s0, r0), (s1, r1)] = &out;
            for (a, b) in s0.iter().chain(r0).zip(s1.iter().chain(r1)) {
                assert_eq!(bits(a), bits(b));
            }
        }
    }

    #[test]
    fn spec_errors_are_reported() {
        let params = NeuronParams::default();
        let teacher = pair(0.0, vec![], 50, 50).teacher().clone();
        let bad = NetworkSpec {
            n_visible: 1,
            n_latent: 1,
            mode: Mode::Elise,
            mask: vec![false, true, true, false],
            w_init: vec![0.0, 0.0, 0.0, 0.0],
            delay_den_steps: vec![1, 50],
            delay_exc_steps: vec![50, 50],
            delay_inh_steps: vec![300, 300],
            scaffold: Scaffold::from_edges(1, 1, vec![]),
        };
        let e =
            Network::new(&bad, &params, &LearningRates::default(), teacher.clone()).unwrap_err();
        assert_eq!(
            e,
            BuildError::DelayTooShort {
                kind: "dendritic",
                neuron: 0,
                steps: 1
            }
        );
        let absent = NetworkSpec {
            w_init: vec![1.0, 0.0, 0.0, 0.0],
            delay_den_steps: vec![50, 50],
            ..bad
        };
        let e = Network::new(&absent, &params, &LearningRates::default(), teacher).unwrap_err();
        assert!(matches!(
            e,
            BuildError::AbsentWeight {
                post: 0,
                pre: 0,
                ..
            }
        ));
    }
}
