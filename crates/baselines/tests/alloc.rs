//! The step functions allocate nothing: a counting global allocator watches the steps of both
//! models in every mode (teacher present with ridge accumulation or RLS, free), outside the
//! one step at which the ridge readout is fitted and after faer's one-time lazy initialization (per thread).

use elise_baselines::{Esn, EsnParams, Force, ForceParams, Readout};
use elise_core::{Model, NeuronParams, Pattern, Seed, Teacher};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the counter is a const-initialized
// thread-local `Cell` without destructor, so touching it never allocates or reenters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|c| c.get())
}

fn teacher() -> Teacher {
    let p = Pattern::parse(
        "# name: t nNeurons: 3 nSteps: 4\n1 0 0 0\n0 1 0 1\n0 0 1 0\n",
        "t",
    )
    .unwrap();
    let params = NeuronParams {
        dt_ms: 1.0,
        ..Default::default()
    };
    Teacher::new(&p, &params, 10)
}

/// Allocations during `steps` steps at teacher presence `lambda`.
fn count(model: &mut dyn Model, steps: usize, lambda: f64) -> usize {
    let before = allocations();
    for k in 0..steps {
        model.step(k % 40, lambda);
    }
    allocations() - before
}

#[test]
fn steps_allocate_nothing() {
    for readout in [Readout::Ridge, Readout::Rls] {
        let p = EsnParams {
            n_reservoir: 100,
            washout_steps: 10,
            readout,
            ..Default::default()
        };
        let mut esn = Esn::new(&p, teacher(), Seed(1)).unwrap();
        // Warm-up (not counted): faer's gemm allocates a scratch slab once per thread at its
        // first matrix product (here the first ridge block), and detects the cache sizes once.
        count(&mut esn, 200, 1.0);
        // Teacher present: training (ridge: more than two 64-sample blocks).
        assert_eq!(count(&mut esn, 200, 1.0), 0, "{readout:?} present");
        // The switch fits the ridge readout (allowed to allocate), then free steps do not.
        count(&mut esn, 1, 0.0);
        assert_eq!(count(&mut esn, 100, 0.0), 0, "{readout:?} free");
    }
    let p = ForceParams {
        n: 200,
        update_every: 1,
        ..Default::default()
    };
    let mut force = Force::new(&p, teacher(), Seed(1)).unwrap();
    assert_eq!(count(&mut force, 100, 1.0), 0, "FORCE present");
    assert_eq!(force.core().updates(), 100);
    assert_eq!(count(&mut force, 100, 0.0), 0, "FORCE free");
    // The counter does count: building a model allocates.
    let before = allocations();
    let _ = Force::new(&p, teacher(), Seed(2)).unwrap();
    assert!(allocations() > before);
}
