//! The Python package elise_lab: run any experiment, hold a network, look inside it (PyO3 bindings to the same engine as the CLI).
//!
//! This is the native module `elise_lab._native`; the Python layer (`python/elise_lab`) wraps
//! it with pathlib paths, polars DataFrames and scipy matrices. Same config schema, checks,
//! seeds and bits as the CLI: configs are resolved by the harness (a dict becomes `--set`
//! overrides, a path is `--config`), runs go through `plan` then `execute_cancellable`
//! ([`dispatch`]), a held network is `elise_study::network::HeldNetwork`. Long calls release
//! the GIL and check for Ctrl-C between chunks (KeyboardInterrupt; a run stops cleanly, its
//! manifest says `interrupted`).

mod dispatch;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use elise_core::Seed;
use elise_dynamics::checkpoint::Checkpoint;
use elise_study::network::HeldNetwork;
use elise_study::record::Quantity;
use elise_sweep::{ConfigError, ExecOptions, Override, Request, toml};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Largest checkpoint `Network.load` reads (the bound of the largest network a config allows).
const MAX_CHECKPOINT_BYTES: u64 = 4 << 30;

/// An engine error as the Python exception a user expects: config and usage errors are
/// `ValueError` with the CLI's message, I/O errors `OSError`, the rest `RuntimeError`.
fn py_err(e: anyhow::Error) -> PyErr {
    let msg = format!("{e:#}");
    if e.downcast_ref::<ConfigError>().is_some() {
        return PyValueError::new_err(msg);
    }
    if e.downcast_ref::<std::io::Error>().is_some() {
        return PyOSError::new_err(msg);
    }
    PyRuntimeError::new_err(msg)
}

/// A Python value as a TOML value (dicts as tables).
fn to_toml(v: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    if v.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(v.extract().map_err(|_| {
            PyValueError::new_err(format!("{key}: integer out of range"))
        })?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(v.extract()?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, x) in d.iter() {
            let k: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("{key}: config keys are strings")))?;
            let sub = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            t.insert(k, to_toml(&x, &sub)?);
        }
        return Ok(toml::Value::Table(t));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut a = Vec::new();
        for x in v.try_iter()? {
            a.push(to_toml(&x?, key)?);
        }
        return Ok(toml::Value::Array(a));
    }
    // numpy scalars and other numbers
    if let Ok(i) = v.call_method0("__index__").and_then(|i| i.extract::<i64>()) {
        return Ok(toml::Value::Integer(i));
    }
    if let Ok(f) = v.call_method0("__float__").and_then(|f| f.extract::<f64>()) {
        return Ok(toml::Value::Float(f));
    }
    Err(PyTypeError::new_err(format!(
        "config value of {key} has type {}; use bool, int, float, str, list or dict",
        v.get_type().name()?
    )))
}

/// A config dict as `--set KEY=VALUE` overrides (nested tables as dotted keys; `axes` keys as
/// `axes.KEY=[...]`), in the dict's order.
fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        v => out.push(format!("{prefix}={v}")),
    }
}

/// `config`: None, a dict, or a path (str or os.PathLike) to a TOML file.
fn config_source(config: Option<&Bound<'_, PyAny>>) -> PyResult<(Option<PathBuf>, Vec<String>)> {
    let Some(config) = config.filter(|c| !c.is_none()) else {
        return Ok((None, Vec::new()));
    };
    if config.is_instance_of::<PyDict>() {
        let table = to_toml(config, "")?;
        let mut sets = Vec::new();
        flatten("", &table, &mut sets);
        return Ok((None, sets));
    }
    if let Ok(path) = config.extract::<PathBuf>() {
        return Ok((Some(path), Vec::new()));
    }
    Err(PyTypeError::new_err(
        "config: a dict (nested tables, like the TOML) or a path to a TOML file",
    ))
}

fn toml_to_py<'py>(py: Python<'py>, v: &toml::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        toml::Value::String(s) => s.into_pyobject(py)?.into_any(),
        toml::Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        toml::Value::Float(f) => f.into_pyobject(py)?.into_any(),
        toml::Value::Boolean(b) => b.into_pyobject(py)?.to_owned().into_any(),
        toml::Value::Datetime(d) => d.to_string().into_pyobject(py)?.into_any(),
        toml::Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(toml_to_py(py, x)?)?;
            }
            l.into_any()
        }
        toml::Value::Table(t) => table_to_py(py, t)?.into_any(),
    })
}

fn table_to_py<'py>(py: Python<'py>, t: &toml::Table) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in t {
        d.set_item(k, toml_to_py(py, v)?)?;
    }
    Ok(d)
}

