"""Build hook: the wheel carries the pinned, hash-checked third-party browser files.

Everything else is declared in pyproject.toml. The files themselves are not in the
repository or the sdist; tools/vendor_assets.py fetches them with `npm pack` (or takes
them from its cache) and checks each tarball's SHA-512 before anything is packed.
"""
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tools"))
import vendor_assets  # noqa: E402


class build_py_with_vendor(build_py):
    """build_py, then the product's vendor files into the build (or, editable, the tree)."""

    def run(self):
        super().run()
        root = HERE if getattr(self, "editable_mode", False) else Path(self.build_lib)
        for path in vendor_assets.install(vendor_assets.PRODUCT, root):
            print(f"vendor asset verified: {path}")

    def get_outputs(self, include_bytecode=True):
        extra = [str(Path(self.build_lib) / a.target) for a in vendor_assets.PRODUCT]
        return super().get_outputs(include_bytecode) + extra


setup(cmdclass={"build_py": build_py_with_vendor})
