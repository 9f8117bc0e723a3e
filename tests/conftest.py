"""Shared fixtures: the seed corpus built once per session, a Datasette on it, tiny databases."""

from __future__ import annotations

import copy
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "seeds"  # corpus/ also holds the real laws; this is its four seed notices (symlinks)
METADATA = ROOT / "metadata.yml"
TEST_OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def kb_build(tmp_path_factory):
    """The real build (parse, link, publish) of corpus/ into a session tmp dir."""
    from kb.publish import build

    path = tmp_path_factory.mktemp("kb") / "kb.db"
    return build(CORPUS, path)


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory) -> Path:
    """A 60-notice corpus from scripts/make_corpus (provinces and the cities implementing them;
    restated rules, so clauses with the same words). Tests copy it before changing it."""
    out = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_corpus"), "--notices", "60", "--out", str(out)], check=True, capture_output=True)
    return out / "corpus"


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


def _place_blocks(conn) -> list[tuple[str, str, str, int]]:
    """(level, province, place, clauses) of each run of rows of one place, in rowid order."""
    rows = conn.execute(
        "select documents.level, coalesce(documents.province, documents.jurisdiction, ''), coalesce(documents.jurisdiction, '')"
        " from clauses join documents on documents.id = clauses.document_id order by clauses.rowid"
    ).fetchall()
    blocks: list[list] = []
    for level, province, place in rows:
        if blocks and blocks[-1][:3] == [level, province, place]:
            blocks[-1][3] += 1
        else:
            blocks.append([level, province, place, 1])
    return [tuple(b) for b in blocks]


def _assert_place_by_place(conn) -> list[tuple[str, str, str, int]]:
    """Each place's rows in one run, the nation's first; each province's among its cities', in
    their middle: the cities' clauses before it and after it differ by at most one city's."""
    blocks = _place_blocks(conn)
    places = [(level, place) for level, _, place, _ in blocks]
    assert len(places) == len(set(places)), "a place's rows are split"
    levels = [level for level, *_ in blocks]
    assert levels == sorted(levels, key=lambda level: level != "national")
    provinces = [province for level, province, *_ in blocks if level != "national"]
    runs = [p for k, p in enumerate(provinces) if k == 0 or provinces[k - 1] != p]
    assert len(runs) == len(set(runs)), "a province's rows are interleaved with another's"
    for province in set(provinces):
        own = [k for k, (level, p, *_) in enumerate(blocks) if p == province and level == "province"]
        local = [(k, n) for k, (level, p, _, n) in enumerate(blocks) if p == province and level not in ("province", "national")]
        if not own or not local:
            continue
        before = sum(n for k, n in local if k < own[0])
        after = sum(n for k, n in local if k > own[-1])
        assert abs(before - after) <= max(n for _, n in local), (province, before, after)
    return blocks


@pytest.fixture
def place_by_place():
    """Asserts that a database's rows are written place by place (see ``_assert_place_by_place``); returns the blocks."""
    return _assert_place_by_place
