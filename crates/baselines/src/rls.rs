//! Recursive least squares on a linear readout, shared by FORCE and the ESN's RLS readout.
//!
//! With regressor r (dimension d), readout W (d x m, column o = weights of output o), output
//! y = W^T r and a priori error e = y - target (computed by the caller before the update):
//!
//! k = P r,   c = 1 / (1 + r^T k),   P <- P - c k k^T,   W[:, o] <- W[:, o] - c e_o k,
//!
//! with P(0) = I / alpha (Sussillo & Abbott 2009, eqs. 4-5; c k = P(t) r(t) is the gain of the
//! updated P). One P serves all outputs because they share the regressor. The product P r and
//! the rank-1 update go through faer's `matmul` on buffers allocated at construction, so an
//! update allocates nothing. Cost: two passes over the d x d matrix P, O(d^2).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// RLS state: the inverse correlation estimate P (d x d, column-major) and the gain buffer.
#[derive(Clone, Debug)]
pub(crate) struct Rls {
    dim: usize,
    p: Vec<f64>,
    k: Vec<f64>,
}

impl Rls {
    /// P(0) = I / alpha.
    pub(crate) fn new(dim: usize, alpha: f64) -> Self {
        let mut p = vec![0.0; dim * dim];
        for i in 0..dim {
            p[i * dim + i] = 1.0 / alpha;
        }
        Self {
            dim,
            p,
            k: vec![0.0; dim],
        }
    }

    /// The current P, column-major d x d.
    #[cfg(test)]
    pub(crate) fn p(&self) -> &[f64] {
        &self.p
    }

    /// One RLS step for regressor `r`, a priori errors `err` (output minus target, one per
    /// output) and readout `w` (column-major d x m). Allocates nothing.
    pub(crate) fn update(&mut self, r: &[f64], err: &[f64], w: &mut [f64]) {
        let d = self.dim;
        assert!(r.len() == d && w.len() == d * err.len(), "shape mismatch");
        let r_mat = MatRef::from_column_major_slice(r, d, 1);
        {
            let p = MatRef::from_column_major_slice(&self.p, d, d);
            let k = MatMut::from_column_major_slice_mut(&mut self.k, d, 1);
            matmul(k, Accum::Replace, p, r_mat, 1.0, Par::Seq);
        }
        let rpr = elise_core::metrics::dot(r, &self.k);
        let c = 1.0 / (1.0 + rpr);
        {
            let k = MatRef::from_column_major_slice(&self.k, d, 1);
            let p = MatMut::from_column_major_slice_mut(&mut self.p, d, d);
            matmul(p, Accum::Add, k, k.transpose(), -c, Par::Seq);
        }
        for (w_col, &e) in w.chunks_exact_mut(d).zip(err) {
            let f = -c * e;
            for (wi, &ki) in w_col.iter_mut().zip(&self.k) {
                *wi += f * ki;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elise_core::Seed;

    /// RLS with P(0) = I/alpha minimizes sum_t |W^T r_t - y_t|^2 + alpha |W|^2 exactly: after T
    /// updates it equals the ridge solution (R R^T + alpha I)^-1 R Y^T.
    #[test]
    fn rls_equals_batch_ridge_solution() {
        let (d, m, t_len, alpha) = (6, 2, 40, 0.5);
        let mut s = Seed(3).stream("rls");
        let rs: Vec<Vec<f64>> = (0..t_len)
            .map(|_| (0..d).map(|_| s.normal()).collect())
            .collect();
        let ys: Vec<Vec<f64>> = (0..t_len)
            .map(|_| (0..m).map(|_| s.normal()).collect())
            .collect();
        let mut rls = Rls::new(d, alpha);
        let mut w = vec![0.0; d * m];
        for (r, y) in rs.iter().zip(&ys) {
            let err: Vec<f64> = (0..m)
                .map(|o| elise_core::metrics::dot(&w[o * d..(o + 1) * d], r) - y[o])
                .collect();
            rls.update(r, &err, &mut w);
        }
        let a: Vec<f64> = (0..d * d)
            .map(|ij| {
                let (i, j) = (ij / d, ij % d);
                rs.iter().map(|r| r[i] * r[j]).sum::<f64>() + if i == j { alpha } else { 0.0 }
            })
            .collect();
        let b: Vec<f64> = (0..d * m)
            .map(|io| {
                let (i, o) = (io / m, io % m);
                rs.iter().zip(&ys).map(|(r, y)| r[i] * y[o]).sum()
            })
            .collect();
        let x = crate::testutil::gauss_solve(a.clone(), b, d, m);
        for o in 0..m {
            for i in 0..d {
                assert!((w[o * d + i] - x[i * m + o]).abs() < 1e-10, "{o} {i}");
            }
        }
        // P is the inverse of (R R^T + alpha I).
        let p = rls.p();
        for i in 0..d {
            for j in 0..d {
                let prod: f64 = (0..d).map(|k| a[i * d + k] * p[j * d + k]).sum();
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((prod - e).abs() < 1e-10, "{i} {j}: {prod}");
            }
        }
    }
}
