"""Shared fixtures: the seed corpus built once per session, a Datasette on it, tiny databases."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
METADATA = ROOT / "metadata.yml"
TEST_OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def kb_build(tmp_path_factory):
    """The real build (parse, link, publish) of corpus/ into a session tmp dir."""
    from kb.publish import build

    path = tmp_path_factory.mktemp("kb") / "kb.db"
    return build(CORPUS, path)


@pytest.fixture(scope="session")
def kb_db_path(kb_build) -> Path:
    return Path(kb_build.db_path)


@pytest.fixture
def kb_db(kb_db_path):
    """The seed database, read-only, through sqlite-utils."""
    conn = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    yield sqlite_utils.Database(conn)
    conn.close()


@pytest.fixture
def containing(kb_db):
    """containing(term, jurisdictions=None): ids of the seed clauses whose heading or text holds
    term, in rowid order, read with instr (not full-text search); optionally only those of
    documents of the given jurisdictions."""

    def ids(term: str, jurisdictions: tuple[str, ...] | None = None) -> list[str]:
        found = kb_db.query(
            "select clauses.id, documents.jurisdiction from clauses join documents on documents.id = clauses.document_id"
            " where instr(coalesce(heading, ''), :t) or instr(coalesce(text, ''), :t) order by clauses.rowid",
            {"t": term},
        )
        return [r["id"] for r in found if jurisdictions is None or r["jurisdiction"] in jurisdictions]

    return ids


@pytest.fixture(scope="session")
def kb_metadata() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


@pytest.fixture
async def ds(kb_db_path, kb_metadata):
    """Datasette on the seed database with metadata.yml (the plugin loads by entry point)."""
    from datasette.app import Datasette

    instance = Datasette([str(kb_db_path)], metadata=copy.deepcopy(kb_metadata))
    await instance.invoke_startup()
    return instance


@pytest.fixture
def memory_db():
    """A fresh in-memory database."""
    return sqlite_utils.Database(memory=True)


@pytest.fixture
def tmp_db_path(tmp_path) -> Path:
    return tmp_path / "kb.db"


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Where browser screenshots go (gitignored)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT
