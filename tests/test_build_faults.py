"""Faults around a build, each made for real in a child process: a file the builder may not
read, a second build while one runs, SIGTERM halfway, a disk that fills; and the mode the
published database gets. Each was a defect of issue 30; each test failed before its fix."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from kb.errors import KbError
from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
P25_FILE = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"
DL_FILE = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
FUSHUN_FILE = "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"
KB = [sys.executable, "-c", "from kb.cli import cli; cli()"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (P25_FILE, DL_FILE):
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


def _leftovers(db_path: Path) -> list[str]:
    """Temporary files a build leaves beside the database and in its cache."""
    beside = [p.name for p in db_path.parent.glob(db_path.name + ".tmp-*")]
    cached = [p.name for p in db_path.parent.glob(db_path.name + ".cache/*/*.tmp-*")]
    return sorted(beside + cached)


def test_unreadable_file_is_a_problem_and_the_rest_is_built(corpus, tmp_path):
    """A file the builder may not read (mode 000; as root, without the capabilities that
    override it) is one problem row; it used to abort the build when hashed after parsing."""
    secret = corpus / "secret.txt"
    shutil.copy(CORPUS / DL_FILE, secret)
    secret.chmod(0)
    closed = corpus / "closed"  # and a directory it may not list
    closed.mkdir()
    shutil.copy(CORPUS / FUSHUN_FILE, closed / FUSHUN_FILE)
    closed.chmod(0)
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to drop the capability to read any file")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    db_path = tmp_path / "kb.db"
    done = subprocess.run([*prefix, *KB, "build", "--corpus", str(corpus), "--db", str(db_path)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # a failed file: non-zero without --keep-going, the rest still built
    closed.chmod(0o755)  # (so that pytest can remove it)
    assert "  secret.txt: error: cannot read file: Permission denied" in done.stderr.splitlines()
    assert "  closed: error: cannot read directory: Permission denied; its files are left out" in done.stderr.splitlines()
    db = sqlite_utils.Database(db_path)
    assert [(r["path"], r["message"]) for r in db["problems"].rows_where("severity = 'error'")] == [
        ("closed", "cannot read directory: Permission denied; its files are left out"),
        ("secret.txt", "cannot read file: Permission denied"),
    ]
    assert [(r["path"], r["sha256"], r["parsed"]) for r in db["sources"].rows_where("path = 'secret.txt'")] == [("secret.txt", None, 0)]
    assert db["documents"].count_where("placeholder = 0") == 2


def test_published_database_keeps_the_old_mode(corpus, tmp_path):
    db_path = tmp_path / "kb.db"
    umask = os.umask(0o022)
    try:
        build(corpus, db_path, workers=1)
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o644  # a new file: what the umask gives (not mkstemp's 0600)
        db_path.chmod(0o640)
        (corpus / DL_FILE).write_text((corpus / DL_FILE).read_text(encoding="utf-8") + "\n", encoding="utf-8")
        build(corpus, db_path, workers=1)
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o640  # a replaced file: the old one's
    finally:
        os.umask(umask)


# A build that stops halfway through writing the new database (the publish step waits), so a
# test can act on it: it writes the marker file when it gets there.
_SLOW_BUILD = """
import sys, time
from pathlib import Path
import kb.publish
from kb.cli import cli

def slow(*args, **kwargs):
    Path(sys.argv[3]).write_text("writing")
    time.sleep(60)

kb.publish.publish = slow
cli(["build", "--corpus", sys.argv[1], "--db", sys.argv[2]])
"""


def _start_slow_build(corpus: Path, db_path: Path, marker: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_BUILD, str(corpus), str(db_path), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the build never got halfway"
        time.sleep(0.02)
    return child


def test_second_build_refuses_while_one_runs(corpus, tmp_path):
    db_path = tmp_path / "kb.db"
    build(corpus, db_path, workers=1)
    before = _sha(db_path)
    child = _start_slow_build(corpus, db_path, tmp_path / "midway")
    try:
        with pytest.raises(KbError) as refused:
            build(corpus, db_path, workers=1, full=True)  # --full used to delete the other build's cache
        assert (
            str(refused.value)
            == f"{db_path}: another build (pid {child.pid}) is writing this database; wait for it to finish, then build again"
        )
        assert list(db_path.parent.glob("kb.db.cache/*/parse/*.pickle"))  # its cache is still there
    finally:
        child.kill()
        child.communicate()
    assert _sha(db_path) == before
    # the lock goes with the process that held it, killed or not
    assert build(corpus, db_path, workers=1).build.id == 2


def test_sigterm_removes_the_temporary_database(corpus, tmp_path):
    db_path = tmp_path / "kb.db"
    build(corpus, db_path, workers=1)
    before = _sha(db_path)
    child = _start_slow_build(corpus, db_path, tmp_path / "midway")
    assert _leftovers(db_path)  # halfway: the new database and the linker's state wait beside the old
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM
    assert _leftovers(db_path) == []
    assert _sha(db_path) == before


def _limit_file_size(limit: int):
    def limit_writes() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # writes past it fail (EFBIG), as on a full disk

    return limit_writes


@pytest.mark.parametrize("full", [False, True])
def test_full_disk_names_the_path_and_cleans_up(corpus, tmp_path, full):
    """Incremental, the copy of the old database fails first; --full, SQLite's own write."""
    db_path = tmp_path / "kb.db"
    build(corpus, db_path, workers=1)
    before = _sha(db_path)
    parse_cache = next(db_path.parent.glob("kb.db.cache/*/parse"))
    cached = [] if full else sorted(p.name for p in parse_cache.iterdir())  # --full starts from an empty cache
    shutil.copy(CORPUS / FUSHUN_FILE, corpus / FUSHUN_FILE)  # a new file: parsed, and cached, by the next build
    done = subprocess.run(
        [*KB, "build", "--corpus", str(corpus), "--db", str(db_path), *(["--full"] if full else [])],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size(db_path.stat().st_size // 2),
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: {tmp_path}") and f"{db_path} is unchanged" in last, last
    assert any(why in last for why in ("File too large", "database or disk is full", "disk I/O error")), last
    assert _sha(db_path) == before
    assert _leftovers(db_path) == []
    assert sorted(p.name for p in parse_cache.iterdir()) == cached  # the failed build's entries are gone
