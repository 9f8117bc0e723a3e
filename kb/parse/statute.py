"""Statutes and amendment decisions: tokens -> front matter (title, history) + a declared tree.

A statute (法, 条例, 规定, 办法, 细则) is its title, its history lines (…通过, …第一次修正), maybe
a table of contents, then 编/章/节/条 with 款/项/目 (``kb.parse.grammar_tree.STATUTE``). An
amendment decision (关于修改《…》的决定, 修正案) is a preamble, amendments 一、二、… and closing
words (``DECISION``). Both read the same tokens (``kb.parse.tokens``); only their grammar differs.

Metadata comes from the text first (title line or the page's own ``Source.meta``, history
lines, 本条例自…起施行), then from the manifest for what the text does not say; each field's
origin is in ``Document.metadata_sources``.

What this module does not do: read notices (``kb.parse.notice``), or decide which genre a file
is (``kb.parse.genre``).
"""

from __future__ import annotations

import re

from .. import places
from ..model import Clause, Discarded, Document, Event, Source, clause_id, document_id
from ..text import TITLE_RE, cn_to_int, compact, normalize_text
from .document import _citations, assemble
from .grammar import DATE_LINE_RE, DATE_RE, parse_date
from .grammar_tree import DECISION, STATUTE, Node, build_tree
from .history import effective_date, force_of, parse_history, version_event
from .identity import title_key
from .lines import Line
from .tokens import ORDER_RE, Token, split_inline_items, tokenize

GRAMMARS = {"statute": STATUTE, "decision": DECISION}


# Path of a clause: which kinds carry their parent's path before their own label.
_OWN_PATH = frozenset({"article", "preamble", "closing", "attachment"})  # 第十条 is cited alone
_ORDER_NUMBER_RE = re.compile(r"^第[ \u3000]*[一二三四五六七八九十百零〇\d]+[ \u3000]*号$")  # "第700号" under "国务院令"
_ORDER_ONLY_RE = re.compile(r"^(?:中华人民共和国)?[\u4e00-\u9fff]{0,14}令$")  # "中华人民共和国国务院令"


