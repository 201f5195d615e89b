//! Checkpoints: a network's complete state (and optionally how far its training got) in a
//! versioned binary file, so that a run continues bit for bit where it stopped, and a trained
//! network can be replayed, disrupted or inspected later.
//!
//! # File layout (format version 1)
//!
//! All integers are little-endian; `f64` values are stored as their IEEE-754 bits (`u64`), so a
//! state round-trips exactly (NaN payloads and signed zeros included).
//!
//! ```text
//! offset  size  field
//! 0       8     magic "ELISECKP"
//! 8       4     u32 format version (1)
//! 12      4     u32 flags (0; reserved)
//! 16      8     u64 body length B
//! 24      B     body: a sequence of sections
//! 24 + B  8     u64 FNV-1a 64 checksum of bytes [0, 24 + B)
//! ```
//!
//! A section is a 4-byte ASCII tag, a `u64` payload length and the payload. Version 1 has:
//!
//! - `META` (required, first): `u64` count, then count pairs of strings (`u64` length + UTF-8
//!   bytes): free-form `key = value` metadata, e.g. the job's seed and config, who wrote it.
//! - `NETW` (required): the [`NetworkState`], fields in declaration order: `u64` n_visible,
//!   `u64` n_latent, `u8` mode (0 elise, 1 reservoir, 2 soma-only), the ten `f64` neuron
//!   parameters in [`NeuronParams`] declaration order, `u8` pending_update, `u8` learning,
//!   `u64` n_steps, `u64` teacher fingerprint, `u64` n_plastic, then vectors (`u64` length +
//!   elements): w (n x n, row-major `[post * n + pre]`), u, v, v_star, trace, rate, rate_star, err (n each),
//!   delay_den, delay_exc, delay_inh (n each, in steps), history (`history_steps x n`, newest
//!   step first), scaffold_ptr (n + 1), scaffold_idx, and the clamp (n_visible pairs of a `u8`
//!   flag and an `f64` potential, 0 when the flag is 0). The encoding is canonical: a file that
//!   decodes re-encodes to the same bytes.
//! - `TRAN` (optional): [`TrainProgress`]: `i64` next cycle, `u64` steps simulated, `u64`
//!   validation points, each `u8` phase + `i64` cycle + `f64` mse + `f64` corr_sum, then `u8`
//!   has-last-validation and, if 1, `i64` cycle + a vector of rates.
//!
//! Readers check, in this order: the magic, the version (a file from a newer format is refused
//! with both versions in the message), the length (truncated or trailing bytes), the checksum
//! (any corruption), then every section's shape. Unknown or repeated sections are errors. Every
//! length is checked against the bytes left before anything is allocated, so no input makes
//! the reader panic or allocate more than the file's size.
//!
//! Any change of the layout bumps [`FORMAT_VERSION`].
//!
//! What follows from the config and the seed is checked rather than stored: the teacher (rebuilt
//! from the pattern, `pattern.state_ms` and the neuron parameters) must have the recorded
//! [`teacher_fingerprint`], and the dendritic mask and learning rates (from the config's
//! `[network]` and `[plasticity]`) must give the recorded number of plastic synapses;
//! [`crate::Network::from_state`] rebuilds the network from its [`crate::NetworkSpec`] and
//! checks that delays and scaffold equal the stored ones. The job's config is stored in `META`
//! so that callers can compare it key by key.

use crate::build::Mode;
use crate::protocol::{CurvePoint, Phase, TrainProgress};
use elise_core::{NeuronParams, Teacher};
use fnv::FnvHasher;
use std::hash::Hasher;
use std::path::Path;

/// The first 8 bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"ELISECKP";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 24;
const TRAILER_LEN: usize = 8;

