//! Two-compartment rate network of ELiSe (soma U, dendrite V, traces, delay lines): the simulation step.
//!
//! Per neuron (docs/model.md (a)), integrated with the CUDA code's explicit Euler order:
//! $$\dot V_i = g_L (E_L - V_i) + g_L \sum_j w_{ij} r_j(t - d^{den}_j)$$
//! $$\dot U_i = g_L (E_L - U_i) + g_D (V_i - U_i) + g_{E,i} (E_E - U_i) + g_{I,i} (E_I - U_i)$$
//! with the dendritic prediction $V^*_i = (g_L E_L + g_D V_i)/(g_L + g_D)$, rates
//! $r_i = \varphi(U_i)$, and the presynaptic trace that the Urbanczik-Senn rule multiplies.
//!
//! - [`network`]: the state and the allocation-free [`Network::step`].
//! - [`build`]: random networks from a config and a seed (scaffold, mask, weights, delays).
//! - [`protocol`]: training with free validation cycles, replay with optional disruption, and
//!   their scores.
//! - [`checkpoint`]: a network's complete state (and its training progress) in a versioned,
//!   checksummed binary file.
//! - [`export`]: a trained network's dendritic weights and its scaffold as MatrixMarket text
//!   (through `sprs`).

pub mod build;
pub mod checkpoint;
mod delay;
pub mod export;
pub mod network;
pub mod protocol;

pub use build::{ConnectivityKind, Mode, NetworkConfig, NetworkSpec, WeightInit};
pub use network::{BuildError, Network};
pub use protocol::{
    CurvePoint, Disruption, DisruptionLine, Phase, Protocol, ProtocolError, ProtocolResult,
    RateSchedule, ReplayConfig, TrainConfig, Uncued,
};
