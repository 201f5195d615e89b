//! Test helpers: a direct dense solver independent of faer.

/// Solves A X = B by Gaussian elimination with partial pivoting; A row-major n x n, B
/// row-major n x m; returns X row-major n x m.
pub(crate) fn gauss_solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize, m: usize) -> Vec<f64> {
    assert!(a.len() == n * n && b.len() == n * m);
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))
            .unwrap();
        for k in 0..n {
            a.swap(c * n + k, piv * n + k);
        }
        for k in 0..m {
            b.swap(c * m + k, piv * m + k);
        }
        let d = a[c * n + c];
        assert!(d != 0.0, "singular");
        for i in c + 1..n {
            let f = a[i * n + c] / d;
            for k in c..n {
                a[i * n + k] -= f * a[c * n + k];
            }
            for k in 0..m {
                b[i * m + k] -= f * b[c * m + k];
            }
        }
    }
    let mut x = vec![0.0; n * m];
    for i in (0..n).rev() {
        for k in 0..m {
            let s: f64 = (i + 1..n).map(|j| a[i * n + j] * x[j * m + k]).sum();
            x[i * m + k] = (b[i * m + k] - s) / a[i * n + i];
        }
    }
    x
}
