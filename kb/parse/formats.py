"""The files researchers download that are not text: .docx and .pdf read into text.

``sniff(raw, path)`` names a file's format from its first bytes (never from its name, which
lies as often as not on a government portal); ``read_docx`` and ``read_pdf`` give the text a
reader sees, what the file says about itself (``meta``) and what was dropped (``Discarded``).
Every later stage reads that text exactly as it reads a .txt file: offsets are exact into
it, and the file's sha256 stays the hash of the original bytes (kb.parse.decode).

- .docx (python-docx): body paragraphs and tables in document order; a table row is one line
  of tab-separated cells (what the table reader already understands); automatic numbering
  (``w:numPr``: 一、 （一） 1.) is written out, because in the file it is not text at all.
  Page headers and footers are not body text: recorded as discards.
- .pdf with a text layer (pdfminer.six through pdfplumber, both MIT): lines in reading
  order, page headers, footers and page numbers recorded as discards, lines broken by the
  layout joined into their paragraph (told apart by first-line indents, else by paragraph
  spacing, else by a sentence's end), the spaces pdfminer infers between a Chinese character
  and a digit dropped. Ruled tables (pdfplumber's table finder) are tab-separated rows, a row
  a page break cut in two joined again. ``Source.page_starts`` keeps where each page begins,
  so an offset has a page.

What this deliberately does not do: OCR (a PDF without a text layer, an image), the legacy
binary formats (.doc, .wps), OFD. Each is a ParseError that names the format and says how
to convert the file. Multi-column PDF layouts are read column-blind, top to bottom; a table
without rules is read as lines whose cells are set far apart (tab-separated when the gap is
over two characters).
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import PurePath

from ..errors import ParseError
from ..model import Discarded

__all__ = ["Extracted", "read_docx", "read_pdf", "sniff"]

# Extracted text above this many characters is refused (see kb.parse.decode.MAX_TEXT_BYTES).
MAX_EXTRACTED_CHARS = 4 * 1024 * 1024

_CONVERT_TO_DOCX = "convert it with `soffice --headless --convert-to docx FILE` (LibreOffice) and add the .docx"
_OCR = "run OCR first (`ocrmypdf -l chi_sim FILE out.pdf`) or add the text as a .txt file"


@dataclass
class Extracted:
    """What a binary format gives: the text a reader sees, and what was left out of it."""

    text: str
    meta: dict
    discarded: list[Discarded] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Which format.

_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-document header of .doc, .wps, .xls, .et


def sniff(raw: bytes, path: str) -> str:
    """"docx", "pdf" or "text" (text and HTML: kb.parse.decode reads them); anything else a
    ParseError naming the format and how to convert it."""
    suffix = PurePath(path).suffix.lower()
    if raw.startswith(b"%PDF-") or (raw[:1024].find(b"%PDF-") >= 0 and suffix == ".pdf"):
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        return _sniff_zip(raw, path)
    if raw.startswith(_OLE):
        if suffix == ".wps":
            name = "a WPS Office .wps file (a binary compound document)"
        elif suffix in (".xls", ".et"):
            name = f"a {suffix} spreadsheet (a binary compound document)"
        else:
            name = "a Word 97-2003 .doc file (a binary compound document)"
        raise ParseError(path, f"{name}: only .docx, .pdf with a text layer, HTML and text are read; {_CONVERT_TO_DOCX}", line=1)
    if raw.startswith(b"{\\rtf"):
        raise ParseError(path, f"an RTF file: only .docx, .pdf with a text layer, HTML and text are read; {_CONVERT_TO_DOCX}", line=1)
    for magic, name in _IMAGES:
        if raw.startswith(magic):
            raise ParseError(path, f"{name}: a picture of a page has no text to read; {_OCR}", line=1)
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        raise ParseError(path, f"a WebP image: a picture of a page has no text to read; {_OCR}", line=1)
    return "text"


def _sniff_zip(raw: bytes, path: str) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(raw)).namelist())
    except Exception as e:  # BadZipFile, or a damaged name that is not UTF-8, or a short read
        raise ParseError(path, f"a damaged ZIP package (.docx, .ofd, .odt are ZIP files): {type(e).__name__}: {e}", line=1) from e
    if "word/document.xml" in names:
        return "docx"
    if "OFD.xml" in names:
        raise ParseError(
            path,
            "an OFD file (GB/T 33190 fixed-layout document): not read; open it in an OFD reader "
            "(数科OFD阅读器, 福昕OFD版式办公套件) and save it as a PDF with a text layer, or add its text as a .txt file",
            line=1,
        )
    if "content.xml" in names:
        return_name = "an OpenDocument file (.odt)"
    elif "xl/workbook.xml" in names:
        return_name = "an Excel .xlsx workbook"
    else:
        return_name = "a ZIP archive"
    raise ParseError(path, f"{return_name}: only .docx, .pdf with a text layer, HTML and text are read; {_CONVERT_TO_DOCX}", line=1)


def _checked(text: str, path: str, fmt: str) -> str:
    if len(text) > MAX_EXTRACTED_CHARS:
        raise ParseError(
            path,
            f"the {fmt}'s text is {len(text):,} characters, over the limit of {MAX_EXTRACTED_CHARS:,}: "
            "split the file into one file per document",
            line=1,
        )
    return text


# ---------------------------------------------------------------------------------------------
# .docx


def read_docx(raw: bytes, path: str) -> Extracted:
    """Body paragraphs and table rows of a .docx, in order, one line each."""
    import docx  # imported here: a corpus of text files never pays for it
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    try:
        document = docx.Document(io.BytesIO(raw))
        numbering = _Numbering(document)
        for block in _blocks(document.element.body):
            if block.tag == _w("tbl"):
                lines.extend(_docx_rows(Table(block, document._body)))
            else:
                lines.append(numbering.label(Paragraph(block, document._body)) + _paragraph_text(block))
    except PackageNotFoundError as e:
        raise ParseError(path, f"a damaged .docx package: {e}; open and re-save it, or {_CONVERT_TO_DOCX}", line=1) from e
    except Exception as e:  # a damaged part: zlib, XML or encoding errors from deep in the package
        raise ParseError(path, f"a damaged .docx package ({type(e).__name__}: {e}): open and re-save it, or {_CONVERT_TO_DOCX}", line=1) from e
    text = _checked("\n".join(lines) + "\n", path, ".docx")
    discarded = []
    for section in document.sections:
        for part, reason in ((section.header, "page-header"), (section.footer, "page-footer")):
            if part.is_linked_to_previous and section is not document.sections[0]:
                continue
            furniture = " ".join(p.text.strip() for p in part.paragraphs if p.text.strip())
            if furniture:
                discarded.append(Discarded(0, 0, reason, furniture))
    meta: dict = {"format": "docx"}
    title = (document.core_properties.title or "").strip()
    if _CJK.search(title):  # not an editor's default ("Word Document", "Microsoft Word - 1.doc")
        meta["title"] = title
    return Extracted(text, meta, discarded)


def _docx_rows(table) -> list[str]:
    """Each row as tab-separated cells; a merged cell once; a cell's paragraphs joined."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: list = []  # the cells' elements themselves: lxml keeps one proxy per element alive
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):  # a cell spanning columns comes back once per column
                continue
            seen.append(cell._tc)
            texts = (_paragraph_text(p) for p in cell._tc.iter(_w("p")))
            cells.append(" ".join(t.strip() for t in texts if t.strip()).replace("\t", " "))
        if any(cells):
            rows.append("\t".join(cells))
    return rows