/// A network's complete logical state, independent of how [`crate::Network`] stores it
/// (padding, sparse storage): what [`crate::Network::state`] exports and
/// [`crate::Network::from_state`] rebuilds.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkState {
    pub n_visible: usize,
    pub n_latent: usize,
    pub mode: Mode,
    pub params: NeuronParams,
    /// Dendritic weights `[post * n + pre]` (0 for absent synapses), without the pending
    /// update.
    pub w: Vec<f64>,
    /// Synapses with a non-zero learning rate (the rates themselves follow from the mask, the
    /// mode and the config's `[plasticity]`; this count checks them).
    pub n_plastic: usize,
    /// The weight update of the last step is still to be applied (lazily, with the next step).
    pub pending_update: bool,
    pub learning: bool,
    pub u: Vec<f64>,
    pub v: Vec<f64>,
    pub v_star: Vec<f64>,
    pub trace: Vec<f64>,
    pub rate: Vec<f64>,
    pub rate_star: Vec<f64>,
    /// r - r* of the last step.
    pub err: Vec<f64>,
    pub delay_den: Vec<usize>,
    pub delay_exc: Vec<usize>,
    pub delay_inh: Vec<usize>,
    /// Rates of the last [`NetworkState::history_steps`] steps, newest first: row `lag` holds
    /// the rates of step `n_steps - 1 - lag` (the resting rate for steps before 0).
    pub history: Vec<f64>,
    /// Scaffold teachers of neuron i: `scaffold_idx[scaffold_ptr[i]..scaffold_ptr[i + 1]]`, in
    /// the order their conductances are summed.
    pub scaffold_ptr: Vec<usize>,
    pub scaffold_idx: Vec<usize>,
    /// Steps executed so far.
    pub n_steps: u64,
    /// Per visible neuron: the potential it is clamped at, if any.
    pub clamp_mv: Vec<Option<f64>>,
    /// [`teacher_fingerprint`] of the teacher the network runs with.
    pub teacher_fingerprint: u64,
}

/// Largest delay a checkpoint may hold, in steps (100 s at dt = 0.1 ms).
pub const MAX_DELAY_STEPS: usize = 1 << 20;

impl NetworkState {
    /// Number of neurons.
    pub fn n_neurons(&self) -> usize {
        self.n_visible + self.n_latent
    }

    /// Rows of [`NetworkState::history`]: the longest delay, the furthest back a step reads.
    pub fn history_steps(&self) -> usize {
        self.delay_den
            .iter()
            .chain(&self.delay_exc)
            .chain(&self.delay_inh)
            .copied()
            .max()
            .unwrap_or(2)
    }

    /// Checks that every part has the shape the others imply and that indices and delays are
    /// in range; the problem otherwise.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_visible == 0 {
            return Err("the network has no visible neuron".into());
        }
        let n = self
            .n_visible
            .checked_add(self.n_latent)
            .filter(|&n| n <= 1 << 20)
            .ok_or_else(|| format!("{} + {} neurons is too many", self.n_visible, self.n_latent))?;
        let nn = n * n;
        let shape = |what: &str, got: usize, expected: usize| {
            if got == expected {
                Ok(())
            } else {
                Err(format!("{what} has {got} entries, expected {expected}"))
            }
        };
        shape("w", self.w.len(), nn)?;
        for (what, v) in [
            ("u", &self.u),
            ("v", &self.v),
            ("v_star", &self.v_star),
            ("trace", &self.trace),
            ("rate", &self.rate),
            ("rate_star", &self.rate_star),
            ("err", &self.err),
        ] {
            shape(what, v.len(), n)?;
        }
        for (what, d) in [
            ("delay_den", &self.delay_den),
            ("delay_exc", &self.delay_exc),
            ("delay_inh", &self.delay_inh),
        ] {
            shape(what, d.len(), n)?;
            if let Some((i, &x)) = d
                .iter()
                .enumerate()
                .find(|&(_, &x)| !(2..=MAX_DELAY_STEPS).contains(&x))
            {
                return Err(format!(
                    "{what} of neuron {i} is {x} steps (allowed 2..={MAX_DELAY_STEPS})"
                ));
            }
        }
        let rows = self.history_steps();
        shape(
            "history",
            self.history.len(),
            rows.checked_mul(n).ok_or("history too large")?,
        )?;
        shape("scaffold_ptr", self.scaffold_ptr.len(), n + 1)?;
        if self.scaffold_ptr[0] != 0
            || self.scaffold_ptr.windows(2).any(|w| w[0] > w[1])
            || self.scaffold_ptr[n] != self.scaffold_idx.len()
        {
            return Err(
                "scaffold_ptr is not a non-decreasing offset list from 0 to the number of edges"
                    .into(),
            );
        }
        if let Some(&t) = self.scaffold_idx.iter().find(|&&t| t >= n) {
            return Err(format!("scaffold teacher {t} is not a neuron (n = {n})"));
        }
        shape("clamp", self.clamp_mv.len(), self.n_visible)?;
        if let Some(c) = self.clamp_mv.iter().flatten().find(|c| !c.is_finite()) {
            return Err(format!("clamp potential {c} is not finite"));
        }
        Ok(())
    }
}

