"""The formats researchers download: a seed notice and a State Council regulation, saved by
LibreOffice as .docx and .pdf and wrapped in a government portal's page, parse to the same
clauses as their text copy; the formats that cannot be read say how to convert them; and
the hostile inputs of issue 30 (deep HTML, UTF-16 without a BOM, a huge file) get one line.

The fixtures in tests/data/formats/ were made by tests/data/formats/make_fixtures.py
(LibreOffice), so these tests need no LibreOffice.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import sqlite3
import zipfile
from pathlib import Path

import docx
import pytest

from kb.errors import ParseError
from kb.parse import parse_bytes, parse_corpus, parse_file, span_text
from kb.parse.decode import MAX_TEXT_BYTES
from kb.text import compact

DATA = Path(__file__).resolve().parent / "data" / "formats"
STEMS = ["dalian-notice", "unemployment-insurance-regulations"]
FORMATS = ["docx", "pdf", "html"]
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def parsed():
    """Every fixture parsed once: (stem, format) -> ParsedFile."""
    return {(stem, fmt): parse_file(DATA / f"{stem}.{fmt}", display_path=f"{stem}.{fmt}") for stem in STEMS for fmt in ["txt", *FORMATS]}


def _tree(parsed_file):
    return [(c.path, c.label, c.kind, c.heading, c.text, c.parent_id, c.depth) for d in parsed_file.documents for c in d.clauses]


def _documents(parsed_file):
    return [(d.id, d.title, d.issuers, d.issued, d.recipients, d.complete, d.incomplete_reasons) for d in parsed_file.documents]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", STEMS)
def test_same_clauses_as_the_text_copy(parsed, stem, fmt):
    text, other = parsed[(stem, "txt")], parsed[(stem, fmt)]
    assert len(_tree(text)) > 10
    assert _tree(other) == _tree(text)
    assert _documents(other) == _documents(text)
    assert [(c.doc_number, c.title) for d in other.documents for c in d.citations] == [(c.doc_number, c.title) for d in text.documents for c in d.citations]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", STEMS)
def test_offsets_are_exact_into_the_text_read_and_the_hash_is_the_files(parsed, stem, fmt):
    p = parsed[(stem, fmt)]
    raw = (DATA / f"{stem}.{fmt}").read_bytes()
    assert p.source.sha256 == hashlib.sha256(raw).hexdigest()
    assert p.source.size == len(raw)
    for doc in p.documents:
        for c in doc.clauses:
            assert span_text(p.source, c.text_spans) == compact(c.text), c.id
            if c.heading_span:
                assert span_text(p.source, [c.heading_span]) == compact(c.heading), c.id


@pytest.mark.parametrize("stem", STEMS)
def test_docx_text_is_the_text_copy(parsed, stem):
    """LibreOffice made one paragraph of each line: the text read is the copy, character for character."""
    assert parsed[(stem, "docx")].source.text == (DATA / f"{stem}.txt").read_text(encoding="utf-8")
    source = parsed[(stem, "docx")].source
    assert source.meta == {"format": "docx"}
    assert source.encoding == "" and source.char_to_byte(10) is None and source.page_of(10) is None


@pytest.mark.parametrize("stem", STEMS)
def test_pdf_lines_are_the_paragraphs_of_the_copy(parsed, stem):
    """Lines the layout broke are joined into their paragraph, and nothing else is joined;
    page headers and numbers are not text."""
    copy = [line for line in (DATA / f"{stem}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    source = parsed[(stem, "pdf")].source
    lines = [line for line in source.text.splitlines() if line.strip()]
    assert [compact(line) for line in lines] == [compact(line) for line in copy]
    assert not re.search(r"- \d+ -", source.text)


@pytest.mark.parametrize("stem", STEMS)
def test_pdf_page_furniture_recorded_with_its_page(parsed, stem):
    source = parsed[(stem, "pdf")].source
    numbers = [d for d in source.discarded if d.reason == "page-number"]
    headers = [d for d in source.discarded if d.reason == "page-header"]
    assert [d.text for d in numbers] == [f"- {n} -" for n in range(1, len(source.page_starts) + 1)]
    assert len(source.page_starts) >= 4
    first_line = (DATA / f"{stem}.txt").read_text(encoding="utf-8").splitlines()[0]
    assert [d.text for d in headers] == [first_line] * len(source.page_starts)
    # a header is dropped where its page begins, so page_of names the page it was printed on
    assert [source.page_of(d.start) for d in headers] == list(range(1, len(source.page_starts) + 1))
    assert source.page_starts == sorted(source.page_starts) and source.page_starts[0] == 0
    assert source.meta == {"format": "pdf"} and source.char_to_byte(5) is None


def test_pdf_offset_has_the_page_it_was_printed_on(parsed):
    """第十条 starts on page 2 of the regulation's PDF (see the fixture); 第三十三条 on the last."""
    p = parsed[("unemployment-insurance-regulations", "pdf")]
    source = p.source
    clauses = {c.label: c for d in p.documents for c in d.clauses}
    assert source.page_of(clauses["第一条"].start) == 1
    assert source.page_of(clauses["第十条"].start) == 2
    assert source.page_of(clauses["第三十三条"].start) == len(source.page_starts)


