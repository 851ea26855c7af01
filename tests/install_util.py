"""Build the sdist and wheel as a release does, and install the wheel as users do.

The wheel is built from the sdist (python -m build), so a file MANIFEST.in leaves out
is missing from the wheel too, and nothing stale from an in-tree build/ folder leaks in.
The install is README's offline install: a wheelhouse (pip wheel, reusing pip's cache),
then a fresh venv outside the tree installing from it alone: no editable install, no
source folder on sys.path, no package index.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra) -> dict:
    """The environment without anything that would put the source tree on sys.path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "KIOSK_DATA_DIR", "KIOSK_CONFIG")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


_built: dict[Path, tuple[Path, Path]] = {}


def build_dists(outdir: Path) -> tuple[Path, Path]:
    """(sdist, wheel) of the tree; the wheel made from the sdist."""
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                             str(outdir), str(ROOT)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("build failed:\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return next(outdir.glob("*.tar.gz")), next(outdir.glob("*.whl"))


def session_dists(tmp_path_factory) -> tuple[Path, Path]:
    """The release files, built once per test session."""
    outdir = tmp_path_factory.getbasetemp() / "release-dists"
    if outdir not in _built:
        _built[outdir] = build_dists(outdir)
    return _built[outdir]


def make_wheelhouse(wheel: Path, folder: Path) -> Path:
    """The wheel and every dependency's wheel in one folder, as `make wheelhouse` makes it."""
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir",
                             str(folder), str(wheel)], capture_output=True, text=True,
                            timeout=900, env=clean_env())
    if result.returncode != 0:
        raise RuntimeError("pip wheel failed:\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return folder


def install_offline(wheelhouse: Path, venv: Path) -> Path:
    """A new venv with kiosk-disclosure from the wheelhouse alone (README's offline install,
    `pip install --no-index --find-links wheelhouse kiosk-disclosure`); returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300,
                   env=clean_env())
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-index",
                             "--find-links", str(wheelhouse), "kiosk-disclosure"],
                            capture_output=True, text=True, timeout=900, cwd=venv.parent,
                            env=clean_env())
    if result.returncode != 0:
        raise RuntimeError("pip install failed:\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return venv / "bin"
