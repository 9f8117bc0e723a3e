"""Diff stage: what changed between two versions of a notice, or between two notices.

Clauses are aligned before anything is diffed:
1. same relative path and similar text (a clause edited in place);
2. then by heading and text similarity, best pairs first (a renumbered or moved clause);
3. then same relative path at a lower similarity (a clause rewritten in place).
Within each aligned pair the text is diffed character by character with diff-match-patch
and semantic clean-up; changed numbers are called out from the parameters on both sides.

Comparing a provincial notice with a city's restatement uses the same alignment on
localised text (我省/我市 …), so a restated item finds its source whatever it is numbered.

Output: a ``DiffReport`` rendered as JSON, Markdown (for pasting into a paper) or one
self-contained HTML page (side by side, readable offline). All corpus text is escaped.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from .chardiff import char_spans
from .errors import NotFoundError
from .link import localise
from .model import Clause
from .params import compare_parameters, extract_parameters
from .parse import parse_file
from .text import compact, normalize_docno, normalize_text

SAME_PATH_MIN = 0.5  # same path, at least this similar: edited in place
MOVED_MIN = 0.6  # different path, at least this similar: renumbered or moved
REWRITTEN_MIN = 0.25  # same path, rewritten: still reported as changed, not removed + added



@dataclass
class Side:
    """One side of a diff: a titled list of clauses with paths relative to its root."""

    name: str  # what the reader called it: "辽人社发〔2021〕7号@2", a file path, a clause id
    title: str
    clauses: list[Clause]
    root_path: str = ""  # a subtree: paths are reported relative to it
    provenance: dict = field(default_factory=dict)

    def rel(self, clause: Clause) -> str:
        if self.root_path and clause.path.startswith(self.root_path + "/"):
            return clause.path[len(self.root_path) + 1 :]
        return clause.path


@dataclass
class Entry:
    status: str  # changed | added | removed | moved | unchanged
    path: str
    label: str
    old: str | None
    new: str | None
    old_path: str | None = None
    new_path: str | None = None
    old_clause_id: str | None = None
    new_clause_id: str | None = None
    spans: list[dict] = field(default_factory=list)
    numbers: list[dict] = field(default_factory=list)
    similarity: float | None = None


@dataclass
class DiffReport:
    a: dict
    b: dict
    changed: list[Entry]
    added: list[Entry]
    removed: list[Entry]
    moved: list[Entry]
    unchanged: int
    unchanged_paths: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.moved)

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "changed": [asdict(e) for e in self.changed],
            "added": [asdict(e) for e in self.added],
            "removed": [asdict(e) for e in self.removed],
            "moved": [asdict(e) for e in self.moved],
            "unchanged": self.unchanged,
        }


def _words(clause: Clause) -> str:
    return clause.full_text


def _comparable(clause: Clause, cross: bool) -> str:
    return localise(_words(clause))[0] if cross else compact(_words(clause))


def _similar(x: str, y: str) -> float:
    if not x and not y:
        return 1.0
    if not x or not y:
        return 0.0
    return fuzz.ratio(x, y) / 100


def number_changes(old: Clause, new: Clause) -> list[dict]:
    """Numbers that differ between two versions of a clause: 24个月 → 36个月."""
    changes = compare_parameters(extract_parameters(old.id, _words(old)), extract_parameters(new.id, _words(new)))
    return [{"what": c.get("what"), "old": c.get("provincial"), "new": c.get("city")} for c in changes]


def align(a: Side, b: Side, cross: bool = False) -> list[tuple[Clause | None, Clause | None, float]]:
    """Pairs (old, new, similarity); None on one side for removed / added clauses."""
    old = [c for c in a.clauses if _words(c)]
    new = [c for c in b.clauses if _words(c)]
    old_text = {c.id: _comparable(c, cross) for c in old}
    new_text = {c.id: _comparable(c, cross) for c in new}
    pairs: list[tuple[Clause | None, Clause | None, float]] = []
    used_old: set[str] = set()
    used_new: set[str] = set()

    def take(o: Clause, n: Clause, s: float) -> None:
        pairs.append((o, n, s))
        used_old.add(o.id)
        used_new.add(n.id)

    new_by_path = {b.rel(c): c for c in new}
    if not cross:
        for o in old:
            n = new_by_path.get(a.rel(o))
            if n is not None:
                s = _similar(old_text[o.id], new_text[n.id])
                if s >= SAME_PATH_MIN and n.id not in used_new:
                    take(o, n, s)
    scored = []
    rest_new = [n for n in new if n.id not in used_new]
    for o in old:
        if o.id in used_old:
            continue
        for n in rest_new:
            s = _similar(old_text[o.id], new_text[n.id])
            if o.heading and n.heading and compact(o.heading) == compact(n.heading):
                s = max(s, 0.5 + s / 2)
            if s >= MOVED_MIN:
                scored.append((s, o, n))
    scored.sort(key=lambda t: -t[0])
    for s, o, n in scored:
        if o.id not in used_old and n.id not in used_new:
            take(o, n, s)
    if not cross:
        for o in old:
            n = new_by_path.get(a.rel(o))
            if o.id not in used_old and n is not None and n.id not in used_new:
                s = _similar(old_text[o.id], new_text[n.id])
                if s >= REWRITTEN_MIN:
                    take(o, n, s)
    pairs += [(o, None, 0.0) for o in old if o.id not in used_old]
    pairs += [(None, n, 0.0) for n in new if n.id not in used_new]
    return pairs


def _side_meta(side: Side) -> dict:
    return {"name": side.name, "title": side.title, "root": side.root_path, **side.provenance}


def diff_sides(a: Side, b: Side, cross: bool = False) -> DiffReport:
    """Diff two sides; ``cross`` for two different notices (no renumbering is reported)."""
    changed: list[Entry] = []
    added: list[Entry] = []
    removed: list[Entry] = []
    moved: list[Entry] = []
    unchanged_paths: list[str] = []
    order = {c.id: k for k, c in enumerate(b.clauses)}
    order_a = {c.id: k for k, c in enumerate(a.clauses)}
    for o, n, s in align(a, b, cross):
        if o is None:
            added.append(Entry("added", b.rel(n), n.label, None, _words(n), new_path=b.rel(n), new_clause_id=n.id))
            continue
        if n is None:
            removed.append(Entry("removed", a.rel(o), o.label, _words(o), None, old_path=a.rel(o), old_clause_id=o.id))
            continue
        same_words = compact(_words(o)) == compact(_words(n))
        path_moved = a.rel(o) != b.rel(n) and not cross
        entry = Entry(
            "changed",
            b.rel(n),
            n.label,
            _words(o),
            _words(n),
            old_path=a.rel(o),
            new_path=b.rel(n),
            old_clause_id=o.id,
            new_clause_id=n.id,
            similarity=round(s, 3),
        )
        if path_moved:
            moved.append(Entry(**{**asdict(entry), "status": "moved"}))
        if not same_words:
            entry.spans = char_spans(_words(o), _words(n))
            entry.numbers = number_changes(o, n)
            changed.append(entry)
        elif not path_moved:
            unchanged_paths.append(b.rel(n))
    changed.sort(key=lambda e: order.get(e.new_clause_id, 0))
    moved.sort(key=lambda e: order.get(e.new_clause_id, 0))
    added.sort(key=lambda e: order.get(e.new_clause_id, 0))
    removed.sort(key=lambda e: order_a.get(e.old_clause_id, 0))
    return DiffReport(_side_meta(a), _side_meta(b), changed, added, removed, moved, len(unchanged_paths), unchanged_paths)


# -- rendering ---------------------------------------------------------------------------


def to_json(report: DiffReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def _md_spans(entry: Entry) -> str:
    parts = []
    for span in entry.spans:
        mark = "~~" if span["op"] == "delete" else "**"
        parts.append(f"{mark}{span['text']}{mark}")
    return " · ".join(parts)


def to_markdown(report: DiffReport) -> str:
    a, b = report.a, report.b
    lines = [f"# Diff: {a['name']} → {b['name']}", ""]
    lines.append(f"- A: {a['title']} ({a['name']})" + (f", sha256 {a['sha256'][:12]}" if a.get("sha256") else ""))
    lines.append(f"- B: {b['title']} ({b['name']})" + (f", sha256 {b['sha256'][:12]}" if b.get("sha256") else ""))
    lines.append(
        f"- {len(report.changed)} changed, {len(report.added)} added, {len(report.removed)} removed, "
        f"{len(report.moved)} moved, {report.unchanged} unchanged"
    )
    lines.append("")
    if report.changed:
        lines.append("## Changed")
        for e in report.changed:
            where = e.new_path if e.old_path == e.new_path else f"{e.old_path} → {e.new_path}"
            lines += ["", f"### {where}", ""]
            for n in e.numbers:
                lines.append(f"- number: {n['old'] or '—'} → {n['new'] or '—'}" + (f" ({n['what']})" if n.get("what") else ""))
            lines.append(f"- changes: {_md_spans(e)}")
            lines += ["", f"> A: {e.old}", ">", f"> B: {e.new}"]
    for title, entries, key in (("Added", report.added, "new"), ("Removed", report.removed, "old")):
        if entries:
            lines += ["", f"## {title}", ""]
            for e in entries:
                lines.append(f"- **{e.path}** {getattr(e, key)}")
    if report.moved:
        lines += ["", "## Moved (renumbered)", ""]
        for e in report.moved:
            lines.append(f"- {e.old_path} → {e.new_path}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.5em;vertical-align:top;width:50%}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
h2{border-bottom:2px solid #888}.path{font-family:monospace;color:#555}.num{color:#a40}
"""


