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

import csv
import html
import io
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from . import align as align_mod
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
class ArticleEntry:
    """One group of a statute's alignment: each article of either version is in exactly one."""

    category: str  # kb.align.CATEGORIES: unchanged renumbered moved changed split merged added removed
    old_labels: list[str]
    new_labels: list[str]
    old_place: str | None  # 第二章/第一节 of the (first) old article
    new_place: str | None
    renumbered: bool = False  # "changed", and its number changed too
    moved: bool = False  # "changed", and it now stands under another heading too
    similarity: float | None = None
    old: str | None = None  # whole text of the old article(s)
    new: str | None = None
    old_clause_ids: list[str] = field(default_factory=list)
    new_clause_ids: list[str] = field(default_factory=list)
    spans: list[dict] = field(default_factory=list)
    numbers: list[dict] = field(default_factory=list)

    @property
    def old_label(self) -> str:
        return "、".join(self.old_labels)

    @property
    def new_label(self) -> str:
        return "、".join(self.new_labels)


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
    # statutes: one entry per aligned group of articles, the headings, and counts that add up
    articles: list[ArticleEntry] = field(default_factory=list)
    headings: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    # a provincial notice against a city's, through the knowledge base's links (``diff_through_links``)
    linked: list[dict] = field(default_factory=list)  # city clause beside the provincial clause it stands on
    inherited: list[Entry] = field(default_factory=list)  # provincial clauses the city did not restate
    local: list[Entry] = field(default_factory=list)  # city clauses with no provincial counterpart

    @property
    def is_empty(self) -> bool:
        if self.through_links:
            return False
        if self.articles:
            return all(e.category == "unchanged" for e in self.articles) and all(h["status"] == "unchanged" for h in self.headings)
        return not (self.changed or self.added or self.removed or self.moved)

    def to_dict(self) -> dict:
        data = {
            "a": self.a,
            "b": self.b,
            "changed": [asdict(e) for e in self.changed],
            "added": [asdict(e) for e in self.added],
            "removed": [asdict(e) for e in self.removed],
            "moved": [asdict(e) for e in self.moved],
            "unchanged": self.unchanged,
        }
        if self.articles:
            data["summary"] = self.summary
            data["articles"] = [asdict(e) for e in self.articles]
            data["headings"] = self.headings
        if self.linked or self.inherited or self.local:
            data["linked"] = self.linked
            data["inherited"] = [asdict(e) for e in self.inherited]
            data["local"] = [asdict(e) for e in self.local]
        return data

    @property
    def through_links(self) -> bool:
        return bool(self.linked or self.inherited or self.local)


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


_UNTITLED = "（无标题）"  # what the parser calls a document without a title: never a report's header


def _side_meta(side: Side) -> dict:
    title = side.title if side.title and side.title != _UNTITLED else side.name
    return {"name": side.name, "title": title, "root": side.root_path, **side.provenance}


def _article_entry(group: align_mod.Group) -> ArticleEntry:
    old_text = "\n".join(u.text for u in group.old) or None
    new_text = "\n".join(u.text for u in group.new) or None
    entry = ArticleEntry(
        category=group.category,
        old_labels=[u.label for u in group.old],
        new_labels=[u.label for u in group.new],
        old_place=group.old[0].place_label if group.old else None,
        new_place=group.new[0].place_label if group.new else None,
        renumbered=group.renumbered,
        moved=group.moved,
        similarity=group.similarity,
        old=old_text,
        new=new_text,
        old_clause_ids=[u.clause_id for u in group.old],
        new_clause_ids=[u.clause_id for u in group.new],
    )
    if old_text and new_text and group.category in ("changed", "split", "merged"):
        entry.spans = char_spans(old_text, new_text)
        entry.numbers = [
            {"what": c.get("what"), "old": c.get("provincial"), "new": c.get("city")}
            for c in compare_parameters(extract_parameters("old", old_text), extract_parameters("new", new_text))
        ]
    return entry


