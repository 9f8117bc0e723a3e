"""End to end in a real headless Chromium: `kb serve` in a subprocess, pages rendered, DOM checked.

Screenshots are written to test-output/ (gitignored). Skips only where chromium is absent
(scripts/test installs Debian's chromium when it runs as root).
"""

from __future__ import annotations

import os
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


def _chromium(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
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
        env={**os.environ, **env} if env else None,
    )


def _render(tmp_path: Path, test_output: Path, url: str, name: str, env: dict | None = None) -> str:
    """Screenshot the page into test-output/<name>.png and return its rendered DOM (one run of
    chromium does both)."""
    shot = test_output / f"{name}.png"
    shot.unlink(missing_ok=True)
    done = _chromium(tmp_path, f"--screenshot={shot}", "--dump-dom", "--window-size=1280,2000", url, env=env)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8")


def test_search_page_in_a_browser(every_page):
    dom = every_page[("search", "zh")]
    assert "<mark>补贴</mark>" in dom
    assert "/-/kb/clause/" + quote(f"{DL}:三", safe="") in dom
    assert "辽人社" not in dom.split("kb-results", 1)[1]  # only Dalian's clauses
    assert 'value="补贴"' in dom


def test_clause_page_in_a_browser(every_page):
    dom = every_page[("clause", "zh")]
    assert "加大吸纳就业补贴力度" in dom
    sources = dom[dom.index('id="provincial-sources"') : dom.index('id="city-descendants"')]
    assert "/-/kb/clause/" + quote(f"{P25}:二/（六）", safe="") in sources
    assert ">实施<" in sources and "<ins>费</ins>" in sources and "<del>顶额</del>" in sources
    assert "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt" in dom[dom.index('id="provenance"') :]


def test_document_page_in_a_browser(every_page):
    dom = every_page[("document", "zh")]
    assert "全力做好当前促进和扩大就业有关工作的通知" in dom and "文本不全：" in dom
    assert "/-/kb/clause/" + quote(f"{DL}:三", safe="") in dom


def test_datasette_table_search_in_a_browser(server, tmp_path, test_output):
    # Datasette's own table page and search box, answered from the bigram index (a 2-character word).
    dom = _render(tmp_path, test_output, f"{server}/kb/clauses?_search={quote('零工')}", "table-search")
    assert 'value="零工"' in dom and 'search matches "零工"' in dom.replace("&quot;", '"')
    assert "零工市场" in dom.split("<table", 1)[1]  # a matching clause's text in the table


# Every page type, in both languages: screenshots for a person to look at, and the language the
# page declares (Chromium picks Chinese glyph forms from lang="zh-CN", Japanese ones without).
PAGES = {
    "home": "/-/kb/",
    "search": "/-/kb/search?q=" + quote("补贴") + "&city=" + quote("大连市"),
    "clause": "/-/kb/clause/" + quote(f"{DL}:三", safe=""),
    "document": "/-/kb/document/" + quote(DL, safe=""),
    "source": "/-/kb/source/" + quote("2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt", safe="") + "?clause=" + quote(f"{DL}:三"),
    "governs": "/-/kb/governs?topic=" + quote("稳岗返还") + "&city=" + quote("抚顺市") + "&as_of=2021-08-01",
    "diff": "/-/kb/diff?a=" + quote(P25) + "&b=" + quote(DL),
    "table": "/kb/city_vs_province",
}
HEADINGS = {
    "home": ("浏览文件", "Browse documents"),
    "search": ("检索条款", "Search clauses"),
    "clause": ("上级依据", "Higher sources"),
    "document": ("基本信息", "Metadata"),
    "source": ("原文", "Source text"),
    "governs": ("适用规定查询", "Which clause governs"),
    "diff": (None, None),  # the diff page's words are the diff helper's
    "table": (None, None),  # Datasette's own page
}


@pytest.fixture(scope="module")
def every_page(server, tmp_path_factory, test_output) -> dict[tuple[str, str], str]:
    """(page, lang) -> rendered DOM of every page type in both languages, screenshots written.
    One after another, in one profile: on two cores, chromiums side by side take longer."""
    profile = tmp_path_factory.mktemp("pages")
    rendered = {}
    for page in sorted(PAGES):
        for lang in ("zh", "en"):
            url = server + PAGES[page] + (("&" if "?" in PAGES[page] else "?") + "lang=en" if lang == "en" else "")
            rendered[(page, lang)] = _render(profile, test_output, url, f"page-{page}-{lang}")
    return rendered


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_type_in_both_languages(every_page, page, lang):
    dom = every_page[(page, lang)]
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in dom
    heading = HEADINGS[page][0 if lang == "zh" else 1]
    if heading:
        assert heading in dom


# A page that draws text with the knowledge base's own font stack (kb.css, from the server) on a
# canvas and compares pixels: with no CJK font, 补 and 贴 are the same box (the font's .notdef
# glyph, also drawn for U+10FFFD, a character no font has); with one they differ from each other
# and from the box.
GLYPH_PROBE = r"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><link rel="stylesheet" href="{css}"></head>
<body><pre id="result">pending</pre>
<script>
function pixels(ch) {{
  var canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  var ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 64, 64);
  ctx.fillStyle = '#000'; ctx.font = '48px ' + getComputedStyle(document.body).fontFamily;
  ctx.textBaseline = 'top'; ctx.fillText(ch, 4, 4);
  return Array.prototype.join.call(ctx.getImageData(0, 0, 64, 64).data, ',');
}}
var bu = pixels('补'), tie = pixels('贴'), box = pixels('\u{{10FFFD}}');
document.getElementById('result').textContent = JSON.stringify({{
  family: getComputedStyle(document.body).fontFamily,
  distinct: bu !== tie, notBox: bu !== box && tie !== box, inked: bu !== pixels(' ')
}});
</script></body></html>
"""


def _glyph_probe(server, tmp_path, test_output, name: str, env: dict | None = None) -> dict:
    import json
    import re

    probe = tmp_path / "glyphs.html"
    probe.write_text(GLYPH_PROBE.format(css=server + "/-/static-plugins/kb/kb.css"), encoding="utf-8")
    dom = _render(tmp_path, test_output, probe.as_uri(), name, env=env)
    return json.loads(re.search(r'<pre id="result">(.*?)</pre>', dom, re.S).group(1).replace("&quot;", '"'))


def test_chinese_glyphs_are_drawn_not_boxes(server, tmp_path, test_output):
    """Issue 28 #11: with no CJK font every character is a box, and a DOM check cannot see it."""
    result = _glyph_probe(server, tmp_path, test_output, "glyphs")
    assert "Noto Sans CJK SC" in result["family"]  # the plugin's stylesheet applied
    assert result["inked"], result
    assert result["distinct"] and result["notBox"], f"Chinese characters are drawn as boxes (is fonts-noto-cjk installed?): {result}"


def test_the_glyph_probe_sees_boxes_when_no_cjk_font_is_installed(server, tmp_path, test_output):
    """The check above can fail: chromium given a fontconfig that knows only the fonts outside
    Noto CJK's directory draws 补 and 贴 as the same box, and the probe says so."""
    fonts = Path("/usr/share/fonts/truetype")
    if not fonts.is_dir():
        pytest.skip("no /usr/share/fonts/truetype to build a font configuration without CJK fonts from")
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>',
        encoding="utf-8",
    )
    result = _glyph_probe(server, tmp_path, test_output, "glyphs-without-cjk-fonts", env={"FONTCONFIG_FILE": str(config)})
    assert result["inked"] and not result["distinct"] and not result["notBox"], result
