"""The example notebooks (examples/*.ipynb) run end to end, on small budgets, with their plots."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))

# Small budgets (the notebooks read them from the environment; their defaults are larger).
SMALL_ENV = {
    "ELISE_EXAMPLE_CYCLES": "300",
    "ELISE_EXAMPLE_TRIALS": "12",
    "ELISE_EXAMPLE_SEARCH_CYCLES": "60",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 3, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    for k, v in SMALL_ENV.items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, f"{path.name} drew no plot"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    keep = os.environ.get("ELISE_EXAMPLES_KEEP")
    if keep:  # e.g. to look at the executed notebooks and their figures
        dest = Path(keep) / path.stem
        shutil.copytree(tmp_path, dest, dirs_exist_ok=True)
        nbformat.write(nb, dest / path.name)
