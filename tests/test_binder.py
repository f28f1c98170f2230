"""Binder: build a fresh environment from binder/ the way repo2docker does, then run the
notebooks in it with nbval (issue: tutorial). Slow (about a minute and a half), run by CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def test_runtime_and_requirements_are_pinned() -> None:
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[-1] == ".", "statelab itself is installed from the repo root"
    for line in lines[:-1]:
        assert "==" in line, f"{line!r} is not pinned"
    overrides = json.loads((BINDER / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert os.access(BINDER / "postBuild", os.X_OK)


def test_readme_badge_opens_the_welcome_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    first = sorted((ROOT / "notebooks").glob("01-*.ipynb"))[0].name
    assert f"urlpath=lab/tree/notebooks/{first}" in readme
    assert "mybinder.org/badge_logo.svg" in readme


@pytest.mark.slow
def test_notebooks_run_in_a_binder_built_environment(tmp_path: Path) -> None:
    env_dir = tmp_path / "binder-env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    environ = {**os.environ, "NB_PYTHON_PREFIX": str(env_dir),
               "KERNEL_PYTHON_PREFIX": str(env_dir),
               "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
               "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    environ.pop("VIRTUAL_ENV", None)
    # postBuild signs the notebooks: into a data dir of this test, not the machine's home.
    environ["JUPYTER_DATA_DIR"] = str(tmp_path / "jupyter-data")

    def run(*args: str, cwd: Path = ROOT, timeout: int = 900
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True,
                                timeout=timeout)
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n" \
                                       f"{result.stderr[-3000:]}"
        return result

    # repo2docker: pip install -r binder/requirements.txt from the repo root, then postBuild.
    run(str(python), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt")
    run("bash", str(BINDER / "postBuild"))
    assert (env_dir / "share/jupyter/lab/settings/overrides.json").exists()
    extensions = run(str(env_dir / "bin" / "jupyter"), "labextension", "list")
    listing = extensions.stdout + extensions.stderr
    assert "@jupyter-widgets/jupyterlab-manager" in listing and "enabled" in listing
    # The notebooks open trusted, so their stored HTML and SVG outputs show before any run.
    run(str(python), "-c", "import glob, nbformat; from nbformat.sign import NotebookNotary; "
        "notary = NotebookNotary(); paths = sorted(glob.glob('notebooks/[0-9][0-9]-*.ipynb')); "
        "assert paths and all(notary.check_signature(nbformat.read(p, 4)) for p in paths)")
    installed = run(str(python), "-c", "import statelab; print(statelab.__file__)", cwd=tmp_path)
    assert str(env_dir) in installed.stdout, "statelab is installed into the environment"
    # The notebooks, with the tests' own runner, in that environment.
    run(str(python), "-m", "pip", "install", "-q", "pytest", "nbval")
    progress = tmp_path / "progress.json"
    environ["STATELAB_PROGRESS_FILE"] = str(progress)
    result = run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "-o", "addopts=", "--nbval", "--nbval-current-env",
                 "--nbval-sanitize-with", "notebooks/nbval-sanitize.cfg", "notebooks/",
                 "--rootdir", str(tmp_path), "-c", os.devnull)
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert sys.version_info[:2] >= (3, 10)
