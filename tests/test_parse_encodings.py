"""The same notice in other bytes parses to the same tree: GB18030, UTF-8 with a BOM, CRLF,
UTF-16, and a real HTML page. Offsets stay exact in each: character offsets into the decoded
text, and ``Source.char_to_byte`` turns them into byte offsets into the file as saved.
"""

from __future__ import annotations

import codecs
import html
import re
import tomllib
from pathlib import Path

import pytest

from kb.parse import parse_file, span_text
from kb.text import compact

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))["files"]


def _parse(path: Path, name: str):
    return parse_file(path, MANIFEST.get(name), display_path=path.name)


def _utf8(name: str):
    return _parse(CORPUS / name, name)


def _spans(parsed):
    """Every (start, end) a clause claims: text spans and heading spans."""
    for doc in parsed.documents:
        for c in doc.clauses:
            yield from c.text_spans
            if c.heading_span:
                yield c.heading_span


def _check_offsets(parsed) -> None:
    source = parsed.source
    for doc in parsed.documents:
        for c in doc.clauses:
            assert span_text(source, c.text_spans) == compact(c.text), c.id
    # byte offsets point at the same characters in the raw file
    codec = codecs.lookup(source.encoding).name
    for a, b in _spans(parsed):
        lo, hi = source.char_to_byte(a), source.char_to_byte(b)
        assert source.raw[lo:hi].decode(codec.replace("-sig", "")) == source.text[a:b]


@pytest.mark.parametrize("name", SEEDS)
def test_gb18030_copy_parses_to_the_same_tree(tmp_path, name):
    utf8 = _utf8(name)
    path = tmp_path / name
    path.write_bytes((CORPUS / name).read_text(encoding="utf-8").encode("gb18030"))
    gb = _parse(path, name)

    assert gb.source.encoding == "gb18030"
    assert gb.documents == utf8.documents  # provenance is left out of equality
    assert [c for d in gb.documents for c in d.clauses] == [c for d in utf8.documents for c in d.clauses]
    # the decoded text is the same, so character offsets are the same
    assert gb.source.text == utf8.source.text
    assert list(_spans(gb)) == list(_spans(utf8))
    assert gb.source.sha256 != utf8.source.sha256
    _check_offsets(gb)
    for a, b in _spans(gb):
        lo, hi = gb.source.char_to_byte(a), gb.source.char_to_byte(b)
        assert gb.source.raw[lo:hi].decode("gb18030") == utf8.source.raw[utf8.source.char_to_byte(a) : utf8.source.char_to_byte(b)].decode()


@pytest.mark.parametrize("name", SEEDS)
def test_utf8_with_bom(tmp_path, name):
    utf8 = _utf8(name)
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF8 + (CORPUS / name).read_bytes())
    bom = _parse(path, name)

    assert bom.source.encoding == "utf-8-sig"
    assert bom.documents == utf8.documents
    assert not bom.source.text.startswith("\ufeff")
    assert list(_spans(bom)) == list(_spans(utf8))
    for a, b in _spans(bom):
        assert bom.source.char_to_byte(a) == utf8.source.char_to_byte(a) + 3
    _check_offsets(bom)


@pytest.mark.parametrize("name", SEEDS)
def test_crlf_line_endings(tmp_path, name):
    utf8 = _utf8(name)
    path = tmp_path / name
    path.write_bytes((CORPUS / name).read_bytes().replace(b"\n", b"\r\n"))
    crlf = _parse(path, name)

    assert crlf.documents == utf8.documents
    assert "\r" not in "".join(c.text + (c.heading or "") for d in crlf.documents for c in d.clauses)
    _check_offsets(crlf)


@pytest.mark.parametrize("name", SEEDS)
def test_utf16_parses_to_the_same_tree(tmp_path, name):
    utf8 = _utf8(name)
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + (CORPUS / name).read_text(encoding="utf-8").encode("utf-16-le"))
    utf16 = _parse(path, name)

    assert utf16.source.encoding == "utf-16"
    assert utf16.documents == utf8.documents
    for doc in utf16.documents:
        for c in doc.clauses:
            assert span_text(utf16.source, c.text_spans) == compact(c.text), c.id


