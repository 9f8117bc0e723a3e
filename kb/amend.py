"""Amendment decisions (修改决定): read the operations, apply them to the earlier version, check.

A decision amends a law by numbered items, each one or more operations written in a fixed
legislative style (``OPERATION`` below declares them):

- 将第二条修改为“…”                       rewrite an article (or 第N条第M款 a paragraph, 第N条第K项 an item)
- 将第三条第二款中的“A”修改为“B”          replace words within an article, paragraph or item
- 将第二条第二项修改为“…”，第四项修改为“…”  an operation that names no article continues the previous one's
- 删去第九条 / 删去第九条第二款 / 删去第九条中的“A”
- 增加一条，作为第七条：“…”               insert an article at that place of the new numbering
- 第十条增加一款，作为第二款：“…”          insert a paragraph
- 第五条改为第六条                        move an article to another number
- 条文顺序作相应调整                       renumber the articles that follow

References name the articles of the earlier version (a decision is written against it); only
an inserted article's 作为第N条 names the new numbering. ``apply`` makes the amended text with
provenance: every article, paragraph and item carries the items of the decision that made it.
An operation that cannot be applied (the article it names does not exist, the quoted words are
not found) is reported with the decision's item number and is not applied: never guessed.

``compare`` sets the applied text against the consolidated version as published: what differs
is ``unexplained`` (a decision may say "个别文字作相应调整" and not spell those changes out).

It does not update cross-references inside the texts (本法第十五条) after renumbering; the
published version does, and ``compare`` shows them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from .align import clause_kind
from .chardiff import char_spans
from .model import Clause
from .text import cn_to_int, compact, normalize_text

# One numeral, Chinese or Arabic, as decisions print article, paragraph and item numbers.
_N = r"[〇零一二三四五六七八九十百千两\d]+"

_REF = rf"""
    (?:第(?P<{{p}}art>{_N})条)?     # 第N条: the article (absent: the previous operation's)
    (?:第(?P<{{p}}para>{_N})款)?    # 第M款: a paragraph of it
    (?:第(?P<{{p}}item>{_N})项)?    # 第K项: an item of it (of the first paragraph, or of 第M款)
