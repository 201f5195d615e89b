//! Input files read once, at the edge: the bounded reader (fuzzed, and a table of special
//! files that must be refused without blocking), the `[inputs]` table and the run's copies,
//! changed inputs refused between shards and before a resume, stored configs that read the
//! copies and never the paths, the job's own checkpoint handed over by the harness, and job
//! output files. In-process, with a tiny experiment whose jobs hash the inputs they get.

use elise_sweep::testing::args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use elise_sweep::arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use elise_sweep::{
    ConfigError, Experiment, InputFile, Inputs, Job, JobOutput, Outcome, Progress, ReadError,
    RunDir, column, fnv1a_64, read_bounded, replicate_jobs, run_cli,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

const DEFAULT: &str = r#"
[run]
seeds = 2
base_seed = 7

[axes]

[data]
file = ""           # input file ("" = none)
second = ""         # another input file ("" = none)
fail_without_checkpoint = false
"#;

/// Largest data file.
const MAX_DATA: u64 = 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cfg {
    run: RunCfg,
    data: DataCfg,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCfg {
    seeds: usize,
    base_seed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataCfg {
    file: String,
    second: String,
    fail_without_checkpoint: bool,
}

/// Jobs hash the bytes of their inputs; `finish` counts the bytes `RunDir::inputs` gives.
struct Reader;

impl Experiment for Reader {
    type Config = Cfg;
    fn name(&self) -> &'static str {
        "reader"
    }

    fn default_config(&self) -> &str {
        DEFAULT
    }
    fn input_files(&self, cfg: &Cfg) -> Vec<InputFile> {
        [
            ("data.file", &cfg.data.file),
            ("data.second", &cfg.data.second),
        ]
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(k, p)| InputFile::new(k, p.as_str(), MAX_DATA, "a data file"))
        .collect()
    }
    fn validate(&self, cfg: &Cfg, inputs: &Inputs) -> Result<(), ConfigError> {
        for (key, path) in [
            ("data.file", &cfg.data.file),
            ("data.second", &cfg.data.second),
        ] {
            if !path.is_empty() && inputs.get(path).is_none() {
                return Err(ConfigError::invalid(key, "not read by the harness"));
            }
        }
        Ok(())
    }
    fn jobs(&self, cfg: &Cfg, _: &Inputs) -> Vec<Job> {
        replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }
    fn work_units(&self, _: &Cfg, _: &Job) -> u64 {
        1
    }
    fn max_checkpoint_bytes(&self, _: &Cfg) -> Option<u64> {
        Some(64)
    }
    fn run_job(
        &self,
        cfg: &Cfg,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        let saved = progress.saved_checkpoint();
        if cfg.data.fail_without_checkpoint && saved.is_none() {
            progress.save_checkpoint(format!("ckpt of seed {}", job.seed).as_bytes())?;
            anyhow::bail!("no checkpoint yet (saved one)");
        }
        let hash = |p: &str| inputs.get(p).map_or(0, fnv1a_64);
        let batch = RecordBatch::try_from_iter([
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed])) as ArrayRef,
            ),
            (
                "file_hash",
                Arc::new(UInt64Array::from(vec![hash(&cfg.data.file)])),
            ),
            (
                "second_hash",
                Arc::new(UInt64Array::from(vec![hash(&cfg.data.second)])),
            ),
            (
                "checkpoint",
                Arc::new(StringArray::from(vec![
                    saved.map(|b| String::from_utf8_lossy(&b).into_owned()),
                ])),
            ),
        ])?;
        let mut out = JobOutput::new().with_table("rows", batch);
        out.push_file(
            format!("extra/job-{:06}.txt", job.index),
            job.seed.to_string().into_bytes(),
        );
        Ok(out)
    }
    fn finish(&self, _: &Cfg, run: &RunDir) -> anyhow::Result<()> {
        let n: usize = run.inputs()?.iter().map(|(_, b)| b.len()).sum();
        elise_sweep::write_file_atomic(&run.path().join("finish.txt"), n.to_string().as_bytes())
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = elise_sweep::testing::fresh_temp_path(&format!("sweep-inputs-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[String]) -> anyhow::Result<Outcome> {
    run_cli(&Reader, args)
}

fn with_out(out: &Path, list: &[&str]) -> Vec<String> {
    let mut a = args(list);
    a.extend(["--out".to_owned(), out.display().to_string()]);
    a
}

fn set_file(key: &str, path: &Path) -> Vec<String> {
    vec![
        "--set".to_owned(),
        format!("{key}={:?}", path.display().to_string()),
    ]
}

/// Runs `f` on another thread and fails the test if it takes longer than `secs` (a read that
/// blocks on a FIFO or reads a device endlessly).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("timed out: the reader blocked or read without bound")
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A sparse file of `len` bytes (instant, no disk space).
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

fn rows(out: &Path) -> Vec<RecordBatch> {
    RunDir::new(out).read_table("rows").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any content, any limit: the bytes come back exactly when they fit, else TooLarge.
    #[test]
    fn read_bounded_returns_the_bytes_or_refuses(
        content in proptest::collection::vec(any::<u8>(), 0..3000),
        limit in 0u64..3000,
    ) {
        let dir = temp_dir("fuzz");
        let path = dir.join("f.bin");
        std::fs::write(&path, &content).unwrap();
        match read_bounded(&path, limit) {
            Ok(bytes) => {
                prop_assert!(content.len() as u64 <= limit);
                prop_assert_eq!(bytes, content);
            }
            Err(ReadError::TooLarge { limit: l }) => {
                prop_assert!(content.len() as u64 > limit);
                prop_assert_eq!(l, limit);
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn special_files_are_refused_without_blocking() {
    let dir = temp_dir("special");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let link_zero = dir.join("zero-link");
    std::os::unix::fs::symlink("/dev/zero", &link_zero).unwrap();
    let link_fifo = dir.join("fifo-link");
    std::os::unix::fs::symlink(&fifo, &link_fifo).unwrap();
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nothing"), &dangling).unwrap();
    let socket = dir.join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let huge = dir.join("huge");
    sparse(&huge, 1 << 40);
    let block = ["/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| {
            use std::os::unix::fs::FileTypeExt as _;
            std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device())
        });
    let mut table: Vec<(PathBuf, &str)> = vec![
        (fifo.clone(), "not a regular file (a FIFO)"),
        (
            PathBuf::from("/dev/zero"),
            "not a regular file (a character device)",
        ),
        (
            PathBuf::from("/dev/null"),
            "not a regular file (a character device)",
        ),
        (
            PathBuf::from("/dev/urandom"),
            "not a regular file (a character device)",
        ),
        (dir.clone(), "not a regular file (a directory)"),
        (
            link_zero,
            "not a regular file (a symlink to a character device)",
        ),
        (link_fifo, "not a regular file (a symlink to a FIFO)"),
        (socket, "not a regular file (a socket)"),
        (dangling, "cannot read: No such file"),
        (dir.join("missing"), "cannot read: No such file"),
        (huge, "larger than 1 KiB"),
        (PathBuf::from("/proc/self/status"), "larger than 1 KiB"),
    ];
    if let Some(b) = block {
        table.push((b, "not a regular file (a block device)"));
    }
    for (path, needle) in table {
        let p = path.clone();
        let e = within(10, move || read_bounded(&p, 1024))
            .expect_err(&format!("{} was read", path.display()));
        assert!(e.to_string().contains(needle), "{}: {e}", path.display());
    }
    // A file that claims size 0 (/proc) is read, up to the bound.
    let status = within(10, || read_bounded(Path::new("/proc/self/status"), 1 << 20)).unwrap();
    assert!(String::from_utf8_lossy(&status).contains("Name:"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn special_files_named_by_the_config_fail_fast_with_key_and_kind() {
    let dir = temp_dir("config-special");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let link = dir.join("zero-link");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let big = dir.join("big.txt");
    sparse(&big, MAX_DATA + 1);
    for (path, needle) in [
        (fifo, "not a regular file (a FIFO); expected a data file"),
        (
            PathBuf::from("/dev/zero"),
            "not a regular file (a character device)",
        ),
        (dir.clone(), "not a regular file (a directory)"),
        (link, "not a regular file (a symlink to a character device)"),
        (big, "larger than 1 KiB; expected a data file"),
    ] {
        for key in ["data.file", "data.second"] {
            let out = dir.join("run");
            let mut a = with_out(&out, &[]);
            a.extend(set_file(key, &path));
            let e = within(10, move || run(&a)).unwrap_err();
            let msg = e.to_string();
            assert!(e.downcast_ref::<ConfigError>().is_some(), "{msg}");
            assert!(
                msg.starts_with(&format!("{key} = '{}': ", path.display())) && msg.contains(needle),
                "{msg}"
            );
            assert!(
                !out.exists(),
                "run directory created for {}",
                path.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inputs_are_recorded_by_content_copied_and_handed_to_jobs() {
    let dir = temp_dir("recorded");
    let file = dir.join("data.txt");
    std::fs::write(&file, b"first data\n").unwrap();
    let hash = format!("{:016x}", fnv1a_64(b"first data\n"));
    let out = dir.join("run");
    // The same file under both keys is read once and listed with both keys.
    let mut a = with_out(&out, &[]);
    a.extend(set_file("data.file", &file));
    a.extend(set_file("data.second", &file));
    let s = run(&a).and_then(Outcome::into_run).unwrap();
    assert!(s.success(), "{s:?}");
    let stored: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("config.toml")).unwrap()).unwrap();
    let inputs = stored["inputs"].as_table().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    let entry = inputs[&file.display().to_string()].as_table().unwrap();
    assert_eq!(entry["fnv1a64"].as_str(), Some(hash.as_str()));
    assert_eq!(entry["bytes"].as_integer(), Some(11));
    assert_eq!(
        entry["keys"].as_array().unwrap(),
        &vec![
            toml::Value::String("data.file".into()),
            toml::Value::String("data.second".into())
        ]
    );
    // The config values stay as written.
    assert_eq!(
        stored["data"]["file"].as_str(),
        Some(file.display().to_string().as_str())
    );
    assert_eq!(
        std::fs::read(out.join("inputs").join(&hash)).unwrap(),
        b"first data\n"
    );
    for b in rows(&out) {
        let h = column::<UInt64Array>(&b, "file_hash").unwrap();
        let h2 = column::<UInt64Array>(&b, "second_hash").unwrap();
        assert_eq!(
            (h.value(0), h2.value(0)),
            (fnv1a_64(b"first data\n"), h.value(0))
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "11"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("extra/job-000001.txt")).unwrap(),
        "8"
    );
    // The listing shows the [inputs] table (the run id hashes it).
    let listing = run(&args(&[
        "--list",
        "--set",
        &format!("data.file={:?}", file.display().to_string()),
    ]))
    .unwrap()
    .listing()
    .unwrap()
    .to_owned();
    assert!(
        listing.contains(&format!("fnv1a64 = \"{hash}\"")),
        "{listing}"
    );
    // An axis over a file key reads every point's file, and the base config's (validated, and
    // what `finish` gets).
    let other = dir.join("other.txt");
    std::fs::write(&other, b"second data\n").unwrap();
    let base = dir.join("base.txt");
    std::fs::write(&base, b"base").unwrap();
    let grid = dir.join("grid");
    let mut a = with_out(
        &grid,
        &[
            "--axis",
            &format!("data.file={},{}", file.display(), other.display()),
        ],
    );
    a.extend(set_file("data.file", &base));
    assert!(run(&a).unwrap().success());
    let stored = std::fs::read_to_string(grid.join("config.toml")).unwrap();
    let t: toml::Table = toml::from_str(&stored).unwrap();
    assert_eq!(t["inputs"].as_table().unwrap().len(), 3, "{stored}");
    assert_eq!(
        std::fs::read_to_string(grid.join("finish.txt")).unwrap(),
        "27"
    );
    let mut hashes: Vec<u64> = rows(&grid)
        .iter()
        .map(|b| column::<UInt64Array>(b, "file_hash").unwrap().value(0))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 2);
    // No input file: no [inputs] table, the config text is as before.
    let plain = dir.join("plain");
    assert!(run(&with_out(&plain, &[])).unwrap().success());
    let text = std::fs::read_to_string(plain.join("config.toml")).unwrap();
    assert!(!text.contains("inputs"), "{text}");
    assert!(!plain.join("inputs").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_input_is_refused_between_shards_and_before_a_resume() {
    let dir = temp_dir("changed");
    let file = dir.join("data.txt");
    std::fs::write(&file, b"version 1").unwrap();
    let out = dir.join("run");
    let mut a = with_out(&out, &["--shard", "0/2"]);
    a.extend(set_file("data.file", &file));
    assert!(run(&a).unwrap().success());
    std::fs::write(&file, b"version 2").unwrap();
    let (h1, h2) = (
        format!("{:016x}", fnv1a_64(b"version 1")),
        format!("{:016x}", fnv1a_64(b"version 2")),
    );
    for extra in [&["--shard", "1/2"][..], &[]] {
        let mut b = with_out(&out, extra);
        b.extend(set_file("data.file", &file));
        let msg = run(&b).unwrap_err().to_string();
        for needle in [
            "holds a run with a different config",
            &format!("input '{}' (data.file) changed", file.display()),
            &format!("fnv1a64 {h1} (9 bytes) in the run, {h2} (9 bytes) now"),
        ] {
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
    }
    // Never a mixed run: only shard 0's job is there.
    assert_eq!(rows(&out).len(), 1);
    assert!(!out.join("_done").join("job-000001.toml").exists());
    // The old content again: the run resumes.
    std::fs::write(&file, b"version 1").unwrap();
    let mut c = with_out(&out, &[]);
    c.extend(set_file("data.file", &file));
    let s = run(&c).and_then(Outcome::into_run).unwrap();
    assert!(s.success() && s.n_resumed == 1, "{s:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stored_config_reads_the_run_copies_not_the_paths() {
    let dir = temp_dir("stored");
    let file = dir.join("data.txt");
    std::fs::write(&file, b"kept in the run").unwrap();
    let hash = format!("{:016x}", fnv1a_64(b"kept in the run"));
    let out = dir.join("run");
    let mut a = with_out(&out, &["--shard", "0/2"]);
    a.extend(set_file("data.file", &file));
    assert!(run(&a).unwrap().success());
    // The user's file changes (or disappears): the stored config does not care.
    std::fs::write(&file, b"something else").unwrap();
    let stored = out.join("config.toml").display().to_string();
    let b = with_out(&out, &["--config", &stored, "--shard", "1/2"]);
    assert!(run(&b).unwrap().success());
    std::fs::remove_file(&file).unwrap();
    let s = run_cli(
        &Reader,
        &args(&["collect", "--out", &out.display().to_string()]),
    )
    .unwrap();
    assert!(s.success(), "{s:?}");
    let want = fnv1a_64(b"kept in the run");
    for b in rows(&out) {
        assert_eq!(
            column::<UInt64Array>(&b, "file_hash").unwrap().value(0),
            want
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "15"
    );
    let redraw = run(&with_out(&out, &["--redraw"])).unwrap();
    assert!(
        matches!(
            redraw,
            Outcome::Redrawn {
                finish_error: None,
                ..
            }
        ),
        "{redraw:?}"
    );
    // A damaged copy is refused, naming the input and the copy.
    let copy = out.join("inputs").join(&hash);
    std::fs::write(&copy, b"tampered").unwrap();
    let msg = run(&with_out(&out, &["--config", &stored]))
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!("data.file = '{}': the run's copy", file.display()))
            && msg.contains("differs from the recorded input"),
        "{msg}"
    );
    // So is a missing one; the path is never read instead.
    std::fs::remove_file(&copy).unwrap();
    std::fs::write(&file, b"kept in the run").unwrap();
    let msg = run_cli(
        &Reader,
        &args(&["collect", "--out", &out.display().to_string()]),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("is missing") && msg.contains(&hash), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_harness_hands_the_job_its_checkpoint_and_ignores_special_ones() {
    let dir = temp_dir("checkpoint");
    let out = dir.join("run");
    let a = with_out(
        &out,
        &["--seeds", "1", "--set", "data.fail_without_checkpoint=true"],
    );
    // First run: the job saves a checkpoint through the harness, then fails.
    let s = run(&a).and_then(Outcome::into_run).unwrap();
    assert_eq!(s.n_failed, 1, "{s:?}");
    let ckpt = out.join("_checkpoints").join("job-000000.ckpt");
    assert_eq!(std::fs::read(&ckpt).unwrap(), b"ckpt of seed 7");
    // A FIFO or an oversized file in its place is ignored (warning), without blocking.
    for special in ["fifo", "big"] {
        std::fs::remove_file(&ckpt).unwrap();
        if special == "fifo" {
            mkfifo(&ckpt);
        } else {
            sparse(&ckpt, 65);
        }
        let a2 = a.clone();
        let s = within(20, move || run(&a2).and_then(Outcome::into_run)).unwrap();
        assert_eq!(s.n_failed, 1, "{special}: {s:?}");
        assert_eq!(
            std::fs::read(&ckpt).unwrap(),
            b"ckpt of seed 7",
            "{special}"
        );
    }
    // Second run: the harness reads it before the job and hands the bytes over.
    let s = run(&a).and_then(Outcome::into_run).unwrap();
    assert!(s.success(), "{s:?}");
    let b = &rows(&out)[0];
    assert_eq!(
        column::<StringArray>(b, "checkpoint").unwrap().value(0),
        "ckpt of seed 7"
    );
    assert!(!ckpt.exists(), "removed once the job's parts are written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn job_output_files_need_safe_names() {
    struct BadFile;
    impl Experiment for BadFile {
        type Config = Cfg;
        fn name(&self) -> &'static str {
            "badfile"
        }
        fn default_config(&self) -> &str {
            DEFAULT
        }
        fn validate(&self, _: &Cfg, _: &Inputs) -> Result<(), ConfigError> {
            Ok(())
        }
        fn jobs(&self, _: &Cfg, _: &Inputs) -> Vec<Job> {
            replicate_jobs(1, 0)
        }
        fn work_units(&self, _: &Cfg, _: &Job) -> u64 {
            1
        }
        fn run_job(&self, _: &Cfg, _: &Job, _: &Inputs, _: &Progress) -> anyhow::Result<JobOutput> {
            let mut out = JobOutput::new();
            out.push_file("../escape.txt", b"x".to_vec());
            Ok(out)
        }
    }
    let dir = temp_dir("badfile");
    let out = dir.join("run");
    let s = run_cli(&BadFile, &with_out(&out, &[]))
        .and_then(Outcome::into_run)
        .unwrap();
    assert_eq!(s.n_failed, 1);
    assert!(
        s.failed[0]
            .error
            .contains("invalid output file '../escape.txt'"),
        "{s:?}"
    );
    assert!(!dir.join("escape.txt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `--config` file goes through the same bounded reader: a FIFO, a device or a directory is
/// refused at once with a usage error naming the file, never read without end.
#[test]
fn special_config_files_are_refused_without_blocking() {
    let dir = temp_dir("special-config");
    let fifo = dir.join("config.fifo");
    mkfifo(&fifo);
    for (path, needle) in [
        (fifo, "not a regular file (a FIFO)"),
        (
            PathBuf::from("/dev/zero"),
            "not a regular file (a character device)",
        ),
        (dir.clone(), "not a regular file (a directory)"),
    ] {
        let out = dir.join("run");
        let a = with_out(&out, &["--config", path.to_str().unwrap()]);
        let e = within(10, move || run(&a)).unwrap_err();
        let msg = e.to_string();
        assert!(e.downcast_ref::<ConfigError>().is_some(), "{msg}");
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(needle),
            "{msg}"
        );
        assert!(
            !out.exists(),
            "run directory created for {}",
            path.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
