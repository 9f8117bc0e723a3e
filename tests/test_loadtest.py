"""Smoke run of scripts/loadtest: a real ``kb serve`` on the seed database, three clients, three seconds.

Zero errors is asserted, not hoped for: every URL of the mix comes from the database, so a
non-200 is a bug in a page (or in the mix). The server must be gone afterwards, whatever happened.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOADTEST = ROOT / "scripts" / "loadtest"


@pytest.fixture(scope="module")
def loadtest():
    """scripts/loadtest as a module (it has no .py suffix, so the loader is named)."""
    loader = SourceFileLoader("loadtest", str(LOADTEST))
    module = module_from_spec(spec_from_loader("loadtest", loader))
    loader.exec_module(module)
    return module


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_loadtest_smoke(loadtest, kb_db_path):
    report = loadtest.run_loadtest(kb_db_path, clients=3, seconds=3)

    assert set(report["kinds"]) == {"clause", "search", "governs"}
    for kind, figures in report["kinds"].items():
        assert figures["requests"] > 0, kind
        assert figures["errors"] == 0, (kind, figures["error_examples"], report["server_stderr"])
        assert figures["p95_ms"] > 0 and figures["p95_ms"] >= figures["median_ms"], (kind, figures)
        assert figures["requests_per_second"] > 0, kind
    overall = report["overall"]
    assert overall["requests"] == sum(f["requests"] for f in report["kinds"].values())
    assert overall["errors"] == 0
    assert report["server_stderr"] == ""  # no tracebacks, no warnings

    port = int(report["url"].rsplit(":", 1)[1].rstrip("/"))
    assert report["server_exit_code"] is not None
    assert not _port_open(port), f"kb serve still listens on {port}"


def test_url_mix_is_the_same_for_a_seed(loadtest, kb_db_path):
    mix = loadtest.url_mix(kb_db_path, seed=7)
    assert mix == loadtest.url_mix(kb_db_path, seed=7)
    assert mix != loadtest.url_mix(kb_db_path, seed=8)
    assert {kind for kind, _ in mix} == {"clause", "search", "governs"}
    # Ids with '/' and '〔〕' are percent-encoded whole: the route takes everything after the prefix.
    assert all("/" not in path.removeprefix("/-/kb/clause/") for kind, path in mix if kind == "clause")


def test_missing_database_is_a_clear_error(loadtest, tmp_path):
    missing = tmp_path / "nowhere.db"
    with pytest.raises(loadtest.LoadTestError, match="no database at .*nowhere.db: build one with `kb build"):
        loadtest.run_loadtest(missing, clients=1, seconds=1)

    proc = subprocess.run([sys.executable, str(LOADTEST), "--db", str(missing)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: no database at {missing}")
    assert proc.stdout == ""


def test_a_server_that_cannot_start_is_a_clear_error(loadtest, kb_db_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(loadtest.LoadTestError, match=r"(?s)kb serve exited with code \d+ before answering:.*address already in use"):
            loadtest.run_loadtest(kb_db_path, clients=1, seconds=1, port=port)


def test_serve_options_are_passed_on(loadtest, kb_db_path):
    """--workers 2 --cache-mb 0: two uvicorn worker processes, every page made afresh; the report says so."""
    report = loadtest.run_loadtest(kb_db_path, clients=4, seconds=3, workers=2, cache_mb=0)
    assert report["serve_options"] == ["--workers", "2", "--cache-mb", "0"]
    assert report["overall"]["requests"] > 0 and report["overall"]["errors"] == 0, report["overall"]["error_examples"]
    assert report["server_stderr"] == ""
    assert "kb serve --workers 2 --cache-mb 0" in loadtest.text_report(report)
    port = int(report["url"].rsplit(":", 1)[1].rstrip("/"))
    assert not _port_open(port), f"kb serve (or a worker) still listens on {port}"