def diff_statutes(a: Side, b: Side) -> DiffReport:
    """Two versions of a law: articles aligned globally (``kb.align``), each reported once."""
    old_units, old_headings = align_mod.statute_units(a.clauses)
    new_units, new_headings = align_mod.statute_units(b.clauses)
    groups = align_mod.align_units(old_units, new_units)
    headings = [
        {
            "status": h.status,
            "kind": (h.old or h.new).kind,  # type: ignore[union-attr]
            "old": f"{h.old.label} {h.old.title}".strip() if h.old else None,
            "new": f"{h.new.label} {h.new.title}".strip() if h.new else None,
        }
        for h in align_mod.align_headings(old_headings, new_headings)
    ]
    return DiffReport(
        _side_meta(a),
        _side_meta(b),
        [],
        [],
        [],
        [],
        sum(1 for g in groups if g.category == "unchanged"),
        articles=[_article_entry(g) for g in groups],
        headings=headings,
        summary=align_mod.summary(groups, len(old_units), len(new_units)),
    )


def diff_sides(a: Side, b: Side, cross: bool = False) -> DiffReport:
    """Diff two sides; ``cross`` for two different notices (no renumbering is reported).

    Two versions of a law (both sides have articles) go to ``diff_statutes``.
    """
    if not cross and align_mod.is_statute(a.clauses) and align_mod.is_statute(b.clauses):
        return diff_statutes(a, b)
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
#
# Every format opens with the same header (both sides' titles, versions, version dates, sources,
# sha256, and the build of the knowledge base they were read from), so a report can be cited.

_HEADER_FIELDS = (
    ("name", "cited as"),
    ("title", "title"),
    ("version", "version"),
    ("version_date", "version date"),
    ("source", "source"),
    ("sha256", "sha256"),
)

_CATEGORY_TITLES = {
    "changed": "Changed",
    "split": "Split",
    "merged": "Merged",
    "moved": "Moved to another chapter (words unchanged)",
    "renumbered": "Renumbered (words unchanged)",
    "added": "Added",
    "removed": "Removed",
    "unchanged": "Unchanged",
}
_CATEGORY_ORDER = ("changed", "split", "merged", "moved", "renumbered", "added", "removed")


def header_rows(report: DiffReport) -> list[tuple[str, str, str]]:
    """(what, A, B) rows of the report's header; the build last, the same on both sides."""
    rows = []
    for key, title in _HEADER_FIELDS:
        a, b = report.a.get(key), report.b.get(key)
        if a is None and b is None:
            continue
        rows.append((title, "" if a is None else str(a), "" if b is None else str(b)))
    build = report.a.get("build") or report.b.get("build")
    if build:
        rows.append(("build", str(build), str(report.b.get("build") or "")))
    return rows


def summary_line(report: DiffReport) -> str:
    if report.through_links:
        return (
            f"{len(report.linked)} city clauses linked to a provincial clause, "
            f"{len(report.inherited)} provincial clauses not restated (inherited), {len(report.local)} local additions"
        )
    if report.articles:
        s = report.summary
        counts = ", ".join(f"{n} {c}" for c, n in s["groups"].items() if n)
        return f"{s['old_articles']} articles → {s['new_articles']} articles: {counts}"
    return (
        f"{len(report.changed)} changed, {len(report.added)} added, {len(report.removed)} removed, "
        f"{len(report.moved)} moved, {report.unchanged} unchanged"
    )


def _where(e: ArticleEntry) -> str:
    if not e.old_labels:
        return e.new_label
    if not e.new_labels:
        return e.old_label
    return e.new_label if e.old_label == e.new_label else f"{e.old_label} → {e.new_label}"


def _notes(e: ArticleEntry) -> str:
    notes = []
    if e.category == "changed" and e.renumbered:
        notes.append("renumbered")
    if e.moved or e.category == "moved":
        notes.append(f"moved: {e.old_place or '—'} → {e.new_place or '—'}")
    return "; ".join(notes)