"""


def _ref(prefix: str) -> str:
    return _REF.replace("{p}", prefix)


# The operations of a decision, one alternative each; the first that matches at a place wins, so
# the more specific come first (words in an article before the article rewritten).
OPERATION = re.compile(
    rf"""
    (?P<reorder>条文顺序(?:和个别文字)?作相应(?:的)?调整)                       # renumber the articles that follow
    |
    (?P<replace>(?:将)?{_ref("w_")}中的“(?P<w_old>[^”]+)”(?:修改|改)为“(?P<w_new>[^”]*)”)  # replace words
    |
    (?P<delete_words>删去{_ref("dw_")}中的“(?P<dw_old>[^”]+)”)                # delete words
    |
    (?P<delete>删去{_ref("d_")}(?![中的]))                                    # delete an article, paragraph or item
    |
    (?P<insert_article>增加一条[，,]?作为第(?P<ia_to>{_N})条[：:]?“(?P<ia_text>[^”]+)”)  # insert an article
    |
    (?P<insert_paragraph>(?:在)?{_ref("ip_")}(?:中)?增加一款[，,]?作为第(?P<ip_to>{_N})款[：:]?“(?P<ip_text>[^”]+)”)  # insert a paragraph
    |
    (?P<move>(?:将)?第(?P<mv_art>{_N})条改为第(?P<mv_to>{_N})条)              # move an article to another number
    |
    (?P<rewrite>(?:将)?{_ref("r_")}(?:修改|改)为[：:]?“(?P<r_text>[^”]+)”)    # rewrite an article, paragraph or item
    """,
    re.VERBOSE,
)
# Which prefix each alternative's reference groups carry.
_PREFIX = {"replace": "w_", "delete_words": "dw_", "delete": "d_", "insert_paragraph": "ip_", "rewrite": "r_"}

# An item of the decision: 一、 at the start of a line.
_DECISION_ITEM = re.compile(
    rf"""
    ^[ \t\u3000]*                 # indentation
    (?P<label>{_N})               # the item's numeral: 一
    [、．.]                        # and its mark
    """,
    re.VERBOSE | re.MULTILINE,
)

# An item label at the start of a text (（二）春节…): dropped from quoted item texts.
_ITEM_LABEL = re.compile(
    rf"""
    ^[（(]{_N}[）)]               # （二） or (二)
    """,
    re.VERBOSE,
)
_ARTICLE_LABEL = re.compile(
    rf"""
    ^第{_N}条[ \u3000]*            # 第七条 and the space after it, at the start of a quoted article
    """,
    re.VERBOSE,
)
_CLOSING_PUNCT = "；;。，,："  # an item's closing mark belongs to the list: kept when a quote omits it


def _cn(n: int) -> str:
    """7 -> 七, 12 -> 十二, 105 -> 一百零五 (as articles are numbered)."""
    import cn2an

    return cn2an.an2cn(n, "low")


@dataclass
class Operation:
    item: str  # the decision's item number: 一
    kind: str  # rewrite | replace | delete | insert-article | insert-paragraph | move | reorder
    words: str  # the operation as printed
    article: int | None = None  # numbers in the earlier version (insert: in the new one)
    paragraph: int | None = None
    sub_item: int | None = None
    old: str | None = None  # replace: the words replaced
    new: str | None = None  # rewrite / insert: the text; replace: the replacement
    to: int | None = None  # insert / move: the new number

    @property
    def cites(self) -> str:
        return f"{self.item}: {self.words}"


@dataclass
class Failed:
    item: str
    operation: str
    reason: str


@dataclass
class Item:
    text: str
    made_by: list[str] = field(default_factory=list)


@dataclass
class Paragraph:
    text: str
    items: list[Item] = field(default_factory=list)
    made_by: list[str] = field(default_factory=list)


@dataclass
class Article:
    original: str | None  # its label in the earlier version; None: inserted by the decision
    paragraphs: list[Paragraph]
    made_by: list[str] = field(default_factory=list)
    deleted: bool = False
    label: str = ""  # in the amended version


@dataclass
class AmendedClause:
    path: str
    label: str
    text: str
    made_by: list[str] = field(default_factory=list)  # the decision's operations that made it, "一: 将…"


@dataclass
class Amendment:
    """The result of applying a decision: the amended clauses, what failed, and (checked) what differs."""

    decision: dict
    document: dict
    operations: list[Operation]
    clauses: list[AmendedClause]
    failed: list[Failed]
    notes: list[str] = field(default_factory=list)
    against: dict | None = None
    unexplained: list[dict] | None = None

    def to_dict(self) -> dict:
        data: dict = {
            "decision": self.decision,
            "document": self.document,
            "operations": [asdict(o) for o in self.operations],
            "clauses": [asdict(c) for c in self.clauses],
            "failed": [asdict(f) for f in self.failed],
            "notes": self.notes,
        }
        if self.against is not None:
            data["against"] = self.against
            data["unexplained"] = self.unexplained
        return data


# -- reading a decision -------------------------------------------------------------------


def decision_items(text: str) -> list[tuple[str, str]]:
    """(item number, its text) of a decision; text after the last item goes with the label "此外"
    when it holds an operation (the closing "此外，对条文顺序……作相应调整")."""
    text = normalize_text(text).replace("\r", "")
    starts = list(_DECISION_ITEM.finditer(text))
    items = []
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        body = text[m.end() : end]
        label = m.group("label")
        # the closing paragraphs ("此外，……", "本决定自……起施行") are no part of the last item
        if k + 1 == len(starts):
            head, _sep, rest = body.partition("\n\n")
            while rest and not (rest.lstrip().startswith(("此外", "另外")) or OPERATION.search(rest.split("\n\n")[0])):
                more, _sep, rest = rest.partition("\n\n")
                head += "\n\n" + more
            items.append((label, head.strip()))
            if rest.strip():
                items.append(("此外", rest.strip()))
        else:
            items.append((label, body.strip()))
    if not starts and text.strip():
        items.append(("一", text.strip()))
    return items


def _number(numeral: str | None) -> int | None:
    return cn_to_int(numeral) if numeral else None


def read_operations(text: str) -> list[Operation]:
    """Every operation of a decision, in order, each with the number of the item it is in."""
    operations: list[Operation] = []
    for label, body in decision_items(text):
        body = body.replace("\n", "")  # a quote that runs over lines is one quote; paragraphs kept below
        previous: dict[str, int | None] = {}
        for m in OPERATION.finditer(body):
            g = m.groupdict()
            kind = next(k for k in ("reorder", "insert_article", "move", *_PREFIX) if g[k])
            words = m.group(0)
            if kind == "reorder":
                operations.append(Operation(label, "reorder", words))
                continue
            if kind == "insert_article":
                operations.append(Operation(label, "insert-article", words, to=_number(g["ia_to"]), new=g["ia_text"]))
                continue
            if kind == "move":
                operations.append(Operation(label, "move", words, article=_number(g["mv_art"]), to=_number(g["mv_to"])))
                previous = {"art": _number(g["mv_art"]), "para": None}
                continue
            prefix = _PREFIX[kind]
            ref = {level: _number(g[prefix + level]) for level in ("art", "para", "item")}
            # a reference inherits from the previous one every level above its own highest:
            # "第四项" after "将第二条第二项…" is 第二条第四项; "第三款" after "第二条第二款" is 第二条第三款
            if ref["art"] is None:
                ref["art"] = previous.get("art")
                if ref["para"] is None and ref["item"] is not None:
                    ref["para"] = previous.get("para")
            previous = ref
            op = Operation(label, kind.replace("_", "-"), words, article=ref["art"], paragraph=ref["para"], sub_item=ref["item"])
            if kind == "replace":
                op.old, op.new = g["w_old"], g["w_new"]
            elif kind == "delete_words":
                op.kind, op.old, op.new = "replace", g["dw_old"], ""
            elif kind == "insert_paragraph":
                op.to, op.new = _number(g["ip_to"]), g["ip_text"]
            elif kind == "rewrite":
                op.new = g["r_text"]
            operations.append(op)
    return operations


# -- the earlier version as articles, paragraphs and items ---------------------------------


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").split("\n") if line.strip()]


def articles_of(clauses: list[Clause]) -> list[Article]:
    """The articles of a law, each as paragraphs (款) with their items (项).

    Works on the statute tree (``第十条``, ``第十条/第二款``, ``第十条/（一）``) and on an article
    whose paragraphs are lines of its text.
    """
    ordered = sorted(clauses, key=lambda c: c.position)
    articles: list[Article] = []
    by_path: dict[str, Article] = {}
    paragraph_at: dict[str, Paragraph] = {}
    for c in ordered:
        kind = clause_kind(c)
        if kind == "article":
            lines = _split_lines(c.full_text) or [""]
            article = Article(c.label, [])
            for line in lines:
                if _ITEM_LABEL.match(line) and article.paragraphs:
                    article.paragraphs[-1].items.append(Item(_ITEM_LABEL.sub("", line)))
                else:
                    article.paragraphs.append(Paragraph(line))
            articles.append(article)
            by_path[c.path] = article
            paragraph_at[c.path] = article.paragraphs[0]
            continue
        owner_path = next((p for p in by_path if c.path.startswith(p + "/")), None)
        if owner_path is None:
            continue
        article = by_path[owner_path]
        rest = c.path[len(owner_path) + 1 :].split("/")
        if kind == "paragraph" or re.fullmatch(rf"第{_N}款", rest[-1]):
            lines = _split_lines(c.full_text) or [""]
            paragraph = Paragraph(lines[0], [Item(_ITEM_LABEL.sub("", x)) for x in lines[1:]])
            article.paragraphs.append(paragraph)
            paragraph_at[c.path] = paragraph
        elif len(rest) >= 1 and _ITEM_LABEL.match(rest[-1]):
            parent = "/".join(c.path.split("/")[:-1])
            paragraph = paragraph_at.get(parent, article.paragraphs[0])
            paragraph.items.append(Item(c.full_text.strip()))
        else:  # 目 and deeper: kept with their item's text
            target = article.paragraphs[-1]
            if target.items:
                target.items[-1].text += "\n" + c.full_text.strip()
            else:
                target.text += "\n" + c.full_text.strip()
    return articles


def _flatten(articles: list[Article]) -> list[AmendedClause]:
    """The amended version as clauses with the statute paths of the shared contract."""
    out: list[AmendedClause] = []
    for a in articles:
        if a.deleted:
            continue
        first = a.paragraphs[0] if a.paragraphs else Paragraph("")
        out.append(AmendedClause(a.label, a.label, first.text, sorted(set(a.made_by + first.made_by))))
        for k, paragraph in enumerate(a.paragraphs):
            base = a.label if k == 0 else f"{a.label}/第{_cn(k + 1)}款"
            if k > 0:
                out.append(AmendedClause(base, f"第{_cn(k + 1)}款", paragraph.text, list(paragraph.made_by)))
            for j, item in enumerate(paragraph.items):
                label = f"（{_cn(j + 1)}）"
                out.append(AmendedClause(f"{base}/{label}", label, item.text, list(item.made_by)))
    return out


# -- applying ------------------------------------------------------------------------------


def _quoted_paragraphs(text: str) -> list[Paragraph]:
    lines = _split_lines(_ARTICLE_LABEL.sub("", text.strip()))
    paragraphs: list[Paragraph] = []
    for line in lines or [""]:
        if _ITEM_LABEL.match(line) and paragraphs:
            paragraphs[-1].items.append(Item(_ITEM_LABEL.sub("", line)))
        else:
            paragraphs.append(Paragraph(line))
    return paragraphs


def _keep_closing(old: str, new: str) -> str:
    """A quoted item without its closing mark keeps the list's: （二）…放假4天（…） + "；"."""
    if new and new[-1] not in _CLOSING_PUNCT and old and old[-1] in _CLOSING_PUNCT:
        return new + old[-1]
    return new


