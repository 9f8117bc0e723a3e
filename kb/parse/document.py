"""DocBuilders -> Documents: clause text, headings, responsible units, citations, metadata.

Everything a clause carries is computed from verbatim source pieces, so each clause keeps
the exact spans its text came from: ``normalize(source[spans]) == clause.text``.
"""

from __future__ import annotations

import re

from .. import places
from ..model import Citation, Clause, Document, Source, clause_id, document_id
from ..text import TITLE_RE, compact, find_docnos, normalize_paragraphs, normalize_text
from .grammar import BASIS_RE, ends_sentence
from .notice import DocBuilder, Node, Piece, _walk

_RESPONSIBLE_ROLE = re.compile(
    r"""
    ^(?P<role>责任主体单位|牵头单位|责任单位|配合单位|主办单位|责任部门|牵头部门)   # who answers for the item
    [：:]
    """,
    re.X,
)
_ROLE_SPLIT = re.compile(r"[，,；;](?=(?:责任主体单位|牵头单位|责任单位|配合单位|主办单位|责任部门|牵头部门)[：:])")
_UNIT_SPLIT = re.compile(r"[、，,；;\s]+")
_MAX_HEADING = 40
_COMMA = re.compile(r"[，,；;]")  # a heading is one phrase: no comma or semicolon
_COMMA_OR_COLON = re.compile(r"[，,；;：:]")


def _trailing_paren(raw: str) -> int | None:
    """Start of the balanced parenthetical the text ends with, or None."""
    s = raw.rstrip()
    if not s or s[-1] not in "）)":
        return None
    depth = 0
    for k in range(len(s) - 1, -1, -1):
        ch = s[k]
        if ch in "）)":
            depth += 1
        elif ch in "（(":
            depth -= 1
            if depth == 0:
                return k
    return None


def split_responsible(raw: str) -> tuple[str, dict] | None:
    """'…拨付。（责任单位：省人社厅、省财政厅）' -> ('…拨付。', {lead, responsible, note})."""
    at = _trailing_paren(raw)
    if at is None:
        return None
    inner = normalize_text(raw[at + 1 : len(raw.rstrip()) - 1])
    if not _RESPONSIBLE_ROLE.match(inner):
        return None
    return raw[:at], parse_units(inner)


def parse_units(inner: str) -> dict:
    lead: list[str] = []
    responsible: list[str] = []
    notes: list[str] = []
    for segment in _ROLE_SPLIT.split(inner):
        m = _RESPONSIBLE_ROLE.match(segment)
        role = m["role"] if m else "责任单位"
        body = segment[m.end() :] if m else segment
        units_part, _, note = body.partition("。")
        units = [u for u in _UNIT_SPLIT.split(units_part) if u]
        (lead if role in ("责任主体单位", "牵头单位", "主办单位", "牵头部门") else responsible).extend(units)
        if note.strip("。 "):
            notes.append(note.strip("。 "))
    return {"lead": lead, "responsible": responsible, "note": "；".join(notes) or None}


def parse_units_cell(text: str) -> dict:
    """A table cell: '市人社局 市社保中心 各县区政府（以下责任单位均包括各县区政府，不再单列）'."""
    notes = [normalize_text(m.group(1)) for m in re.finditer(r"[（(]([^）)]*)[)）]", text)]
    core = re.sub(r"[（(][^）)]*[)）]", " ", text)
    units = [u for u in _UNIT_SPLIT.split(core) if u]
    return {"lead": [], "responsible": units, "note": "；".join(notes) or None}


