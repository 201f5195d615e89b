//! Scaffold growth (p, q, p0) and dendritic connectivity masks for ELiSe networks.
//!
//! The scaffold (docs/model.md (c)) is a static, soma-targeting teacher->student graph grown from the
//! visible neurons into the latent pool before learning. Dendritic masks (docs/model.md (d)) say which
//! plastic dendritic synapses exist: all-to-all, sparse with density rho (optionally protecting
//! synapses parallel to a scaffold edge), or thinned visible->latent innervation.
//!
//! A scaffold is held both as its edge list in growth order and as an `sprs` adjacency matrix
//! ([`Scaffold::matrix`]: row = student, column = teacher, value = number of edges).

use elise_core::Stream;
use serde::{Deserialize, Serialize};
use sprs::{CsMat, TriMat};

/// Parameters of the growth process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaffoldParams {
    /// Continuation probability of the outgoing count: P(n >= m+1 | n >= m) = p^m.
    pub p: f64,
    /// Preferential acceptance: a student with k inputs accepts with probability q^k.
    pub q: f64,
    /// Probability that a teacher makes no outgoing connection.
    pub p0: f64,
    /// Most scaffold inputs one latent neuron may receive (the CUDA list holds 5).
    pub max_in_degree: usize,
}

impl Default for ScaffoldParams {
    fn default() -> Self {
        Self {
            p: 0.2,
            q: 0.15,
            p0: 0.04,
            max_in_degree: 5,
        }
    }
}

/// Why a scaffold could not be grown.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScaffoldError {
    #[error("scaffold.{name} = {value} is outside {range}")]
    OutOfRange {
        name: &'static str,
        value: f64,
        range: &'static str,
    },
    #[error(
        "latent neuron {student} would receive more than scaffold.max_in_degree = {cap} scaffold inputs \
         (the CUDA input list holds 5); lower p or q, or raise max_in_degree"
    )]
    InDegreeCap { student: usize, cap: usize },
    #[error("teacher {teacher} found no latent student other than itself (n_latent = {n_latent})")]
    NoEligibleStudent { teacher: usize, n_latent: usize },
}

/// A grown scaffold. Edges are (teacher, student) pairs in growth order; a pair may repeat
/// (a duplicate edge doubles the conductance, as in the CUDA code).
///
/// The adjacency matrix ([`Scaffold::matrix`]) holds the multiset of edges; the edge list is
/// kept for the growth order, which is the order in which a network sums a student's teacher
/// conductances ([`Scaffold::teachers_of`]) and which a sparse matrix (sorted, distinct
/// columns) does not record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scaffold {
    n_visible: usize,
    n_latent: usize,
    edges: Vec<(usize, usize)>,
    /// n x n, CSR: entry (student, teacher) = number of edges teacher -> student.
    matrix: CsMat<u32>,
}

impl Scaffold {
    /// A scaffold from explicit edges (teacher, student).
    ///
    /// # Panics
    /// If a student is not latent, an index is out of range, or a neuron teaches itself.
    pub fn from_edges(n_visible: usize, n_latent: usize, edges: Vec<(usize, usize)>) -> Self {
        let n = n_visible + n_latent;
        for &(k, s) in &edges {
            assert!(
                k < n && (n_visible..n).contains(&s) && k != s,
                "invalid scaffold edge ({k}, {s})"
            );
        }
        let mut adjacency = TriMat::with_capacity((n, n), edges.len());
        for &(k, s) in &edges {
            adjacency.add_triplet(s, k, 1u32);
        }
        Self {
            n_visible,
            n_latent,
            edges,
            // Duplicate triplets are summed: the entry counts the edges.
            matrix: adjacency.to_csr(),
        }
    }

