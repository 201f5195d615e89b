//! The tables read without the source: every field of `runs`, `curves`, `traces` and `degrees`
//! carries a unit and a description in its Parquet metadata, seeds are u64 everywhere
//! (`seed`, `run_base_seed`), and `branch` is null for a plain replay.

use elise_sweep::arrow_array::{Array, StringArray};
use elise_sweep::arrow_schema::DataType;
use elise_sweep::{RunDir, run_cli};

#[test]
fn fields_have_units_seeds_are_u64_and_no_branch_is_null() {
    let dir = std::env::temp_dir().join(format!("elise-birdsong-tables-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args: Vec<String> = [
        "--seeds",
        "1",
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "network.n_latent=5",
        "--set",
        "train.cycles=4",
        "--set",
        "train.validate_every=2",
        "--set",
        "replay.cycles=5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let summary = run_cli(&exp_birdsong::experiment(), &args).unwrap();
    assert!(summary.success(), "{summary:?}");
    let run = RunDir::new(&dir);
    for table in ["runs", "curves", "traces", "degrees"] {
        let batches = run.read_table(table).unwrap();
        let schema = batches[0].schema();
        for f in schema.fields() {
            let md = f.metadata();
            assert!(md.contains_key("unit"), "{table}.{} has no unit", f.name());
            assert!(
                md.get("description").is_some_and(|d| !d.is_empty()),
                "{table}.{} has no description",
                f.name()
            );
        }
        assert_eq!(
            schema.field_with_name("seed").unwrap().data_type(),
            &DataType::UInt64
        );
        if table != "degrees" {
            let branch = schema.field_with_name("branch").unwrap();
            assert!(branch.is_nullable(), "{table}.branch");
            for b in &batches {
                let col = b
                    .column_by_name("branch")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap();
                assert_eq!(
                    col.null_count(),
                    col.len(),
                    "{table}: a plain replay has no branch"
                );
            }
        }
    }
    let runs = run.read_table("runs").unwrap();
    let schema = runs[0].schema();
    assert_eq!(
        schema.field_with_name("run_base_seed").unwrap().data_type(),
        &DataType::UInt64
    );
    let dt = schema.field_with_name("neuron_dt_ms").unwrap();
    assert_eq!(dt.metadata()["unit"], "ms");
    std::fs::remove_dir_all(&dir).unwrap();
}