def to_json(report: DiffReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def _md_spans(entry) -> str:
    parts = []
    for span in entry.spans:
        mark = "~~" if span["op"] == "delete" else "**"
        parts.append(f"{mark}{span['text']}{mark}")
    return " · ".join(parts)


def _md_quote(label: str, text: str | None) -> list[str]:
    lines = (text or "").split("\n")
    return [f"> {label}: {lines[0]}"] + [f"> {line}" for line in lines[1:]]


def _md_articles(report: DiffReport) -> list[str]:
    lines: list[str] = []
    changed_headings = [h for h in report.headings if h["status"] != "unchanged"]
    if changed_headings:
        lines += ["", "## Headings (编/章/节)", ""]
        lines += [f"- {h['status']}: {h['old'] or '—'} → {h['new'] or '—'}" for h in changed_headings]
    for category in _CATEGORY_ORDER:
        entries = [e for e in report.articles if e.category == category]
        if not entries:
            continue
        lines += ["", f"## {_CATEGORY_TITLES[category]} ({len(entries)})"]
        for e in entries:
            if category in ("renumbered", "moved"):
                lines += [f"- {_where(e)}" + (f" ({_notes(e)})" if _notes(e) else "")]
                continue
            if category in ("added", "removed"):
                lines += ["", f"### {_where(e)}", ""] + _md_quote("B" if category == "added" else "A", e.new or e.old)
                continue
            lines += ["", f"### {_where(e)}" + (f" ({_notes(e)})" if _notes(e) else ""), ""]
            for n in e.numbers:
                lines.append(f"- number: {n['old'] or '—'} → {n['new'] or '—'}" + (f" ({n['what']})" if n.get("what") else ""))
            if e.spans:
                lines.append(f"- changes: {_md_spans(e)}")
            lines += [""] + _md_quote("A", e.old) + [">"] + _md_quote("B", e.new)
    return lines


def _md_links(report: DiffReport) -> list[str]:
    lines: list[str] = []
    if report.linked:
        lines += ["", f"## City clauses and the provincial clauses they stand on ({len(report.linked)})"]
        for r in report.linked:
            lines += ["", f"### {r['provincial_path']} → {r['city_path']} ({r['relation']}, {r['score']:.2f})", ""]
            if r.get("why"):
                lines.append(f"- evidence: {r['why']}")
            for n in r["numbers"]:
                lines.append(f"- number: {n['old'] or '—'} → {n['new'] or '—'}")
            lines += ["", f"> A: {r['provincial']}", ">", f"> B: {r['city']}"]
    if report.inherited:
        lines += ["", f"## Not restated (inherited) ({len(report.inherited)})", ""]
        lines += [f"- **{e.path}** {e.old}" for e in report.inherited]
    if report.local:
        lines += ["", f"## Local additions ({len(report.local)})", ""]
        lines += [f"- **{e.path}** {e.new}" for e in report.local]
    return lines


def to_markdown(report: DiffReport) -> str:
    a, b = report.a, report.b
    lines = [f"# Diff: {a['name']} → {b['name']}", ""]
    lines += ["| | A | B |", "|---|---|---|"]
    lines += [f"| {what} | {x} | {y} |" for what, x, y in header_rows(report)]
    lines += ["", f"- {summary_line(report)}", ""]
    if report.articles:
        return "\n".join(lines + _md_articles(report)) + "\n"
    if report.through_links:
        return "\n".join(lines + _md_links(report)) + "\n"
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
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.5em;vertical-align:top}
td.side{width:50%;white-space:pre-wrap}
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


def article_rows(report: DiffReport) -> list[dict]:
    """What the HTML report and the web page show for each article group: escaped, marked up."""
    rows = []
    for category in _CATEGORY_ORDER:
        for e in report.articles:
            if e.category != category:
                continue
            rows.append(
                {
                    "entry": e,
                    "category": category,
                    "title": _CATEGORY_TITLES[category],
                    "where": _where(e),
                    "notes": _notes(e),
                    "old_html": side_html(e.old or "", e.spans, "old"),
                    "new_html": side_html(e.new or "", e.spans, "new"),
                }
            )
    return rows


