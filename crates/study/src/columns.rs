//! Units and descriptions of the table columns, written into each Parquet field's metadata
//! (keys `unit` and `description`; the unit is `""` for dimensionless values, names and
//! counts without a unit), so a table can be read without the source. The same text is in
//! docs/guide.md, "Outputs".

use crate::BASE_CONFIG;
use elise_sweep::arrow_array::RecordBatch;
use elise_sweep::arrow_schema::{Field, Schema};
use std::collections::HashMap;
use std::sync::Arc;

/// `(table, column, unit, description)`; table `"*"` applies to every table without its own
/// entry for that column.
const COLUMNS: &[(&str, &str, &str, &str)] = &[
    (
        "*",
        "job",
        "",
        "job index in the run (grid point x replicate)",
    ),
    ("*", "seed", "", "the job's seed: run.base_seed + replicate"),
    ("*", "replicate", "", "replicate number r, 0-based"),
    (
        "*",
        "branch",
        "",
        "replay branch of a trained network (disruption, song or cue); null for a plain replay",
    ),
    (
        "*",
        "method",
        "",
        "model: elise, elise-reservoir, elise-soma-only, esn or force",
    ),
    (
        "*",
        "pattern",
        "",
        "pattern name (from the pattern file's header)",
    ),
    (
        "*",
        "n_visible",
        "neurons",
        "visible neurons (rows of the pattern)",
    ),
    ("*", "n_latent", "neurons", "latent neurons"),
    (
        "*",
        "n_neurons",
        "neurons",
        "all neurons (visible + latent)",
    ),
    (
        "*",
        "replay_mse",
        "rate^2",
        "mean over the scored free replay cycles of the MSE between visible rates and target rates (best window shift)",
    ),
    (
        "*",
        "replay_corr_sum",
        "",
        "mean over the scored free replay cycles of the sum over visible neurons of the Pearson correlation of rate and target (perfect = n_visible)",
    ),
    (
        "*",
        "replay_mse_max",
        "rate^2",
        "worst (largest) replay MSE of a scored cycle; NaN if any cycle is NaN",
    ),
    (
        "*",
        "replay_corr_sum_min",
        "",
        "worst (smallest) replay corr_sum of a scored cycle; NaN if any cycle is NaN",
    ),
    (
        "*",
        "replay_scored_cycles",
        "cycles",
        "number of scored free replay cycles",
    ),
    (
        "*",
        "final_val_cycle",
        "cycles",
        "training cycle of the last free validation cycle; null without validation",
    ),
    (
        "*",
        "final_val_mse",
        "rate^2",
        "MSE of the last free validation cycle (no shift)",
    ),
    (
        "*",
        "final_val_corr_sum",
        "",
        "corr_sum of the last free validation cycle (no shift)",
    ),
    (
        "*",
        "scaffold_edges",
        "edges",
        "scaffold edges; null for models without a scaffold",
    ),
    (
        "*",
        "scaffold_latent_reached",
        "neurons",
        "latent neurons with at least one scaffold teacher; null without a scaffold",
    ),
    (
        "*",
        "n_plastic",
        "synapses",
        "plastic parameters of the model",
    ),
    (
        "*",
        "n_steps",
        "steps",
        "simulated steps (of neuron.dt_ms for ELiSe)",
    ),
    (
        "*",
        "wall_seconds",
        "s",
        "wall time of the job (a cost, not a result)",
    ),
    ("*", "steps_per_second", "1/s", "n_steps / wall_seconds"),
    (
        "*",
        "phase",
        "",
        "validation (a free training cycle) or replay",
    ),
    (
        "*",
        "cycle",
        "cycles",
        "training cycle (phase validation) or replay cycle (phase replay)",
    ),
    (
        "*",
        "mse",
        "rate^2",
        "mean over visible neurons and samples of (rate - target rate)^2",
    ),
    (
        "*",
        "corr_sum",
        "",
        "sum over visible neurons of the Pearson correlation of rate and target rate (perfect = number of visible neurons)",
    ),
    (
        "*",
        "step",
        "steps",
        "in-cycle step (every 2nd); time in ms = step x neuron_dt_ms",
    ),
    ("*", "neuron", "", "visible neuron index"),
    (
        "*",
        "rate",
        "rate",
        "the neuron's rate phi(U), between 0 and 1",
    ),
    (
        "*",
        "target",
        "rate",
        "the target rate phi(Um), between 0 and 1",
    ),
    (
        "degrees",
        "kind",
        "",
        "in: scaffold teachers of a neuron; out: its students",
    ),
    ("degrees", "population", "", "visible or latent"),
    ("degrees", "degree", "edges", "scaffold degree"),
    (
        "degrees",
        "neurons",
        "neurons",
        "how many neurons of the population have this degree",
    ),
    ("recall", "cue", "", "cue label kind:size, e.g. states:12"),
    (
        "recall",
        "cue_kind",
        "",
        "states: the first cue_size states of the cycle; neurons: visible neurons 0..cue_size-1 for the whole cycle",
    ),
    ("recall", "cue_size", "", "states or neurons cued"),
    (
        "recall",
        "cued_fraction",
        "",
        "cued share of the cycle's (neuron, time) entries",
    ),
    (
        "recall",
        "cue_ms",
        "ms",
        "duration of the cue within the cue cycle",
    ),
    (
        "recall",
        "uncued_mse",
        "rate^2",
        "MSE on the uncued entries of the cue cycle",
    ),
    (
        "recall",
        "uncued_rest_mse",
        "rate^2",
        "the same MSE for a network at rest",
    ),
    (
        "recall",
        "recall",
        "",
        "1 - uncued_mse / uncued_rest_mse (1 = perfect, 0 = rest)",
    ),
    (
        "recall",
        "cued_mse",
        "rate^2",
        "MSE on the cued entries of the cue cycle",
    ),
    (
        "recall",
        "cued_rest_mse",
        "rate^2",
        "the same MSE for a network at rest",
    ),
    (
        "recall",
        "free_mse",
        "rate^2",
        "mean replay MSE of the free cycles after the cue",
    ),
    (
        "recall",
        "free_corr_sum",
        "",
        "mean replay corr_sum of the free cycles after the cue",
    ),
    (
        "recall",
        "free_corr_sum_min",
        "",
        "worst replay corr_sum of the free cycles after the cue",
    ),
    (
        "recall",
        "reference_replay_corr_sum",
        "",
        "mean replay corr_sum of the same network's usual replay (no reset)",
    ),
    ("four_sines", "n", "neurons", "FORCE network units"),
    ("four_sines", "train_ms", "ms", "training time"),
    ("four_sines", "test_ms", "ms", "free-running test time"),
    (
        "four_sines",
        "train_mae",
        "",
        "mean absolute error of the output during training",
    ),
    (
        "four_sines",
        "test_mae",
        "",
        "mean absolute error of the free-running output",
    ),
    (
        "four_sines",
        "rls_updates",
        "",
        "RLS weight updates during training",
    ),
    (
        "four_sines_trace",
        "t_ms",
        "ms",
        "time since the start of the run",
    ),
    (
        "four_sines_trace",
        "output",
        "",
        "network output (free running)",
    ),
    ("four_sines_trace", "target", "", "the four-sine target"),
];