def side_html(text: str, spans: list[dict], side: str) -> str:
    """Escape text, then mark the spans that belong to this side."""
    out = []
    at = 0
    key, op, tag = ("old_at", "delete", "del") if side == "old" else ("new_at", "insert", "ins")
    for span in spans:
        if span["op"] != op:
            continue
        start = span[key]
        out.append(html.escape(text[at:start]))
        out.append(f"<{tag}>{html.escape(span['text'])}</{tag}>")
        at = start + len(span["text"])
    out.append(html.escape(text[at:]))
    return "".join(out)


def to_html(report: DiffReport) -> str:
    a, b = report.a, report.b
    e_ = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>Diff {e_(a['name'])} → {e_(b['name'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e_(a['name'])} → {e_(b['name'])}</h1>",
        f"<p>A: {e_(a['title'])}<br>B: {e_(b['title'])}</p>",
        f"<p>{len(report.changed)} changed, {len(report.added)} added, {len(report.removed)} removed, "
        f"{len(report.moved)} moved, {report.unchanged} unchanged</p>",
    ]
    if report.changed:
        parts.append("<h2>Changed</h2><table><tr><th>A</th><th>B</th></tr>")
        for e in report.changed:
            nums = "".join(f"<div class='num'>{e_(n['old'] or '—')} → {e_(n['new'] or '—')}</div>" for n in e.numbers)
            parts.append(
                f"<tr><td><div class='path'>{e_(e.old_path or '')}</div>{side_html(e.old or '', e.spans, 'old')}</td>"
                f"<td><div class='path'>{e_(e.new_path or '')}</div>{nums}{side_html(e.new or '', e.spans, 'new')}</td></tr>"
            )
        parts.append("</table>")
    for title, entries, key in (("Added", report.added, "new"), ("Removed", report.removed, "old")):
        if entries:
            parts.append(f"<h2>{title}</h2><ul>")
            for e in entries:
                parts.append(f"<li><span class='path'>{e_(e.path)}</span> {e_(getattr(e, key) or '')}</li>")
            parts.append("</ul>")
    if report.moved:
        parts.append("<h2>Moved (renumbered)</h2><ul>")
        for e in report.moved:
            parts.append(f"<li class='path'>{e_(e.old_path or '')} → {e_(e.new_path or '')}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


RENDERERS = {"json": to_json, "md": to_markdown, "html": to_html}


# -- what A and B name -------------------------------------------------------------------

_CLAUSE_COLUMNS = "clause_id, document_id, path, label, heading, text, position, source_path, source_sha256, start, end"


def _clause_from_row(row: dict) -> Clause:
    return Clause(
        id=row["clause_id"],
        document_id=row["document_id"],
        path=row["path"],
        label=row["label"],
        kind="item",
        heading=row["heading"],
        text=row["text"] or "",
        position=row["position"],
        start=row["start"] or 0,
        end=row["end"] or 0,
        source_path=row["source_path"] or "",
        source_sha256=row["source_sha256"] or "",
    )


def _query(conn, sql: str, params: tuple) -> list[dict]:
    cursor = conn.execute(sql, params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, r)) for r in cursor.fetchall()]


