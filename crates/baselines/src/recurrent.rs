//! The random sparse recurrent matrices of the ESN reservoir (W) and the FORCE network (J):
//! `sprs` matrices in compressed sparse row form ([`RecurrentMatrix`]), with their random
//! generation, the O(nnz) matrix-vector product of the recurrent step, and the spectral-radius
//! estimate of the ESN.
//!
//! Generation: every entry (i, j), self-connections included, is present independently with
//! probability `density` (one uniform draw per entry, row by row), and a present entry draws its
//! value from the given distribution. Rows are stored in increasing column order.
//!
//! Spectral radius rho(W) = max |lambda_i| by power iteration with log-growth averaging:
//! v_0 random normal, then for k = 1..K: s_k = ||W v_{k-1}||, v_k = W v_{k-1} / s_k. The estimate
//! is exp(mean over the second half of log s_k) = (||W^m v_B|| / ||v_B||)^(1/m), the geometric
//! mean growth per step. Plain power iteration (s_K alone, or a Rayleigh quotient) converges
//! only when the dominant eigenvalue is real and nonnegative-or-isolated; a random matrix with
//! mixed signs usually has a complex dominant pair, and the eigenvalues of the circular law are
//! packed densely near the edge. The mean log growth converges to log rho in either case (by
//! Gelfand's formula), with an error of order log(C)/m for the constant C of the transient.

use elise_core::Stream;

/// Iterations of the spectral-radius estimate (half burn-in, half averaged).
pub(crate) const SPECTRAL_ITERATIONS: usize = 1000;

/// A square sparse recurrent matrix: CSR, `u32` column indices (half the index traffic of
/// `usize` in the product), `usize` row offsets, columns increasing within a row.
pub type RecurrentMatrix = sprs::CsMatI<f64, u32, usize>;

/// An `n x n` random matrix: entries present with probability `density`, values drawn by
/// `value` from `stream`.
pub(crate) fn random(
    n: usize,
    density: f64,
    stream: &mut Stream,
    mut value: impl FnMut(&mut Stream) -> f64,
) -> RecurrentMatrix {
    assert!(
        n <= u32::MAX as usize,
        "matrix too large for u32 column indices"
    );
    let mut row_ptr = Vec::with_capacity(n + 1);
    let expected = (density * (n * n) as f64).ceil() as usize;
    let mut col = Vec::with_capacity(expected + expected / 8 + 16);
    let mut val = Vec::with_capacity(col.capacity());
    row_ptr.push(0);
    for _ in 0..n {
        for j in 0..n {
            if stream.uniform() < density {
                col.push(j as u32);
                val.push(value(stream));
            }
        }
        row_ptr.push(col.len());
    }
    RecurrentMatrix::new((n, n), row_ptr, col, val)
}

/// `out = W x` in O(nnz). A bespoke loop over the matrix's `indptr`/`indices`/`data` slices
/// instead of sprs's product: two accumulators in a fixed order (reproducible bits, shorter
/// dependency chains than one running sum).
#[inline]
pub(crate) fn mul_vec(w: &RecurrentMatrix, x: &[f64], out: &mut [f64]) {
    assert!(
        w.is_csr() && x.len() == w.cols() && out.len() == w.rows(),
        "shape mismatch"
    );
    let indptr = w.indptr();
    let (row_ptr, col, val) = (indptr.raw_storage(), w.indices(), w.data());
    for (i, o) in out.iter_mut().enumerate() {
        let (lo, hi) = (row_ptr[i], row_ptr[i + 1]);
        let (cols, vals) = (&col[lo..hi], &val[lo..hi]);
        let mut acc = [0.0f64; 2];
        let (cc, vc) = (cols.chunks_exact(2), vals.chunks_exact(2));
        let (cr, vr) = (cc.remainder(), vc.remainder());
        for (c, v) in cc.zip(vc) {
            acc[0] += v[0] * x[c[0] as usize];
            acc[1] += v[1] * x[c[1] as usize];
        }
        let mut tail = 0.0;
        for (c, v) in cr.iter().zip(vr) {
            tail += v * x[*c as usize];
        }
        *o = acc[0] + acc[1] + tail;
    }
}

/// Dense row-major copy (tests and diagnostics).
#[cfg(test)]
pub(crate) fn to_dense(w: &RecurrentMatrix) -> Vec<f64> {
    let n = w.cols();
    let mut d = vec![0.0; w.rows() * n];
    for (&v, (i, j)) in w {
        d[i as usize * n + j as usize] = v;
    }
    d
}