def assemble(pieces: list[Piece]) -> tuple[str, list[tuple[int, int]]]:
    """Join verbatim pieces; a piece that does not end a sentence runs on (page-break repair)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for k, piece in enumerate(pieces):
        if not piece.text:
            continue
        if out:
            out.append("\n" if _ends_paragraph(out[-1]) else "")
        out.append(piece.text)
        spans.append((piece.start, piece.end))
    return normalize_paragraphs("".join(out)), spans


def _ends_paragraph(text: str) -> bool:
    """A piece ends its paragraph when it ends a sentence; a closing bracket only does when
    its group follows a sentence end ("…拨付。（责任单位：…）"), not inside one ("…的公告》（公告(2021)"
    broken before "18号）" by a page break)."""
    if not ends_sentence(text) or _open_brackets(text):
        return False  # a group left open runs on: "…建设。(责任单位：" / "省就业工作领导小组…)"
    s = text.rstrip()
    if s[-1] not in "）)":
        return True
    opening = _trailing_paren(s)
    if opening is None:
        return True
    before = s[:opening].rstrip()
    return not before or ends_sentence(before)


def _open_brackets(text: str) -> int:
    """How many brackets are still open at the end of text."""
    depth = 0
    for ch in text:
        if ch in "（(":
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
    return depth


def _split_responsible_pieces(pieces: list[Piece]) -> tuple[list[Piece], dict | None]:
    """Take the responsible units off the end of a clause's pieces.

    The parenthetical usually sits in the last piece; a page break can split it, so the
    last few pieces are tried together ("…建设。(责任单位：" + "省就业工作领导小组…)").
    """
    for k in range(len(pieces) - 1, max(-1, len(pieces) - 4), -1):
        joined = "".join(p.text for p in pieces[k:])
        split = split_responsible(joined)
        if split is None:
            continue
        cut = len(split[0].rstrip())
        kept = list(pieces[:k])
        pos = 0
        for p in pieces[k:]:
            if pos >= cut:
                break
            text = p.text[: cut - pos].rstrip()
            if text:
                kept.append(Piece(text, p.start, p.start + len(text)))
            pos += len(p.text)
        return kept, split[1]
    return pieces, None


def _split_heading(node: Node) -> tuple[Piece | None, list[Piece]]:
    """Heading = the first sentence of a numbered item when it is short and has no comma."""
    if node.heading_fixed or not node.pieces or node.kind not in ("item", "chapter"):
        return node.heading_piece, node.pieces
    first = node.pieces[0]
    raw = first.text
    dot = raw.find("。")
    if dot < 0:
        norm = normalize_text(raw)
        if len(norm) <= _MAX_HEADING and not ends_sentence(raw) and not _COMMA.search(raw):
            # a heading line of its own: "一、全力发展经济扩大就业"
            return first, node.pieces[1:]
        return None, node.pieces
    head = raw[:dot]
    rest = raw[dot + 1 :]
    norm = normalize_text(head)
    if not norm or len(norm) > _MAX_HEADING or _COMMA_OR_COLON.search(norm):
        return None, node.pieces
    if not rest.strip() and len(node.pieces) == 1 and not node.children:
        return None, node.pieces  # "1. 低保家庭毕业生。" is a whole item, not a heading
    lead = len(rest) - len(rest.lstrip())
    body = [Piece(rest.strip(), first.start + dot + 1 + lead, first.end)] if rest.strip() else []
    return Piece(head, first.start, first.start + dot), body + node.pieces[1:]


def build_documents(builders: list[DocBuilder], source: Source, manifest: dict) -> list[Document]:
    docs = [b for b in builders if b.root.children or b.doc_number or b.title]
    ids: dict[int, str] = {}
    results: list[Document] = []
    for k, b in enumerate(docs):
        meta_sources: dict[str, str] = {}
        docno = b.doc_number
        if docno:
            meta_sources["doc_number"] = "text"
        elif k == 0 and manifest.get("doc_number"):
            docno = normalize_text(manifest["doc_number"])
            meta_sources["doc_number"] = "manifest"
        title = b.title or b.measures_title
        page = getattr(source, "meta", None) or {}  # what an HTML/docx/pdf page says about itself
        if title:
            meta_sources["title"] = "text"
        elif k == 0 and (page.get("h1") or page.get("title")):
            title, meta_sources["title"] = normalize_text(str(page.get("h1") or page.get("title"))), "page"
        elif k == 0 and manifest.get("title"):
            title, meta_sources["title"] = manifest["title"], "manifest"
        issuers = b.issuers_header or b.signers
        if issuers:
            meta_sources["issuers"] = "text"
        elif k == 0 and manifest.get("issuers"):
            issuers, meta_sources["issuers"] = list(manifest["issuers"]), "manifest"
        issued = b.date
        if issued:
            meta_sources["issued"] = "text"
        elif k == 0 and page.get("published"):
            issued, meta_sources["issued"] = str(page["published"]), "page"
        elif k == 0 and manifest.get("issued"):
            issued, meta_sources["issued"] = str(manifest["issued"]), "manifest"
        place = places.classify_issuers(issuers) if issuers else None
        if place is None and docno:
            place = places.classify_docno(docno)
        if place is None and k == 0 and manifest.get("jurisdiction"):
            j = manifest["jurisdiction"]
            place = (manifest.get("level"), j, places.province_of(j))
        level, jurisdiction, province = place if place else (None, None, None)
        doc_id = document_id(docno, title or "", jurisdiction)
        ids[id(b)] = doc_id
        doc = Document(
            id=doc_id,
            doc_number=docno,
            title=title or "（无标题）",
            level=level,
            jurisdiction=jurisdiction,
            province=province,
            issued=issued,
            issuers=list(issuers),
            recipients=b.recipients,
            publication_note=b.publication_note,
            contact_note=b.contact_note,
            kind="issuing" if b.issuing else "notice",
            measures_title=b.measures_title,
            attachments_listed=[e.title for e in b.attachments_listed],
            metadata_sources=meta_sources,
            genre="notice",
            force=notice_force(docno),
            version_date=issued,
            source=source,
            start=b.start,
            end=b.end,
        )
        doc.clauses = _clauses(b, doc, source)
        doc.citations = _citations(doc)
        _completeness(b, doc)
        results.append(doc)
    by_builder = {id(b): d for b, d in zip(docs, results)}
    for b, d in zip(docs, results):
        if b.parent is not None and id(b.parent) in by_builder:
            d.attached_to = by_builder[id(b.parent)].id
            d.attachment_label = b.attachment_label
    for b, d in zip(docs, results):
        for node, clause in zip(_walk(b.root), d.clauses):
            if node.attached_doc is not None and id(node.attached_doc) in ids:
                clause.attached_document_id = ids[id(node.attached_doc)]
    for d in results:
        d.implements = _implements(d)
        for c in d.citations:
            if c.doc_number in d.implements:
                c.role = "implements"
    return results


# A notice is a 规范性文件 unless its number is a promulgation order, which gives its maker's force.
_ORDER_FORCE = (
    (re.compile(r"国务院令"), "行政法规"),
    (re.compile(r"主席令"), "法律"),
    (re.compile(r"人民政府令"), "地方政府规章"),
    (re.compile(r"(?:部|委员会|总局|署)令"), "部门规章"),
)


def notice_force(doc_number: str | None) -> str:
    """效力级别 of a notice: 规范性文件, or what its 令 number says (辽宁省人民政府令第… 地方政府规章)."""
    for pattern, force in _ORDER_FORCE:
        if doc_number and pattern.search(doc_number):
            return force
    return "规范性文件"


def _clauses(b: DocBuilder, doc: Document, source: Source) -> list[Clause]:
    clauses: list[Clause] = []
    node_ids: dict[int, str] = {}
    seen_paths: dict[str, int] = {}
    for position, node in enumerate(_walk(b.root)):
        heading_piece, body_pieces = _split_heading(node)
        units = {"lead": [], "responsible": [], "note": None}
        if node.responsible_cell is not None:
            units = parse_units_cell(node.responsible_cell.text)
        elif body_pieces:
            body_pieces, found = _split_responsible_pieces(body_pieces)
            if found is not None:
                units = found
        text, spans = assemble(body_pieces)
        heading = normalize_text(heading_piece.text).rstrip("。") if heading_piece and heading_piece.text else None
        path = node.path
        if path in seen_paths:  # a repeated number: keep both, never overwrite
            seen_paths[path] += 1
            path = f"{path}~{seen_paths[path]}"
        else:
            seen_paths[path] = 1
        cid = clause_id(doc.id, path)
        node_ids[id(node)] = cid
        depth = path.count("/") + 1
        kind = node.kind
        # A part groups numbered items; its own words, if any, only lead into them
        # ("二、可参照…人员 / 符合…条件的： / 1. … 2. …" is a part like its sibling "一、就业困难人员").
        lead_in_only = not text or (heading is not None and "\n" not in text and text.endswith("："))
        if kind == "item" and node.children and any(ch.kind == "item" for ch in node.children) and lead_in_only:
            kind = "part"
        if kind == "item" and node.marker_type in ("arabic", "parabic", "circled"):
            kind = "point"
        clauses.append(
            Clause(
                id=cid,
                document_id=doc.id,
                path=path,
                label=node.label,
                kind=kind,
                heading=heading,
                text=text,
                parent_id=node_ids.get(id(node.parent)) if node.parent and node.parent.kind != "root" else None,
                position=position,
                depth=depth,
                responsible=units["responsible"],
                lead=units["lead"],
                responsible_note=units["note"],
                start=node.start,
                end=max(node.end, *(e for _, e in spans)) if spans else node.end,
                text_spans=spans,
                heading_span=(heading_piece.start, heading_piece.end) if heading_piece and heading_piece.end > heading_piece.start else None,
                source_path=source.path,
                source_sha256=source.sha256,
            )
        )
    return clauses


def _citations(doc: Document) -> list[Citation]:
    found: list[Citation] = []
    own = {doc.doc_number, None}
    own_titles = {compact(t) for t in (doc.title, doc.measures_title) if t}
    for clause in doc.clauses:
        for field_text in (clause.heading or "", clause.text):
            basis_spans = _basis_spans(field_text) if clause.kind in ("preamble", "cover") else []
            used: list[tuple[int, int]] = []
            for m in TITLE_RE.finditer(field_text):
                title = m["title"]
                after = field_text[m.end() : m.end() + 40]
                docnos = find_docnos(after) if after[:1] in "（(" else []
                docno, end = (docnos[0][0], m.end() + docnos[0][2] + 1) if docnos and docnos[0][1] <= 2 else (None, m.end())
                if docno in own and docno is not None:
                    continue
                if docno is None and compact(title) in own_titles:
                    continue
                used.append((m.start(), end))
                found.append(
                    Citation(docno, title, "cites", clause.id, basis=_in(basis_spans, m.start()), start=m.start(), end=end)
                )
            for docno, s, e in find_docnos(field_text):
                if docno in own or any(a <= s < b for a, b in used):
                    continue
                found.append(Citation(docno, None, "cites", clause.id, basis=_in(basis_spans, s), start=s, end=e))
    return found


def _basis_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in BASIS_RE.finditer(text):
        end = text.find("。", m.start())
        spans.append((m.start(), len(text) if end < 0 else end))
    return spans


def _in(spans: list[tuple[int, int]], at: int) -> bool:
    return any(a <= at < b for a, b in spans)


_RANK = {"national": 0, "province": 1, "city": 2, "county": 3}


def _implements(doc: Document) -> list[str]:
    """The notices a document states as its basis, nearest level above its own first."""
    basis = [c.doc_number for c in doc.citations if c.basis and c.doc_number]
    basis = list(dict.fromkeys(basis))
    if not basis:
        return []
    own_rank = _RANK.get(doc.level or "", None)
    ranked = []
    for docno in basis:
        place = places.classify_docno(docno)
        rank = _RANK.get(place[0], None) if place else None
        same_province = place is None or place[2] is None or doc.province is None or place[2] == doc.province
        ranked.append((docno, rank, same_province))
    if own_rank is None:
        return basis
    above = [(d, r) for d, r, same in ranked if r is not None and r < own_rank and (same or r == 0)]
    if not above:
        return [d for d, r, _ in ranked if r is None] or basis
    nearest = max(r for _, r in above)
    return [d for d, r in above if r == nearest]


def _completeness(b: DocBuilder, doc: Document) -> None:
    reasons = []
    if not doc.clauses:
        reasons.append("no text after the header (pages missing)")
    last = b.last_body_node
    if last is not None:
        clause = next((c for c in doc.clauses if c.start == last.start and c.label == last.label), None)
        if clause is not None:
            words = clause.text or clause.heading or ""
            if words and not ends_sentence(words):
                before_signature = b.signed and not b.measures_started
                where = "before the signature" if before_signature else "at the end of the text"
                reasons.append(f"{clause.path} ends mid-sentence {where}: '…{words[-12:]}' (pages missing)")
    for entry in b.attachments_listed:
        if not entry.fulfilled:
            reasons.append(f"附件{entry.number} ({entry.title}) is listed but not in the file")
    for gap in b.gaps:
        reasons.append(gap)
    if reasons:
        doc.complete = False
        doc.incomplete_reasons.extend(reasons)