def resolve_side(conn, spec: str) -> tuple[Side, str]:
    """A diff operand and the document it belongs to.

    spec is a source file path (parsed now), a 文号 or document id (its latest version),
    ``文号@N`` (version N), or a clause id (``文号:path``, the clause and everything under it).
    """
    if Path(spec).is_file():
        parsed = parse_file(spec)
        doc = parsed.documents[0]
        return Side(spec, doc.title, doc.clauses, provenance={"sha256": parsed.source.sha256, "source": spec}), doc.id
    if conn is None:
        raise NotFoundError(f"{spec}: not a file, and no database to look it up in (use --db)")
    doc_part, _, path = spec.partition(":")  # clause ids use an ASCII colon
    doc_id, _, version = doc_part.partition("@")
    doc_id = normalize_docno(doc_id) or doc_id.strip()
    path = normalize_text(path).replace("(", "（").replace(")", "）")
    versions = _query(conn, "select version, title, source_path, source_sha256 from document_versions where document_id = ? order by version", (doc_id,))
    if not versions:
        raise NotFoundError(f"{spec}: no document {doc_id!r} in the knowledge base (expected a 文号, 文号@N, a clause id or a file)")
    if version:
        if not version.isdigit() or int(version) not in {v["version"] for v in versions}:
            have = ", ".join(str(v["version"]) for v in versions)
            raise NotFoundError(f"{spec}: {doc_id} has no version {version} (versions: {have})")
        chosen = next(v for v in versions if v["version"] == int(version))
    else:
        chosen = versions[-1]
    rows = _query(
        conn,
        f"select {_CLAUSE_COLUMNS} from clause_versions where document_id = ? and version = ? order by position",
        (doc_id, chosen["version"]),
    )
    root = ""
    if path:
        rows = [r for r in rows if r["path"] == path or r["path"].startswith(path + "/")]
        if not rows:
            raise NotFoundError(f"{spec}: {doc_id} has no clause {path!r}")
        root = path if len(rows) > 1 else ""
    name = f"{doc_id}@{chosen['version']}" + (f":{path}" if path else "")
    provenance = {"sha256": chosen["source_sha256"], "source": chosen["source_path"], "version": chosen["version"]}
    return Side(name, chosen["title"], [_clause_from_row(r) for r in rows], root, provenance), doc_id


def diff_specs(conn, a: str, b: str) -> DiffReport:
    """Diff two operands named as on the command line (see ``resolve_side``)."""
    side_a, doc_a = resolve_side(conn, a)
    side_b, doc_b = resolve_side(conn, b)
    cross = doc_a != doc_b
    if len(side_a.clauses) == 1 and len(side_b.clauses) == 1:
        # two single clauses (a rule across generations): always one aligned pair
        o, n = side_a.clauses[0], side_b.clauses[0]
        side_a.root_path, side_b.root_path = o.path, n.path
        o_words, n_words = _words(o), _words(n)
        entry = Entry("changed", n.path, n.label, o_words, n_words, o.path, n.path, o.id, n.id, similarity=round(_similar(compact(o_words), compact(n_words)), 3))
        if compact(o_words) == compact(n_words):
            return DiffReport(_side_meta(side_a), _side_meta(side_b), [], [], [], [], 1, [n.path])
        entry.spans = char_spans(o_words, n_words)
        entry.numbers = number_changes(o, n)
        return DiffReport(_side_meta(side_a), _side_meta(side_b), [entry], [], [], [], 0)
    return diff_sides(side_a, side_b, cross=cross)
