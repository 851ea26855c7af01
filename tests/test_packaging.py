"""The release files: the wheel holds every file of the four packages plus the pinned htmx;
the sdist carries deploy/ and docs/ and no third-party file."""
from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.install_util import ROOT, session_dists

sys.path.insert(0, str(ROOT / "tools"))
import vendor_assets  # noqa: E402

PACKAGES = ("kiosk", "content", "display", "sync")


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    return session_dists(tmp_path_factory)


def tree_files(*folders: str) -> list[str]:
    """Files git would ship (tracked, or new and not ignored) under the folders."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--",
                          *folders], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (ROOT / line).is_file()]


def test_wheel_holds_every_file_of_the_packages(dists):
    _sdist, wheel = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = tree_files(*PACKAGES)
    assert len(expected) > 100
    missing = [f for f in expected if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    # every folder holding Python code is a package the wheel knows
    for folder in {str(Path(f).parent) for f in expected if f.endswith(".py")}:
        assert f"{folder}/__init__.py" in names, folder


def test_wheel_carries_the_pinned_htmx_and_the_license(dists):
    _sdist, wheel = dists
    with zipfile.ZipFile(wheel) as z:
        for asset in vendor_assets.PRODUCT:
            assert z.read(asset.target) == vendor_assets.extract(asset)
        assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE")
                   for n in z.namelist())
        metadata = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        assert "MIT" in z.read(metadata).decode()


def test_sdist_carries_deploy_docs_and_no_third_party_file(dists):
    sdist, _wheel = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in tree_files("deploy", "docs") + ["LICENSE", "README.md", "setup.py",
                                                  "tools/vendor_assets.py", "MANIFEST.in"]:
        assert needed in names, needed
    assert not [n for n in names if "/vendor/" in n or n.endswith((".pyc", ".part"))]


def test_vendor_refuses_a_tarball_that_does_not_match_its_pin(tmp_path, monkeypatch):
    """A forged tarball in the cache is thrown away; a forged download is refused."""
    monkeypatch.setenv("KIOSK_VENDOR_CACHE", str(tmp_path))
    asset = vendor_assets.PRODUCT[0]
    (tmp_path / asset.tarball).write_bytes(b"not htmx")
    monkeypatch.setattr(vendor_assets, "_npm_pack", lambda a: b"forged htmx")
    with pytest.raises(vendor_assets.VendorError, match="integrity mismatch"):
        vendor_assets.tarball(asset)
    assert not (tmp_path / asset.tarball).exists()


def test_readme_and_docs_stand_alone():
    """No reference to design notes or folders outside the repository."""
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "deploy").iterdir()]:
        text = doc.read_text(errors="replace")
        for outside in ("DESIGN.md", "DOMAIN.md", "shared/", "../shared"):
            assert outside not in text, f"{doc.name} refers to {outside}"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_every_file_readme_copies_from_the_sdist_is_there(dists):
    """README unpacks the sdist into /opt/kiosk/src (--strip-components=1) and copies from it."""
    sdist, _wheel = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    readme = (ROOT / "README.md").read_text()
    assert "tar -xzf /opt/kiosk/wheelhouse/kiosk_disclosure-*.tar.gz -C /opt/kiosk/src " \
           "--strip-components=1" in readme
    used = set(re.findall(r"/opt/kiosk/src/([\w./-]+\w)", readme))
    assert len(used) >= 6
    assert not [p for p in used if p not in names], sorted(used - names)


def make_dry_run(*args: str) -> str:
    """The commands `make` would run, all targets treated as out of date."""
    return subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def test_make_demo_installs_only_the_product_and_takes_port_and_data():
    commands = make_dry_run("demo", "PORT=8123", "DATA=/tmp/d")
    assert "pip install --quiet -e .\n" in commands
    assert "[test]" not in commands and "vendor_assets.py test" not in commands
    assert "vendor_assets.py product" in commands
    assert "kiosk demo --port 8123 --host 127.0.0.1 --data-dir /tmp/d" in commands
    setup = make_dry_run("setup")
    assert ".[test]" in setup and "vendor_assets.py test" in setup


def test_make_wheelhouse_builds_the_release_and_every_dependency():
    commands = make_dry_run("wheelhouse")
    assert "-m build --outdir dist ." in commands
    assert "pip wheel --quiet --wheel-dir wheelhouse dist/*.whl" in commands
    readme = (ROOT / "README.md").read_text()
    assert "pip install --no-index --find-links /opt/kiosk/wheelhouse kiosk-disclosure" in readme