def read_statute(
    lines: list[Line], source: Source, manifest: dict, genre: str, title_line: int | None = None
) -> tuple[Document, list[Discarded]]:
    """One statute or decision read from its lines; title_line: where ``detect_genre`` saw its title."""
    grammar = GRAMMARS[genre]
    start = lines[0].start if lines else 0
    meta = getattr(source, "meta", None) or {}
    discarded: list[Discarded] = []
    metadata_sources: dict[str, str] = {}
    page_title = normalize_text(meta.get("h1") or meta.get("title") or "")
    if title_line is None and page_title:  # the page names itself; its text may repeat the title
        title_line = next((k for k, line in enumerate(lines[:15]) if compact(line.text) == compact(page_title)), None)
    title = page_title or None
    head: list[Line] = []
    if title_line is not None:
        head, line = lines[:title_line], lines[title_line]
        title = normalize_text(line.text)
        discarded.append(Discarded(line.start, line.end, "title", line.text))
        lines = lines[title_line + 1 :]
    if title:
        metadata_sources["title"] = "text" if title_line is not None else "page"
    elif manifest.get("title"):
        title, metadata_sources["title"] = normalize_text(str(manifest["title"])), "manifest"
    events, identifiers = _promulgation(head, discarded)
    tokens = tokenize(split_inline_items(lines))
    more_events, more_identifiers, at = _front_matter(tokens, 0, discarded)
    events += more_events
    identifiers += [i for i in more_identifiers if i not in identifiers]
    tree = build_tree(tokens[at:], grammar)
    end = tokens[-1].end if tokens else start

    event = version_event(events)
    # Who made it: the body of the version's event, but a city's regulation is made by the city's
    # congress and only 批准 by the province's: the approval does not make the province its maker.
    maker = event if event and event.act != "批准" else next((e for e in reversed(events) if e.act == "通过" and e.body), event)
    issuer = maker.body if maker and maker.body else next((e.body for e in reversed(events) if e.body), None)
    if issuer is None and genre == "decision" and title and "关于" in title:
        issuer = title.split("关于")[0] or None  # 国务院关于修改《…》的决定
    issuers = [issuer] if issuer else []
    if issuers:
        metadata_sources["issuers"] = "text"
    elif manifest.get("issuers"):
        issuers, metadata_sources["issuers"] = list(manifest["issuers"]), "manifest"
    version_date = event.date if event else None
    if version_date:
        metadata_sources["version_date"] = "text"
    elif meta.get("published"):  # the page's own date (an HTML page's date meta)
        version_date, metadata_sources["version_date"] = str(meta["published"]), "page"
    elif manifest.get("issued") or manifest.get("date"):
        version_date, metadata_sources["version_date"] = str(manifest.get("issued") or manifest.get("date")), "manifest"
    place = _place(title, issuers)
    if place is None and manifest.get("jurisdiction"):
        j = manifest["jurisdiction"]
        place = (manifest.get("level"), j, places.province_of(j))
        metadata_sources["jurisdiction"] = "manifest"
    level, jurisdiction, province = place or (None, None, None)
    doc_number = normalize_text(manifest["doc_number"]) if manifest.get("doc_number") else None
    doc_id = document_id(doc_number, title_key(title or ""), jurisdiction)
    doc = Document(
        id=doc_id,
        doc_number=doc_number,
        title=title or "（无标题）",
        level=level,
        jurisdiction=jurisdiction,
        province=province,
        issued=version_date,
        issuers=issuers,
        kind=genre,
        metadata_sources=metadata_sources,
        genre=genre,
        force=force_of(genre, issuer) or manifest.get("force"),
        events=events,
        version_date=version_date,
        identifiers=identifiers,
        amends=_amends(title) if genre == "decision" else [],
        source=source,
        start=start,
        end=end,
    )
    doc.clauses = _clauses(tree.root, doc, source)
    doc.effective = effective_date(events, [c.text for c in doc.clauses])
    if doc.effective:
        metadata_sources["effective"] = "text"
    doc.citations = _citations(doc)
    reasons = list(tree.gaps)
    reasons += [f"{c.path} has no text (pages missing?)" for c in doc.clauses if c.kind == "article" and not c.text and not any(d.parent_id == c.id for d in doc.clauses)]
    if not doc.clauses:
        reasons.append("no text after the title and history (pages missing)")
    if reasons:
        doc.complete = False
        doc.incomplete_reasons = reasons
    return doc, discarded


# A promulgation order before the title: "中华人民共和国国务院令 / 第700号 / 《…》已经2018年5月2日
# 国务院第7次常务会议通过，现予公布，自2018年10月1日起施行。/ 总理 李克强 / 2018年6月29日".
_ORDER_PASSED_RE = re.compile(
    rf"""
    (?P<date>{DATE_RE.pattern})                      # 2018年5月2日
    (?P<meeting>[^，。]*?(?:会议|部务会|委务会|局务会|署务会))   # 国务院第7次常务会议, 人力资源社会保障部第5次部务会
    (?:审议)?通过                                     # 通过
    """,
    re.VERBOSE,
)
_ORDER_EFFECTIVE_RE = re.compile(rf"自(?P<date>{DATE_RE.pattern})起(?:施行|实施)", re.VERBOSE)  # 自2018年10月1日起施行