def test_pdf_tables_are_tab_rows_joined_across_pages():
    """抚人社发〔2021〕20号 printed with its 责任分工表 as ruled tables whose rows break across
    pages: every row of the table reads as in the text copy, 责任单位 and all."""
    name = "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"
    copy = parse_file(CORPUS / name, display_path=name)
    pdf = parse_file(DATA / "fushun-table.pdf", display_path="fushun-table.pdf")

    def rows(p):
        return [(c.path, c.kind, c.heading, compact(c.text), c.responsible, c.lead) for d in p.documents for c in d.clauses if c.kind == "row"]

    assert len(rows(copy)) == 18
    assert rows(pdf) == rows(copy)
    assert len([c for d in pdf.documents for c in d.clauses]) == len([c for d in copy.documents for c in d.clauses])


def test_html_page_says_what_it_is(parsed):
    assert parsed[("unemployment-insurance-regulations", "html")].source.meta == {
        "format": "html",
        "title": "失业保险条例_国务院文件_中国政府网",
        "h1": "失业保险条例",
        "published": "1999-01-22",
    }
    assert parsed[("dalian-notice", "html")].source.meta == {  # the date printed in the page, no meta
        "format": "html",
        "title": "全力做好当前促进和扩大就业 有关工作的通知_政策文件_大连市人力资源和社会保障局",
        "h1": "全力做好当前促进和扩大就业 有关工作的通知",
        "published": "2020-11-24",
    }
    assert parsed[("dalian-notice", "txt")].source.meta == {"format": "text"}


@pytest.mark.parametrize(
    "prolog",
    ['<?xml version="1.0" encoding="utf-8"?>\n<!-- 模板 2021 -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">\n', "<!-- 站群 -->\n"],
)
def test_an_xhtml_page_or_one_opening_with_a_comment_is_a_page(prolog):
    page = (DATA / "unemployment-insurance-regulations.html").read_text(encoding="utf-8").replace("<!DOCTYPE html>\n", prolog)
    p = parse_bytes(page.encode(), "page.html")
    assert p.source.meta["h1"] == "失业保险条例"
    assert _tree(p)[-1][4].endswith("同时废止。")


def test_a_page_laid_out_in_tables_keeps_its_paragraphs(parsed):
    """Older portals lay the page out in a table: its content cell is not a table row."""
    page = (DATA / "unemployment-insurance-regulations.html").read_text(encoding="utf-8")
    page = page.replace('<div class="article">', '<table width="100%"><tr><td width="200">栏目导航</td><td></td></tr>\n<tr><td colspan="2">\n<div class="article">')
    page = page.replace('<div class="footer">', '</td></tr></table>\n<div class="footer">')
    assert page.count("<table") == 1
    p = parse_bytes(page.encode(), "table-layout.html")
    assert _tree(p) == _tree(parsed[("unemployment-insurance-regulations", "txt")])