def test_utf16_byte_offsets(tmp_path):
    name = SEEDS[0]
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + (CORPUS / name).read_text(encoding="utf-8").encode("utf-16-le"))
    parsed = _parse(path, name)
    for a, b in _spans(parsed):
        lo, hi = parsed.source.char_to_byte(a), parsed.source.char_to_byte(b)
        assert parsed.source.raw[lo:hi].decode("utf-16-le") == parsed.source.text[a:b]


# -- an HTML page ------------------------------------------------------------------------


def html_page(text: str) -> str:
    """The notice as a portal serves it: each line a <p>, tab rows a <table>, a footer."""
    out: list[str] = []
    table: list[str] = []

    def flush():
        if table:
            out.append("<table>\n" + "\n".join(table) + "\n</table>")
            table.clear()

    for line in text.split("\n"):
        if "\t" in line:  # a table row; its cells may already hold <p> fragments
            cells = "".join(f"<td>{c if '<' in c else html.escape(c)}</td>" for c in line.split("\t"))
            table.append(f"<tr>{cells}</tr>")
            continue
        flush()
        line = re.sub(r"^#{1,6}\s+", "", line.strip())  # markdown is not part of an HTML page
        if line and not re.fullmatch(r"-{3,}", line):
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    body = "\n".join(out)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>辽宁省人民政府</title>'
        "<style>p { margin: 0 }</style></head>\n<body>\n"
        '<nav>首页 | 政务公开 | 政策文件</nav>\n<div class="content">\n'
        f"{body}\n</div>\n"
        "<div class=footer>版权所有：辽宁省人民政府 主办单位：辽宁省人民政府办公厅<br>"
        "辽ICP备05023109号 辽公网安备 21010502000372号</div>\n"
        "<script>var tracker = 1;</script>\n</body></html>\n"
    )


@pytest.mark.parametrize("name", SEEDS)
def test_html_page_parses_to_the_same_clauses(tmp_path, name):
    utf8 = _utf8(name)
    path = tmp_path / name.replace(".txt", ".html")
    path.write_text(html_page((CORPUS / name).read_text(encoding="utf-8")), encoding="utf-8")
    page = _parse(path, name)

    def tree(parsed):
        return [(c.path, c.kind, c.heading, c.text, c.responsible, c.lead) for d in parsed.documents for c in d.clauses]

    assert tree(page) == tree(utf8)
    for got, want in zip(page.documents, utf8.documents):
        assert (got.id, got.title, got.issuers, got.issued, got.recipients, got.complete) == (
            want.id, want.title, want.issuers, want.issued, want.recipients, want.complete,
        )
        assert [(c.doc_number, c.title, c.role) for c in got.citations] == [(c.doc_number, c.title, c.role) for c in want.citations]
    for doc in page.documents:
        for c in doc.clauses:
            assert span_text(page.source, c.text_spans) == compact(c.text), c.id
            for word in ("版权所有", "ICP", "公网安备", "<p", "</p>", "<td", "tracker", "政务公开"):
                assert word not in c.text and word not in (c.heading or "")
    discarded = " ".join(d.text for d in page.source.discarded)
    assert "首页" in discarded and "tracker" in discarded
    if "预览已结束" not in page.source.text:  # a preview cut-off takes the footer with it
        assert "版权所有" in discarded


@pytest.mark.xfail(
    strict=True,
    reason="inline markup and entities inside an HTML line (<strong>, &nbsp;) shift clause offsets: "
    "lines.py locates each line's visible text verbatim and notice.py/document.py cut pieces by "
    "character arithmetic on it; a per-character offset map is needed",
)
def test_html_inline_markup_keeps_offsets_exact(tmp_path):
    path = tmp_path / "inline.html"
    path.write_text(
        "<html><body>\n<p>关于做好就业工作的通知</p>\n<p>各市人民政府：</p>\n"
        "<p><strong>一、加大援企稳岗力度。</strong>按期持续推进阶段性减免税费政策。</p>\n"
        "<p>二、加大吸纳就业补贴力度。企业吸纳&nbsp;登记失业人员。</p>\n</body></html>\n",
        encoding="utf-8",
    )
    parsed = parse_file(path, display_path="inline.html")
    doc = parsed.documents[0]
    assert [(c.path, c.heading) for c in doc.clauses] == [("一", "加大援企稳岗力度"), ("二", "加大吸纳就业补贴力度")]
    for c in doc.clauses:
        assert span_text(parsed.source, c.text_spans) == compact(c.text), c.id
        assert span_text(parsed.source, [c.heading_span]) == compact(c.heading), c.id