/// The unit a config key's name carries (`_ms`, `_mv`, `_per_mv`, the conductances).
fn unit_of_key(column: &str) -> &'static str {
    if column.ends_with("_per_mv") {
        "1/mV"
    } else if column.ends_with("_ms") {
        "ms"
    } else if column.ends_with("_mv") {
        "mV"
    } else if column.starts_with("neuron_g_") {
        "1/ms"
    } else if column.starts_with("plasticity_eta_") {
        "1/step"
    } else {
        ""
    }
}

/// Unit and description of a config column `<section>_<key>`: the key's comment in the base
/// config, or a pointer to the config reference for experiment-specific keys.
fn config_column(column: &str) -> (String, String) {
    static DOCS: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        elise_sweep::annotate::key_comments(BASE_CONFIG)
            .into_iter()
            .map(|(k, c)| (k.replacen('.', "_", 1), format!("config value {k}: {c}")))
            .collect()
    });
    let description = docs
        .get(column)
        .cloned()
        .unwrap_or_else(|| format!("config value {column} (see docs/config.md)"));
    (unit_of_key(column).to_owned(), description)
}

/// Unit and description of `column` of `table`, if the table lists it.
pub fn column_doc(table: &str, column: &str) -> Option<(&'static str, &'static str)> {
    let find = |t: &str| {
        COLUMNS
            .iter()
            .find(|(tt, c, _, _)| *tt == t && *c == column)
            .map(|(_, _, u, d)| (*u, *d))
    };
    find(table).or_else(|| find("*"))
}

/// `batch` with `unit` and `description` in every field's metadata. Columns the table does not
/// list are config columns when `config_columns` (the `runs` table), else an error naming the
/// column (a new column needs its entry in this module).
pub fn describe(
    table: &str,
    batch: RecordBatch,
    config_columns: bool,
) -> anyhow::Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let (unit, description) = match column_doc(table, f.name()) {
            Some((u, d)) => (u.to_owned(), d.to_owned()),
            None if config_columns => config_column(f.name()),
            None => anyhow::bail!(
                "column {} of table {table} has no unit and description (crates/study/src/columns.rs)",
                f.name()
            ),
        };
        let mut metadata = f.metadata().clone();
        metadata.insert("unit".to_owned(), unit);
        metadata.insert("description".to_owned(), description);
        fields.push(f.as_ref().clone().with_metadata(metadata));
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    Ok(RecordBatch::try_new(schema, batch.columns().to_vec())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use elise_sweep::arrow_array::{ArrayRef, Float64Array, UInt64Array};

    #[test]
    fn fields_carry_unit_and_description() {
        let batch = RecordBatch::try_from_iter([
            ("seed", Arc::new(UInt64Array::from(vec![1u64])) as ArrayRef),
            (
                "neuron_dt_ms",
                Arc::new(Float64Array::from(vec![0.1])) as ArrayRef,
            ),
            (
                "compare_esn_dt_ms",
                Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
            ),
        ])
        .unwrap();
        let b = describe("runs", batch.clone(), true).unwrap();
        let field = |name: &str| b.schema().field_with_name(name).unwrap().clone();
        assert_eq!(field("seed").metadata()["unit"], "");
        assert!(field("seed").metadata()["description"].contains("base_seed"));
        assert_eq!(field("neuron_dt_ms").metadata()["unit"], "ms");
        assert!(field("neuron_dt_ms").metadata()["description"].contains("integration time step"));
        assert!(field("compare_esn_dt_ms").metadata()["description"].contains("docs/config.md"));
        assert_eq!(b.columns(), batch.columns(), "values unchanged");
        let err = describe("curves", batch, false).unwrap_err().to_string();
        assert!(err.contains("neuron_dt_ms"), "{err}");
    }
}
