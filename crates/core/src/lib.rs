//! Shared vocabulary of elise-lab: seeds and named RNG streams, patterns and the teacher signal, replay metrics.
//!
//! Everything here is plain computation: no I/O besides parsing bytes handed in by the caller
//! (experiments get input files from the harness as [`Inputs`]; `Pattern::load` reads a file by
//! path for tools and tests only), no threads, no clocks. Units live in names
//! (`_mv`, `_ms`, `_steps`); conductances are in 1/ms with the membrane capacitance C = 1.

pub mod aligned;
pub mod annotation;
pub mod inputs;
pub mod math;
pub mod metrics;
pub mod model;
pub mod neuron;
pub mod noise;
pub mod pattern;
pub mod rng;
pub mod teacher;

pub use aligned::AlignedVec;
pub use inputs::Inputs;
pub use metrics::{CycleScore, ReplayScorer};
pub use model::Model;
pub use neuron::NeuronParams;
pub use noise::OuProcess;
pub use pattern::{Pattern, PatternConfig, PatternError};
pub use rng::{Seed, Stream};
pub use teacher::Teacher;