_CONTAINERS = {"sdt", "sdtContent", "customXml", "ins", "smartTag", "hyperlink", "fldSimple", "r", "moveTo", "dir", "bdo"}
_SKIPPED = {"del", "moveFrom", "pPr", "rPr", "sdtPr", "sdtEndPr", "instrText", "delText", "footnoteReference", "commentReference"}


def _blocks(body):
    """The body's paragraphs and tables in order, also those inside content controls
    (w:sdt) and tracked insertions, which python-docx's own iteration passes over."""
    stack = list(reversed(body))
    while stack:
        element = stack.pop()
        tag = _local_name(element)
        if tag in ("p", "tbl"):
            yield element
        elif tag in _CONTAINERS:
            stack.extend(reversed(element))


def _paragraph_text(paragraph) -> str:
    """A paragraph's text as Word shows it: runs, also inside hyperlinks, content controls,
    simple fields and tracked insertions; not tracked deletions or field codes."""
    out: list[str] = []
    stack = list(reversed(paragraph))
    while stack:
        element = stack.pop()
        tag = _local_name(element)
        if tag == "t":
            out.append(element.text or "")
        elif tag == "tab":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append("\n")
        elif tag == "noBreakHyphen":
            out.append("-")
        elif tag in _CONTAINERS or (tag not in _SKIPPED and tag != "p" and len(element)):
            stack.extend(reversed(element))
    return "".join(out)