@pytest.mark.parametrize("stem", STEMS)
def test_html_page_tools_are_recorded_discards_not_text(parsed, stem):
    p = parsed[(stem, "html")]
    reasons = {}
    for d in p.source.discarded:
        reasons.setdefault(d.reason, []).append(d.text)
    assert "分享到：微信 微博 QQ空间" in reasons["page-tools"]
    assert "【打印】 【关闭】" in reasons["page-tools"]
    assert reasons["related-links"] == ["相关链接 国务院关于修改部分行政法规的决定 社会保险费征缴暂行条例"]
    assert any(t.startswith("扫一扫") for t in reasons["boilerplate"])
    assert len(reasons["page-info"]) == 1
    words = " ".join(c.text + (c.heading or "") for d in p.documents for c in d.clauses)
    for word in ("分享", "微信", "打印", "关闭", "相关链接", "征缴暂行条例", "扫一扫", "来源", "字体"):
        assert word not in words
    # no false "pages missing": the regulation's page is as complete as its text copy
    assert [w.message for w in p.warnings] == [w.message.replace(".txt", ".html") for w in parsed[(stem, "txt")].warnings]


# -- a .docx with Word's own numbering and a table -----------------------------------------------

_NUMBERING = """<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:abstractNum w:abstractNumId="7">
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
</w:abstractNum>
<w:num w:numId="3"><w:abstractNumId w:val="7"/></w:num>
</w:numbering>"""