def _where(op: Operation) -> str:
    parts = [f"第{_cn(op.article)}条" if op.article else "", f"第{_cn(op.paragraph)}款" if op.paragraph else "", f"第{_cn(op.sub_item)}项" if op.sub_item else ""]
    return "".join(parts) or "(no article named)"


def apply(decision_text: str, clauses: list[Clause], decision_meta: dict | None = None, document_meta: dict | None = None) -> Amendment:
    """Apply a decision's operations to the earlier version's clauses (see the module docstring)."""
    operations = read_operations(decision_text)
    articles = articles_of(clauses)
    by_number = {cn_to_int(a.original[1:-1]): a for a in articles if a.original and a.original.startswith("第")}
    failed: list[Failed] = []
    notes: list[str] = []
    inserted: list[tuple[int, Article]] = []
    moved: list[tuple[int, Article]] = []
    reorder: Operation | None = None

    def fail(op: Operation, reason: str) -> None:
        failed.append(Failed(op.item, op.words, reason))

    for op in operations:
        if op.kind == "reorder":
            reorder = op
            continue
        if op.kind == "insert-article":
            article = Article(None, _quoted_paragraphs(op.new or ""), [op.cites])
            for p in article.paragraphs:
                p.made_by.append(op.cites)
                for it in p.items:
                    it.made_by.append(op.cites)
            inserted.append((op.to or 0, article))
            continue
        found = by_number.get(op.article) if op.article else None
        if found is None or found.deleted:
            fail(op, f"{_where(op)}: the earlier version has no such article" + (" (deleted by an earlier operation)" if found else ""))
            continue
        article = found
        if op.kind == "move":
            moved.append((op.to or 0, article))
            article.made_by.append(op.cites)
            continue
        paragraph = None
        if op.paragraph is not None:
            if not 1 <= op.paragraph <= len(article.paragraphs):
                fail(op, f"{_where(op)}: {article.original} has {len(article.paragraphs)} paragraph(s)")
                continue
            paragraph = article.paragraphs[op.paragraph - 1]
        item = None
        if op.sub_item is not None:
            holder = paragraph or article.paragraphs[0]
            if not 1 <= op.sub_item <= len(holder.items):
                fail(op, f"{_where(op)}: {'that paragraph' if paragraph else article.original} has {len(holder.items)} item(s)")
                continue
            item = holder.items[op.sub_item - 1]
        if op.kind == "delete":
            if item is not None:
                (paragraph or article.paragraphs[0]).items.remove(item)
                (paragraph or article.paragraphs[0]).made_by.append(op.cites)
            elif paragraph is not None:
                article.paragraphs.remove(paragraph)
                article.made_by.append(op.cites)
            else:
                article.deleted = True
            continue
        if op.kind == "insert-paragraph":
            at = (op.to or len(article.paragraphs) + 1) - 1
            if not 0 <= at <= len(article.paragraphs):
                fail(op, f"{_where(op)}: cannot insert as paragraph {op.to} of {len(article.paragraphs)}")
                continue
            new_paragraphs = _quoted_paragraphs(op.new or "")
            for p in new_paragraphs:
                p.made_by.append(op.cites)
            article.paragraphs[at:at] = new_paragraphs
            continue
        if op.kind == "rewrite":
            if item is not None:
                item.text = _keep_closing(item.text, _ITEM_LABEL.sub("", (op.new or "").strip()))
                item.made_by.append(op.cites)
            elif paragraph is not None:
                quoted = _quoted_paragraphs(op.new or "")
                paragraph.text = quoted[0].text
                if quoted[0].items:
                    paragraph.items = quoted[0].items
                paragraph.made_by.append(op.cites)
            else:
                article.paragraphs = _quoted_paragraphs(op.new or "")
                for p in article.paragraphs:
                    p.made_by.append(op.cites)
                    for it in p.items:
                        it.made_by.append(op.cites)
            continue
        # replace words within the named scope: every occurrence there
        parts: list[Item | Paragraph]
        if item is not None:
            parts = [item]
        elif paragraph is not None:
            parts = [paragraph, *paragraph.items]
        else:
            parts = []
            for p in article.paragraphs:
                parts += [p, *p.items]
        hits = [x for x in parts if (op.old or "") in x.text]
        if not hits:
            fail(op, f"{_where(op)}: “{op.old}” is not in the earlier version's text there")
            continue
        for x in hits:
            x.text = x.text.replace(op.old or "", op.new or "")
            x.made_by.append(op.cites)

    survivors = [a for a in articles if not a.deleted and all(a is not m for _, m in moved)]
    numbering_changed = bool(inserted or moved or len(survivors) != len(articles))
    final = list(survivors)
    for to, article in sorted(inserted + moved, key=lambda t: t[0]):
        final.insert(max(to - 1, 0), article)
    if numbering_changed and reorder is None:
        notes.append("the decision inserts, deletes or moves articles but does not say 条文顺序作相应调整: the articles were renumbered in order anyway")
    for k, article in enumerate(final, start=1):
        article.label = f"第{_cn(k)}条"
        if numbering_changed and article.original and article.original != article.label:
            why = reorder.cites if reorder else "renumbered in order"
            article.made_by.append(f"{why} ({article.original} → {article.label})")
    for to, article in inserted:
        if article.label != f"第{_cn(to)}条":
            notes.append(f"an article inserted as 第{_cn(to)}条 ended as {article.label}")
    return Amendment(decision_meta or {}, document_meta or {}, operations, _flatten(final), failed, notes)