def _local_name(element) -> str:
    """The tag of a WordprocessingML element without its namespace ("p", "tbl", "t")."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


# Word's numbering formats (w:numFmt) that a Chinese official document uses.
def _chinese(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese,
    "chineseLegalSimplified": lambda n: _chinese(n),
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "lowerLetter": lambda n: chr(ord("a") + (n - 1) % 26),
    "upperLetter": lambda n: chr(ord("A") + (n - 1) % 26),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}
_LEVEL_PLACEHOLDER = re.compile(r"%([1-9])")  # "%1、", "（%2）", "%1.%2": level N's number


class _Numbering:
    """Writes out Word's automatic numbering, counting as Word does: per list (w:numId), a
    level's counter restarts when a shallower level moves on. Bullets are left out: they
    number nothing."""

    def __init__(self, document) -> None:
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (format, text, start)
        self._counters: dict[str, dict[int, int]] = {}
        self._styles = document.styles
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for a in root.findall(_w("abstractNum")):
            levels = {}
            for lvl in a.findall(_w("lvl")):
                levels[int(lvl.get(_w("ilvl")))] = (_val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "", int(_val(lvl, "start") or 1))
            abstract[a.get(_w("abstractNumId"))] = levels
        for num in root.findall(_w("num")):
            ref = num.find(_w("abstractNumId"))
            if ref is not None:
                self._levels[num.get(_w("numId"))] = abstract.get(ref.get(_w("val")), {})

    def _num_pr(self, paragraph) -> tuple[str, int] | None:
        p_pr = paragraph._p.pPr
        num_pr = p_pr.find(_w("numPr")) if p_pr is not None else None
        style = paragraph.style
        while num_pr is None and style is not None:  # numbering a heading style carries
            s_pr = style.element.pPr
            num_pr = s_pr.find(_w("numPr")) if s_pr is not None else None
            style = style.base_style
        if num_pr is None:
            return None
        num_id = _val(num_pr, "numId")
        if num_id is None or num_id == "0":  # numId 0: numbering switched off
            return None
        return num_id, int(_val(num_pr, "ilvl") or 0)

    def label(self, paragraph) -> str:
        found = self._num_pr(paragraph)
        if found is None or found[0] not in self._levels:
            return ""
        num_id, ilvl = found
        levels = self._levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        fmt, text, _ = levels[ilvl]
        if fmt in ("bullet", "none"):
            return ""

        def number(m: re.Match) -> str:
            level = int(m.group(1)) - 1
            level_fmt, _, start = levels.get(level, ("decimal", "", 1))
            value = counters.get(level, start)
            return _FORMATS.get(level_fmt, str)(value)

        return _LEVEL_PLACEHOLDER.sub(number, text)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _w(tag: str) -> str:
    return _W + tag


def _val(element, child: str) -> str | None:
    found = element.find(_w(child))
    return None if found is None else found.get(_w("val"))


# ---------------------------------------------------------------------------------------------
# .pdf


@dataclass
class _Row:
    """One printed line of a page: pdfminer's text lines at one height, left to right."""

    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the height of the line: the size of its type
    text: str
    cells: bool = False  # pieces far apart on one line: a table row, tab-separated


# A sentence ends here: 。！？；： optionally followed by closing quotes or brackets.
_SENTENCE_END = re.compile(
    r"""
    [。！？；：!?;:]        # the stop itself
    [”’」』）)】]*$        # closing quotes and brackets after it
    """,
    re.VERBOSE,
)
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")  # Han, CJK and full-width punctuation


