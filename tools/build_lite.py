"""Build the offline JupyterLite site of the notebooks into ``lite/_output`` (``make lite``).

Run it with the build venv's Python (``.venv-lite/bin/python tools/build_lite.py``; the Makefile
creates that venv from ``lite/requirements.txt``, which has the Jupyter build tools and none of
statelab's dependencies). This file uses the standard library only. The recipe, and why each
step is there, comes from a tested spike (versions, traps, errors): the site must work with no
network at all in the browser, so everything Pyodide loads is served from ``_output`` and
nothing points at a CDN or at PyPI.

Steps:

1. Pyodide's core (``pyodide.mjs``, the wasm, the stdlib zip, ``pyodide-lock.json``) from the
   npm tarball, fetched with urllib (no node/npm needed), checked against npm's ``dist.integrity``,
   cached in ``lite/.cache``. The npm package carries no wheels, yet its lock lists 356 of them:
   the kernel's lock addon would call that a partial distribution and point every package at
   cdn.jsdelivr.net, so the lock's ``packages`` are emptied and the addon relocks from scratch.
2. Wheels the lock addon cannot get from PyPI: statelab itself (built from a temporary copy of
   the repository, because building in the work tree leaves ``build/`` and ``*.egg-info`` there)
   and PyYAML (PyPI has no wasm or pure wheel; a pure one is built from the hashed sdist with
   ``PYYAML_FORCE_LIBYAML=0`` and cached).
3. The notebooks and the glossary, through ``tools/lite_notebooks.py:prepare_notebook`` (whose
   ``package_files`` can also add files to the statelab package in the wheel of step 2).
4. ``jupyter lite build`` then ``jupyter lite check``, and checks of our own on the result: the
   lock holds only local files, and ``jupyter-lite.json`` points at the local Pyodide and lock
   with the PyPI fallback off.

Generated inputs (``lite/static``, ``lite/wheels``, ``lite/files``) and the output are git-ignored;
``lite/lite-constraints.txt`` is written by the first build and committed, so later builds lock
the same versions (delete it to relock from PyPI's newest).

Why ``lite/jupyter_lite_config.json`` says what it says (JSON has no comments):

* ``excludes_extra``: statelab's requirements with no Pyodide build (lupa via ``fakeredis[lua]``,
  dapr/grpcio/grpcio-status, uvicorn[standard]'s uvloop/httptools/watchfiles/websockets, the
  hiredis extra). uv drops them from the solve ("Removing statelab dependency on dapr"). Also
  jupyterlab-widgets and widgetsnbextension: front-end packages the kernel never imports (the
  widget JS comes from the build venv's labextension); without them ipywidgets renders (tested),
  and the site is over 2 MB smaller.
* ``specs``: micropip (the kernel loads it, and the emptied lock no longer has it) and ipywidgets
  (from statelab's ``notebooks`` extra, which the lock does not follow).
* ``prefetch_extra``: loaded while the kernel starts. ipywidgets must be there: Pyodide loads a
  package when a cell imports it by name, but ``from statelab.widgets import ...`` imports it
  only inside statelab ("No module named 'ipywidgets'" in notebooks 03, 05 and 06 otherwise).
* ``pyodide_lock_uv_options``: ``uv --quiet``, else the build log repeats the whole pylock.toml.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lite_notebooks import package_files, prepare_notebook

ROOT = Path(__file__).resolve().parent.parent
LITE_DIR = ROOT / "lite"
NOTEBOOKS = ROOT / "notebooks"

# Pyodide: the version jupyterlite-pyodide-kernel 0.8.6 loads (its constants.PYODIDE_VERSION,
# checked below). npm's `latest` is newer; the kernel's JS expects exactly this one.
PYODIDE_VERSION = "314.0.6"
PYODIDE_TARBALL_URL = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
# `npm view pyodide@314.0.6 dist.integrity`
PYODIDE_INTEGRITY = (
    "sha512-BKDTJyIqFxC4BExLqeRS3f5xvXZIjOt8C3zGLN/Cc7tFxSwvKVhVkchQQ2AGLOtR4YrVOIFxbV8poyDOOmWwxQ=="
)
# The runtime; the tarball's source maps, .d.ts files and console pages are left out.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.js",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
)

# PyYAML: the sdist's sha256 as PyPI's simple index lists it.
PYYAML_VERSION = "6.0.3"
PYYAML_SDIST_SHA256 = "d76623373421df22fb4cf8817020cbb7ef15c725b9d5e45f17e189bfc384190f"

# The lock must hold these (the notebooks import them; micropip is loaded by the kernel itself)...
REQUIRED_IN_LOCK = (
    "statelab", "pyyaml", "fakeredis", "httpx", "ipywidgets", "micropip", "piplite",
    "pyodide-kernel", "ipykernel",
)
# ...and never these (lite/jupyter_lite_config.json's excludes; see above).
FORBIDDEN_IN_LOCK = (
    "lupa", "dapr", "grpcio", "grpcio-status", "uvloop", "httptools", "watchfiles",
    "websockets", "hiredis", "jupyterlab-widgets", "widgetsnbextension",
)
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
LOCAL_PYODIDE_URL = "./static/pyodide/pyodide.mjs"
LOCAL_LOCK_URL = "./static/pyodide-lock/pyodide-lock.json"


@dataclass(frozen=True)
class Site:
    """Where one build reads and writes, all under the lite dir (``lite/``)."""

    lite_dir: Path

    @property
    def cache(self) -> Path:
        """Downloads and slow builds kept between builds (git-ignored; the addon's uv work too)."""
        return self.lite_dir / ".cache"

    @property
    def pyodide(self) -> Path:
        """The well-known folder the kernel's Pyodide addon copies to ``_output/static/pyodide``."""
        return self.lite_dir / "static" / "pyodide"

    @property
    def wheels(self) -> Path:
        """Local wheels for the lock addon (``PyodideLockAddon.wheels``)."""
        return self.lite_dir / "wheels"

    @property
    def files(self) -> Path:
        """The site's contents (``LiteBuildConfig.contents``): what the file browser shows."""
        return self.lite_dir / "files"

    @property
    def output(self) -> Path:
        """``LiteBuildConfig.output_dir``."""
        return self.lite_dir / "_output"

    @property
    def constraints(self) -> Path:
        """``PyodideLockAddon.lite_constraints_file``: written when missing, committed."""
        return self.lite_dir / "lite-constraints.txt"


def log(message: str) -> None:
    """Say what the build is doing, flushed so it interleaves with the tools' own output."""
    print(f"[build_lite] {message}", flush=True)


def run(args: Sequence[str | Path], *, env: Mapping[str, str], cwd: Path | None = None) -> None:
    """Run one command, echoed; a failure stops the build with the command's exit code."""
    words = [str(arg) for arg in args]
    log("$ " + " ".join(words))
    result = subprocess.run(words, env=dict(env), cwd=cwd, check=False)
    if result.returncode:
        raise SystemExit(f"[build_lite] failed ({result.returncode}): {' '.join(words)}")


def sri_sha512(data: bytes) -> str:
    """The Subresource Integrity string npm records as ``dist.integrity``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def check_kernel_pyodide_version() -> None:
    """Fail early when the installed kernel expects another Pyodide than the one pinned here.

    The kernel's JS loads ``pyodide.mjs`` from our config, but its Python side (and the wheels it
    bundles) are made for one Pyodide; a kernel upgrade in lite/requirements.txt must move
    PYODIDE_VERSION and PYODIDE_INTEGRITY with it.
    """
    constants = importlib.import_module("jupyterlite_pyodide_kernel.constants")
    kernel_pyodide = str(constants.PYODIDE_VERSION)
    if kernel_pyodide != PYODIDE_VERSION:
        raise SystemExit(
            f"[build_lite] jupyterlite-pyodide-kernel expects Pyodide {kernel_pyodide}, this script"
            f" pins {PYODIDE_VERSION}: update PYODIDE_VERSION and PYODIDE_INTEGRITY"
            f" (npm view pyodide@{kernel_pyodide} dist.integrity)"
        )


def fetch_pyodide(site: Site) -> Path:
    """Return the cached npm tarball, downloading it once; its integrity is checked every time."""
    tarball = site.cache / f"pyodide-{PYODIDE_VERSION}.tgz"
    if tarball.is_file():
        if sri_sha512(tarball.read_bytes()) == PYODIDE_INTEGRITY:
            return tarball
        log(f"{tarball.name} in the cache does not match its integrity; downloading it again")
    log(f"downloading {PYODIDE_TARBALL_URL}")
    with urllib.request.urlopen(PYODIDE_TARBALL_URL, timeout=120) as response:
        data: bytes = response.read()
    actual = sri_sha512(data)
    if actual != PYODIDE_INTEGRITY:
        raise SystemExit(
            f"[build_lite] {PYODIDE_TARBALL_URL}: integrity {actual}, expected {PYODIDE_INTEGRITY}"
        )
    site.cache.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(tarball)
    return tarball


def prepare_pyodide(site: Site) -> None:
    """Put Pyodide's runtime files in ``lite/static/pyodide`` with an emptied lock.

    Emptying ``packages`` is what keeps the site offline: left as is, the lock names 356 wheels
    the npm package does not have, and the lock addon then rewrites every package to
    https://cdn.jsdelivr.net/pyodide/v314.0.6/full/ (and its solve fails fetching ipython there).
    Everything the kernel needs is relocked by the addon from PyPI and our wheels instead.
    """
    tarball = fetch_pyodide(site)
    shutil.rmtree(site.pyodide, ignore_errors=True)
    site.pyodide.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for name in PYODIDE_FILES:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"[build_lite] {tarball.name} has no regular file package/{name}")
            (site.pyodide / name).write_bytes(member.read())
    package = json.loads((site.pyodide / "package.json").read_text(encoding="utf-8"))
    if package.get("version") != PYODIDE_VERSION:
        raise SystemExit(f"[build_lite] {tarball.name} holds Pyodide {package.get('version')}")
    lock_path = site.pyodide / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    log(f"Pyodide {PYODIDE_VERSION}: dropping the {len(lock['packages'])} packages of its lock"
        " (their wheels are not in the npm package)")
    lock["packages"] = {}
    lock_path.write_text(json.dumps(lock, indent=1) + "\n", encoding="utf-8")


def build_env() -> dict[str, str]:
    """The environment for the build's subprocesses.

    ``UV_PYTHON_DOWNLOADS=never``: the lock addon's ``uv pip compile --python-version=3.14`` would
    otherwise first try to download a CPython 3.14 from GitHub (12 s of retries here, then only a
    warning); uv needs no 3.14 for a ``--no-build`` solve.

    No ``SOURCE_DATE_EPOCH`` for ``jupyter lite build`` (only for our wheels, see
    :func:`wheel_epoch`). Without it, two builds differ only in ``api/contents/all.json``'s
    ``created`` times; the lock and every wheel are byte-identical. With it the addon also passes
    ``uv --exclude-newer`` (a commit time would reject a pin in lite-constraints.txt uploaded
    after it), and every output file gets the same old mtime, so after a rebuild
    ``python -m http.server`` answers a browser's If-Modified-Since with 304 and the tab keeps
    an old file.
    """
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def only_wheel(folder: Path, pattern: str) -> Path:
    """The single wheel matching ``pattern`` in ``folder``; anything else is a build error."""
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        names = sorted(path.name for path in folder.iterdir())
        raise SystemExit(f"[build_lite] expected one {pattern} in {folder}, found {names}")
    return found[0]


def build_statelab_wheel(site: Site, env: Mapping[str, str], extra: Mapping[str, str]) -> Path:
    """Build statelab's wheel from a temporary copy of pyproject.toml, README.md and statelab/.

    A copy, because ``pip wheel .`` in the work tree writes ``build/`` and ``statelab.egg-info``
    there; and the copy is where ``extra`` (``lite_notebooks.package_files``: path under
    statelab/ to text) is written, so the site's wheel can carry files the work tree has not.
    ``SOURCE_DATE_EPOCH`` (see :func:`wheel_epoch`) fixes the zip's timestamps, so the same
    sources give the same bytes, and the lock's sha256 for statelab changes only with them.
    """
    with tempfile.TemporaryDirectory(prefix="statelab-wheel-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(ROOT / "statelab", source / "statelab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        package = (source / "statelab").resolve()
        for name, text in sorted(extra.items()):
            target = (package / name).resolve()
            if package not in target.parents:
                raise SystemExit(f"[build_lite] package_files: {name!r} is not under statelab/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            log(f"statelab wheel: + statelab/{Path(name).as_posix()} ({len(text)} characters)")
        out = Path(tmp) / "out"
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out,
             source], env=env)
        wheel = only_wheel(out, "statelab-*-py3-none-any.whl")
        shutil.copy2(wheel, site.wheels / wheel.name)
    return site.wheels / wheel.name


def build_pyyaml_wheel(site: Site, env: Mapping[str, str]) -> Path:
    """A pure-Python PyYAML wheel, built once from the hash-checked sdist and kept in the cache.

    PyPI has no wheel Pyodide can load (only CPython binaries); Pyodide's own build is on its CDN,
    which the site must not need. ``PYYAML_FORCE_LIBYAML=0`` turns the libyaml extension off, so
    the wheel comes out ``py3-none-any`` (``yaml.__with_libyaml__`` is False in the browser).
    ``--no-cache-dir``: pip's wheel cache could hand back a CPython build of the same sdist.
    """
    cached = site.cache / f"pyyaml-{PYYAML_VERSION}-py3-none-any.whl"
    if not cached.is_file():
        with tempfile.TemporaryDirectory(prefix="pyyaml-wheel-") as tmp:
            requirement = Path(tmp) / "requirements.txt"
            requirement.write_text(
                f"pyyaml=={PYYAML_VERSION} --hash=sha256:{PYYAML_SDIST_SHA256}\n", encoding="utf-8"
            )
            out = Path(tmp) / "out"
            run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir",
                 "--no-binary", "pyyaml", "--require-hashes", "-r", requirement,
                 "--wheel-dir", out],
                env={**env, "PYYAML_FORCE_LIBYAML": "0"})
            wheel = only_wheel(out, f"pyyaml-{PYYAML_VERSION}-*.whl")
            if wheel.name != cached.name:
                raise SystemExit(f"[build_lite] PyYAML built as {wheel.name}, not a pure wheel")
            site.cache.mkdir(parents=True, exist_ok=True)
            shutil.copy2(wheel, cached)
    shutil.copy2(cached, site.wheels / cached.name)
    return site.wheels / cached.name


def wheel_epoch() -> str:
    """``SOURCE_DATE_EPOCH`` for our wheel builds: 1980-01-02, the zip format's earliest date.

    A constant rather than a commit time: the statelab wheel then depends on the sources alone,
    so two clones, or an uncommitted work tree, build the same bytes.
    """
    return "315619200"


def prepare_wheels(site: Site, env: Mapping[str, str]) -> list[Path]:
    """Fill ``lite/wheels`` with freshly built statelab and the cached pure PyYAML."""
    shutil.rmtree(site.wheels, ignore_errors=True)
    site.wheels.mkdir(parents=True)
    wheel_env = {**env, "SOURCE_DATE_EPOCH": wheel_epoch()}
    extra = package_files(notebook_sources())
    return [build_statelab_wheel(site, wheel_env, extra), build_pyyaml_wheel(site, wheel_env)]


def notebook_sources() -> list[Path]:
    """The lesson notebooks the site serves: ``notebooks/NN-*.ipynb``, in order."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise SystemExit(f"[build_lite] no notebooks/[0-9][0-9]-*.ipynb in {NOTEBOOKS}")
    return found