def to_html(report: DiffReport) -> str:
    a, b = report.a, report.b
    e_ = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>Diff {e_(a['name'])} → {e_(b['name'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e_(a['name'])} → {e_(b['name'])}</h1>",
        "<table class='header'><tr><th></th><th>A</th><th>B</th></tr>",
        *(f"<tr><th>{e_(w)}</th><td>{e_(x)}</td><td>{e_(y)}</td></tr>" for w, x, y in header_rows(report)),
        "</table>",
        f"<p>{e_(summary_line(report))}</p>",
    ]
    if report.through_links:
        if report.linked:
            parts.append("<h2>City clauses and the provincial clauses they stand on</h2><table><tr><th>A</th><th>B</th></tr>")
            for r in report.linked:
                why = f"<div class='num'>{e_(r['relation'])} {r['score']:.2f}: {e_(r.get('why') or '')}</div>"
                parts.append(
                    f"<tr><td class='side'><div class='path'>{e_(r['provincial_path'])}</div>{side_html(r['provincial'], r['spans'], 'old')}</td>"
                    f"<td class='side'><div class='path'>{e_(r['city_path'])}</div>{why}{side_html(r['city'], r['spans'], 'new')}</td></tr>"
                )
            parts.append("</table>")
        for title, entries, key in (("Not restated (inherited)", report.inherited, "old"), ("Local additions", report.local, "new")):
            if entries:
                parts.append(f"<h2>{title}</h2><ul>")
                parts += [f"<li><span class='path'>{e_(e.path)}</span> {e_(getattr(e, key) or '')}</li>" for e in entries]
                parts.append("</ul>")
        parts.append("</body></html>")
        return "".join(parts)
    if report.articles:
        changed_headings = [h for h in report.headings if h["status"] != "unchanged"]
        if changed_headings:
            parts.append("<h2>Headings (编/章/节)</h2><ul>")
            parts += [f"<li>{e_(h['status'])}: {e_(h['old'] or '—')} → {e_(h['new'] or '—')}</li>" for h in changed_headings]
            parts.append("</ul>")
        current = None
        for row in article_rows(report):
            if row["category"] != current:
                if current is not None:
                    parts.append("</table>")
                current = row["category"]
                parts.append(f"<h2>{e_(row['title'])}</h2><table><tr><th>A</th><th>B</th></tr>")
            e = row["entry"]
            note = f" <span class='num'>{e_(row['notes'])}</span>" if row["notes"] else ""
            nums = "".join(f"<div class='num'>{e_(n['old'] or '—')} → {e_(n['new'] or '—')}</div>" for n in e.numbers)
            parts.append(
                f"<tr><td class='side'><div class='path'>{e_(e.old_label)}</div>{row['old_html']}</td>"
                f"<td class='side'><div class='path'>{e_(e.new_label)}{note}</div>{nums}{row['new_html']}</td></tr>"
            )
        if current is not None:
            parts.append("</table>")
        parts.append("</body></html>")
        return "".join(parts)
    if report.changed:
        parts.append("<h2>Changed</h2><table><tr><th>A</th><th>B</th></tr>")
        for e in report.changed:
            nums = "".join(f"<div class='num'>{e_(n['old'] or '—')} → {e_(n['new'] or '—')}</div>" for n in e.numbers)
            parts.append(
                f"<tr><td class='side'><div class='path'>{e_(e.old_path or '')}</div>{side_html(e.old or '', e.spans, 'old')}</td>"
                f"<td class='side'><div class='path'>{e_(e.new_path or '')}</div>{nums}{side_html(e.new or '', e.spans, 'new')}</td></tr>"
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


CSV_COLUMNS = ("category", "old", "new", "old_place", "new_place", "notes", "similarity", "deleted", "inserted", "old_text", "new_text")


def csv_rows(report: DiffReport) -> list[dict]:
    """One row per article group (statutes) or per entry (notices), in the columns of ``CSV_COLUMNS``."""

    def spans(entry, op: str) -> str:
        return " | ".join(sp["text"] for sp in entry.spans if sp["op"] == op)

    if report.articles:
        return [
            {
                "category": e.category,
                "old": e.old_label,
                "new": e.new_label,
                "old_place": e.old_place or "",
                "new_place": e.new_place or "",
                "notes": _notes(e),
                "similarity": "" if e.similarity is None else e.similarity,
                "deleted": spans(e, "delete"),
                "inserted": spans(e, "insert"),
                "old_text": e.old or "",
                "new_text": e.new or "",
            }
            for e in report.articles
        ]
    if report.through_links:
        out = []
        for r in report.linked:
            out.append(
                {
                    "category": f"linked ({r['relation']})",
                    "old": r["provincial_path"],
                    "new": r["city_path"],
                    "old_place": "",
                    "new_place": "",
                    "notes": r.get("why") or "",
                    "similarity": r["score"],
                    "deleted": " | ".join(sp["text"] for sp in r["spans"] if sp["op"] == "delete"),
                    "inserted": " | ".join(sp["text"] for sp in r["spans"] if sp["op"] == "insert"),
                    "old_text": r["provincial"],
                    "new_text": r["city"],
                }
            )
        for category, entries in (("not restated (inherited)", report.inherited), ("local addition", report.local)):
            for e in entries:
                out.append(dict.fromkeys(CSV_COLUMNS, "") | {"category": category, "old": e.old_path or "", "new": e.new_path or "", "old_text": e.old or "", "new_text": e.new or ""})
        return out
    rows = []
    for category, entries in (("changed", report.changed), ("added", report.added), ("removed", report.removed), ("moved", report.moved)):
        for e in entries:
            rows.append(
                {
                    "category": category,
                    "old": e.old_path or "",
                    "new": e.new_path or "",
                    "old_place": "",
                    "new_place": "",
                    "notes": "",
                    "similarity": "" if e.similarity is None else e.similarity,
                    "deleted": spans(e, "delete"),
                    "inserted": spans(e, "insert"),
                    "old_text": e.old or "",
                    "new_text": e.new or "",
                }
            )
    return rows


def to_csv(report: DiffReport) -> str:
    """The report as CSV: the header as ``#`` comment lines (pandas: ``comment="#"``), then one row per entry."""
    out = io.StringIO()
    for what, x, y in header_rows(report):
        out.write(f"# {what}: A = {x} ; B = {y}\n".replace("\r", " "))
    out.write(f"# {summary_line(report)}\n")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return out.getvalue()


RENDERERS = {"json": to_json, "md": to_markdown, "html": to_html, "csv": to_csv}


# -- what A and B name -------------------------------------------------------------------

def _clause_from_row(row: dict) -> Clause:
    clause = Clause(
        id=row["clause_id"],
        document_id=row["document_id"],
        path=row["path"],
        label=row["label"],
        kind=row.get("kind") or "item",
        heading=row["heading"],
        text=row["text"] or "",
        position=row["position"],
        start=row["start"] or 0,
        end=row["end"] or 0,
        source_path=row["source_path"] or "",
        source_sha256=row["source_sha256"] or "",
    )
    clause.kind = align_mod.clause_kind(clause)  # clause_versions does not keep the kind: told by the label
    return clause


def _query(conn, sql: str, params: tuple) -> list[dict]:
    cursor = conn.execute(sql, params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, r)) for r in cursor.fetchall()]