def _numbered_docx() -> bytes:
    """A notice typed in Word with automatic numbering: the numbers are not in the text runs."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part
    numbering._element = parse_xml(_NUMBERING)
    assert numbering.element.find(".//{*}num") is not None and RELATIONSHIP_TYPE and PackURI and Part

    def numbered(text: str, level: int):
        paragraph = document.add_paragraph(text)
        p_pr = paragraph._p.get_or_add_pPr()
        p_pr.append(parse_xml(
            '<w:numPr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:ilvl w:val="{level}"/><w:numId w:val="3"/></w:numPr>'
        ))

    document.add_paragraph("关于做好就业工作的通知")
    document.add_paragraph("各市人民政府：")
    numbered("加大援企稳岗力度。", 0)
    numbered("落实减税降费政策。", 1)
    numbered("实施稳岗返还政策。", 1)
    numbered("支持灵活就业。", 0)
    numbered("给予社会保险补贴。", 1)
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, [("序号", "工作任务", "责任单位"), ("1", "稳岗返还", "市人社局")]):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    document.add_paragraph("辽宁省人力资源和社会保障厅")
    document.sections[0].header.paragraphs[0].text = "辽宁省人力资源和社会保障厅文件"
    document.sections[0].footer.paragraphs[0].text = "— 1 —"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def numbered():
    return parse_bytes(_numbered_docx(), "numbered.docx")


def test_docx_numbering_is_written_out(numbered):
    assert numbered.source.text.splitlines()[2:7] == [
        "一、加大援企稳岗力度。",
        "（一）落实减税降费政策。",
        "（二）实施稳岗返还政策。",
        "二、支持灵活就业。",
        "（一）给予社会保险补贴。",  # a level restarts when the level above moves on
    ]
    paths = [c.path for d in numbered.documents for c in d.clauses]
    assert paths[:5] == ["一", "一/（一）", "一/（二）", "二", "二/（一）"]


def test_docx_page_header_and_footer_are_recorded_not_read(numbered):
    assert [(d.reason, d.text) for d in numbered.source.discarded if d.reason.startswith("page-")] == [
        ("page-header", "辽宁省人力资源和社会保障厅文件"),
        ("page-footer", "— 1 —"),
    ]
    assert "文件" not in numbered.source.text


def test_docx_table_rows_are_tab_separated(numbered):
    assert "序号\t工作任务\t责任单位\n1\t稳岗返还\t市人社局\n" in numbered.source.text


def test_a_notice_with_its_table_in_word_reads_as_its_text_copy():
    """抚人社发〔2021〕20号 with its 责任分工表 as a real Word table (the text copy has tab rows,
    some cells as <p> fragments): the same clauses, 责任单位 and all."""
    import lxml.html

    name = "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"
    text = (CORPUS / name).read_text(encoding="utf-8")
    document = docx.Document()
    rows: list[list[str]] = []

    def add_table() -> None:
        table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        for row, values in zip(table.rows, rows):
            for cell, value in zip(row.cells, values):
                fragment = lxml.html.fragment_fromstring(value, create_parent="div")
                paragraphs = [p.text_content() for p in fragment.iter("p")] or [fragment.text_content()]
                cell.text = paragraphs[0]
                for more in paragraphs[1:]:
                    cell.add_paragraph(more)
        rows.clear()

    for line in text.split("\n"):
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        if rows:
            add_table()
        document.add_paragraph(line)
    if rows:
        add_table()
    assert len(document.tables) >= 2
    out = io.BytesIO()
    document.save(out)
    word, copy = parse_bytes(out.getvalue(), "fushun.docx"), parse_file(CORPUS / name, display_path=name)

    def rows_of(p):
        return [(c.path, c.kind, c.heading, c.text, c.responsible, c.lead) for d in p.documents for c in d.clauses]

    assert len(rows_of(copy)) > 70 and any(c[4] for c in rows_of(copy))
    assert rows_of(word) == rows_of(copy)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_docx_reads_what_word_shows_not_what_it_tracks():
    """Tracked insertions and content controls are shown text; tracked deletions and field
    codes are not (python-docx's Paragraph.text sees only plain runs)."""
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("第一条 为了")
    paragraph._p.append(parse_xml(f'<w:ins {_W} w:id="1" w:author="a"><w:r><w:t>保障失业人员</w:t></w:r></w:ins>'))
    paragraph._p.append(parse_xml(f'<w:del {_W} w:id="2" w:author="a"><w:r><w:delText>删去的话</w:delText></w:r></w:del>'))
    paragraph._p.append(parse_xml(f"<w:r {_W}><w:instrText>PAGE</w:instrText></w:r>"))
    paragraph._p.append(parse_xml(f'<w:sdt {_W}><w:sdtContent><w:r><w:t>的基本生活，制定本条例。</w:t></w:r></w:sdtContent></w:sdt>'))
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(f'<w:sdt {_W}><w:sdtContent><w:p><w:r><w:t>第二条 本条例自发布之日起施行。</w:t></w:r></w:p></w:sdtContent></w:sdt>'))
    out = io.BytesIO()
    document.save(out)
    text = parse_bytes(out.getvalue(), "tracked.docx").source.text
    assert text == "第一条 为了保障失业人员的基本生活，制定本条例。\n第二条 本条例自发布之日起施行。\n"


def _damaged(raw: bytes, seed: int) -> bytes:
    """The file cut short, or with bytes overwritten, the way a failed download leaves it."""
    rng = random.Random(seed)
    damaged = bytearray(raw)
    if seed % 2:
        return bytes(damaged[: rng.randrange(len(damaged))])
    for _ in range(rng.randint(1, 20)):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    return bytes(damaged)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", ["dalian-notice.docx", "unemployment-insurance-regulations.pdf"])
def test_a_damaged_file_is_a_parse_error_or_exact(name, seed):
    raw = _damaged((DATA / name).read_bytes(), seed)
    try:
        p = parse_bytes(raw, name)
    except ParseError as e:
        assert str(e).startswith(f"{name}:") and "\n" not in str(e)
        return
    for doc in p.documents:
        for c in doc.clauses:
            assert span_text(p.source, c.text_spans) == compact(c.text), c.id


