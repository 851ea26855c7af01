"""Shared fixtures: a demo instance per test (copied from one built per session), client, runner."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from content import db
from kiosk import create_app
from kiosk.cli import create_instance

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """One demo instance built per session; tests get a copy (building hashes passwords)."""
    path = tmp_path_factory.mktemp("demo-template")
    database = create_instance(path, "standalone", demo=True)
    conn = db.connect(database)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def data_dir(tmp_path, demo_template) -> Path:
    target = tmp_path / "instance"
    shutil.copytree(demo_template, target)
    return target


@pytest.fixture
def app(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def conn(app):
    c = db.connect(app.config["DATABASE"])
    yield c
    c.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