/// Rejected network state when rebuilding a network.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct StateError(pub String);

/// A checkpoint file's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Free-form metadata, `(key, value)` in order (e.g. `seed`, `config`).
    pub meta: Vec<(String, String)>,
    pub network: NetworkState,
    /// Training progress, if the checkpoint was taken during or right after training.
    pub train: Option<TrainProgress>,
}

/// A rejected checkpoint: which file (or input) and what is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("checkpoint {source_name}: {problem}")]
pub struct CheckpointError {
    pub source_name: String,
    pub problem: String,
}

impl Checkpoint {
    /// The value of metadata key `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The file's bytes (format version [`FORMAT_VERSION`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let mut meta = Writer::default();
        meta.u64(self.meta.len() as u64);
        for (k, v) in &self.meta {
            meta.str(k);
            meta.str(v);
        }
        section(&mut body, b"META", &meta.0);
        section(&mut body, b"NETW", &encode_network(&self.network));
        if let Some(t) = &self.train {
            section(&mut body, b"TRAN", &encode_train(t));
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + TRAILER_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        let sum = fnv1a_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parses a checkpoint; `source_name` names the input in errors. Never panics.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Self, CheckpointError> {
        let err = |problem: String| CheckpointError {
            source_name: source_name.to_owned(),
            problem,
        };
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(err(
                "not an elise-lab checkpoint (the file does not start with \"ELISECKP\")".into(),
            ));
        }
        if bytes.len() < HEADER_LEN + TRAILER_LEN {
            return Err(err(format!(
                "truncated: {} bytes, a checkpoint has at least {}",
                bytes.len(),
                HEADER_LEN + TRAILER_LEN
            )));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > FORMAT_VERSION {
            return Err(err(format!(
                "format version {version} was written by a newer elise-lab; this build reads versions up to {FORMAT_VERSION}"
            )));
        }
        if version == 0 {
            return Err(err(
                "format version 0 does not exist (corrupt header)".into()
            ));
        }
        let flags = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        let body_len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
        let expected = (body_len as u128) + (HEADER_LEN + TRAILER_LEN) as u128;
        if (bytes.len() as u128) < expected {
            return Err(err(format!(
                "truncated: {} bytes, the header announces {expected}",
                bytes.len()
            )));
        }
        if (bytes.len() as u128) > expected {
            return Err(err(format!(
                "{} bytes, the header announces {expected} (trailing data or corrupt header)",
                bytes.len()
            )));
        }
        let end = bytes.len() - TRAILER_LEN;
        let stored = u64::from_le_bytes(bytes[end..].try_into().expect("8 bytes"));
        let computed = fnv1a_64(&bytes[..end]);
        if stored != computed {
            return Err(err(format!(
                "checksum mismatch (stored {stored:016x}, computed {computed:016x}): the file is corrupt"
            )));
        }
        if flags != 0 {
            return Err(err(format!("unknown flags {flags:#x} in the header")));
        }
        let mut r = Reader::new(&bytes[HEADER_LEN..end]);
        let mut meta = None;
        let mut network = None;
        let mut train = None;
        while !r.is_empty() {
            let tag = r.take(4).map_err(&err)?;
            let tag_text = String::from_utf8_lossy(tag).into_owned();
            let len = r
                .len_of(1)
                .map_err(|p| err(format!("section {tag_text:?}: {p}")))?;
            let payload = r.take(len).map_err(&err)?;
            let in_section = |p: String| err(format!("section {tag_text}: {p}"));
            let mut s = Reader::new(payload);
            match tag {
                b"META" if meta.is_none() && network.is_none() => {
                    meta = Some(decode_meta(&mut s).map_err(in_section)?);
                }
                b"NETW" if meta.is_some() && network.is_none() => {
                    network = Some(decode_network(&mut s).map_err(in_section)?);
                }
                b"TRAN" if network.is_some() && train.is_none() => {
                    train = Some(decode_train(&mut s).map_err(in_section)?);
                }
                b"META" | b"NETW" | b"TRAN" => {
                    return Err(err(format!("section {tag_text} repeated or out of order")));
                }
                _ => return Err(err(format!("unknown section {tag_text:?}"))),
            }
            if !s.is_empty() {
                return Err(err(format!(
                    "section {tag_text}: {} unexpected bytes after its content",
                    s.remaining()
                )));
            }
        }
        let meta = meta.ok_or_else(|| err("the META section is missing".into()))?;
        let network = network.ok_or_else(|| err("the NETW section is missing".into()))?;
        Ok(Self {
            meta,
            network,
            train,
        })
    }

    /// Reads and parses a checkpoint file; errors name the file.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| CheckpointError {
            source_name: name.clone(),
            problem: format!("cannot read: {e}"),
        })?;
        Self::from_bytes(&bytes, &name)
    }
}