def read_pdf(raw: bytes, path: str) -> Extracted:
    """The text layer of a PDF, as paragraphs; page furniture recorded as discards; ruled
    tables (pdfplumber's table finder) as tab-separated rows."""
    import pdfplumber  # imported here: a corpus of text files never pays for it
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if logging.getLogger("pdfminer").level == logging.NOTSET:
        # pdfminer logs every font it cannot fully read; a damaged file is one ParseError instead
        logging.getLogger("pdfminer").setLevel(logging.ERROR)
    pages: list[list[_Row]] = []
    try:
        with pdfplumber.open(io.BytesIO(raw), laparams={}) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                tables = _page_tables(page, number)
                pages.append(_page_rows(page.layout, number, tables))
                page.close()  # pdfplumber keeps each page's objects until closed
    except Exception as e:  # pdfminer meets a damaged file with many kinds of error (zlib, struct, PSEOF, ...)
        cause = e.args[0] if e.args and isinstance(e.args[0], Exception) else e  # pdfplumber wraps pdfminer's
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise ParseError(path, f"page {len(pages) + 1}: the PDF is encrypted and cannot be read without its password; save an unprotected copy") from e
        raise ParseError(
            path,
            f"page {len(pages) + 1}: a damaged PDF ({type(cause).__name__}: {cause}): export it again from the program that made it, "
            "or add the text as a .txt file",
        ) from e
    if not pages:
        raise ParseError(path, "page 1: a PDF with no pages")
    if not any(row.text.strip() for rows in pages for row in rows):
        raise ParseError(path, f"page 1: a PDF without a text layer ({len(pages)} page{'s' if len(pages) > 1 else ''} of pictures, a scan): {_OCR}")
    _refuse_unmapped_fonts(pages, path)
    furniture = _furniture(pages)
    _join_rows_split_by_pages(pages, furniture)
    return _assemble(pages, furniture, path)


@dataclass
class _Tables:
    """A page's ruled tables: their rows, and the boxes whose text they already hold."""

    rows: list[_Row]
    boxes: list[tuple[float, float, float, float]]  # x0, y0, x1, y1 in pdfminer's coordinates (y up)

    def holds(self, item) -> bool:
        x, y = (item.x0 + item.x1) / 2, (item.y0 + item.y1) / 2
        return any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in self.boxes)


def _page_tables(page, number: int) -> _Tables:
    """The tables pdfplumber finds by their rules, one row each: cells tab-separated, a cell's
    lines joined, a cell spanning columns once (as a .docx row gives it)."""
    height = page.height
    rows, boxes = [], []
    for table in page.find_tables():
        x0, top, x1, bottom = table.bbox
        boxes.append((x0, height - bottom, x1, height - top))  # pdfplumber measures from the top
        for row, values in zip(table.rows, table.extract()):
            cells = [_cell_text(v) for v in values if v is not None]
            if any(cells):
                r_x0, r_top, r_x1, r_bottom = row.bbox
                rows.append(_Row(number, r_x0, r_x1, height - r_top, height - r_bottom, r_bottom - r_top, "\t".join(cells), cells=True))
    return _Tables(rows, boxes)


def _cell_text(value: str) -> str:
    """A cell's lines as one: joined with nothing in Chinese, with a space between Latin words."""
    lines = [line.strip() for line in value.split("\n") if line.strip()]
    out = lines[0] if lines else ""
    for line in lines[1:]:
        latin = out[-1:].isascii() and out[-1:].isalnum() and line[:1].isascii() and line[:1].isalnum()
        out += (" " if latin else "") + line
    return out.replace("\t", " ")


