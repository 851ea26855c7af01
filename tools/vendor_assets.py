"""Third-party browser files: fetched from the npm registry, pinned and hash-checked.

The repository keeps no third-party file. This module is the one place that names
them: the wheel build (setup.py) packs the product's assets into the wheel, and
`make setup` puts them into the source tree for development and tests.

    python3 tools/vendor_assets.py product   # htmx -> kiosk/static/vendor/
    python3 tools/vendor_assets.py test      # axe-core -> tests/browser/vendor/

`npm pack` fetches the package tarball; its SHA-512 must equal the pinned
integrity (the same value as package-lock's "integrity"). Verified tarballs are
kept in a cache folder ($KIOSK_VENDOR_CACHE, default ~/.cache/kiosk-disclosure/vendor),
so a second build needs neither npm nor the network. A build machine without
network can be given the tarballs by putting them in that folder.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Asset:
    package: str        # npm package name
    version: str
    integrity: str      # "sha512-<base64>" of the tarball, as npm reports it
    member: str         # file inside the tarball (under package/)
    target: str         # where it goes, relative to the project root / wheel root

    @property
    def tarball(self) -> str:
        return f"{self.package.replace('@', '').replace('/', '-')}-{self.version}.tgz"


PRODUCT = [
    Asset("htmx.org", "2.0.8",
          "sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q==",
          "dist/htmx.min.js", "kiosk/static/vendor/htmx.min.js"),
]
TEST = [
    Asset("axe-core", "4.10.3",
          "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==",
          "axe.min.js", "tests/browser/vendor/axe.min.js"),
]
GROUPS = {"product": PRODUCT, "test": TEST}


class VendorError(RuntimeError):
    pass


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kiosk-disclosure" / "vendor"
    return Path(os.environ.get("KIOSK_VENDOR_CACHE") or default)


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _npm_pack(asset: Asset) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(f"npm is needed to fetch {asset.package}@{asset.version} "
                          f"(apt-get install npm), or put {asset.tarball} into {cache_dir()}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", "--silent", f"{asset.package}@{asset.version}"], cwd=tmp,
                       check=True, stdout=subprocess.DEVNULL)
        return (Path(tmp) / asset.tarball).read_bytes()


def tarball(asset: Asset) -> bytes:
    """The package tarball, verified against its pinned integrity; cached once verified."""
    cached = cache_dir() / asset.tarball
    if cached.exists():
        data = cached.read_bytes()
        if integrity_of(data) == asset.integrity:
            return data
        cached.unlink()   # a damaged or foreign file: fetch again
    data = _npm_pack(asset)
    got = integrity_of(data)
    if got != asset.integrity:
        raise VendorError(f"{asset.package}@{asset.version} integrity mismatch: got {got}, "
                          f"pinned {asset.integrity}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, cached)
    return data


def extract(asset: Asset) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball(asset)), mode="r:gz") as tar:
        member = tar.extractfile(f"package/{asset.member}")
        if member is None:
            raise VendorError(f"{asset.member} is not in {asset.tarball}")
        return member.read()


def install(assets: list[Asset], root: Path) -> list[Path]:
    """Write each asset under ``root`` (atomically); returns the files written."""
    written = []
    for asset in assets:
        target = Path(root) / asset.target
        data = extract(asset)
        if not (target.exists() and target.read_bytes() == data):
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    groups = argv or ["product"]
    try:
        for name in groups:
            for path in install(GROUPS[name], ROOT):
                print(f"{path.relative_to(ROOT)}: verified")
    except (VendorError, KeyError, subprocess.CalledProcessError) as e:
        print(f"vendor_assets: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