def prepare_contents(site: Site) -> list[Path]:
    """Write the site's contents: each notebook as prepare_notebook returns it, and the glossary.

    Written as nbformat writes (``indent=1``, sorted keys, UTF-8, final newline), so a notebook
    returned unchanged keeps its bytes. The copies get the build's time, not their source's: a
    change in prepare_notebook alone must give a new Last-Modified, or a browser could keep
    serving the old copy from its HTTP cache.
    """
    shutil.rmtree(site.files, ignore_errors=True)
    site.files.mkdir(parents=True)
    written: list[Path] = []
    for source in notebook_sources():
        notebook = prepare_notebook(source)
        target = site.files / source.name
        target.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False)
                          + "\n", encoding="utf-8")
        written.append(target)
    glossary = NOTEBOOKS / "glossary.md"
    shutil.copyfile(glossary, site.files / glossary.name)
    written.append(site.files / glossary.name)
    return written


def tomllib_shim(folder: Path) -> str | None:
    """On Python 3.10, a ``tomllib`` module for pyodide-lock, and the PYTHONPATH that finds it.

    pyodide-lock 0.2.1 (Requires-Python >=3.12, run here on 3.10+) imports ``tomllib``, new in
    3.11; tomli (pinned for 3.10 in lite/requirements.txt) is the same parser under another name.
    """
    if sys.version_info >= (3, 11):
        return None
    (folder / "tomllib.py").write_text("from tomli import *  # noqa: F403\n", encoding="utf-8")
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))