def _join_rows_split_by_pages(pages: list[list[_Row]], furniture: dict[int, str]) -> None:
    """A table row the page break cut in two: the next page's first row, with as many cells,
    goes on the last row of the page before when its first cell is empty, or goes on text
    where the row before began with a number (序号 1, （十二）) and it does not."""
    for before, after in pairwise(pages):
        tail = [r for r in before if id(r) not in furniture]
        head = [r for r in after if id(r) not in furniture]
        if not (tail and head and tail[-1].cells and head[0].cells):
            continue
        upper, lower = tail[-1].text.split("\t"), head[0].text.split("\t")
        numbered = _ROW_NUMBER.match(upper[0]) and not _ROW_NUMBER.match(lower[0])
        if len(upper) == len(lower) and (not lower[0] or numbered):
            tail[-1].text = "\t".join(_cell_text(a + "\n" + b) for a, b in zip(upper, lower))
            after.remove(head[0])


# The number a table row begins with: 1, 1., (一), （十二）, 一、
_ROW_NUMBER = re.compile(
    r"""
    ^\s*[（(]?                    # an opening bracket, if any
    (?:\d{1,3}|[一二三四五六七八九十百]{1,4})   # the number
    (?:[）)、.．]|\s|$)             # what ends it
    """,
    re.VERBOSE,
)


def _page_rows(page, number: int, tables: _Tables) -> list[_Row]:
    """pdfminer's text lines of one page, merged into printed lines, and the page's table
    rows, top to bottom."""
    from pdfminer.layout import LTTextLine

    pieces = []
    stack = [page]
    while stack:  # not recursive: a PDF may nest figures deep
        item = stack.pop()
        if isinstance(item, LTTextLine):
            text = _line_text(item)
            if text.strip() and not tables.holds(item):
                pieces.append((item, text))
        elif hasattr(item, "__iter__"):
            stack.extend(item)
    pieces.sort(key=lambda p: (-p[0].y1, p[0].x0))
    lines: list[list] = []  # the pieces of each printed line
    for piece in pieces:
        item = piece[0]
        middle = (item.y0 + item.y1) / 2
        if lines and min(p[0].y0 for p in lines[-1]) <= middle <= max(p[0].y1 for p in lines[-1]):
            lines[-1].append(piece)
        else:
            lines.append([piece])
    rows = [_printed_line(line, number) for line in lines]
    return sorted([*rows, *tables.rows], key=lambda r: -r.top)


def _printed_line(pieces: list, number: int) -> _Row:
    """One printed line from pdfminer's pieces of it. Pieces can interleave (a quotation mark
    in another font is a piece of its own, inside the line): their characters are put in
    order of position. A gap of more than two characters separates table cells."""
    from pdfminer.layout import LTChar

    x0 = min(p[0].x0 for p in pieces)
    x1 = max(p[0].x1 for p in pieces)
    top, bottom = max(p[0].y1 for p in pieces), min(p[0].y0 for p in pieces)
    size = max(p[0].y1 - p[0].y0 for p in pieces)
    if len(pieces) == 1:
        return _Row(number, x0, x1, top, bottom, size, pieces[0][1].strip())
    glyphs = sorted((c for p in pieces for c in p[0] if isinstance(c, LTChar)), key=lambda c: c.x0)
    out: list[str] = []
    cells = False
    previous = None
    for glyph in glyphs:
        text = glyph.get_text()
        if previous is not None:
            gap = glyph.x0 - previous.x1
            if gap > 2 * size:
                out.append("\t")
                cells = True
            elif gap > 0.3 * size and not _CJK.search(previous.get_text()[-1:] + text[:1]):
                out.append(" ")
        out.append(text)
        previous = glyph
    return _Row(number, x0, x1, top, bottom, size, "".join(out).strip(), cells=cells)


# A glyph the PDF's font does not map to Unicode: pdfminer writes its code, or the font's
# private-use code point comes through.
_UNMAPPED = re.compile(
    r"""
    \(cid:\d+\)            # pdfminer's stand-in for a character code with no Unicode
    | [\ue000-\uf8ff]       # a private-use code point: a font's own, not a character
    """,
    re.VERBOSE,
)