def compare(amendment: Amendment, published: list[Clause], published_meta: dict | None = None) -> Amendment:
    """Set the applied text against the published version: every clause that differs, with spans."""
    theirs = {c.path: c for c in _flatten(_labelled(articles_of(published)))}
    ours = {c.path: c for c in amendment.clauses}
    unexplained = []
    for path in list(ours) + [p for p in theirs if p not in ours]:
        a, b = ours.get(path), theirs.get(path)
        old, new = (a.text if a else ""), (b.text if b else "")
        if compact(old) == compact(new):
            continue
        spans = char_spans(normalize_text(old), normalize_text(new), keys=("applied_at", "published_at"))
        unexplained.append(
            {
                "path": path,
                "applied": old if a else None,
                "published": new if b else None,
                "spans": spans,
                "made_by": a.made_by if a else [],
            }
        )
    amendment.against = published_meta or {}
    amendment.unexplained = unexplained
    return amendment


def _labelled(articles: list[Article]) -> list[Article]:
    for a in articles:
        a.label = a.original or ""
    return articles


# -- what DECISION, DOCUMENT and PUBLISHED name -------------------------------------------


def decision_text_of(clauses: list[Clause]) -> str:
    """A decision read back from the knowledge base, as the lines it was printed in (一、…)."""
    lines = []
    for c in sorted(clauses, key=lambda c: c.position):
        label = c.label if _DECISION_ITEM.match(f"{c.label}、") else ""
        lines.append(f"{label}、{c.full_text}" if label else c.full_text)
    return "\n\n".join(lines)