# -- formats that are not read: one line naming the format and how to convert it ----------------

_SOFFICE = "convert it with `soffice --headless --convert-to docx FILE` (LibreOffice) and add the .docx"
_OCR = "run OCR first (`ocrmypdf -l chi_sim FILE out.pdf`) or add the text as a .txt file"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # the header block of a compound document


def _ofd() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("OFD.xml", '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>')
        z.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    return out.getvalue()


def _pdf(objects: list[str]) -> bytes:
    """A PDF of these objects (1 the catalog), with its cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _pdf_with_unmapped_font() -> bytes:
    """Text in a CID font with no ToUnicode map and an Identity ordering: codes, not characters."""
    shows = " ".join(f"<{''.join(f'{c:04x}' for c in range(1 + 10 * i, 11 + 10 * i))}> Tj 0 -20 Td" for i in range(3))
    stream = f"BT /F1 16 Tf 72 700 Td {shows} ET"
    return _pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    ])


def _pdf_without_text(pages: int) -> bytes:
    """A valid PDF whose pages hold only drawings: what a scan gives a text extractor."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for _ in range(pages):
        page, content = len(objects) + 1, len(objects) + 2
        kids.append(f"{page} 0 R")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R >>")
        stream = "0 0 1 rg 100 100 200 300 re f"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>"
    return _pdf(objects)


UNSUPPORTED = [
    ("scan.pdf", _pdf_without_text(3), f"scan.pdf: page 1: a PDF without a text layer (3 pages of pictures, a scan): {_OCR}"),
    (
        "cid.pdf",
        _pdf_with_unmapped_font(),
        f"cid.pdf: page 1: the text layer is font codes, not text (30 of 30 characters have no Unicode mapping, shown as (cid:N)): {_OCR}",
    ),
    ("old.doc", _OLE, f"old.doc:1: a Word 97-2003 .doc file (a binary compound document): only .docx, .pdf with a text layer, HTML and text are read; {_SOFFICE}"),
    ("kingsoft.wps", _OLE, f"kingsoft.wps:1: a WPS Office .wps file (a binary compound document): only .docx, .pdf with a text layer, HTML and text are read; {_SOFFICE}"),
    (
        "gazette.ofd",
        _ofd(),
        (
            "gazette.ofd:1: an OFD file (GB/T 33190 fixed-layout document): not read; open it in an OFD reader "
            "(数科OFD阅读器, 福昕OFD版式办公套件) and save it as a PDF with a text layer, or add its text as a .txt file"
        ),
    ),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100), f"photo.jpg:1: a JPEG image: a picture of a page has no text to read; {_OCR}"),
    ("page.png", b"\x89PNG\r\n\x1a\n" + bytes(100), f"page.png:1: a PNG image: a picture of a page has no text to read; {_OCR}"),
    ("notice.rtf", b"{\\rtf1\\ansi ...}", f"notice.rtf:1: an RTF file: only .docx, .pdf with a text layer, HTML and text are read; {_SOFFICE}"),
    (
        "broken.pdf",
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog",
        (
            "broken.pdf: page 1: a damaged PDF (PSEOF: Unexpected EOF): export it again from the program that made it, "
            "or add the text as a .txt file"
        ),
    ),
]