def _refuse_unmapped_fonts(pages: list[list[_Row]], path: str) -> None:
    """A text layer that is mostly font codes is no text: say so rather than publish (cid:12)."""
    unmapped = characters = 0
    first_page = None
    for rows in pages:
        for row in rows:
            found = len(_UNMAPPED.findall(row.text))
            unmapped += found
            characters += len(_UNMAPPED.sub("?", row.text))
            if found and first_page is None:
                first_page = row.page
    if first_page is not None and unmapped * 5 > characters:
        raise ParseError(
            path,
            f"page {first_page}: the text layer is font codes, not text ({unmapped:,} of {characters:,} characters have no "
            f"Unicode mapping, shown as (cid:N)): {_OCR}",
        )


def _line_text(line) -> str:
    """A pdfminer text line's characters; the spaces pdfminer infers from gaps (LTAnno) are
    kept between Latin words but dropped beside a Chinese character, where they are only
    the layout's spacing between Chinese and a digit ("1998 年 12 月")."""
    from pdfminer.layout import LTAnno

    items = list(line)
    out = []
    for i, item in enumerate(items):
        text = item.get_text()
        if isinstance(item, LTAnno):
            if text == "\n":
                continue
            before = items[i - 1].get_text() if i > 0 else ""
            after = items[i + 1].get_text() if i + 1 < len(items) else ""
            if _CJK.search(before[-1:] + after[:1]):
                continue
        out.append(text)
    return "".join(out)


