//! A network's matrices as MatrixMarket text (`%%MatrixMarket matrix coordinate ... general`,
//! written by `sprs`), for inspection with other tools (SciPy's `mmread`, Matlab, Julia, ...).
//! Functions write to any [`std::io::Write`]; opening files is the caller's business.
//!
//! Both matrices are `n x n` with row = post (student), column = pre (teacher), 1-based in the
//! file, one entry per existing synapse or scaffold pair. Weights are written with Rust's
//! shortest round-trip formatting, so reading them back gives the same bits.

use crate::Network;
use std::io::{self, Write};

/// The dendritic weights after the last step ([`Network::weights_sparse`]: the pending update
/// is applied first, which changes no result) as a `real` matrix: one entry per existing
/// synapse, also where its weight is 0.
pub fn write_weights_mtx(net: &mut Network, mut out: impl Write) -> io::Result<()> {
    let w = net.weights_sparse();
    sprs::io::write_matrix_market_to_bufwrite(&mut out, &w)?;
    out.flush()
}

/// The scaffold's adjacency matrix ([`elise_scaffold::Scaffold::matrix`]) as an `integer`
/// matrix: entry (student, teacher) = number of edges teacher -> student.
pub fn write_scaffold_mtx(net: &Network, mut out: impl Write) -> io::Result<()> {
    sprs::io::write_matrix_market_to_bufwrite(&mut out, net.scaffold().matrix())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NetworkConfig, NetworkSpec};
    use elise_core::{NeuronParams, Pattern, Seed, Teacher};
    use elise_plasticity::{Layout, LayoutChoice, LearningRates, SparseWeights};
    use elise_scaffold::ScaffoldParams;
    use sprs::CsMat;

    /// A small sparse network trained for a few steps, in weight layout `layout`.
    fn trained(layout: Layout, density: f64) -> Network {
        network(layout, density, 0.5, 300)
    }

    fn network(layout: Layout, density: f64, weight_init_std: f64, steps: usize) -> Network {
        let params = NeuronParams::default();
        let pattern = Pattern::fuer_elise();
        let cfg = NetworkConfig {
            n_latent: 40,
            connectivity: crate::ConnectivityKind::Sparse,
            density,
            weight_init_std,
            ..NetworkConfig::default()
        };
        let nv = pattern.n_neurons();
        let sc = ScaffoldParams::default();
        let spec = NetworkSpec::generate(nv, &cfg, &sc, &params, Seed(3)).unwrap();
        let teacher = Teacher::new(&pattern, &params, 100);
        let rates = LearningRates::default();
        let choice = LayoutChoice::Force(layout);
        let mut net = Network::with_layout(&spec, &params, &rates, teacher, choice).unwrap();
        for k in 0..steps {
            net.step(k, 1.0);
        }
        net
    }

    #[test]
    fn weights_round_trip_bit_for_bit() {
        for (layout, density) in [
            (Layout::Csr, 0.2),
            (Layout::Masked, 0.2),
            (Layout::Csr, 1.0),
        ] {
            let mut net = trained(layout, density);
            let mut text = Vec::new();
            write_weights_mtx(&mut net, &mut text).unwrap();
            assert!(text.starts_with(b"%%MatrixMarket matrix coordinate real general\n"));
            let back: SparseWeights = sprs::io::read_matrix_market_from_bufread(&mut &text[..])
                .expect("MatrixMarket")
                .to_csr();
            let want = net.weights_sparse();
            assert_eq!(back.shape(), want.shape());
            assert_eq!(back.indptr(), want.indptr(), "{layout:?} structure");
            assert_eq!(back.indices(), want.indices(), "{layout:?} structure");
            let bits = |m: &SparseWeights| m.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&back), bits(&want), "{layout:?} weights");
            // The weights of the dense copy, and one entry per non-zero weight.
            let dense = net.weights();
            let n = net.n_neurons();
            assert!(
                (&back)
                    .into_iter()
                    .all(|(&w, (i, j))| w == dense[i as usize * n + j as usize])
            );
            let nonzero = dense.iter().filter(|&&w| w != 0.0).count();
            assert_eq!(back.nnz(), nonzero, "no synapse holds exactly 0 here");
        }
    }

    #[test]
    fn synapses_of_weight_zero_keep_their_entries() {
        for layout in [Layout::Csr, Layout::Masked] {
            let mut net = network(layout, 0.2, 0.0, 0);
            let mut text = Vec::new();
            write_weights_mtx(&mut net, &mut text).unwrap();
            let back: SparseWeights = sprs::io::read_matrix_market_from_bufread(&mut &text[..])
                .expect("MatrixMarket")
                .to_csr();
            let want = net.weights_sparse();
            assert!(want.nnz() > 100 && want.data().iter().all(|&w| w == 0.0));
            assert_eq!(back, want, "{layout:?}");
        }
    }

    #[test]
    fn scaffold_round_trips() {
        let net = trained(Layout::Csr, 0.2);
        let mut text = Vec::new();
        write_scaffold_mtx(&net, &mut text).unwrap();
        assert!(text.starts_with(b"%%MatrixMarket matrix coordinate integer general\n"));
        // sprs reads integers only into signed types.
        let back: CsMat<i64> = sprs::io::read_matrix_market_from_bufread(&mut &text[..])
            .expect("MatrixMarket")
            .to_csr();
        let back = back.map(|&c| u32::try_from(c).expect("a count"));
        let want = net.scaffold().matrix();
        assert!(want.nnz() > 10, "the scaffold has edges");
        assert_eq!(&back, want);
        let edges: u32 = back.data().iter().sum();
        assert_eq!(edges as usize, net.scaffold().edges().len());
    }
}
