//! Writing 10^6 rows of the `traces` table (the schema of `elise_study::tables::traces`: job,
//! seed, branch, phase, cycle, step, neuron, rate, target) with `write_parquet_atomic`.
//! Run with `cargo bench -p elise-sweep`.

use arrow_array::{
    ArrayRef, Float32Array, Int64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use elise_sweep::write_parquet_atomic;
use std::sync::Arc;

/// 10^6 rows as a replay run writes them: 13 neurons x 1250 samples per cycle x 61.5 cycles.
fn trace_batch(rows: usize) -> RecordBatch {
    let (n_vis, samples) = (13usize, 1250usize);
    let k = |r: usize| (r / n_vis) % samples;
    let phase: Vec<&str> = (0..rows)
        .map(|r| {
            if r < n_vis * samples {
                "validation"
            } else {
                "replay"
            }
        })
        .collect();
    let rate: Vec<f32> = (0..rows)
        .map(|r| (0.5 + 0.5 * ((r % 977) as f32 * 0.01).sin()) * 0.8)
        .collect();
    let target: Vec<f32> = (0..rows).map(|r| ((k(r) / 100) % 2) as f32 * 0.8).collect();
    RecordBatch::try_from_iter([
        (
            "job",
            Arc::new(UInt64Array::from(vec![3u64; rows])) as ArrayRef,
        ),
        ("seed", Arc::new(UInt64Array::from(vec![12_345u64; rows]))),
        ("branch", Arc::new(StringArray::from(vec!["none"; rows]))),
        ("phase", Arc::new(StringArray::from(phase))),
        (
            "cycle",
            Arc::new(Int64Array::from_iter_values(
                (0..rows).map(|r| (r / (n_vis * samples)) as i64),
            )),
        ),
        (
            "step",
            Arc::new(UInt32Array::from_iter_values(
                (0..rows).map(|r| 2 * k(r) as u32),
            )),
        ),
        (
            "neuron",
            Arc::new(UInt32Array::from_iter_values(
                (0..rows).map(|r| (r % n_vis) as u32),
            )),
        ),
        ("rate", Arc::new(Float32Array::from(rate))),
        ("target", Arc::new(Float32Array::from(target))),
    ])
    .expect("batch")
}

fn bench_parquet(c: &mut Criterion) {
    let rows = 1_000_000;
    let batch = trace_batch(rows);
    let dir = std::env::temp_dir().join(format!("elise-bench-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("traces.parquet");
    let mut group = c.benchmark_group("parquet");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("write_traces_1e6_rows", |b| {
        b.iter(|| write_parquet_atomic(&path, &batch, &[]).expect("write"))
    });
    group.finish();
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    eprintln!("traces.parquet: {rows} rows, {bytes} bytes");
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, bench_parquet);
criterion_main!(benches);