def resolve(conn, spec: str, decision: bool = False) -> tuple[list[Clause], str | None, dict]:
    """(clauses, the decision's text or None, provenance) of a file or a knowledge-base id."""
    from pathlib import Path

    from .diff import resolve_side
    from .parse import parse_file

    if decision and Path(spec).is_file():
        parsed = parse_file(spec)
        text = parsed.source.text
        title = next((line.strip() for line in text.splitlines() if line.strip()), spec)
        return [], text, {"name": spec, "title": title, "source": spec, "sha256": parsed.source.sha256}
    side, _ = resolve_side(conn, spec)
    meta = {"name": side.name, "title": side.title, **side.provenance}
    return side.clauses, (decision_text_of(side.clauses) if decision else None), meta


# -- at build time: a decision in the corpus makes a derived version ------------------------

_PATH_KIND = (
    (re.compile(rf"^第{_N}条$"), "article"),
    (re.compile(rf"/第{_N}款$"), "paragraph"),
    (re.compile(r"/（[^/]+）$"), "item"),
)


def _clause_kind_of_path(path: str) -> str:
    return next((kind for pattern, kind in _PATH_KIND if pattern.search(path)), "point")


def derived_versions(versions: list, problems: list | None = None) -> list:
    """For each amendment decision among the versions, the version of the law it makes.

    The decision is applied to the latest version of the law it amends (``Document.amends``,
    matched by title or id) dated before it. The result joins that law's versions numbered after
    the published ones, ``ordered_by = "derived: <decision id>"``: never the latest (the published
    text is the law; a derived one is there to be checked against it and cited as what the
    decision says), never chosen by ``as_of``. Its clauses carry the decision's source and sha256;
    ``changes`` holds the version it was derived from, the operations that made each clause and
    the operations that failed, which are also reported as ``problems`` (warnings).
    """
    from dataclasses import replace

    from .model import clause_id
    from .parse import Problem
    from .versions import DocumentVersion

    decisions = [v for v in versions if getattr(v.document, "genre", "") == "decision" and getattr(v.document, "amends", None)]
    by_key: dict[str, list] = {}
    for v in versions:
        if getattr(v.document, "genre", "") == "decision":
            continue
        for key in {v.document.title, v.document_id}:
            by_key.setdefault(compact(key or ""), []).append(v)
    next_number = {v.document_id: v.version for v in versions}
    for v in versions:
        next_number[v.document_id] = max(next_number[v.document_id], v.version)
    derived = []
    for dv in decisions:
        decision = dv.document
        decision_path = decision.source.path if decision.source else dv.document_id
        manifest_date = (decision.source.manifest or {}).get("date") if decision.source else None
        date = str(manifest_date or getattr(decision, "version_date", None) or decision.issued or "")
        for title in decision.amends:
            candidates = sorted(by_key.get(compact(title), []), key=lambda v: v.version)
            if not date:  # which version it amends cannot be told: not guessed
                if problems is not None and candidates:
                    problems.append(Problem(decision_path, None, f"amends 《{title}》 but carries no date: give it one in manifest.toml (date = …) to apply it", "warning"))
                continue
            earlier = [v for v in candidates if (getattr(v.document, "version_date", None) or v.document.issued or "") < date]
            if not earlier:
                if problems is not None:
                    problems.append(Problem(decision_path, None, f"amends 《{title}》, but no earlier version of it is in the corpus: not applied", "warning"))
                continue
            base = earlier[-1]
            result = apply(decision_text_of(decision.clauses), base.document.clauses)
            doc_id = base.document_id
            by_path: dict[str, Clause] = {}
            clauses = []
            for position, c in enumerate(result.clauses):
                parent_path = c.path.rsplit("/", 1)[0] if "/" in c.path else None
                parent = by_path.get(parent_path) if parent_path else None
                clause = Clause(
                    id=clause_id(doc_id, c.path),
                    document_id=doc_id,
                    path=c.path,
                    label=c.label,
                    kind=_clause_kind_of_path(c.path),
                    heading=None,
                    text=c.text,
                    parent_id=parent.id if parent else None,
                    position=position,
                    depth=c.path.count("/") + 1,
                    source_path=decision_path,
                    source_sha256=decision.source.sha256 if decision.source else "",
                )
                by_path[c.path] = clause
                clauses.append(clause)
            document = replace(base.document, clauses=clauses, source=decision.source, citations=[])
            if hasattr(document, "version_date"):
                document.version_date = date or None
            next_number[doc_id] += 1
            document.version = next_number[doc_id]
            changes = {
                "derived_from": base.version,
                "decision": dv.document_id,
                "made_by": {c.path: c.made_by for c in result.clauses if c.made_by},
                "failed": [asdict(f) for f in result.failed],
                "notes": result.notes,
            }
            derived.append(DocumentVersion(doc_id, document.version, document, f"derived: {dv.document_id}", changes))
            for f in result.failed:
                if problems is not None:
                    problems.append(Problem(decision_path, None, f"item {f.item}: {f.reason} — not applied to 《{title}》", "warning"))
    return derived