    /// The edges (teacher, student) in growth order.
    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }
    /// The adjacency matrix: n x n, CSR, entry (student, teacher) = number of edges teacher ->
    /// student (rows are posts, columns pres, as in the dendritic weights).
    pub fn matrix(&self) -> &CsMat<u32> {
        &self.matrix
    }
    pub fn n_neurons(&self) -> usize {
        self.n_visible + self.n_latent
    }
    /// Outgoing edge count of every neuron.
    pub fn n_out(&self) -> Vec<usize> {
        let mut v = vec![0; self.n_neurons()];
        for (&count, (_, teacher)) in &self.matrix {
            v[teacher] += count as usize;
        }
        v
    }
    /// Incoming edge count of every neuron (0 for visible neurons).
    pub fn n_in(&self) -> Vec<usize> {
        self.matrix
            .outer_iterator()
            .map(|row| row.data().iter().map(|&c| c as usize).sum())
            .collect()
    }
    /// Teachers of each neuron, as a multiset in growth order.
    pub fn teachers_of(&self) -> Vec<Vec<usize>> {
        let mut v = vec![Vec::new(); self.n_neurons()];
        for &(k, s) in &self.edges {
            v[s].push(k);
        }
        v
    }
    /// Whether `teacher -> student` is a scaffold edge.
    pub fn has_edge(&self, teacher: usize, student: usize) -> bool {
        student < self.matrix.rows() && self.matrix.get(student, teacher).is_some()
    }
    /// Number of latent neurons with at least one scaffold input.
    pub fn latent_reached(&self) -> usize {
        self.n_in().iter().filter(|&&k| k > 0).count()
    }

    /// Degree histograms: for each (direction, population) the number of neurons with degree
    /// 0, 1, 2, ... (index = degree; the last entry is non-zero unless the population is empty).
    pub fn degree_histograms(&self) -> DegreeHistograms {
        let hist = |degrees: &[usize]| {
            let mut h = vec![0_u32; degrees.iter().max().map_or(0, |&m| m + 1)];
            for &d in degrees {
                h[d] += 1;
            }
            h
        };
        let (n_in, n_out) = (self.n_in(), self.n_out());
        let v = self.n_visible;
        DegreeHistograms {
            out_visible: hist(&n_out[..v]),
            out_latent: hist(&n_out[v..]),
            in_latent: hist(&n_in[v..]),
        }
    }
}

/// Degree histograms of a scaffold (`h[k]` = neurons with degree `k`). Visible neurons have no
/// scaffold inputs, so there is no `in_visible`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DegreeHistograms {
    /// Out-degree (students taught) of the visible neurons.
    pub out_visible: Vec<u32>,
    /// Out-degree of the latent neurons.
    pub out_latent: Vec<u32>,
    /// In-degree (teachers) of the latent neurons.
    pub in_latent: Vec<u32>,
}

/// Grows a scaffold with the CUDA variant of the process: random queue order with
/// `round(U (|T| - 1))` index draws, duplicates allowed, no self-edges.
pub fn grow(
    n_visible: usize,
    n_latent: usize,
    params: &ScaffoldParams,
    rng: &mut Stream,
) -> Result<Scaffold, ScaffoldError> {
    let check = |name, value: f64, ok: bool, range| {
        if ok {
            Ok(())
        } else {
            Err(ScaffoldError::OutOfRange { name, value, range })
        }
    };
    check("p", params.p, (0.0..1.0).contains(&params.p), "[0, 1)")?;
    // q = 0 would loop forever once every latent neuron has an input.
    check("q", params.q, params.q > 0.0 && params.q <= 1.0, "(0, 1]")?;
    check("p0", params.p0, (0.0..=1.0).contains(&params.p0), "[0, 1]")?;
    let n = n_visible + n_latent;
    let mut edges = Vec::new();
    if n_latent == 0 {
        return Ok(Scaffold::from_edges(n_visible, 0, edges));
    }
    let mut queue: Vec<usize> = (0..n_visible).collect();
    let mut enqueued = vec![false; n];
    enqueued[..n_visible].fill(true);
    let mut n_in = vec![0usize; n];
    // Bound on draws for one edge; far above anything a valid configuration needs.
    const MAX_DRAWS: usize = 10_000_000;
    while !queue.is_empty() {
        let idx = (rng.uniform() * (queue.len() - 1) as f64).round() as usize;
        let teacher = queue.remove(idx);
        let n_out = outgoing_count(params, rng);
        for _ in 0..n_out {
            let mut draws = 0;
            let student = loop {
                draws += 1;
                if draws > MAX_DRAWS {
                    return Err(ScaffoldError::NoEligibleStudent { teacher, n_latent });
                }
                let s = n_visible + (rng.uniform() * (n_latent - 1) as f64).round() as usize;
                if s == teacher {
                    continue;
                }
                if rng.uniform() < params.q.powi(n_in[s] as i32) {
                    break s;
                }
            };
            if n_in[student] == params.max_in_degree {
                return Err(ScaffoldError::InDegreeCap {
                    student,
                    cap: params.max_in_degree,
                });
            }
            n_in[student] += 1;
            edges.push((teacher, student));
            if !enqueued[student] {
                enqueued[student] = true;
                queue.push(student);
            }
        }
    }
    Ok(Scaffold::from_edges(n_visible, n_latent, edges))
}

fn outgoing_count(params: &ScaffoldParams, rng: &mut Stream) -> usize {
    if rng.uniform() < params.p0 {
        return 0;
    }
    let mut n = 1;
    while rng.uniform() < params.p.powi(n as i32) {
        n += 1;
    }
    n
}