/// Names and one-line summaries of every registered experiment.
#[pyfunction]
fn experiments() -> Vec<(&'static str, &'static str)> {
    elise_lab::experiments()
        .iter()
        .map(|e| (e.name(), e.summary()))
        .collect()
}

/// Runs experiment `name` as `exp-<name>` would (blocking; Ctrl-C raises KeyboardInterrupt
/// after stopping the run cleanly). Returns a dict: run_dir, config (the resolved table),
/// n_jobs, n_ok, n_failed, n_resumed, failed (list of (index, seed, error)), finish_error.
#[pyfunction]
#[pyo3(signature = (name, config=None, seeds=None, threads=1, out=None, run_id=None, restart=false, quick=false, command_line=String::new()))]
#[allow(clippy::too_many_arguments)]
fn run<'py>(
    py: Python<'py>,
    name: String,
    config: Option<&Bound<'py, PyAny>>,
    seeds: Option<usize>,
    threads: usize,
    out: Option<PathBuf>,
    run_id: Option<String>,
    restart: bool,
    quick: bool,
    command_line: String,
) -> PyResult<Bound<'py, PyDict>> {
    if elise_lab::experiment(&name).is_none() {
        let names: Vec<&str> = elise_lab::experiments().iter().map(|e| e.name()).collect();
        return Err(PyValueError::new_err(format!(
            "no experiment named '{name}'; the experiments are {}",
            names.join(", ")
        )));
    }
    if threads == 0 || threads > 4096 {
        return Err(PyValueError::new_err(format!(
            "threads = {threads}: use 1 to 4096"
        )));
    }
    let (file, sets) = config_source(config)?;
    let mut extra = Vec::new();
    if let Some(n) = seeds {
        extra.push(("run.seeds".to_owned(), n.to_string()));
    }
    let req = Request {
        config: file,
        overrides: sets.into_iter().map(Override::Set).collect(),
        extra,
        quick,
        out,
        run_id,
    };
    let opts = ExecOptions {
        threads,
        shard: None,
        restart,
        command_line,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = {
        let cancel = Arc::clone(&cancel);
        std::thread::Builder::new()
            .name(format!("elise-run-{name}"))
            .spawn(move || {
                let _ = tx.send(dispatch::run(&name, &req, &opts, cancel));
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the run: {e}")))?
    };
    // A Receiver is not Sync: the detached closures borrow it through a mutex.
    let rx = std::sync::Mutex::new(rx);
    let recv = |timeout: Option<Duration>| {
        let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
        match timeout {
            Some(t) => rx.recv_timeout(t),
            None => rx
                .recv()
                .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
        }
    };
    let outcome = loop {
        match py.detach(|| recv(Some(Duration::from_millis(100)))) {
            Ok(outcome) => break outcome,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.store(true, Ordering::SeqCst);
                    // The jobs stop at their next cycle; the manifest is written before this returns.
                    py.detach(|| {
                        let _ = recv(None);
                        let _ = worker.join();
                    });
                    return Err(interrupt);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the run's thread ended without a result",
                ));
            }
        }
    };
    let _ = worker.join();
    let outcome = outcome
        .ok_or_else(|| PyValueError::new_err("no such experiment"))?
        .map_err(py_err)?;
    let s = &outcome.summary;
    let d = PyDict::new(py);
    d.set_item("run_dir", &s.run_dir)?;
    d.set_item("config", table_to_py(py, &outcome.config)?)?;
    d.set_item("n_jobs", s.n_jobs)?;
    d.set_item("n_ok", s.n_ok)?;
    d.set_item("n_failed", s.n_failed)?;
    d.set_item("n_resumed", s.n_resumed)?;
    let failed: Vec<(usize, u64, String)> = s
        .failed
        .iter()
        .map(|f| (f.index, f.seed, f.error.clone()))
        .collect();
    d.set_item("failed", failed)?;
    d.set_item("finish_error", s.finish_error.clone())?;
    Ok(d)
}

/// The Parquet parts of `table` of the recorded jobs of a run directory, in job order (only
/// jobs whose completion record matches the run's config).
#[pyfunction]
fn table_parts(run_dir: PathBuf, table: &str) -> PyResult<Vec<PathBuf>> {
    elise_sweep::RunDir::new(run_dir)
        .table_parts(table)
        .map_err(py_err)
}

/// The resolved config table of a run directory's `config.toml`.
#[pyfunction]
fn run_config<'py>(py: Python<'py>, run_dir: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let t = elise_sweep::RunDir::new(run_dir)
        .config_table()
        .map_err(py_err)?;
    table_to_py(py, &t)
}