def jupyter_lite(site: Site, command: str, env: Mapping[str, str]) -> None:
    """``jupyter lite <command>`` in the lite dir, with this Python (the build venv's)."""
    with tempfile.TemporaryDirectory(prefix="lite-shim-") as tmp:
        python_path = tomllib_shim(Path(tmp))
        run([sys.executable, "-m", "jupyterlite_core", command],
            env={**env, **({"PYTHONPATH": python_path} if python_path else {})}, cwd=site.lite_dir)


def drop_own_packages(constraints: Path) -> None:
    """Keep statelab out of a freshly written lite-constraints.txt.

    The addon pins every portable wheel it locked, our own included; a pinned ``statelab ==0.1.0``
    would make the next build fail as soon as pyproject.toml's version moves. statelab is always
    the wheel built from the work tree, so it needs no pin (PyYAML's pin matches PYYAML_VERSION).
    """
    lines = constraints.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("statelab ")]
    constraints.write_text("\n".join(kept) + "\n", encoding="utf-8")


def lite_configs(output: Path) -> Iterator[Path]:
    """Every ``jupyter-lite.json`` of the built site (the root one and one per app)."""
    yield from sorted(output.rglob("jupyter-lite.json"))


def check_output(site: Site) -> dict[str, Any]:
    """Check that the built site needs no network; return its lock. Fails loudly otherwise.

    * the lock lists only local files, all present, with the packages the notebooks need and
      none of the ones that cannot exist in Pyodide;
    * every ``jupyter-lite.json`` is free of http(s) URLs (so of cdn.jsdelivr.net and pypi.org),
      and the root one points the kernel at the local Pyodide and lock with
      ``disablePyPIFallback`` on. The kernel's JS bundle and pyodide.mjs still contain the CDN as
      a default, which these settings override.
    """
    problems: list[str] = []
    lock_path = site.output / "static" / "pyodide-lock" / "pyodide-lock.json"
    lock_text = lock_path.read_text(encoding="utf-8")
    lock: dict[str, Any] = json.loads(lock_text)
    for url in sorted(set(re.findall(r"https?://[^\s\"']*", lock_text))):
        problems.append(f"{lock_path.relative_to(site.lite_dir)} holds a URL: {url}")
    packages: dict[str, Any] = lock["packages"]
    names = {str(spec["name"]).lower().replace("_", "-") for spec in packages.values()}
    problems += [f"the lock misses {name}" for name in REQUIRED_IN_LOCK if name not in names]
    problems += [f"the lock holds {name}" for name in FORBIDDEN_IN_LOCK if name in names]
    for spec in packages.values():
        wheel = (lock_path.parent / spec["file_name"]).resolve()
        if not wheel.is_file():
            problems.append(f"the lock's {spec['name']} is not in the site: {spec['file_name']}")

    for config_path in lite_configs(site.output):
        config_text = config_path.read_text(encoding="utf-8")
        for url in sorted(set(re.findall(r"https?://[^\s\"']*", config_text))):
            problems.append(f"{config_path.relative_to(site.lite_dir)} holds a URL: {url}")
    root_config = json.loads((site.output / "jupyter-lite.json").read_text(encoding="utf-8"))
    kernel = root_config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    expected = {
        "pyodideUrl": (kernel.get("pyodideUrl"), LOCAL_PYODIDE_URL),
        "loadPyodideOptions.lockFileURL": (
            kernel.get("loadPyodideOptions", {}).get("lockFileURL"), LOCAL_LOCK_URL),
        "disablePyPIFallback": (kernel.get("disablePyPIFallback"), True),
    }
    for key, (actual, wanted) in expected.items():
        if actual != wanted:
            problems.append(f"jupyter-lite.json: {key} is {actual!r}, expected {wanted!r}")
    for url in [kernel.get("pyodideUrl", ""), *kernel.get("pipliteUrls", [])]:
        if not (site.output / str(url).split("?")[0]).is_file():
            problems.append(f"jupyter-lite.json points at a missing file: {url}")

    if problems:
        raise SystemExit("[build_lite] the site is not offline-ready:\n  " + "\n  ".join(problems))
    return lock


