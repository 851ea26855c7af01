"""Terminal side: the picture files of attachments follow the applied bundle.

A bundle names each picture as ``blob/<sha256>``. Before the content is applied
the pictures are put in place (content-addressed and immutable, so harmless if
the commit never happens); after it commits, every picture the bundle no longer
names is deleted, so a picture withdrawn at the hub (say, one that showed a
personal number by mistake) leaves the village terminal at the next sync.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from . import bundle
from .publish import attachment_path

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def named(files: dict) -> dict[str, int]:
    """sha256 → length of every picture a manifest's ``files`` names."""
    return {e["sha256"]: e["length"] for n, e in files.items() if n.startswith("blob/")}


def install(data_dir: Path, files: dict, cache: bundle.BlobStore) -> None:
    """Copy the bundle's pictures from the download cache into ``data_dir/blobs``."""
    for sha, length in named(files).items():
        target = attachment_path(data_dir, sha)
        if target.is_file() and target.stat().st_size == length:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(cache.path(sha), tmp)
        os.replace(tmp, target)


def prune(data_dir: Path, files: dict) -> int:
    """Delete pictures the applied bundle no longer names; return how many went."""
    keep = named(files)
    root = Path(data_dir) / "blobs"
    gone = 0
    if not root.is_dir():
        return 0
    for path in root.glob("*/*"):
        if _HEX64.match(path.name) and path.name not in keep or path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
            gone += 1
    return gone