@pytest.mark.parametrize("name, raw, message", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_format_says_how_to_convert(name, raw, message):
    with pytest.raises(ParseError) as info:
        parse_bytes(raw, name)
    assert str(info.value) == message
    assert "\n" not in str(info.value) and "binary data" not in str(info.value)


# -- issue 30: deep HTML, UTF-16 without a byte-order mark, a file over the size limit -----------


def _nested_page(depth: int, items: int = 300) -> str:
    articles = "".join(f"<p>{n}. 第{n}项工作要求。</p>\n" for n in range(1, items + 1))
    return (
        "<!DOCTYPE html>\n<html><head><title>关于做好就业工作的通知</title></head><body>\n"
        "<p>关于做好就业工作的通知</p>\n<p>各市人民政府：</p>\n"
        + "<div>" * depth + "\n" + articles + "</div>" * depth + "\n</body></html>\n"
    )


def test_html_nested_300_deep_is_read_whole():
    p = parse_bytes(_nested_page(300).encode(), "deep.html")
    clauses = [c for d in p.documents for c in d.clauses if c.kind != "preamble"]
    assert [c.label for c in clauses] == [str(n) for n in range(1, 301)]
    assert clauses[-1].text == "第300项工作要求。"
    assert all(d.complete for d in p.documents)


@pytest.mark.parametrize("depth", [2100, 10_000])
def test_html_nested_too_deep_is_refused_with_the_reason(depth):
    with pytest.raises(ParseError) as info:
        parse_bytes(_nested_page(depth).encode(), "deep.html")
    assert info.value.line == 5  # the line of the <div>s
    assert str(info.value) == (
        f"deep.html:5:{info.value.column}: HTML nested more than 2,048 elements deep: it cannot be read whole, and a page read in part "
        "is never published as complete; re-save the page from a browser, or copy its text into a .txt file"
    )


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(codec):
    name = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
    text = (CORPUS / name).read_text(encoding="utf-8")
    want = parse_bytes(text.encode("utf-8"), name)
    got = parse_bytes(text.encode(codec), name)
    assert got.source.encoding == codec
    assert _tree(got) == _tree(want)
    clause = got.documents[0].clauses[3]
    lo, hi = got.source.char_to_byte(clause.start), got.source.char_to_byte(clause.end)
    assert text.encode(codec)[lo:hi].decode(codec) == got.source.text[clause.start : clause.end]


def test_binary_with_nuls_is_still_binary():
    """NULs on both byte positions are not UTF-16: still refused as binary data."""
    with pytest.raises(ParseError, match=r"binary data \(byte 0x00\)"):
        parse_bytes(b"\x01\x00\x00\x02\x03\x00\x00\x04" * 64, "data.bin")


def test_a_file_over_the_size_limit_is_refused_in_one_line():
    raw = ("第一条 " + "文" * 100 + "。\n").encode() * (MAX_TEXT_BYTES // 300 + 1)
    assert len(raw) > MAX_TEXT_BYTES
    with pytest.raises(ParseError) as info:
        parse_bytes(raw, "huge.txt")
    assert str(info.value) == (
        f"huge.txt:1: {len(raw):,} bytes, over the limit of 8,388,608 for a text or HTML file: "
        "a law or notice is far smaller; split the file into one file per document"
    )


# -- a corpus of downloaded formats builds: problems recorded, byte offsets left empty -----------


def test_corpus_of_formats_builds_and_publishes(tmp_path):
    from kb.publish import build

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = ["dalian-notice.docx", "unemployment-insurance-regulations.pdf"]  # one copy each: copies would be versions
    for name in files:
        (corpus / name).write_bytes((DATA / name).read_bytes())
    (corpus / "scan.pdf").write_bytes(_pdf_without_text(1))
    (corpus / "old.doc").write_bytes(_OLE)
    parse = parse_corpus(corpus, workers=1)
    assert sorted(str(p) for p in parse.problems if p.severity == "error") == [
        f"old.doc:1: error: a Word 97-2003 .doc file (a binary compound document): only .docx, .pdf with a text layer, HTML and text are read; {_SOFFICE}",
        f"scan.pdf: error: page 1: a PDF without a text layer (1 page of pictures, a scan): {_OCR}",
    ]
    db = tmp_path / "kb.db"
    build(corpus, db)
    conn = sqlite3.connect(db)
    rows = conn.execute("select source_path, count(*), count(byte_start), min(start) >= 0 from clauses group by source_path order by source_path").fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [(name, 0, 1) for name in files]
    assert all(r[1] > 10 for r in rows)
    problems = conn.execute("select path from problems order by path").fetchall()
    assert ("old.doc",) in problems and ("scan.pdf",) in problems