def _promulgation(head: list[Line], discarded: list[Discarded]) -> tuple[list[Event], list[str]]:
    """Events and identifiers of the order that promulgates the text, printed above its title."""
    if not head:
        return [], []
    text = normalize_text("".join(line.text for line in head)).replace(" ", "")
    order = ORDER_RE.search(text)
    reason = "promulgation-order" if order else "before-title"  # a page's breadcrumbs, say
    discarded.append(Discarded(head[0].start, head[-1].end, reason, text))
    identifier = order["order"] if order else None
    issuer = re.split("令|公告", identifier)[0] if identifier else None
    issuer = "中华人民共和国主席" if issuer == "主席" else issuer
    events: list[Event] = []
    if m := _ORDER_PASSED_RE.search(text):
        meeting = m["meeting"]
        body = next((b for b in ("国务院",) if b in meeting), None) or issuer
        events.append(Event(parse_date(m["date"]), body, "通过", m.group(0)))
    dated = [normalize_text(line.text) for line in head if DATE_LINE_RE.match(line.text)]
    if dated:
        events.append(Event(parse_date(dated[-1]), issuer, "公布", dated[-1], identifier))
    if m := _ORDER_EFFECTIVE_RE.search(text):
        events.append(Event(parse_date(m["date"]), None, "施行", m.group(0)))
    return events, [identifier] if identifier else []


def _front_matter(tokens: list[Token], at: int, discarded: list[Discarded]) -> tuple[list[Event], list[str], int]:
    """History, promulgation orders, comments and a table of contents before the body."""
    events: list[Event] = []
    identifiers: list[str] = []
    n = len(tokens)
    while at < n:
        token = tokens[at]
        text = normalize_text(token.text)
        if token.kind == "history":
            found = parse_history(token.text)
            events += found
            identifiers += [e.identifier for e in found if e.identifier and e.identifier not in identifiers]
            discarded.append(Discarded(token.start, token.end, "history", token.text))
        elif token.kind == "comment":
            discarded.append(Discarded(token.start, token.end, "comment", token.text))
        elif token.kind == "text" and (order := ORDER_RE.fullmatch(text.replace(" ", ""))):
            identifiers.append(order["order"])
            discarded.append(Discarded(token.start, token.end, "order", token.text))
        elif token.kind == "text" and _ORDER_ONLY_RE.match(text) and at + 1 < n and _ORDER_NUMBER_RE.match(normalize_text(tokens[at + 1].text)):
            name = re.sub(r"^中华人民共和国", "", text)
            identifiers.append(name + normalize_text(tokens[at + 1].text).replace(" ", ""))
            discarded.append(Discarded(token.start, tokens[at + 1].end, "order", token.text + tokens[at + 1].text))
            at += 1
        elif token.kind == "contents":
            at = _contents(tokens, at, discarded)
            continue
        else:
            break
        at += 1
    return events, identifiers, at


def _contents(tokens: list[Token], at: int, discarded: list[Discarded]) -> int:
    """Skip a table of contents: "目录", then headings up to where the first one comes again."""
    start = tokens[at].start
    first = None
    k = at + 1
    while k < len(tokens):
        token = tokens[k]
        if token.kind == "article":
            break
        if token.label and token.kind in ("book", "subbook", "chapter", "section"):
            if first is None:
                first = token.label
            elif token.label == first:
                break
        k += 1
    if first is None:  # "目录" and no headings: nothing to skip but the word
        k = at + 1
    discarded.append(Discarded(start, tokens[k - 1].end, "table-of-contents", ""))
    return k


def _place(title: str | None, issuers: list[str]) -> tuple | None:
    """Where the text applies: a place its title starts with (广东省…), else its maker's."""
    if title:
        head = title.split("关于")[0] if "关于" in title else title
        found = places.classify_issuer(head)
        if found is not None:
            return found
    return places.classify_issuers(issuers) if issuers else None


def _amends(title: str | None) -> list[str]:
    """The titles a decision amends: 关于修改《A》的决定, 关于修改《A》等六部法律的决定."""
    if not title:
        return []
    return [normalize_text(m["title"]).replace("〈", "《").replace("〉", "》") for m in TITLE_RE.finditer(title)]


def _path(node: Node) -> str:
    if node.kind in _OWN_PATH or node.parent is None or node.parent.kind == "root":
        return node.label
    return f"{_path(node.parent)}/{node.label}"