/// Which dendritic synapses exist (docs/model.md (d)).
#[derive(Clone, Debug, PartialEq)]
pub enum Connectivity {
    /// Every ordered pair i != j.
    AllToAll,
    /// Each pair kept with probability `density`; with `protect_scaffold`, a pair parallel to a
    /// scaffold edge (pre = teacher, post = student) is kept anyway.
    Sparse {
        density: f64,
        protect_scaffold: bool,
    },
    /// Only latent-post / visible-pre pairs are thinned, each kept with probability `ratio`.
    Innervation { ratio: f64 },
}

/// The dendritic mask, row-major `[post * n + pre]`, one uniform per candidate pair in row-major
/// order where the connectivity draws. Without `latent_dendrites` (soma-only networks), latent
/// rows are empty.
pub fn dendritic_mask(
    n_visible: usize,
    n_latent: usize,
    connectivity: &Connectivity,
    latent_dendrites: bool,
    scaffold: &Scaffold,
    rng: &mut Stream,
) -> Vec<bool> {
    let n = n_visible + n_latent;
    let mut mask = vec![false; n * n];
    // The scaffold teachers of the current row (a row of the adjacency matrix), as flags (a
    // scan of the edge list per synapse made this O(n^2 edges): minutes at n = 2000).
    let adjacency = scaffold.matrix();
    let mut is_teacher = vec![false; n];
    for post in 0..n {
        let row_teachers = if post < adjacency.rows() {
            &adjacency.indices()[adjacency.indptr().outer_inds_sz(post)]
        } else {
            &[]
        };
        for &t in row_teachers {
            is_teacher[t] = true;
        }
        for pre in 0..n {
            if pre == post {
                continue;
            }
            let keep = match *connectivity {
                Connectivity::AllToAll => true,
                // The draw comes first and always happens: the stream does not depend on the
                // scaffold.
                Connectivity::Sparse {
                    density,
                    protect_scaffold,
                } => rng.uniform() <= density || (protect_scaffold && is_teacher[pre]),
                Connectivity::Innervation { ratio } => {
                    post < n_visible || pre >= n_visible || rng.uniform() <= ratio
                }
            };
            mask[post * n + pre] = keep && (latent_dendrites || post < n_visible);
        }
        for &t in row_teachers {
            is_teacher[t] = false;
        }
    }
    mask
}

#[cfg(test)]
mod tests {

    #[test]
    fn degree_histograms_count_every_neuron_once() {
        // 2 visible (0, 1), 3 latent (2, 3, 4); edge 0->2 twice (duplicates count).
        let sc = Scaffold::from_edges(2, 3, vec![(0, 2), (0, 2), (0, 3), (2, 4), (3, 4)]);
        let h = sc.degree_histograms();
        assert_eq!(h.out_visible, vec![1, 0, 0, 1]); // neuron 1: 0, neuron 0: 3
        assert_eq!(h.out_latent, vec![1, 2]); // 4: 0; 2, 3: 1
        assert_eq!(h.in_latent, vec![0, 1, 2]); // 3: 1; 2, 4: 2
        let total = |v: &[u32]| v.iter().sum::<u32>();
        assert_eq!(total(&h.out_visible), 2);
        assert_eq!(total(&h.in_latent), 3);
        let edges: u32 = h
            .in_latent
            .iter()
            .enumerate()
            .map(|(k, &c)| k as u32 * c)
            .sum();
        assert_eq!(edges as usize, sc.edges().len());
    }
    use super::*;
    use elise_core::Seed;

