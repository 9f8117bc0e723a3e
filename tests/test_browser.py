"""End to end in a real headless Chromium: `kb serve` in a subprocess, pages rendered, DOM checked.

Screenshots are written to test-output/ (gitignored). Skips only where chromium is absent
(scripts/test installs Debian's chromium when it runs as root).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
DL = "大人社发〔2020〕391号"
P25 = "辽政办发〔2020〕25号"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(kb_db_path):
    """`kb serve` on a free loopback port; yields its base URL."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test does this as root)")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--db", str(kb_db_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/-/kb/search", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                pytest.fail(f"kb serve did not come up on {base}: {output}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *args,
        ],
        capture_output=True,
        timeout=120,
    )


def _render(tmp_path: Path, test_output: Path, url: str, name: str) -> str:
    """Screenshot the page into test-output/<name>.png and return its rendered DOM."""
    shot = test_output / f"{name}.png"
    shot.unlink(missing_ok=True)
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr.decode(errors="replace")[-2000:]
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    return dom.stdout.decode("utf-8")


def test_search_page_in_a_browser(server, tmp_path, test_output):
    dom = _render(tmp_path, test_output, f"{server}/-/kb/search?q={quote('补贴')}&city={quote('大连市')}", "search")
    assert "<mark>补贴</mark>" in dom
    assert "/-/kb/clause/" + quote(f"{DL}:三", safe="") in dom
    assert "辽人社" not in dom.split("kb-results", 1)[1]  # only Dalian's clauses
    assert 'value="补贴"' in dom


def test_clause_page_in_a_browser(server, tmp_path, test_output):
    dom = _render(tmp_path, test_output, f"{server}/-/kb/clause/{quote(f'{DL}:三', safe='')}", "clause")
    assert "加大吸纳就业补贴力度" in dom
    sources = dom[dom.index('id="provincial-sources"') : dom.index('id="city-descendants"')]
    assert "/-/kb/clause/" + quote(f"{P25}:二/（六）", safe="") in sources
    assert ">implements<" in sources and "<ins>费</ins>" in sources and "<del>顶额</del>" in sources
    assert "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt" in dom[dom.index('id="provenance"') :]


def test_document_page_in_a_browser(server, tmp_path, test_output):
    dom = _render(tmp_path, test_output, f"{server}/-/kb/document/{quote(DL, safe='')}", "document")
    assert "全力做好当前促进和扩大就业有关工作的通知" in dom and "Incomplete:" in dom
    assert "/-/kb/clause/" + quote(f"{DL}:三", safe="") in dom


def test_datasette_table_search_in_a_browser(server, tmp_path, test_output):
    # Datasette's own table page and search box, answered from the bigram index (a 2-character word).
    dom = _render(tmp_path, test_output, f"{server}/kb/clauses?_search={quote('零工')}", "table-search")
    assert 'value="零工"' in dom and 'search matches "零工"' in dom.replace("&quot;", '"')
    assert "零工市场" in dom.split("<table", 1)[1]  # a matching clause's text in the table
