//! Baseline sequence learners for head-to-head comparisons with ELiSe: echo-state network and FORCE.
//!
//! Both learners implement [`elise_core::Model`], own their [`elise_core::Teacher`] and read its
//! target rates phi(Um) as the supervised signal, so one protocol trains, validates and replays
//! them exactly like an ELiSe network:
//!
//! - [`Esn`]: leaky echo-state network with output feedback (Jaeger 2001; Lukoševičius & Jaeger
//!   2009), teacher-forced while the teacher is present, with a ridge-regression or RLS readout.
//! - [`Force`]: chaotic rate network trained with FORCE learning (Sussillo & Abbott 2009):
//!   recursive least squares on the readout while the network's own output is fed back.
//!
//! The network cores ([`EsnCore`], [`ForceCore`]) are public so that classic benchmark tasks
//! ([`four_sines_task`], [`one_step_prediction`] on [`mackey_glass`]) drive exactly the code the
//! models run. All randomness comes from named streams of the job's [`elise_core::Seed`]. The
//! step functions allocate nothing (buffers are sized at construction); dense linear algebra
//! (RLS products, ridge accumulation and solve) goes through `faer`, sequentially; the sparse
//! recurrent matrices are `sprs` matrices ([`RecurrentMatrix`]).

#![warn(missing_docs)]

mod error;
mod esn;
mod force;
mod recurrent;
mod rls;
mod tasks;
#[cfg(test)]
mod testutil;

pub use error::BaselineError;

/// The `[esn]` table of [`EsnParams::default`] as commented TOML (unit and meaning of each key),
/// for experiments' embedded default configs.
pub const ESN_DEFAULTS_TOML: &str = include_str!("../configs/esn.toml");
/// The `[force]` table of [`ForceParams::default`] as commented TOML.
pub const FORCE_DEFAULTS_TOML: &str = include_str!("../configs/force.toml");
pub use esn::{Esn, EsnCore, EsnParams, Readout};
pub use force::{Force, ForceCore, ForceParams};
pub use recurrent::RecurrentMatrix;
pub use tasks::{
    FourSinesResult, PredictionResult, four_sines_target, four_sines_task, mackey_glass, nrmse,
    one_step_prediction,
};