def _build(conn) -> str | None:
    """The build the knowledge base was written by: ``build 3, 2026-12-08T01:40:00``."""
    try:
        rows = _query(conn, "select id, finished from builds order by id desc limit 1", ())
    except sqlite3.Error:
        return None
    return f"build {rows[0]['id']}, {rows[0]['finished']}" if rows else None


def _version_date(row: dict) -> str | None:
    return row.get("version_date") or row.get("issued")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # 文号@2024-11-10: the version in force that day


def resolve_side(conn, spec: str, allow_files: bool = True) -> tuple[Side, str]:
    """A diff operand and the document it belongs to.

    spec is a source file path (parsed now; only with ``allow_files``: the command line), a 文号
    or document id (its latest version), ``文号@N`` (version N), ``文号@YYYY-MM-DD`` (the version
    in force on that date), or a clause id (``文号:path``, the clause and everything under it).

    The web passes ``allow_files=False``: then nothing but the knowledge base is read, whatever
    the spec says (``secrets.env``, ``kb.db``, ``../x`` are looked up as ids, and not found).
    """
    if allow_files and Path(spec).is_file():
        parsed = parse_file(spec)
        doc = parsed.documents[0]
        version_date = getattr(doc, "version_date", None) or doc.issued
        provenance = {"sha256": parsed.source.sha256, "source": spec, "version_date": version_date}
        return Side(spec, doc.title, doc.clauses, provenance=provenance), doc.id
    if conn is None:
        raise NotFoundError(f"{spec}: not a file, and no database to look it up in (use --db)")
    doc_part, _, path = spec.partition(":")  # clause ids use an ASCII colon
    doc_id, _, version = doc_part.partition("@")
    doc_id = normalize_docno(doc_id) or doc_id.strip()
    path = normalize_text(path).replace("(", "（").replace(")", "）")
    versions = _query(conn, "select * from document_versions where document_id = ? order by version", (doc_id,))
    if not versions:
        raise NotFoundError(f"{spec}: no document {doc_id!r} in the knowledge base (expected a 文号, 文号@N, a clause id or a file)")
    have = ", ".join(str(v["version"]) for v in versions)
    if version and _ISO_DATE.match(version):
        from .versions import version_in_force

        in_force = version_in_force(versions, version)
        if in_force is None:
            have_dates = ", ".join(f"{v['version']} ({_version_date(v) or 'undated'})" for v in versions)
            raise NotFoundError(f"{spec}: no version of {doc_id} was in force on {version} (versions: {have_dates})")
        chosen = in_force
    elif version:
        if not version.isdigit() or int(version) not in {v["version"] for v in versions}:
            raise NotFoundError(f"{spec}: {doc_id} has no version {version} (versions: {have})")
        chosen = next(v for v in versions if v["version"] == int(version))
    else:
        chosen = versions[-1]
    rows = _query(
        conn,
        "select * from clause_versions where document_id = ? and version = ? order by position",
        (doc_id, chosen["version"]),
    )
    root = ""
    if path:
        rows = [r for r in rows if r["path"] == path or r["path"].startswith(path + "/")]
        if not rows:
            raise NotFoundError(f"{spec}: {doc_id} has no clause {path!r}")
        root = path if len(rows) > 1 else ""
    name = f"{doc_id}@{chosen['version']}" + (f":{path}" if path else "")
    provenance = {
        "sha256": chosen["source_sha256"],
        "source": chosen["source_path"],
        "version": chosen["version"],
        "version_date": _version_date(chosen),
        "build": _build(conn),
    }
    return Side(name, chosen["title"], [_clause_from_row(r) for r in rows], root, provenance), doc_id