def _shape(text: str) -> str:
    """A header or footer with its numbers taken out: "- 3 -" and "- 4 -" have one shape."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _furniture(pages: list[list[_Row]]) -> dict[int, str]:
    """id(row) -> reason, for page numbers, and for headers and footers that repeat in one
    place on several pages. Table rows (tab-separated) are never taken for headers: a table
    that repeats its header row on each page keeps it."""
    from .lines import _PAGE_NUMBER

    found: dict[int, str] = {}
    for rows in pages:
        for row in (rows[:1] + rows[-1:]) if rows else []:
            if _PAGE_NUMBER.match(row.text.replace(" ", "")) or _PAGE_NUMBER.match(row.text):
                found[id(row)] = "page-number"
    if len(pages) < 2:
        return found
    for end, reason in ((0, "page-header"), (-1, "page-footer")):
        for depth in range(2):  # a header of two lines, or a footer above the page number
            candidates = []
            for rows in pages:
                kept = [r for r in rows if id(r) not in found]
                if len(kept) > depth + 1:
                    candidates.append(kept[depth] if end == 0 else kept[-1 - depth])
            by_shape: dict[tuple, list[_Row]] = {}
            for row in candidates:
                if not row.cells:
                    by_shape.setdefault((_shape(row.text), round(row.top / 3)), []).append(row)
            for same in by_shape.values():
                if len(same) >= 2 and len(same) * 5 >= len(pages) * 2:  # on 40% of the pages or more
                    for row in same:
                        found[id(row)] = reason
    return found


def _assemble(pages: list[list[_Row]], furniture: dict[int, str], path: str) -> Extracted:
    """Body rows joined into paragraphs; offsets of pages and of what was dropped recorded."""
    layout = _Layout.of([row for rows in pages for row in rows if id(row) not in furniture and not row.cells])
    text_parts: list[str] = []
    length = 0
    discarded: list[Discarded] = []
    page_starts: list[int] = []
    previous: _Row | None = None

    def add(piece: str) -> None:
        nonlocal length
        text_parts.append(piece)
        length += len(piece)

    for rows in pages:
        # A page begins where its first body line does (after the line break before it); what
        # is dropped above that line is recorded there, what is dropped below it where it was.
        above: list[_Row] = []
        page_started = False

        def start_page(above: list[_Row]) -> None:
            nonlocal page_started
            page_starts.append(length)
            page_started = True
            discarded.extend(Discarded(length, length, furniture[id(r)], r.text) for r in above)

        for row in rows:
            reason = furniture.get(id(row))
            if reason:
                if page_started:
                    discarded.append(Discarded(length, length, reason, row.text))
                else:
                    above.append(row)
                continue
            if previous is not None and layout.runs_on(previous, row):
                latin = previous.text[-1:].isascii() and previous.text[-1:].isalnum() and row.text[:1].isascii() and row.text[:1].isalnum()
                add(" " if latin else "")  # a line break in Latin text is a space; in Chinese, nothing
            elif previous is not None:
                add("\n\n" if layout.spaced(previous, row) else "\n")  # a blank line where the page shows one
            if not page_started:
                start_page(above)
            add(row.text)
            previous = row
        if not page_started:
            start_page(above)
    add("\n")
    return Extracted(_checked("".join(text_parts), path, ".pdf"), {"format": "pdf"}, discarded, page_starts)


@dataclass
class _Layout:
    """The measure of a document's body text, read from its lines."""

    left: float = 0.0  # the left margin
    right: float = 0.0  # where full lines end
    char: float = 12.0  # the size of the body type
    paragraph_gap: float = 1e9  # a vertical gap wider than this separates paragraphs
    indents_mark_paragraphs: bool = False
    spacing_marks_paragraphs: bool = False

    @classmethod
    def of(cls, rows: list[_Row]) -> _Layout:
        if not rows:
            return cls()
        char = statistics.median(row.size for row in rows)
        # Not the rightmost end: Chinese layout lets a comma hang past the margin.
        widest = max(row.x1 for row in rows)
        right = statistics.mode(round(row.x1) for row in rows if row.x1 >= widest - 3 * char)
        left = min(row.x0 for row in rows)
        indented = sum(1 for row in rows if row.x0 > left + 0.8 * char)
        # The leading between the lines of a paragraph: the smallest gap that is common.
        gaps = sorted(a.bottom - b.top for a, b in pairwise(rows) if a.page == b.page and a.bottom > b.top)
        leading = gaps[min(len(gaps) - 1, max(2, len(gaps) // 10))] if gaps else 0.0
        paragraph_gap = leading + 0.25 * char  # a quarter of a character more: 4pt at 三号
        spaced = sum(1 for gap in gaps if gap > paragraph_gap)
        return cls(
            left=left,
            right=right,
            char=char,
            paragraph_gap=paragraph_gap,
            # Indents, or space between paragraphs, tell paragraphs apart only where some
            # lines have them and some do not.
            indents_mark_paragraphs=0.05 * len(rows) <= indented <= 0.95 * len(rows),
            spacing_marks_paragraphs=0.05 * len(gaps) <= spaced <= 0.95 * len(gaps),
        )

    def spaced(self, previous: _Row, row: _Row) -> bool:
        """Whether the page leaves more than a line's leading between these two lines."""
        return previous.page == row.page and previous.bottom - row.top > self.paragraph_gap

    def runs_on(self, previous: _Row, row: _Row) -> bool:
        """Whether a printed line goes on the paragraph of the one before: the line before was
        ended by the layout (the first unbreakable run of this line would not have fitted in
        what was left of it), this one starts at the margin with no paragraph space above it,
        and either indents or spacing mark the paragraphs in this document or the line before
        did not end a sentence."""
        if previous.cells or row.cells or self.spaced(previous, row):
            return False
        if row.x0 > self.left + 0.8 * self.char:
            return False
        first_run = _FIRST_RUN.match(row.text)  # always matches, if only the empty run
        if self.right - previous.x1 >= _width(first_run.group() if first_run else "", self.char) + 0.25 * self.char:
            return False  # it would have fitted: the line before ended its paragraph
        if self.indents_mark_paragraphs or (self.spacing_marks_paragraphs and previous.page == row.page):
            return True  # (no space is measured across a page break)
        return not _SENTENCE_END.search(previous.text)


# What the layout cannot break: the first run of a line, which had to move down whole.
_FIRST_RUN = re.compile(
    r"""
    [〔（(“‘《【\[「『]*                           # opening brackets never end a line
    (?: (?:[A-Za-z0-9.%/+\-]+[〕）)”’》】\]」』]*)+   # a Latin word or number, with the brackets
                                                   # it closes: 〔2020〕259 moves as one
      | .?                                         # else one character (or none)
    )
    [，。、；：！？,.;:!?〕）)”’》】\]」』]*              # punctuation never starts a line
    """,
    re.VERBOSE,
)


def _width(run: str, char: float) -> float:
    """Printed width of a run: Chinese characters are square, Latin ones about half."""
    return sum((0.55 if ch.isascii() else 1.0) * char for ch in run)
