//! exp-disruption trains through the checkpointing path: with `run.checkpoint_every` and
//! `run.save_trained` it saves each seed's trained network, and its curves equal a run without
//! checkpoints.

use elise_sweep::testing::run_in_temp_dir;

#[test]
fn checkpointing_saves_networks_and_changes_no_row() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (plain, plain_dir) = run_in_temp_dir(
        &exp_disruption::experiment(),
        "disruption-plain",
        &["--config", cfg],
    );
    assert!(plain.success(), "{plain:?}");
    let (ckpt, ckpt_dir) = run_in_temp_dir(
        &exp_disruption::experiment(),
        "disruption-ckpt",
        &[
            "--config",
            cfg,
            "--checkpoint-every",
            "7",
            "--set",
            "run.save_trained=true",
        ],
    );
    assert!(ckpt.success(), "{ckpt:?}");
    for job in 0..2 {
        let saved = ckpt_dir.path().join(format!("networks/job-{job:06}.ckpt"));
        assert!(saved.is_file(), "{} missing", saved.display());
    }
    assert_eq!(
        plain_dir.dir().read_table("curves").unwrap(),
        ckpt_dir.dir().read_table("curves").unwrap()
    );
}