def _clauses(root: Node, doc: Document, source: Source) -> list[Clause]:
    clauses: list[Clause] = []
    ids: dict[int, str] = {}
    seen: dict[str, int] = {}
    for position, node in enumerate(root.walk()):
        path = _path(node)
        if path in seen:  # a repeated number: keep both, never overwrite
            seen[path] += 1
            path = f"{path}~{seen[path]}"
        else:
            seen[path] = 1
        cid = clause_id(doc.id, path)
        ids[id(node)] = cid
        text, spans = assemble(node.pieces)
        heading = normalize_text(node.heading.text) if node.heading else None
        depth = 0
        up: Node | None = node
        while up is not None and up.kind != "root":
            depth += 1
            up = up.parent
        clauses.append(
            Clause(
                id=cid,
                document_id=doc.id,
                path=path,
                label=node.label,
                kind=node.kind,
                heading=heading,
                text=text,
                parent_id=ids.get(id(node.parent)) if node.parent is not None else None,
                position=position,
                depth=depth,
                start=node.start,
                end=max([node.end, *(e for _, e in spans)]),
                text_spans=spans,
                heading_span=(node.heading.start, node.heading.end) if node.heading else None,
                source_path=source.path,
                source_sha256=source.sha256,
            )
        )
    return clauses


# 第十条第二款第三项第一目, 第一章第二节: how lawyers cite a clause.
CITATION_RE = re.compile(
    r"""
    ^(?:第(?P<chapter>[一二三四五六七八九十百零〇\d]+)章)?     # 第一章
    (?:第(?P<section>[一二三四五六七八九十百零〇\d]+)节)?      # 第二节
    (?:第(?P<article>[一二三四五六七八九十百千零〇\d]+)条      # 第十条
       (?:之(?P<sub>[一二三四五六七八九十]+))?)?            # 第十条之一
    (?:第(?P<paragraph>[一二三四五六七八九十\d]+)款)?        # 第二款
    (?:第(?P<item>[一二三四五六七八九十百\d]+)项)?           # 第三项
    (?:第(?P<point>[一二三四五六七八九十\d]+)目)?$           # 第一目
    """,
    re.VERBOSE,
)


def resolve_citation(document: Document, citation: str) -> Clause:
    """The clause a citation names: 第十条第二款第三项 -> 第十条/第二款/（三）.

    Numbers are compared as numbers, so 第10条 finds 第十条. Raises KeyError naming the
    document and the citation when the document has no such clause.
    """
    m = CITATION_RE.match(re.sub(r"\s", "", normalize_text(citation)))
    if not m or not any(m.groupdict().values()):
        raise KeyError(f"{document.id}: cannot read the citation {citation!r}: expected 第十条第二款第三项 or 第一章第二节")
    wanted = {k: n for k, v in m.groupdict().items() if v and (n := cn_to_int(v)) is not None}
    by_id = {c.id: c for c in document.clauses}

    def number(label: str) -> int | None:
        core = re.sub(r"^第|[章节条款]$|之.*$|[（）()]", "", label)
        return cn_to_int(core)

    def child(parent: Clause | None, kind: str, value: int) -> Clause | None:
        for c in document.clauses:
            in_parent = (c.parent_id == parent.id) if parent is not None else True
            if c.kind == kind and in_parent and number(c.label) == value:
                if kind == "article" and ("之" in c.label) != ("sub" in wanted):
                    continue
                if kind == "article" and "sub" in wanted and cn_to_int(c.label.split("之")[1]) != wanted["sub"]:
                    continue
                return c
        return None

    found: Clause | None = None
    if "chapter" in wanted:
        found = child(None, "chapter", wanted["chapter"])
    if found is not None or "chapter" not in wanted:
        if "section" in wanted:
            found = child(found, "section", wanted["section"]) if found is not None else None
        if "article" in wanted:
            found = child(None, "article", wanted["article"])
            if found is not None and wanted.get("paragraph", 1) > 1:
                found = child(found, "paragraph", wanted["paragraph"])
            if found is not None and "item" in wanted:
                found = child(found, "item", wanted["item"])
            if found is not None and "point" in wanted:
                found = child(found, "point", wanted["point"])
    if found is None or (found.parent_id and found.parent_id not in by_id):
        raise KeyError(f"{document.id} has no clause {citation!r}")
    return found