def sizes(folder: Path) -> dict[str, int]:
    """Bytes under each top-level entry of ``folder``."""
    totals: dict[str, int] = {}
    for entry in folder.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        totals[entry.name] = sum(path.stat().st_size for path in files)
    return totals


def report(site: Site, lock: Mapping[str, Any], seconds: float) -> None:
    """Print the site's size by top-level folder, the locked packages and the build time."""
    totals = sizes(site.output)
    mb = 1024 * 1024
    log(f"site: {site.output} {sum(totals.values()) / mb:.1f} MB")
    for name, size in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        if size >= 0.05 * mb:
            print(f"    {size / mb:6.1f} MB  {name}")
    static = sizes(site.output / "static")
    print("    static/: " + ", ".join(
        f"{name} {size / mb:.1f} MB" for name, size in sorted(static.items())))
    packages = sorted(f"{spec['name']} {spec['version']}" for spec in lock["packages"].values())
    log(f"{len(packages)} packages locked: " + ", ".join(packages))
    log(f"built in {seconds:.1f} s; serve with `make lite-serve`")


def build(site: Site, *, check: bool = True) -> dict[str, Any]:
    """Build the whole site from scratch into ``site.output``; return the lock it serves."""
    check_kernel_pyodide_version()
    env = build_env()
    prepare_pyodide(site)
    wheels = prepare_wheels(site, env)
    log("wheels: " + ", ".join(wheel.name for wheel in wheels))
    contents = prepare_contents(site)
    log(f"contents: {len(contents)} files in {site.files.relative_to(site.lite_dir.parent)}")
    # From scratch every time (about 10 s): no stale file survives in _output, and doit's task
    # database cannot skip a step whose inputs it misjudges.
    shutil.rmtree(site.output, ignore_errors=True)
    (site.lite_dir / ".jupyterlite.doit.db").unlink(missing_ok=True)
    new_constraints = not site.constraints.exists()
    jupyter_lite(site, "build", env)
    if new_constraints and site.constraints.exists():
        drop_own_packages(site.constraints)
        log(f"wrote {site.constraints.relative_to(ROOT)}: commit it, later builds keep its pins")
    if check:
        jupyter_lite(site, "check", env)
    return check_output(site)


def main(argv: Sequence[str] | None = None) -> int:
    """``python tools/build_lite.py [--no-check]``: build, check and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-check", action="store_true",
                        help="skip `jupyter lite check` (our own offline checks still run)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    site = Site(LITE_DIR)
    lock = build(site, check=not args.no_check)
    report(site, lock, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
