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
from datetime import date
from typing import Any

import lxml.html
from lxml import etree

from ..errors import ParseError
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

_HTML_DOCUMENT = re.compile(
    r"""
    ^\s*(?:<\?xml[^>]*\?>\s*)?             # an XHTML page's XML declaration
    (?:<!--.*?-->\s*)*                       # comments a portal's template puts first
    (?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])   # the page itself
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
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

# A portal's page tools: a line made of nothing else is not the document's text. Only read in
# a whole HTML page, and only in lines of a few words (the + over alternatives stays cheap).
_PAGE_TOOLS = re.compile(
    r"""
    ^(?:
        \s | [|｜/·•:：]                                        # separators between the tools
      | 分享到 | 分享 | 微信(?:朋友圈|好友)? | 朋友圈 | (?:新浪|腾讯)?微博
      | QQ(?:空间|好友)? | QQ | 空间 | 豆瓣 | 人人网 | 今日头条         # share bar: 分享到：微信 微博
      | 【 | 】 | \[ | \]                                        # the brackets round a tool
      | 打印(?:本页|此页|文章)? | 关闭(?:窗口|本页)? | 收藏(?:本页)? | 纠错 | 返回顶部 | 保存
      | 字体 | 字号 | 大 | 中 | 小 | 默认                          # 【字体：大 中 小】
      | 扫一扫 | 在手机(?:上)?打开(?:当前页)? | 二维码 | 手机(?:版|扫码) # 扫一扫在手机打开当前页
    )+$
    """,
    re.VERBOSE,
)
# The heading of a list of other pages; it and what follows it in its box are not the document.
_RELATED_HEADING = re.compile(
    r"""
    ^\s*【?
    (?:相关链接|相关文件|相关阅读|相关新闻|相关稿件|相关政策|延伸阅读|猜你喜欢|热点推荐)  # the box's heading
    】?\s*[:：]?\s*$
    """,
    re.VERBOSE,
)
# The page's line about the article: "1999-01-22 00:00 来源：中国政府网", "发布时间：… 浏览次数：…"
_PAGE_INFO = re.compile(
    r"""
    (?:发布日期|发布时间|发文日期|信息来源|来源|浏览次数|阅读次数|点击数|访问量|责任编辑|作者)
    \s*[:：]                                                  # a field of the page's info bar
    """,
    re.VERBOSE,
)
# A publication date the page prints: 发布日期：2021-07-29, 发布时间：2021年7月29日
_PRINTED_DATE = re.compile(
    r"""
    (?:发布日期|发布时间)\s*[:：]\s*
    (?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})  # the date
    """,
    re.VERBOSE,
)
# <meta name=...> that carry the publication date on Chinese government portals.
_DATE_METAS = ("pubdate", "firstpublishedtime", "publishdate", "publishtime", "article:published_time", "dc.date", "dc.date.created")
_ISO_DATE = re.compile(
    r"""
    ^\s*(?P<year>\d{4})\s*[-/.年]?\s*(?P<month>\d{1,2})\s*[-/.月]?\s*(?P<day>\d{1,2})  # 2021-07-29, 20210729, 2021年7月29日
    """,
    re.VERBOSE,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")  # <?xml version="1.0" encoding="utf-8"?>
# libxml2 stops at this depth even with huge_tree (and at 256 without it).
_HTML_MAX_DEPTH = 2048


def _html_tree(text: str):
    """The page's tree and the parser's error log. huge_tree: without it libxml2 quietly cuts a
    page nested 256 levels deep."""
    parser = lxml.html.HTMLParser(huge_tree=True)
    # lxml refuses a str that declares its encoding: blank the declaration, same length, same lines
    text = _XML_DECLARATION.sub(lambda m: " " * len(m.group()), text, count=1)
    root = lxml.html.document_fromstring(text, parser=parser)
    return root, parser.error_log


def html_page_meta(text: str, path: str) -> dict | None:
    """What a whole HTML page says about itself (format, title, h1, published), or None for a
    text that is not a page. A page lxml can only read cut short is a ParseError: a cut page
    would be published as if it were whole."""
    if not _HTML_DOCUMENT.match(text[:2000]):
        return None
    try:
        root, errors = _html_tree(text)
    except (etree.ParserError, ValueError) as e:
        raise ParseError(path, f"an HTML page lxml cannot read ({e}): re-save it from a browser, or copy its text into a .txt file", line=1) from e
    for error in errors:
        if error.type_name == "ERR_RESOURCE_LIMIT" or "Excessive depth" in error.message:
            raise ParseError(
                path,
                f"HTML nested more than {_HTML_MAX_DEPTH:,} elements deep: it cannot be read whole, and a page read "
                "in part is never published as complete; re-save the page from a browser, or copy its text into a .txt file",
                line=error.line,
                column=error.column,
            )
    meta: dict = {"format": "html"}
    title = root.find(".//title")
    if title is not None and " ".join(title.text_content().split()):
        meta["title"] = " ".join(title.text_content().split())
    h1 = next(root.iter("h1"), None)
    if h1 is not None and " ".join(h1.text_content().split()):
        meta["h1"] = " ".join(h1.text_content().split())
    published = None
    for element in root.iter("meta"):
        name = (element.get("name") or element.get("property") or "").strip().lower()
        if name in _DATE_METAS:
            published = _iso(_ISO_DATE.match(element.get("content") or ""))
            if published:
                break
    if published is None:
        published = _iso(_PRINTED_DATE.search(root.find("body").text_content() if root.find("body") is not None else ""))
    if published:
        meta["published"] = published
    return meta


def _iso(match: re.Match | None) -> str | None:
    if match is None:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"])).isoformat()
    except ValueError:  # 2021-13-45 is not a date
        return None


def _drop_related_boxes(body, discarded: list[Discarded], line_starts: list[int]) -> None:
    """Drop each 相关链接 box: its heading and what follows the heading in its box, climbing out
    of wrappers that hold the heading alone."""
    headings = [el for el in body.iter() if isinstance(el.tag, str) and el.text and _RELATED_HEADING.match(el.text) and not len(el)]
    for heading in headings:
        start = heading
        while start.getparent() is not None and start.getparent() is not body and start.getnext() is None:
            start = start.getparent()
        parent = start.getparent()
        if parent is None:
            continue
        doomed = [start]
        sibling = start.getnext()
        while sibling is not None:
            doomed.append(sibling)
            sibling = sibling.getnext()
        words = " ".join(" ".join(el.text_content().split()) for el in doomed if isinstance(el.tag, str))
        at = _source_offset(start, line_starts)
        discarded.append(Discarded(at, at, "related-links", words[:500]))
        for el in doomed:
            el.drop_tree()


def _source_offset(element, line_starts: list[int]) -> int:
    """Offset of the start of the element's line in the page (lxml gives lines, not offsets)."""
    line = getattr(element, "sourceline", None) or 1
    return line_starts[min(line, len(line_starts)) - 1]