# -- rendering -----------------------------------------------------------------------------


def to_json(amendment: Amendment) -> str:
    return json.dumps(amendment.to_dict(), ensure_ascii=False, indent=2)


def to_markdown(amendment: Amendment) -> str:
    d, t = amendment.decision, amendment.document
    lines = [f"# {d.get('title') or d.get('name', 'decision')} applied to {t.get('title') or t.get('name', '')}", ""]
    for what, meta in (("decision", d), ("earlier version", t), ("published version", amendment.against)):
        if meta:
            lines.append(f"- {what}: {meta.get('name', '')}" + (f", sha256 {meta['sha256']}" if meta.get("sha256") else ""))
    lines += ["", f"## Operations ({len(amendment.operations)})", ""]
    lines += [f"- {o.item}: {o.kind} {o.words}" for o in amendment.operations]
    if amendment.failed:
        lines += ["", f"## Not applied ({len(amendment.failed)})", ""]
        lines += [f"- item {f.item}: {f.reason} — {f.operation}" for f in amendment.failed]
    if amendment.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in amendment.notes]
    if amendment.unexplained is not None:
        lines += ["", f"## Differences from the published version the decision does not spell out ({len(amendment.unexplained)})", ""]
        for u in amendment.unexplained:
            changes = " · ".join(("~~" if s["op"] == "delete" else "**") + s["text"] + ("~~" if s["op"] == "delete" else "**") for s in u["spans"])
            lines.append(f"- {u['path']}: {changes}")
    lines += ["", "## Amended text", ""]
    for c in amendment.clauses:
        made = f"  ← {'; '.join(c.made_by)}" if c.made_by else ""
        lines.append(f"- **{c.path}** {c.text}{made}")
    return "\n".join(lines) + "\n"


RENDERERS = {"json": to_json, "md": to_markdown}