def _links_between(conn, provincial: list[Clause], city: list[Clause]) -> list[dict]:
    """The knowledge base's links from the city's clauses to the provincial ones."""
    if conn is None or not provincial or not city:
        return []
    city_ids = [c.id for c in city]
    provincial_ids = {c.id for c in provincial}
    rows: list[dict] = []
    for k in range(0, len(city_ids), 500):  # SQLite's limit on parameters
        chunk = city_ids[k : k + 500]
        marks = ",".join("?" * len(chunk))
        try:
            rows += _query(
                conn,
                f"select source_clause_id, target_clause_id, relation, score, why from links where source_clause_id in ({marks})",
                tuple(chunk),
            )
        except sqlite3.Error:
            return []
    return [r for r in rows if r["target_clause_id"] in provincial_ids]


def diff_through_links(a: Side, b: Side, links: list[dict]) -> DiffReport:
    """A provincial notice (A) against a city's (B) as the knowledge base links them.

    A city clause linked to a provincial clause is shown beside it, with the link's relation,
    score and evidence and a character diff; a provincial clause no city clause stands on is
    "not restated (inherited)": the provincial rule applies in the city as it is; a city clause
    linked to nothing in A is a "local addition". Nothing is "added" or "removed": the city's
    notice is not a new version of the province's.
    """
    by_id_a = {c.id: c for c in a.clauses}
    by_id_b = {c.id: c for c in b.clauses}
    linked = []
    for link in sorted(links, key=lambda r: (by_id_b[r["source_clause_id"]].position, -(r["score"] or 0))):
        o, n = by_id_a[link["target_clause_id"]], by_id_b[link["source_clause_id"]]
        linked.append(
            {
                "provincial_path": a.rel(o),
                "city_path": b.rel(n),
                "provincial_clause_id": o.id,
                "city_clause_id": n.id,
                "relation": link["relation"],
                "score": link["score"],
                "why": link["why"],
                "provincial": _words(o),
                "city": _words(n),
                "spans": char_spans(_words(o), _words(n)),
                "numbers": number_changes(o, n),
            }
        )
    restated = {r["target_clause_id"] for r in links}
    standing = {r["source_clause_id"] for r in links}
    inherited = [Entry("inherited", a.rel(c), c.label, _words(c), None, old_path=a.rel(c), old_clause_id=c.id) for c in a.clauses if _words(c) and c.id not in restated]
    local = [Entry("local", b.rel(c), c.label, None, _words(c), new_path=b.rel(c), new_clause_id=c.id) for c in b.clauses if _words(c) and c.id not in standing]
    return DiffReport(_side_meta(a), _side_meta(b), [], [], [], [], 0, linked=linked, inherited=inherited, local=local)


def diff_specs(conn, a: str, b: str, allow_files: bool = True) -> DiffReport:
    """Diff two operands named as on the command line (see ``resolve_side``)."""
    side_a, doc_a = resolve_side(conn, a, allow_files)
    side_b, doc_b = resolve_side(conn, b, allow_files)
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
    if cross:
        links = _links_between(conn, side_a.clauses, side_b.clauses)
        if links:
            return diff_through_links(side_a, side_b, links)
    return diff_sides(side_a, side_b, cross=cross)