/// Estimate of the spectral radius max |lambda_i| of the square `w` by `iterations` steps of
/// power iteration with log-growth averaging over the second half (see the module header).
/// Returns 0 when the iterate vanishes (a nilpotent matrix, e.g. an empty one).
pub(crate) fn spectral_radius_estimate(
    w: &RecurrentMatrix,
    stream: &mut Stream,
    iterations: usize,
) -> f64 {
    let n = w.rows();
    if n == 0 || w.nnz() == 0 {
        return 0.0;
    }
    let mut v: Vec<f64> = (0..n).map(|_| stream.normal()).collect();
    let mut wv = vec![0.0; n];
    normalize(&mut v);
    let burn_in = iterations / 2;
    let mut log_sum = 0.0;
    let mut counted = 0usize;
    for k in 0..iterations.max(2) {
        mul_vec(w, &v, &mut wv);
        let s = normalize(&mut wv);
        if s == 0.0 || !s.is_finite() {
            return 0.0;
        }
        std::mem::swap(&mut v, &mut wv);
        if k >= burn_in {
            log_sum += s.ln();
            counted += 1;
        }
    }
    (log_sum / counted as f64).exp()
}

/// Scales `v` to unit Euclidean norm and returns the old norm (0 leaves `v` untouched).
fn normalize(v: &mut [f64]) -> f64 {
    let s = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if s > 0.0 {
        let inv = 1.0 / s;
        for x in v.iter_mut() {
            *x *= inv;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use elise_core::Seed;

    #[test]
    fn mul_vec_matches_dense_product() {
        let mut s = Seed(5).stream("csr");
        let m = random(37, 0.3, &mut s, |s| s.normal());
        let d = to_dense(&m);
        let x: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut y = vec![0.0; 37];
        mul_vec(&m, &x, &mut y);
        for i in 0..37 {
            let e: f64 = (0..37).map(|j| d[i * 37 + j] * x[j]).sum();
            assert!((y[i] - e).abs() < 1e-12, "{i}: {} vs {e}", y[i]);
        }
        // Density is respected (37^2 * 0.3 = 411 expected, sd ~ 18).
        assert!((330..490).contains(&m.nnz()), "{}", m.nnz());
    }

    /// The estimate against faer's dense eigenvalue solver, for matrices whose dominant
    /// eigenvalue is complex, real positive and real negative.
    #[test]
    fn spectral_radius_matches_eigenvalues() {
        for (seed, n, density) in [
            (1u64, 200usize, 0.1),
            (2, 120, 0.5),
            (3, 60, 1.0),
            (4, 500, 0.1),
            (5, 300, 0.02),
        ] {
            let mut s = Seed(seed).stream("csr");
            let m = random(n, density, &mut s, |s| 2.0 * s.uniform() - 1.0);
            let d = to_dense(&m);
            let dense = faer::Mat::<f64>::from_fn(n, n, |i, j| d[i * n + j]);
            let exact = dense
                .eigenvalues()
                .unwrap()
                .iter()
                .map(|z| z.norm())
                .fold(0.0, f64::max);
            let est =
                spectral_radius_estimate(&m, &mut Seed(9).stream("power"), SPECTRAL_ITERATIONS);
            let rel = (est - exact).abs() / exact;
            assert!(
                rel < 1e-3,
                "n {n}: estimate {est} vs exact {exact} ({rel:e})"
            );
        }
        // A negative dominant eigenvalue (where a Rayleigh quotient would flip sign).
        let mut m = RecurrentMatrix::new((2, 2), vec![0, 1, 2], vec![0, 1], vec![-3.0, 1.0]);
        let est = spectral_radius_estimate(&m, &mut Seed(1).stream("power"), 200);
        assert!((est - 3.0).abs() < 1e-9, "{est}");
        m.scale(0.5);
        let est = spectral_radius_estimate(&m, &mut Seed(1).stream("power"), 200);
        assert!((est - 1.5).abs() < 1e-9, "{est}");
        // A rotation (complex pair of modulus 2): plain power iteration does not converge.
        let rot = RecurrentMatrix::new(
            (2, 2),
            vec![0, 2, 4],
            vec![0, 1, 0, 1],
            vec![0.0, -2.0, 2.0, 0.0],
        );
        let est = spectral_radius_estimate(&rot, &mut Seed(1).stream("power"), 200);
        assert!((est - 2.0).abs() < 1e-9, "{est}");
        // Nilpotent: radius 0.
        let nil = RecurrentMatrix::new((2, 2), vec![0, 1, 1], vec![1], vec![1.0]);
        assert_eq!(
            spectral_radius_estimate(&nil, &mut Seed(1).stream("power"), 10),
            0.0
        );
    }
}
