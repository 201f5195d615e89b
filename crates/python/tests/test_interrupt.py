"""Ctrl-C: KeyboardInterrupt in Python, a clean run directory that resumes."""

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import elise_lab as el

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # 3.9, 3.10
    tomllib = None

LONG = {"train": {"cycles": 100000}, "replay": {"cycles": 6}, "network": {"n_latent": 15}}


def start(code: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_stops_a_run_cleanly(tmp_path):
    # Job 0 is short, job 1 long: after job 0's record, SIGINT lands in job 1.
    code = f"""
        import elise_lab as el
        cfg = {LONG!r}
        cfg["axes"] = {{"train.cycles": [40, 100000]}}
        try:
            el.run("birdsong", config=cfg, seeds=1, threads=1, out="r")
        except KeyboardInterrupt:
            print("KeyboardInterrupt caught")
            raise
    """
    p = start(code, tmp_path)
    done = tmp_path / "r" / "_done" / "job-000000.toml"
    t0 = time.time()
    while not done.exists():
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < 120, "job 0 never finished"
        time.sleep(0.05)
    time.sleep(0.5)
    t1 = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert time.time() - t1 < 10, "the run stops within seconds"
    assert "KeyboardInterrupt caught" in out
    assert "KeyboardInterrupt" in err and p.returncode != 0
    text = (tmp_path / "r" / "manifest.toml").read_text()
    assert 'status = "interrupted"' in text, text
    if tomllib is not None:
        manifest = tomllib.loads(text)
        assert manifest["abandoned"] == [1] and manifest["n_ok"] == 1, text
    assert not (tmp_path / "r" / "_done" / "job-000001.toml").exists()
    assert not list((tmp_path / "r").rglob("*.tmp"))
    # The finished job is kept and read; running again would resume it.
    run = el.Run(tmp_path / "r")
    assert run.table("runs")["job"].to_list() == [0]


def test_ctrl_c_stops_training(tmp_path):
    code = """
        import sys, time, elise_lab as el
        net = el.Network(config={"network": {"n_latent": 15}})
        print("built", flush=True)
        try:
            net.train(cycles=100000)
        except KeyboardInterrupt:
            print("stopped after", net.cycles_trained, flush=True)
            net.run(1)
            print("still usable", flush=True)
    """
    p = start(code, tmp_path)
    assert p.stdout.readline().strip() == "built"
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    cycles = int(out.split("stopped after")[1].split()[0])
    assert 0 < cycles < 100000 and "still usable" in out
