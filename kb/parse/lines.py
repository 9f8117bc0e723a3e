"""Decoded text -> logical lines with exact offsets, and the spans that are not notice text.

A ``Line`` is what the notice grammar reads: its ``text`` is a verbatim substring of the
source (``source.text[start:end] == text``) with surrounding whitespace and markdown
markers removed. Tab-separated and HTML table rows become ``cells``; HTML fragments are
read with lxml, never with regexes, and each cell's text is located in the raw source so
that its offsets stay exact.

Boilerplate (portal headers and footers, markdown rules, preview links, page numbers) is
not silently dropped: it is returned as ``Discarded`` spans with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from ..model import Discarded


@dataclass
class Cell:
    text: str  # text content, verbatim from the source where it could be located
    start: int
    end: int


@dataclass
class Line:
    text: str
    start: int
    end: int
    number: int  # 1-based line number in the source
    cells: list[Cell] | None = None  # a table row
    blank_before: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)


_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")  # "# 大连市人力资源和社会保障局 … 文件"
_MARKDOWN_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")  # "---"
_MARKDOWN_COMMENT = re.compile(r"^<!")  # LawRefBook's "<!-- INFO END -->", also damaged ("<! -- INFO END -->"); never text

_FOOTER = re.compile(
    r"""
    版权所有 | 主办单位[:：] | 承办单位[:：] | ICP备 | 公网安备 | 网站标识码
    | 联系邮箱[:：] | 邮编[:：]                               # portal footer lines
    """,
    re.X,
)
_BOILERPLATE = re.compile(
    r"""
    ^(?:
        【附件下载】 | 【打印(?:本页)?】 | 【关闭(?:窗口)?】 | 打印本页 | 关闭窗口
      | 微信公众号 | 政务微博 | 分享到[:：]? | 扫一扫.* | 返回顶部
      | 当前位置[:：].* | 字号[:：].* | 【字体[:：].*
      | 地址[:：].*邮编.* | 地址[:：][^。]{0,40}
    )$
    """,
    re.X,
)
_PREVIEW_END = re.compile(r"预览已结束|试读已结束|试读结束|完整报告链接|下载完整(?:版|报告)|点击(?:查看|阅读)全文")
_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$")  # a bare link line
_PAGE_NUMBER = re.compile(r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[，,]?\s*共\s*\d{1,3}\s*页)?|\d{1,3})$")

_HTML_DOCUMENT = re.compile(r"^\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.I)
# An HTML tag anywhere in a line: a <p> can open mid-line or close on a later line.
_HTML_TAG = re.compile(
    r"""
    </?(?:p|div|span|td|th|tr|table|br|font|strong|b)   # a block or inline tag, opening or closing
    (?:[\s/][^<>]*)?>                                    # its attributes, if any
    """,
    re.I | re.X,
)


@dataclass
class LineSplit:
    lines: list[Line]
    discarded: list[Discarded]
    preview_cut: str | None = None  # the words of a preview cut-off, if the text has one
    preview_cut_line: int | None = None


def _strip_span(raw: str, start: int) -> tuple[str, int, int]:
    """Strip whitespace, return (text, start, end) with offsets into the source."""
    left = len(raw) - len(raw.lstrip())
    text = raw.strip()
    return text, start + left, start + left + len(text)


def _html_text(fragment: str) -> str:
    """Visible text of an HTML fragment, through lxml."""
    try:
        node = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    for br in node.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return node.text_content()


def _cell(raw: str, start: int) -> Cell:
    """One table cell; an HTML cell is read with lxml and located in the raw text."""
    text, s, e = _strip_span(raw, start)
    if "<" in text and ">" in text:
        content = _html_text(text).strip()
        at = text.find(content) if content else -1
        if at >= 0:
            return Cell(content, s + at, s + at + len(content))
        return Cell(content, s, e)
    return Cell(text, s, e)


def split_lines(text: str) -> LineSplit:
    """Split a decoded source into logical lines (plain text, or HTML through lxml)."""
    if _HTML_DOCUMENT.match(text[:2000]):
        return _split_html_document(text)
    lines: list[Line] = []
    discarded: list[Discarded] = []
    preview_cut = None
    preview_line = None
    footer_from: int | None = None
    offset = 0
    blank = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        start = offset
        offset += len(raw)
        body = raw.rstrip("\r\n")
        if footer_from is not None or preview_cut is not None:
            continue
        stripped, s, e = _strip_span(body, start)
        if not stripped:
            blank += 1
            continue
        if _PREVIEW_END.search(stripped):
            preview_cut, preview_line = stripped, number
            discarded.append(Discarded(s, len(text), "preview-cut-off", text[s:]))
            continue
        if _FOOTER.search(stripped):
            footer_from = s
            discarded.append(Discarded(s, len(text), "portal-footer", text[s:]))
            continue
        reason = None
        if _MARKDOWN_RULE.match(stripped) or _MARKDOWN_COMMENT.match(stripped):
            reason = "markdown"
        elif _BOILERPLATE.match(stripped):
            reason = "boilerplate"
        elif _URL_LINE.match(stripped):
            reason = "link"
        elif _PAGE_NUMBER.match(stripped):
            reason = "page-number"
        if reason:
            discarded.append(Discarded(s, e, reason, stripped))
            continue
        md = _MARKDOWN_HEADING.match(stripped)
        if md:
            discarded.append(Discarded(s, s + md.end(), "markdown", stripped[: md.end()]))
            stripped, s = stripped[md.end() :], s + md.end()
        cells = None
        if "\t" in body or _HTML_TAG.search(stripped):
            cells = _cells(body, start)
            if cells is not None and len([c for c in cells if c.text]) < 2:
                # a single HTML paragraph is a line of text, not a table row
                only = next((c for c in cells if c.text), None)
                cells = None
                if only is None:
                    # markup and nothing to read: a "<p>" or "</p>" a page break left on its own line
                    discarded.append(Discarded(s, e, "html-markup", stripped))
                    continue
                if only.text != stripped:
                    discarded.append(Discarded(s, e, "html-markup", stripped))
                    stripped, s, e = only.text, only.start, only.end
        line = Line(stripped, s, e, number, cells=cells, blank_before=blank)
        line.spans = [(s, e)]
        lines.append(line)
        blank = 0
    return LineSplit(lines, discarded, preview_cut, preview_line)


def _cells(body: str, start: int) -> list[Cell] | None:
    parts = body.split("\t")
    if len(parts) == 1:
        return [_cell(body, start)]
    cells = []
    pos = start
    for part in parts:
        cells.append(_cell(part, pos))
        pos += len(part) + 1
    return cells


_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "br", "section", "article", "title"}
_DROP_TAGS = {"script", "style", "nav", "header", "footer", "noscript", "iframe", "form", "button", "select"}


def _split_html_document(text: str) -> LineSplit:
    """A whole HTML page: block elements become lines, table rows become cells.

    Each text chunk is located in the raw page from a moving cursor so offsets point at
    the source; a chunk that cannot be found verbatim (entities) gets the cursor position.
    """
    root = lxml.html.document_fromstring(text)
    discarded: list[Discarded] = []
    for bad in list(root.iter(*_DROP_TAGS)):
        content = bad.text_content().strip()
        if content:
            discarded.append(Discarded(0, 0, f"html-{bad.tag}", content[:500]))
        bad.drop_tree()
    cursor = 0
    chunks: list[list[tuple[str, int, int]]] = []  # rows of cells of (text, start, end)

    def locate(chunk: str) -> tuple[int, int]:
        nonlocal cursor
        at = text.find(chunk, cursor)
        if at < 0:
            return cursor, cursor
        cursor = at + len(chunk)
        return at, at + len(chunk)

    body = root.find("body") if root.find("body") is not None else root
    for tr in body.iter("tr"):
        tr.set("data-kb-row", "1")
    current: list[str] = []

    def flush():
        joined = "".join(current).strip()
        current.clear()
        for piece in joined.split("\n"):
            piece = piece.strip()
            if piece:
                chunks.append([(piece, *locate(piece))])

    def walk(el):
        if el.tag == "tr":
            flush()
            row = []
            for td in el:
                if td.tag in ("td", "th"):
                    content = " ".join(td.text_content().split())
                    row.append((content, *locate(content)) if content else ("", cursor, cursor))
            if any(c[0] for c in row):
                chunks.append(row)
            return
        if el.tag in _BLOCK_TAGS:
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                current.append(child.tail)
        if el.tag in _BLOCK_TAGS:
            flush()

    walk(body)
    flush()
    lines = []
    for number, row in enumerate(chunks, start=1):
        if len(row) == 1:
            t, s, e = row[0]
            line = Line(t, s, e, text.count("\n", 0, s) + 1)
        else:
            cells = [Cell(t, s, e) for t, s, e in row]
            line = Line("\t".join(c.text for c in cells), row[0][1], row[-1][2], text.count("\n", 0, row[0][1]) + 1, cells=cells)
        line.spans = [(line.start, line.end)]
        lines.append(line)
    # Apply the same line-level boilerplate rules as for plain text.
    kept: list[Line] = []
    preview = None
    preview_line = None
    for line in lines:
        if preview is not None:
            discarded.append(Discarded(line.start, line.end, "preview-cut-off", line.text))
            continue
        if _PREVIEW_END.search(line.text):
            preview, preview_line = line.text, line.number
            discarded.append(Discarded(line.start, line.end, "preview-cut-off", line.text))
        elif _FOOTER.search(line.text) or _BOILERPLATE.match(line.text) or _URL_LINE.match(line.text):
            discarded.append(Discarded(line.start, line.end, "boilerplate", line.text))
        else:
            kept.append(line)
    return LineSplit(kept, discarded, preview, preview_line)


def html_visible_text(raw: str) -> str:
    """Visible text of a source span that may hold HTML tags (used to check offsets)."""
    if "<" in raw and ">" in raw:
        return _html_text(raw)
    return raw