    #[test]
    fn matrix_counts_the_edges() {
        let sc = Scaffold::from_edges(2, 3, vec![(0, 2), (3, 4), (0, 2), (1, 3), (2, 4)]);
        let m = sc.matrix();
        assert!(m.is_csr() && m.shape() == (5, 5));
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.get(2, 0), Some(&2)); // the duplicate edge 0 -> 2
        assert_eq!(m.get(4, 3), Some(&1));
        assert_eq!(m.get(0, 2), None); // no edge 2 -> 0
        for k in 0..5 {
            for s in 0..5 {
                let count = sc.edges().iter().filter(|&&e| e == (k, s)).count();
                assert_eq!(m.get(s, k).map_or(0, |&c| c as usize), count);
                assert_eq!(sc.has_edge(k, s), count > 0);
            }
        }
        assert_eq!(sc.n_in(), vec![0, 0, 2, 1, 2]);
        assert_eq!(sc.n_out(), vec![2, 1, 1, 1, 0]);
        // Growth order survives in the teacher lists.
        assert_eq!(sc.teachers_of()[4], vec![3, 2]);
    }

    #[test]
    fn guards_q_zero_and_bad_ranges() {
        let mut rng = Seed(1).stream("scaffold");
        let bad = |p: ScaffoldParams, rng: &mut Stream| grow(13, 50, &p, rng).unwrap_err();
        let e = bad(
            ScaffoldParams {
                q: 0.0,
                ..Default::default()
            },
            &mut rng,
        );
        assert!(
            matches!(e, ScaffoldError::OutOfRange { name: "q", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("scaffold.q = 0"));
        let e = bad(
            ScaffoldParams {
                p: 1.0,
                ..Default::default()
            },
            &mut rng,
        );
        assert!(matches!(e, ScaffoldError::OutOfRange { name: "p", .. }));
        let e = bad(
            ScaffoldParams {
                p0: -0.1,
                ..Default::default()
            },
            &mut rng,
        );
        assert!(matches!(e, ScaffoldError::OutOfRange { name: "p0", .. }));
    }

    #[test]
    fn in_degree_cap_is_an_error() {
        // q = 1 accepts every draw: with many teachers and 2 latent neurons the cap is hit.
        let p = ScaffoldParams {
            p: 0.5,
            q: 1.0,
            p0: 0.0,
            max_in_degree: 5,
        };
        let e = grow(20, 2, &p, &mut Seed(3).stream("scaffold")).unwrap_err();
        assert!(
            matches!(e, ScaffoldError::InDegreeCap { cap: 5, .. }),
            "{e}"
        );
    }

    #[test]
    fn same_seed_same_scaffold_and_invariants() {
        let p = ScaffoldParams::default();
        let a = grow(13, 50, &p, &mut Seed(9).stream("scaffold")).unwrap();
        let b = grow(13, 50, &p, &mut Seed(9).stream("scaffold")).unwrap();
        assert_eq!(a, b);
        assert!(a.edges().iter().all(|&(k, s)| s >= 13 && k != s));
        assert!(a.n_in()[..13].iter().all(|&k| k == 0));
        assert!(a.n_in().iter().all(|&k| k <= 5));
        assert!(
            grow(13, 0, &p, &mut Seed(9).stream("scaffold"))
                .unwrap()
                .edges()
                .is_empty()
        );
    }

    #[test]
    fn masks() {
        let sc = Scaffold::from_edges(2, 2, vec![(0, 2), (2, 3)]);
        let mut rng = Seed(1).stream("connectivity");
        let all = dendritic_mask(2, 2, &Connectivity::AllToAll, true, &sc, &mut rng);
        assert_eq!(all.iter().filter(|&&b| b).count(), 12);
        assert!((0..4).all(|i| !all[i * 4 + i]));
        let soma_only = dendritic_mask(2, 2, &Connectivity::AllToAll, false, &sc, &mut rng);
        assert_eq!(soma_only.iter().filter(|&&b| b).count(), 6);
        assert!(soma_only[8..].iter().all(|&b| !b));
        let none = dendritic_mask(
            2,
            2,
            &Connectivity::Sparse {
                density: 0.0,
                protect_scaffold: true,
            },
            true,
            &sc,
            &mut rng,
        );
        // rho = 0 keeps only the synapses parallel to scaffold edges (pre 0 -> post 2, pre 2 -> post 3).
        let kept: Vec<usize> = (0..16).filter(|&k| none[k]).collect();
        assert_eq!(kept, vec![2 * 4, 3 * 4 + 2]);
        let innerv = dendritic_mask(
            2,
            2,
            &Connectivity::Innervation { ratio: 0.0 },
            true,
            &sc,
            &mut rng,
        );
        assert!(!innerv[2 * 4] && !innerv[3 * 4 + 1] && innerv[3 * 4 + 2] && innerv[1]);
    }

    #[test]
    fn protected_sparse_mask_is_the_edge_by_edge_definition() {
        // The demo's scaffold on 13 + 150 neurons; the mask must equal the definition with one
        // draw per synapse, kept if the draw is below rho or the synapse parallels an edge.
        let sc = grow(
            13,
            150,
            &ScaffoldParams::default(),
            &mut Seed(4).stream("scaffold"),
        )
        .unwrap();
        let n = 163;
        for density in [0.0, 0.1, 0.5] {
            let sparse = Connectivity::Sparse {
                density,
                protect_scaffold: true,
            };
            let mask = dendritic_mask(13, 150, &sparse, true, &sc, &mut Seed(5).stream("c"));
            let mut rng = Seed(5).stream("c");
            let mut protected = 0;
            for post in 0..n {
                for pre in (0..n).filter(|&pre| pre != post) {
                    let want = rng.uniform() <= density || sc.has_edge(pre, post);
                    assert_eq!(mask[post * n + pre], want, "{pre} -> {post} at {density}");
                    protected += usize::from(sc.has_edge(pre, post));
                }
            }
            assert!(protected > 50, "the scaffold has edges");
        }
    }
}