/// A CSR matrix as (indptr, indices, data, n) for `scipy.sparse.csr_matrix`.
type CsrParts<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    usize,
);

/// One ELiSe network, built exactly as an exp-birdsong job builds it for its config and seed.
#[pyclass(module = "elise_lab._native")]
struct Network {
    held: HeldNetwork,
    table: toml::Table,
}

impl Network {
    fn with<T: Send>(&mut self, py: Python<'_>, f: impl FnOnce(&mut HeldNetwork) -> T + Send) -> T {
        let held = &mut self.held;
        py.detach(move || f(held))
    }
}

#[pymethods]
impl Network {
    #[new]
    #[pyo3(signature = (config=None, seed=None))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>, seed: Option<u64>) -> PyResult<Self> {
        let (file, sets) = config_source(config)?;
        let (cfg, table, inputs, seed) = py
            .detach(|| dispatch::network_config(file.as_deref(), &sets, seed))
            .map_err(py_err)?;
        let held = py
            .detach(|| HeldNetwork::build(&cfg, &inputs, Seed(seed)))
            .map_err(py_err)?;
        Ok(Self { held, table })
    }

    /// Loads a network saved by `save` (or a job's `run.save_trained` / checkpoint file).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let shown = path.display().to_string();
        let bytes = elise_sweep::read_bounded(&path, MAX_CHECKPOINT_BYTES)
            .map_err(|e| PyOSError::new_err(format!("{shown}: {e}")))?;
        let ckpt = Checkpoint::from_bytes(&bytes, &shown)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        drop(bytes);
        let text = HeldNetwork::checkpoint_config(&ckpt)
            .map_err(|e| PyValueError::new_err(format!("{shown}: {e:#}")))?;
        let saved: toml::Table = toml::from_str(text).map_err(|e| {
            PyValueError::new_err(format!("{shown}: its recorded config is not TOML: {e}"))
        })?;
        let mut sets = Vec::new();
        flatten("", &toml::Value::Table(saved), &mut sets);
        let seed = elise_study::checkpointing::seed_of(&ckpt);
        let (cfg, table, inputs, _) = py
            .detach(|| dispatch::network_config(None, &sets, seed))
            .map_err(|e| PyValueError::new_err(format!("{shown}: {e:#}")))?;
        let held = py
            .detach(|| HeldNetwork::from_checkpoint(&cfg, &inputs, &ckpt))
            .map_err(|e| PyValueError::new_err(format!("{shown}: {e:#}")))?;
        Ok(Self { held, table })
    }

    /// Saves the network (state, config, seed, training progress) in the checkpoint format.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let bytes = self.held.checkpoint().map_err(py_err)?;
        py.detach(|| elise_sweep::write_file_atomic(&path, &bytes))
            .map_err(|e| PyOSError::new_err(format!("{}: {e:#}", path.display())))
    }

    /// Trains `cycles` more cycles (see `HeldNetwork::train`), `chunk` cycles per release of
    /// the GIL, checking for Ctrl-C in between. Returns (cycle, mse, corr_sum) per validation.
    #[pyo3(signature = (cycles, chunk=10))]
    fn train(
        &mut self,
        py: Python<'_>,
        cycles: usize,
        chunk: usize,
    ) -> PyResult<Vec<(i64, f64, f64)>> {
        let chunk = chunk.max(1);
        let mut points = Vec::new();
        let mut left = cycles;
        // The warm-up cycle comes with the first piece of a fresh network.
        while left > 0 {
            let n = left.min(chunk);
            let got = self.with(py, move |h| h.train(n)).map_err(py_err)?;
            points.extend(got.iter().map(|p| (p.cycle, p.mse, p.corr_sum)));
            left -= n;
            py.check_signals()?;
        }
        Ok(points)
    }

    /// Runs `cycles` whole pattern cycles, nudged with the teacher (`teacher=True`) or free;
    /// plasticity stays on. Returns {quantity: array (steps, neurons)} for every neuron.
    #[pyo3(signature = (cycles, teacher=false, record=vec!["rate".to_owned()], every=1))]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        cycles: usize,
        teacher: bool,
        record: Vec<String>,
        every: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let quantities = record
            .iter()
            .map(|q| Quantity::parse(q).map_err(PyValueError::new_err))
            .collect::<PyResult<Vec<_>>>()?;
        let mut rec = self.held.recording(&quantities);
        let lambda = if teacher { 1.0 } else { 0.0 };
        for _ in 0..cycles {
            let mut piece = self.held.recording(&quantities);
            self.with(py, |h| h.run(1, lambda, every, &mut piece));
            for (all, part) in rec.values.iter_mut().zip(piece.values) {
                all.extend(part);
            }
            rec.at.extend(piece.at);
            py.check_signals()?;
        }
        self.held
            .health()
            .map_err(|e| PyRuntimeError::new_err(format!("numerical blow-up: {e}")))?;
        let d = PyDict::new(py);
        let rows = rec.rows();
        for (q, vals) in quantities.iter().zip(rec.values) {
            let a = Array2::from_shape_vec((rows, rec.n), vals)
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            d.set_item(q.name(), a.into_pyarray(py))?;
        }
        Ok(d)
    }

    #[getter]
    fn n_visible(&self) -> usize {
        self.held.network().n_visible()
    }
    #[getter]
    fn n_latent(&self) -> usize {
        self.held.network().n_neurons() - self.held.network().n_visible()
    }
    #[getter]
    fn n_neurons(&self) -> usize {
        self.held.network().n_neurons()
    }
    /// Steps simulated so far.
    #[getter]
    fn step_count(&self) -> u64 {
        self.held.network().n_steps()
    }
    #[getter]
    fn seed(&self) -> u64 {
        self.held.seed().0
    }
    /// Training cycles run so far (the warm-up cycle included).
    #[getter]
    fn cycles_trained(&self) -> u64 {
        self.held.cycles_trained()
    }
    #[getter]
    fn cycle_len_steps(&self) -> usize {
        self.held.cycle_len_steps()
    }
    #[getter]
    fn dt_ms(&self) -> f64 {
        self.held.config().neuron.dt_ms
    }
    /// The resolved config (exp-birdsong's schema) as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        table_to_py(py, &self.table)
    }
    /// The pattern: (neurons, states) array of 0/1.
    #[getter]
    fn pattern<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let p = self.held.pattern();
        let mut v = Vec::with_capacity(p.n_neurons() * p.n_states());
        for i in 0..p.n_neurons() {
            v.extend_from_slice(p.row(i));
        }
        let a = Array2::from_shape_vec((p.n_neurons(), p.n_states()), v)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }
    #[getter]
    fn pattern_name(&self) -> String {
        self.held.pattern().name().to_owned()
    }
    /// Dendritic weights, (n, n) float64, row = post, column = pre (a copy).
    #[getter]
    fn weights<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let n = self.held.network().n_neurons();
        let w = self.held.network_mut().weights();
        let a = Array2::from_shape_vec((n, n), w)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }
    /// The scaffold's sparse matrix as CSR parts (indptr, indices, data, n): row = student,
    /// column = teacher, value = edge count.
    #[getter]
    fn scaffold_csr<'py>(&self, py: Python<'py>) -> CsrParts<'py> {
        let m = self.held.network().scaffold().matrix().to_csr();
        let indptr: Vec<i64> = m.indptr().raw_storage().iter().map(|&x| x as i64).collect();
        let indices: Vec<i64> = m.indices().iter().map(|&x| x as i64).collect();
        let data: Vec<i64> = m.data().iter().map(|&x| i64::from(x)).collect();
        (
            PyArray1::from_vec(py, indptr),
            PyArray1::from_vec(py, indices),
            PyArray1::from_vec(py, data),
            self.held.network().n_neurons(),
        )
    }
    /// Delays per neuron in ms: {"dendritic", "excitatory", "inhibitory"}.
    #[getter]
    fn delays<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dt = self.held.config().neuron.dt_ms;
        let spec = self.held.spec();
        let d = PyDict::new(py);
        for (name, steps) in [
            ("dendritic", &spec.delay_den_steps),
            ("excitatory", &spec.delay_exc_steps),
            ("inhibitory", &spec.delay_inh_steps),
        ] {
            let ms: Vec<f64> = steps.iter().map(|&s| s as f64 * dt).collect();
            d.set_item(name, PyArray1::from_vec(py, ms))?;
        }
        Ok(d)
    }
    /// Every validation point so far: (cycle, mse, corr_sum).
    #[getter]
    fn validation(&self) -> Vec<(i64, f64, f64)> {
        self.held
            .validation()
            .iter()
            .map(|p| (p.cycle, p.mse, p.corr_sum))
            .collect()
    }
}

#[pyfunction]
fn quantities() -> Vec<&'static str> {
    Quantity::ALL.iter().map(|q| q.name()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    elise_sweep::init_tracing();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(experiments, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(table_parts, m)?)?;
    m.add_function(wrap_pyfunction!(run_config, m)?)?;
    m.add_function(wrap_pyfunction!(quantities, m)?)?;
    m.add_class::<Network>()?;
    Ok(())
}