/// FNV-1a 64 over `bytes` (the checksum of the file layout): the workspace's one FNV-1a,
/// [`elise_core::rng::fnv1a64`].
pub use elise_core::rng::fnv1a64 as fnv1a_64;

/// `f64` values as their little-endian bits, into an FNV-1a hasher.
fn write_f64s(h: &mut FnvHasher, xs: &[f64]) {
    for x in xs {
        h.write(&x.to_bits().to_le_bytes());
    }
}

/// FNV-1a 64 over a teacher's shape and every target potential, conductance and target rate
/// (bits): two teachers with the same fingerprint nudge identically.
pub fn teacher_fingerprint(t: &Teacher) -> u64 {
    let mut h = FnvHasher::default();
    h.write(&(t.n_visible() as u64).to_le_bytes());
    h.write(&(t.cycle_len_steps() as u64).to_le_bytes());
    for k in 0..t.cycle_len_steps() {
        write_f64s(&mut h, t.target_mv(k));
        write_f64s(&mut h, t.g_exc(k));
        write_f64s(&mut h, t.g_inh(k));
        write_f64s(&mut h, t.target_rate(k));
    }
    h.finish()
}

fn section(out: &mut Vec<u8>, tag: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(tag);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, x: u8) {
        self.0.push(x);
    }
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn i64(&mut self, x: i64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn f64s(&mut self, xs: &[f64]) {
        self.u64(xs.len() as u64);
        for &x in xs {
            self.f64(x);
        }
    }
    fn usizes(&mut self, xs: &[usize]) {
        self.u64(xs.len() as u64);
        for &x in xs {
            self.u64(x as u64);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.remaining() {
            return Err(format!(
                "truncated: needs {n} more bytes at offset {}, {} left",
                self.pos,
                self.remaining()
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("flag byte {b} is neither 0 nor 1")),
        }
    }
    fn usize(&mut self) -> Result<usize, String> {
        let x = self.u64()?;
        usize::try_from(x).map_err(|_| format!("{x} does not fit this machine's usize"))
    }
    /// A length prefix of items of `item_bytes` bytes each, checked against the bytes left.
    fn len_of(&mut self, item_bytes: usize) -> Result<usize, String> {
        let n = self.u64()?;
        match usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(item_bytes))
        {
            Some(bytes) if bytes <= self.remaining() => Ok(n as usize),
            _ => Err(format!(
                "length {n} at offset {} exceeds the {} bytes left",
                self.pos - 8,
                self.remaining()
            )),
        }
    }
    fn str(&mut self) -> Result<String, String> {
        let n = self.len_of(1)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a string is not UTF-8".into())
    }
    fn f64s(&mut self, what: &str) -> Result<Vec<f64>, String> {
        let n = self.len_of(8).map_err(|p| format!("{what}: {p}"))?;
        (0..n).map(|_| self.f64()).collect()
    }
    fn usizes(&mut self, what: &str) -> Result<Vec<usize>, String> {
        let n = self.len_of(8).map_err(|p| format!("{what}: {p}"))?;
        (0..n).map(|_| self.usize()).collect()
    }
}

fn decode_meta(r: &mut Reader<'_>) -> Result<Vec<(String, String)>, String> {
    let n = r.len_of(16)?;
    (0..n).map(|_| Ok((r.str()?, r.str()?))).collect()
}

fn encode_network(s: &NetworkState) -> Vec<u8> {
    let mut w = Writer::default();
    w.u64(s.n_visible as u64);
    w.u64(s.n_latent as u64);
    w.u8(match s.mode {
        Mode::Elise => 0,
        Mode::Reservoir => 1,
        Mode::SomaOnly => 2,
    });
    // Exhaustive: a new neuron parameter breaks this until the format learns it.
    let NeuronParams {
        dt_ms,
        e_leak_mv,
        e_inh_mv,
        g_leak,
        g_den,
        g_exc0,
        g_inh0,
        phi_slope_per_mv,
        phi_mid_mv,
        nudging,
    } = s.params;
    for x in [
        dt_ms,
        e_leak_mv,
        e_inh_mv,
        g_leak,
        g_den,
        g_exc0,
        g_inh0,
        phi_slope_per_mv,
        phi_mid_mv,
        nudging,
    ] {
        w.f64(x);
    }
    w.u8(u8::from(s.pending_update));
    w.u8(u8::from(s.learning));
    w.u64(s.n_steps);
    w.u64(s.teacher_fingerprint);
    w.u64(s.n_plastic as u64);
    for v in [
        &s.w,
        &s.u,
        &s.v,
        &s.v_star,
        &s.trace,
        &s.rate,
        &s.rate_star,
        &s.err,
    ] {
        w.f64s(v);
    }
    for d in [&s.delay_den, &s.delay_exc, &s.delay_inh] {
        w.usizes(d);
    }
    w.f64s(&s.history);
    w.usizes(&s.scaffold_ptr);
    w.usizes(&s.scaffold_idx);
    w.u64(s.clamp_mv.len() as u64);
    for c in &s.clamp_mv {
        w.u8(u8::from(c.is_some()));
        w.f64(c.unwrap_or(0.0));
    }
    w.0
}

fn decode_network(r: &mut Reader<'_>) -> Result<NetworkState, String> {
    let n_visible = r.usize()?;
    let n_latent = r.usize()?;
    let mode = match r.u8()? {
        0 => Mode::Elise,
        1 => Mode::Reservoir,
        2 => Mode::SomaOnly,
        m => return Err(format!("unknown network mode {m}")),
    };
    let mut p = [0.0; 10];
    for x in &mut p {
        *x = r.f64()?;
    }
    let [
        dt_ms,
        e_leak_mv,
        e_inh_mv,
        g_leak,
        g_den,
        g_exc0,
        g_inh0,
        phi_slope_per_mv,
        phi_mid_mv,
        nudging,
    ] = p;
    let params = NeuronParams {
        dt_ms,
        e_leak_mv,
        e_inh_mv,
        g_leak,
        g_den,
        g_exc0,
        g_inh0,
        phi_slope_per_mv,
        phi_mid_mv,
        nudging,
    };
    let pending_update = r.bool()?;
    let learning = r.bool()?;
    let n_steps = r.u64()?;
    let teacher_fingerprint = r.u64()?;
    let n_plastic = r.usize()?;
    let w = r.f64s("w")?;
    let u = r.f64s("u")?;
    let v = r.f64s("v")?;
    let v_star = r.f64s("v_star")?;
    let trace = r.f64s("trace")?;
    let rate = r.f64s("rate")?;
    let rate_star = r.f64s("rate_star")?;
    let err = r.f64s("err")?;
    let delay_den = r.usizes("delay_den")?;
    let delay_exc = r.usizes("delay_exc")?;
    let delay_inh = r.usizes("delay_inh")?;
    let history = r.f64s("history")?;
    let scaffold_ptr = r.usizes("scaffold_ptr")?;
    let scaffold_idx = r.usizes("scaffold_idx")?;
    let n_clamp = r.len_of(9).map_err(|p| format!("clamp: {p}"))?;
    let mut clamp_mv = Vec::with_capacity(n_clamp);
    for _ in 0..n_clamp {
        let on = r.bool()?;
        let x = r.f64()?;
        if !on && x.to_bits() != 0 {
            return Err("a clamp entry that is off has a potential (must be 0)".into());
        }
        clamp_mv.push(on.then_some(x));
    }
    let state = NetworkState {
        n_visible,
        n_latent,
        mode,
        params,
        w,
        n_plastic,
        pending_update,
        learning,
        u,
        v,
        v_star,
        trace,
        rate,
        rate_star,
        err,
        delay_den,
        delay_exc,
        delay_inh,
        history,
        scaffold_ptr,
        scaffold_idx,
        n_steps,
        clamp_mv,
        teacher_fingerprint,
    };
    state.validate()?;
    Ok(state)
}

fn encode_train(t: &TrainProgress) -> Vec<u8> {
    let mut w = Writer::default();
    w.i64(t.next_cycle);
    w.u64(t.n_steps);
    w.u64(t.validation.len() as u64);
    for p in &t.validation {
        w.u8(match p.phase {
            Phase::Validation => 0,
            Phase::Replay => 1,
        });
        w.i64(p.cycle);
        w.f64(p.mse);
        w.f64(p.corr_sum);
    }
    match &t.last_validation {
        None => w.u8(0),
        Some((c, rates)) => {
            w.u8(1);
            w.i64(*c);
            w.f64s(rates);
        }
    }
    w.0
}

fn decode_train(r: &mut Reader<'_>) -> Result<TrainProgress, String> {
    let next_cycle = r.i64()?;
    if next_cycle < -1 {
        return Err(format!(
            "next cycle {next_cycle} is before the warm-up cycle -1"
        ));
    }
    let n_steps = r.u64()?;
    let n = r
        .len_of(25)
        .map_err(|p| format!("validation points: {p}"))?;
    let mut validation = Vec::with_capacity(n);
    for _ in 0..n {
        let phase = match r.u8()? {
            0 => Phase::Validation,
            1 => Phase::Replay,
            x => return Err(format!("unknown phase {x}")),
        };
        validation.push(CurvePoint {
            phase,
            cycle: r.i64()?,
            mse: r.f64()?,
            corr_sum: r.f64()?,
        });
    }
    let last_validation = if r.bool()? {
        Some((r.i64()?, r.f64s("last validation rates")?))
    } else {
        None
    };
    Ok(TrainProgress {
        next_cycle,
        validation,
        last_validation,
        n_steps,
    })
}
