"""Logical lines -> documents with clause trees.

One pass over the lines with a stack of open documents:

- a *header* (issuer lines and 文件, a 文号 line, or for the first notice of a file a title or
  a recipients line) opens a document; a header met after the signature of the open document
  is a notice embedded as that document's attachment (辽人社发〔2021〕7号 inside the Fushun file);
- numbered lines (一、 / （一） / 1. / （1）) open clauses; a number is only taken as a new
  clause when it continues a sequence (n+1 of its kind) or starts one (1), so "1.5倍" or a
  stray "三、" inside a sentence stays text;
- lines that do not end a sentence are joined to the next without a break (page-break repair);
- a run of issuer lines followed by a date is the signature; after it come the publication
  note, the measures a 印发 notice issues, and attachments (附件1 …, or a line equal to a
  title in the 附件： list);
- an attachment title listed by an *outer* document closes the inner one.

What this module does not do: decide metadata that needs other documents (levels of cited
notices, titles of cited notices) — see ``kb.parse.document``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Discarded
from ..text import TITLE_RE, cn_to_int, compact, normalize_docno, normalize_label, normalize_text
from .grammar import (
    ATTACH_ENTRY_RE,
    ATTACH_HEADER_RE,
    ATTACH_LIST_RE,
    CLOSING_START_RE,
    CONTACT_RE,
    DATE_LINE_RE,
    DOCNO_LINE_RE,
    FILE_HEADER_RE,
    ISSUING_RE,
    PUBNOTE_RE,
    ends_sentence,
    is_org,
    is_recipients,
    is_title_like,
    orgs_in,
    parse_date,
    parse_marker,
)
from .lines import Cell, Line

_TABLE_HEADER_WORDS = ("具体内容", "责任单位", "序号", "工作任务", "牵头单位", "配合单位", "完成时限", "主要内容", "任务", "内容")


@dataclass
class Piece:
    """A verbatim piece of source text that belongs to a clause."""

    text: str
    start: int
    end: int


@dataclass
class Node:
    label: str
    kind: str
    marker_type: str | None = None
    number: int = 0
    parent: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    heading_piece: Piece | None = None
    heading_fixed: bool = False  # heading given by the layout (table cell, attachment title)
    responsible_cell: Cell | None = None
    attached_doc: "DocBuilder | None" = None
    start: int = 0
    end: int = 0
    line: int = 0

    def add(self, piece: Piece) -> None:
        if not self.pieces and not self.heading_piece and not self.start:
            self.start = piece.start
        self.pieces.append(piece)
        self.end = max(self.end, piece.end)

    @property
    def path(self) -> str:
        labels = []
        node: Node | None = self
        while node is not None and node.kind != "root":
            labels.append(node.label)
            node = node.parent
        return "/".join(reversed(labels))


@dataclass
class AttachmentEntry:
    number: int
    title: str
    doc_number: str | None
    fulfilled: bool = False


@dataclass
class DocBuilder:
    """A document being read."""

    start: int
    line: int
    issuers_header: list[str] = field(default_factory=list)
    doc_number: str | None = None
    title: str | None = None
    recipients: str | None = None
    signers: list[str] = field(default_factory=list)
    date: str | None = None
    publication_note: str | None = None
    contact_note: str | None = None
    issuing: bool = False
    measures_title: str | None = None
    measures_started: bool = False
    signed: bool = False
    attachments_listed: list[AttachmentEntry] = field(default_factory=list)
    in_attach_list: bool = False
    root: Node = field(default_factory=lambda: Node("", "root"))
    container: Node | None = None  # root, or the attachment being read
    open: list[Node] = field(default_factory=list)  # open numbered clauses in the container
    last_numbers: dict[str, int] = field(default_factory=dict)
    section: Node | None = None  # the unnumbered node text goes to (preamble, closing…)
    parent: "DocBuilder | None" = None
    attachment_label: str | None = None
    end: int = 0
    last_body_node: Node | None = None  # last clause before the signature
    gaps: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.container = self.root

    # -- clause tree -------------------------------------------------------------------
    def _new_child(self, parent: Node, label: str, kind: str, line: Line, **kw) -> Node:
        node = Node(label, kind, parent=parent, start=line.start, end=line.end, line=line.number, **kw)
        parent.children.append(node)
        return node

    def unnumbered(self, label: str, kind: str, line: Line) -> Node:
        """The preamble / cover / closing node of the container, created on first use."""
        for child in self.container.children:
            if child.label == label:
                return child
        return self._new_child(self.container, label, kind, line)

    def accept_marker(self, marker, prev_piece_ends_sentence: bool) -> Node | None:
        """The parent a numbered line attaches to, or None if the number is not a clause."""
        types_open = [n.marker_type for n in self.open]
        last = self.last_numbers.get(marker.type, 0)
        if marker.type in types_open:
            idx = types_open.index(marker.type)
            sibling = self.open[idx]
            expected = sibling.number + 1
            parent_stack = self.open[:idx]
        else:
            expected = last + 1
            parent_stack = self.open[:]
        ok = marker.number == expected or (marker.number == 1 and marker.type not in types_open)
        if not ok and prev_piece_ends_sentence and expected < marker.number <= expected + 2:
            self.gaps.append(f"numbering jumps from {expected - 1} to {marker.number} ({marker.label})")
            ok = True
        if not ok:
            return None
        self.open = parent_stack
        return self.open[-1] if self.open else self.container

    def numbered(self, marker, line: Line) -> Node:
        parent = self.accept_marker(marker, True)
        assert parent is not None
        label = normalize_label(marker.label)
        kind = {"chapter": "chapter", "article": "article"}.get(marker.type, "item")
        node = self._new_child(parent, label, kind, line, marker_type=marker.type, number=marker.number)
        self.open.append(node)
        self.last_numbers[marker.type] = marker.number
        rest = line.text[marker.length :]
        if rest.strip():
            lead = len(rest) - len(rest.lstrip())
            node.add(Piece(rest.strip(), line.start + marker.length + lead, line.end))
        self.section = None
        self.last_body_node = node if not self.signed or self.measures_started else self.last_body_node
        return node

    def current_text_node(self) -> Node | None:
        if self.section is not None:
            return self.section
        if self.open:
            return self.open[-1]
        return None

    # -- attachments -------------------------------------------------------------------
    def start_attachment(self, number: int | None, title: str | None, line: Line, title_piece: Piece | None) -> Node:
        entry = None
        if number is not None:
            entry = next((e for e in self.attachments_listed if e.number == number), None)
        elif title:
            entry = self.matching_entry(title)
            number = entry.number if entry else None
        if number is None:
            taken = {int(c.label[2:]) for c in self.root.children if c.kind == "attachment" and c.label[2:].isdigit()}
            number = max(taken, default=0) + 1
        if entry:
            entry.fulfilled = True
        label = f"附件{number}"
        node = self._new_child(self.root, label, "attachment", line, number=number)
        if title_piece is not None:
            node.heading_piece = title_piece
            node.heading_fixed = True
        elif entry is not None:
            node.heading_piece = Piece(entry.title, line.start, line.start)
            node.heading_fixed = True
        self.container = node
        self.open = []
        self.last_numbers = {}
        self.section = None
        return node

    def matching_entry(self, title: str) -> AttachmentEntry | None:
        key = compact(title).strip("《》")
        for e in self.attachments_listed:
            if not e.fulfilled and key and compact(e.title).strip("《》") == key:
                return e
        return None

    def wants_attachment(self, number: int | None) -> bool:
        return any(not e.fulfilled and (number is None or e.number == number) for e in self.attachments_listed)


def _is_table_header(cells: list[Cell]) -> bool:
    texts = [c.text for c in cells if c.text]
    return bool(texts) and all(len(t) <= 10 and not parse_marker(t) for t in texts) and any(
        any(w in t for w in _TABLE_HEADER_WORDS) for t in texts
    )


@dataclass
class ReadResult:
    docs: list[DocBuilder]
    discarded: list[Discarded]


class NoticeReader:
    """Reads the lines of one file into DocBuilders (see module docstring)."""

    def __init__(self, lines: list[Line]):
        self.lines = lines
        self.docs: list[DocBuilder] = []
        self.stack: list[DocBuilder] = []
        self.discarded: list[Discarded] = []
        self.signature_end = self._find_signatures()

    # -- look-ahead tables ---------------------------------------------------------------
    def _find_signatures(self) -> dict[int, int]:
        """Index of the first issuer line of a signature -> index of its date line."""
        found: dict[int, int] = {}
        n = len(self.lines)
        i = 0
        while i < n:
            if self.lines[i].cells is None and is_org(self.lines[i].text):
                j = i
                while j < n and self.lines[j].cells is None and is_org(self.lines[j].text):
                    j += 1
                if j < n and DATE_LINE_RE.match(self.lines[j].text):
                    found[i] = j
                    i = j + 1
                    continue
                i = j
            else:
                i += 1
        return found

    def _header_at(self, i: int, first: bool) -> bool:
        lines = self.lines
        n = len(lines)
        t = lines[i].text
        if lines[i].cells is not None:
            return False
        if DOCNO_LINE_RE.match(t):
            return True
        fh = FILE_HEADER_RE.match(t)
        if fh and (not fh["issuers"] or all(is_org(p) for p in orgs_in(fh["issuers"]))):
            return True
        if i not in self.signature_end and is_org(t):
            j = i
            while j < n and lines[j].cells is None and is_org(lines[j].text):
                j += 1
            if j < n and (FILE_HEADER_RE.match(lines[j].text) or DOCNO_LINE_RE.match(lines[j].text)):
                return True
        if first:
            if is_recipients(t):
                return True
            if is_title_like(t) and i + 1 < n and is_recipients(lines[i + 1].text):
                return True
            if i + 2 < n and is_title_like(t) and not ends_sentence(lines[i + 1].text) and is_recipients(lines[i + 2].text):
                return True
        return False

    # -- main loop ---------------------------------------------------------------------
    def read(self) -> ReadResult:
        lines = self.lines
        i = 0
        n = len(lines)
        while i < n:
            line = lines[i]
            top = self.stack[-1] if self.stack else None
            if (top is None or top.signed) and self._header_at(i, first=not self.docs):
                i = self._open_document(i)
                continue
            if top is None:
                if parse_marker(line.text) and not self.docs:
                    # No header at all: numbered items from the first line (a bare fragment).
                    self._open_bare_document(i)
                    continue
                self.discarded.append(Discarded(line.start, line.end, "front-matter", line.text))
                i += 1
                continue
            if i in self.signature_end and not top.signed:
                i = self._signature(top, i)
                continue
            if DATE_LINE_RE.match(line.text) and not top.signed and top.root.children:
                self._sign(top, [], line)
                i += 1
                continue
            if self._attachment_start(i):
                i = self._after_attachment_start
                continue
            self._feed(self.stack[-1], line)
            i += 1
        for doc in self.stack:
            self._close(doc)
        self.stack.clear()
        return ReadResult(self.docs, self.discarded)

    def _open_bare_document(self, i: int) -> None:
        doc = DocBuilder(start=self.lines[i].start, line=self.lines[i].number)
        self.docs.append(doc)
        self.stack.append(doc)

    def _open_document(self, i: int) -> int:
        lines = self.lines
        n = len(lines)
        start_line = lines[i]
        parent = self.stack[-1] if self.stack else None
        doc = DocBuilder(start=start_line.start, line=start_line.number)
        header_lines: list[Line] = []
        while i < n and lines[i].cells is None and is_org(lines[i].text) and not FILE_HEADER_RE.match(lines[i].text):
            doc.issuers_header += orgs_in(lines[i].text)
            header_lines.append(lines[i])
            i += 1
        if i < n and (fh := FILE_HEADER_RE.match(lines[i].text)):
            doc.issuers_header += orgs_in(fh["issuers"])
            i += 1
        if i < n and DOCNO_LINE_RE.match(lines[i].text):
            doc.doc_number = normalize_docno(lines[i].text)
            i += 1
        title_lines: list[Line] = []
        while (
            i < n
            and len(title_lines) < 4
            and lines[i].cells is None
            and len(lines[i].text) <= 60
            and not is_recipients(lines[i].text)
            and not parse_marker(lines[i].text)
            and not ends_sentence(lines[i].text)
            and i not in self.signature_end
            and not (title_lines and is_title_like(title_lines[-1].text) and not is_title_like(lines[i].text) and len(lines[i].text) > 30)
        ):
            title_lines.append(lines[i])
            i += 1
        if title_lines and not any(is_title_like(normalize_text("".join(t.text for t in title_lines[: k + 1]))) for k in range(len(title_lines))):
            i -= len(title_lines)  # not a title after all: body text without punctuation
            title_lines = []
        if title_lines:
            doc.title = normalize_text("".join(t.text for t in title_lines))
        if i < n and is_recipients(lines[i].text):
            doc.recipients = normalize_text(lines[i].text).rstrip("：")
            i += 1
        # Attach to the outer document whose attachment list names this notice.
        if parent is not None:
            owner = None
            for candidate in reversed(self.stack):
                entry = None
                if doc.doc_number:
                    entry = next((e for e in candidate.attachments_listed if not e.fulfilled and e.doc_number == doc.doc_number), None)
                if entry is None and doc.title:
                    entry = candidate.matching_entry(doc.title)
                if entry is not None:
                    owner = candidate
                    break
            if owner is None and parent.wants_attachment(None):
                owner = parent
                entry = next(e for e in parent.attachments_listed if not e.fulfilled)
            if owner is not None:
                while self.stack[-1] is not owner:
                    self._close(self.stack.pop())
                node = owner.start_attachment(entry.number if entry else None, None, start_line, None)
                node.attached_doc = doc
                doc.parent = owner
                doc.attachment_label = node.label
                owner.container = owner.root
            else:
                while self.stack:
                    self._close(self.stack.pop())
        self.docs.append(doc)
        self.stack.append(doc)
        return i

    def _signature(self, doc: DocBuilder, i: int) -> int:
        j = self.signature_end[i]
        signers = []
        for line in self.lines[i:j]:
            signers += orgs_in(line.text)
        self._sign(doc, signers, self.lines[j])
        return j + 1

    def _sign(self, doc: DocBuilder, signers: list[str], date_line: Line) -> None:
        doc.signers = signers
        doc.date = parse_date(date_line.text)
        doc.signed = True
        doc.in_attach_list = False
        doc.end = date_line.end
        doc.section = None
        doc.open = []

    # -- attachments -------------------------------------------------------------------
    def _attachment_start(self, i: int) -> bool:
        """Does line i start an attachment of one of the open documents?"""
        line = self.lines[i]
        if line.cells is not None or not self.stack:
            return False
        text = line.text
        m = ATTACH_HEADER_RE.match(text)
        if m and not ATTACH_LIST_RE.match(text):
            number = cn_to_int(m["n"]) if m["n"] else None
            owner = next((d for d in reversed(self.stack) if d.signed and d.wants_attachment(number)), None)
            if owner is None:
                owner = next((d for d in reversed(self.stack) if d.signed), None)
            if owner is None:
                return False
            self._switch_to(owner)
            title_piece = None
            j = i + 1
            if m["title"]:
                t = m["title"]
                title_piece = Piece(t, line.end - len(t), line.end)
            elif j < len(self.lines) and self.lines[j].cells is None and not parse_marker(self.lines[j].text) and not ends_sentence(self.lines[j].text) and len(self.lines[j].text) <= 80:
                nxt = self.lines[j]
                title_piece = Piece(nxt.text, nxt.start, nxt.end)
                j += 1
            node = owner.start_attachment(number, title_piece.text if title_piece else None, line, title_piece)
            node.start = line.start
            self._after_attachment_start = j
            return True
        if len(text) <= 80 and not ends_sentence(text) and not parse_marker(text):
            for owner in reversed(self.stack):
                if owner.signed and owner.matching_entry(text):
                    self._switch_to(owner)
                    owner.start_attachment(None, text, line, Piece(text, line.start, line.end))
                    self._after_attachment_start = i + 1
                    return True
        return False

    def _switch_to(self, owner: DocBuilder) -> None:
        while self.stack[-1] is not owner:
            self._close(self.stack.pop())

    # -- body --------------------------------------------------------------------------
    def _feed(self, doc: DocBuilder, line: Line) -> None:
        text = line.text
        doc.end = max(doc.end, line.end)
        if line.cells is not None:
            self._table_row(doc, line)
            return
        if doc.in_attach_list:
            em = ATTACH_ENTRY_RE.match(text)
            if em and not doc.signed:
                self._attach_entry(doc, em["n"], em["title"])
                return
            doc.in_attach_list = False
        lm = ATTACH_LIST_RE.match(text)
        if lm and doc.container is doc.root:
            doc.in_attach_list = True
            rest = lm["rest"].strip()
            if rest:
                em = ATTACH_ENTRY_RE.match(rest)
                if em:
                    self._attach_entry(doc, em["n"], em["title"])
                else:
                    self._attach_entry(doc, "1", rest)
            return
        if doc.signed and doc.container is doc.root and not doc.measures_started:
            if PUBNOTE_RE.match(text):
                doc.publication_note = normalize_text(text)[1:-1]
                return
            if CONTACT_RE.match(text):
                doc.contact_note = normalize_text(text)[1:-1]
                return
            if doc.issuing and is_title_like(text):
                doc.measures_started = True
                doc.measures_title = normalize_text(text)
                doc.open = []
                doc.last_numbers = {}
                doc.section = None
                return
            self.discarded.append(Discarded(line.start, line.end, "after-signature", text))
            return
        if doc.signed and doc.container is doc.root and doc.measures_started and PUBNOTE_RE.match(text):
            doc.publication_note = doc.publication_note or normalize_text(text)[1:-1]
            return
        marker = parse_marker(text)
        prev = doc.current_text_node()
        prev_ends = not prev or not prev.pieces or ends_sentence(prev.pieces[-1].text)
        if marker and doc.accept_marker(marker, prev_ends) is not None:
            doc.numbered(marker, line)
            return
        self._unnumbered_text(doc, line)

    def _unnumbered_text(self, doc: DocBuilder, line: Line) -> None:
        piece = Piece(line.text, line.start, line.end)
        in_measures = doc.measures_started
        has_items = any(c.kind not in ("preamble", "cover", "closing") for c in doc.container.children)
        if doc.container is doc.root and not has_items:
            if doc.section is None or doc.section.kind not in ("preamble", "cover"):
                if not in_measures and not doc.signed and ISSUING_RE.search(line.text):
                    doc.issuing = True
                    doc.section = doc.unnumbered("印发通知", "cover", line)
                    m = TITLE_RE.search(normalize_text(line.text))
                    if m:
                        doc.measures_title = m["title"]
                else:
                    doc.section = doc.unnumbered("序言", "preamble", line)
            doc.section.add(piece)
            return
        current = doc.current_text_node()
        if doc.container is doc.root and (
            (doc.section is not None and doc.section.kind == "closing")
            or (CLOSING_START_RE.match(normalize_text(line.text)) and (current is None or ends_sentence(current.pieces[-1].text if current.pieces else "。")))
        ):
            doc.section = doc.unnumbered("结语", "closing", line)
            doc.open = []
            doc.section.add(piece)
            return
        if current is None:
            # text in an attachment before its first item: the attachment's own text
            target = doc.container if doc.container is not doc.root else doc.unnumbered("序言", "preamble", line)
            target.add(piece)
            return
        current.add(piece)

    def _attach_entry(self, doc: DocBuilder, n: str, title: str) -> None:
        title = normalize_text(title)
        docno = normalize_docno(title)
        clean = title
        if docno:
            # 《title》（文号） -> title
            clean = re.sub(r"[（(][^（()）]*〔\d{4}〕\d+号[)）]$", "", title).strip()
        clean = clean.strip("《》")
        doc.attachments_listed.append(AttachmentEntry(int(n), clean, docno))

    def _table_row(self, doc: DocBuilder, line: Line) -> None:
        cells = [c for c in line.cells if c.text]
        if _is_table_header(line.cells):
            self.discarded.append(Discarded(line.start, line.end, "table-header", line.text))
            return
        label_cell = next((c for c in cells if parse_marker(c.text)), None)
        container = doc.container
        if label_cell is None:
            # a row without a number continues the previous row's text
            target = doc.current_text_node() or container
            for c in cells:
                target.add(Piece(c.text, c.start, c.end))
            return
        marker = parse_marker(label_cell.text)
        node = Node(
            normalize_label(marker.label), "row", marker_type="row", number=marker.number, parent=container,
            start=line.start, end=line.end, line=line.number,
        )
        container.children.append(node)
        heading = label_cell.text[marker.length :]
        lead = len(heading) - len(heading.lstrip())
        node.heading_piece = Piece(heading.strip(), label_cell.start + marker.length + lead, label_cell.end)
        node.heading_fixed = True
        others = [c for c in cells if c is not label_cell]
        if len(others) >= 2 and is_units_cell(others[-1].text):
            node.responsible_cell = others[-1]
            others = others[:-1]
        elif len(others) == 1 and is_units_cell(others[0].text) and len(others[0].text) < 40:
            node.responsible_cell = others[0]
            others = []
        for c in others:
            node.add(Piece(c.text, c.start, c.end))
        node.start, node.end = line.start, line.end
        doc.open = [node]
        doc.section = None
        doc.last_body_node = node

    def _close(self, doc: DocBuilder) -> None:
        if doc.end == 0:
            doc.end = doc.start
        last = max((n.end for n in _walk(doc.root)), default=doc.end)
        doc.end = max(doc.end, last)


def is_units_cell(text: str) -> bool:
    """A table cell listing responsible units: "市人社局 市社保中心 各县区政府（…）"."""
    core = re.sub(r"[（(][^）)]*[)）]", "", text)
    parts = [p for p in re.split(r"[\s、，,]+", core) if p]
    return bool(parts) and all(is_org(p) or p.endswith(("政府", "各县区", "各部门")) for p in parts)


def _walk(node: Node):
    for child in node.children:
        yield child
        yield from _walk(child)