def _layout_row(tr) -> bool:
    """A row of a table that lays out the page, not one of the document's tables: it has one
    cell with text (the page's content column), or a cell holding a table of its own. Its
    cells are read as the page's own blocks, so their paragraphs stay lines."""
    cells = [td for td in tr if td.tag in ("td", "th")]
    with_text = [td for td in cells if td.text_content().strip()]
    return len(with_text) <= 1 or any(td.find(".//table") is not None for td in cells)


def _split_html_document(text: str) -> LineSplit:
    """A whole HTML page: block elements become lines, table rows become cells.

    Each text chunk is located in the raw page from a moving cursor so offsets point at
    the source; a chunk that cannot be found verbatim (entities) gets the cursor position.
    The tree is walked with a stack, not recursion: a page may nest 2,000 levels.
    """
    root, _ = _html_tree(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    discarded: list[Discarded] = []
    for bad in list(root.iter(*_DROP_TAGS)):
        content = bad.text_content().strip()
        if content:
            at = _source_offset(bad, line_starts)
            discarded.append(Discarded(at, at, f"html-{bad.tag}", content[:500]))
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
    _drop_related_boxes(body, discarded, line_starts)
    current: list[str] = []

    def flush():
        joined = "".join(current).strip()
        current.clear()
        for piece in joined.split("\n"):
            piece = piece.strip()
            if piece:
                chunks.append([(piece, *locate(piece))])

    def row_of(tr) -> None:
        flush()
        row = []
        for td in tr:
            if td.tag in ("td", "th"):
                content = " ".join(td.text_content().split())
                row.append((content, *locate(content)) if content else ("", cursor, cursor))
        if any(c[0] for c in row):
            chunks.append(row)

    # (what to do, element): "enter" reads its text and children, "exit" ends a block,
    # "tail" reads the text after an element, inside its parent.
    stack: list[tuple[str, Any]] = [("enter", body)]
    while stack:
        action, el = stack.pop()
        if action == "tail":
            if el.tail:
                current.append(el.tail)
        elif action == "exit":
            flush()
        elif el.tag == "tr" and not _layout_row(el):
            row_of(el)
        else:
            block = el.tag in _BLOCK_TAGS
            if block:
                flush()
                stack.append(("exit", el))
            if el.text:
                current.append(el.text)
            for child in reversed(el):
                stack.append(("tail", child))
                if isinstance(child.tag, str):
                    stack.append(("enter", child))
    flush()
    lines = []
    for row in chunks:
        if len(row) == 1:
            t, s, e = row[0]
            line = Line(t, s, e, text.count("\n", 0, s) + 1)
        else:
            cells = [Cell(t, s, e) for t, s, e in row]
            line = Line("\t".join(c.text for c in cells), row[0][1], row[-1][2], text.count("\n", 0, row[0][1]) + 1, cells=cells)
        line.spans = [(line.start, line.end)]
        lines.append(line)
    # Apply the same line-level boilerplate rules as for plain text, and a page's own.
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
        elif len(line.text) <= 80 and _PAGE_TOOLS.match(line.text):
            discarded.append(Discarded(line.start, line.end, "page-tools", line.text))
        elif len(line.text) <= 80 and _PAGE_INFO.search(line.text) and not line.cells and "。" not in line.text:
            discarded.append(Discarded(line.start, line.end, "page-info", line.text))
        else:
            kept.append(line)
    return LineSplit(kept, discarded, preview, preview_line)


def html_visible_text(raw: str) -> str:
    """Visible text of a source span that may hold HTML tags (used to check offsets)."""
    if "<" in raw and ">" in raw:
        return _html_text(raw)
    return raw
