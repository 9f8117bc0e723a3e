"""Publish stage: parsed and linked records -> one SQLite database for Datasette.

``publish(db, parsed, linked, build)`` writes every table, view and index into an empty
``sqlite_utils.Database``. ``build(corpus, db_path)`` runs the whole pipeline (parse every file,
link, publish) into a new file *beside* the old database and swaps it in with ``os.replace``
only when it is complete, so a failed or killed build leaves the previous database as it was.

The schema declares primary and foreign keys so Datasette links rows; JSON columns hold lists
and dicts (``ensure_ascii=False``, so Chinese stays readable). Cited notices that are not in the
corpus get a ``documents`` row with ``placeholder = 1`` (level read from the 文号), so lineage
and citations always reach a row.

Writing is built for size: rows go in by ``executemany`` (tuples for the large tables) in one
transaction whose commit does not wait for the disk (the temp file needs no crash safety until
it is complete; the last commit, of the ``builds`` row, syncs it), and indexes come after the
rows. The search index, the costliest part, is built by another process into a scratch file
while this one writes the rest, then copied in (``_Scratch``).

Incremental: when the database in place is the one this code wrote last and holds the same
documents, ``build`` copies it and replaces only the rows of the files that changed since and of
the documents the linker recomputed (``Changes``, ``_update``); rows it keeps keep their rowids and
the ``build_id`` of the build that wrote them, and a rewritten notice's clauses take its old
rowids again (so the rows stay place by place). Otherwise, or past ``_MAX_CHANGED_SHARE`` of the
documents, it writes the whole database. Either way the result is swapped in whole.

Deliberately not here: parsing (``kb.parse``), linking (``kb.link``) and searching
(``kb.search``, which also owns the layout of the ``clauses_grams`` index it reads).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import sqlite_utils

from . import cache, places, search
from .errors import KbError, NotFoundError
from .link import LinkState, complete_result, link
from .model import LEVELS, Document, Evidence, LinkResult, Source
from .parse import CorpusParse, Problem, corpus_files, parse_corpus
from .timing import extract_time_limits
from .versions import DocumentVersion, assign_versions

__all__ = ["build", "publish", "BuildInfo", "BuildReport", "corpus_hash", "code_version"]

# ---------------------------------------------------------------------------------------------
# Schema: (columns, pk, foreign keys) per table, in creation order.

_TABLES: dict[str, tuple[dict[str, type], str | tuple[str, ...], list[tuple[str, str, str]]]] = {
    "builds": (
        {"id": int, "started": str, "finished": str, "code_version": str, "corpus": str, "corpus_hash": str, "counts": str},
        "id",
        [],
    ),
    "sources": (
        {
            "path": str,
            "sha256": str,
            "encoding": str,
            "bytes": int,
            "parsed": int,
            "documents": int,
            "discarded": str,
            "manifest": str,
        },
        "path",
        [],
    ),
    "documents": (
        {
            "id": str,
            "doc_number": str,
            "title": str,
            "level": str,
            "jurisdiction": str,
            "province": str,
            "issued": str,
            "issuers": str,
            "recipients": str,
            "publication_note": str,
            "contact_note": str,
            "kind": str,
            "measures_title": str,
            "complete": int,
            "incomplete_reasons": str,
            "implements": str,
            "implements_document_id": str,
            "attached_to": str,
            "attachment_label": str,
            "attachments_listed": str,
            "clause_count": int,
            "placeholder": int,
            "source_path": str,
            "source_sha256": str,
            "start": int,
            "end": int,
            "byte_start": int,
            "byte_end": int,
            "version": int,
            "parser_version": str,
            "metadata_sources": str,
            "genre": str,
            "force": str,
            "version_date": str,
            "effective": str,
            "events": str,
            "identifiers": str,
            "amends": str,
        },
        "id",
        [
            ("implements_document_id", "documents", "id"),
            ("attached_to", "documents", "id"),
            ("source_path", "sources", "path"),
        ],
    ),
    "clauses": (
        {
            "id": str,
            "document_id": str,
            "parent_id": str,
            "path": str,
            "label": str,
            "kind": str,
            "heading": str,
            "text": str,
            "position": int,
            "depth": int,
            "responsible": str,
            "lead": str,
            "responsible_note": str,
            "attached_document_id": str,
            "start": int,
            "end": int,
            "byte_start": int,
            "byte_end": int,
            "text_spans": str,
            "heading_span": str,
            "source_path": str,
            "source_sha256": str,
        },
        "id",
        [
            ("document_id", "documents", "id"),
            ("parent_id", "clauses", "id"),
            ("attached_document_id", "documents", "id"),
            ("source_path", "sources", "path"),
        ],
    ),
    "links": (
        {
            "id": int,
            "source_clause_id": str,
            "target_clause_id": str,
            "relation": str,
            "score": float,
            "why": str,
            "evidence": str,
            "build_id": int,
        },
        "id",
        [
            ("source_clause_id", "clauses", "id"),
            ("target_clause_id", "clauses", "id"),
            ("build_id", "builds", "id"),
        ],
    ),
    "citations": (
        {
            "id": int,
            "document_id": str,
            "clause_id": str,
            "doc_number": str,
            "title": str,
            "role": str,
            "basis": int,
            "target_document_id": str,
            "in_corpus": int,
            "start": int,
            "end": int,
        },
        "id",
        [
            ("document_id", "documents", "id"),
            ("clause_id", "clauses", "id"),
            ("target_document_id", "documents", "id"),
        ],
    ),
    "doc_relations": (
        {
            "id": int,
            "source_document_id": str,
            "relation": str,
            "target_doc_number": str,
            "target_document_id": str,
            "in_corpus": int,
            "cited_title": str,
            "title_mismatch": str,
        },
        "id",
        [("source_document_id", "documents", "id"), ("target_document_id", "documents", "id")],
    ),
    "parameters": (
        {
            "id": int,
            "clause_id": str,
            "kind": str,
            "value": float,
            "unit": str,
            "bound": str,
            "subject": str,
            "text": str,
            "start": int,
            "end": int,
        },
        "id",
        [("clause_id", "clauses", "id")],
    ),
    "unresolved": (
        {
            "clause_id": str,
            "reason": str,
            "likely_document": str,
            "likely_document_id": str,
            "best_candidate_id": str,
            "best_score": float,
            "explanation": str,
        },
        "clause_id",
        [
            ("clause_id", "clauses", "id"),
            ("likely_document_id", "documents", "id"),
            ("best_candidate_id", "clauses", "id"),
        ],
    ),
    "coverage": (
        {
            "id": int,
            "city_document_id": str,
            "provincial_document_id": str,
            "provincial_clause_id": str,
            "restated": int,
            "by_clause_ids": str,
        },
        "id",
        [
            ("city_document_id", "documents", "id"),
            ("provincial_document_id", "documents", "id"),
            ("provincial_clause_id", "clauses", "id"),
        ],
    ),
    "time_limits": (
        {"id": int, "clause_id": str, "kind": str, "date": str, "words": str, "start": int, "end": int},
        "id",
        [("clause_id", "clauses", "id")],
    ),
    "document_versions": (
        {
            "document_id": str,
            "version": int,
            "latest": int,
            "title": str,
            "issued": str,
            "complete": int,
            "clause_count": int,
            "source_path": str,
            "source_sha256": str,
            "ordered_by": str,
            "changes": str,
            "parser_version": str,
        },
        ("document_id", "version"),
        [("document_id", "documents", "id"), ("source_path", "sources", "path")],
    ),
    "clause_versions": (
        {
            "clause_id": str,
            "version": int,
            "document_id": str,
            "path": str,
            "label": str,
            "heading": str,
            "text": str,
            "position": int,
            "source_path": str,
            "source_sha256": str,
            "start": int,
            "end": int,
            "text_spans": str,
        },
        ("clause_id", "version"),
        [("document_id", "documents", "id"), ("source_path", "sources", "path")],
    ),
    "problems": (
        {"id": int, "build_id": int, "path": str, "line": int, "severity": str, "message": str},
        "id",
        [("build_id", "builds", "id")],
    ),
}

_NOT_NULL = {
    "documents": {"title", "placeholder", "complete"},
    "clauses": {"document_id", "path", "kind", "position"},
    "links": {"source_clause_id", "target_clause_id", "relation", "score"},
    "problems": {"path", "severity", "message"},
}

_INDEXES: dict[str, list[list[str]]] = {
    "documents": [["jurisdiction"], ["level"], ["doc_number"], ["attached_to"], ["implements_document_id"]],
    "clauses": [["document_id", "position", "kind"], ["parent_id"], ["kind"]],
    "links": [["source_clause_id"], ["target_clause_id", "relation", "source_clause_id"], ["relation"]],
    "citations": [["document_id"], ["clause_id"], ["target_document_id"]],
    "doc_relations": [["source_document_id"], ["target_document_id"], ["relation"]],
    "parameters": [["clause_id"], ["kind"]],
    "unresolved": [["likely_document_id"], ["best_candidate_id"]],
    "coverage": [["city_document_id", "provincial_document_id"], ["provincial_clause_id"]],
    "problems": [["build_id"], ["path"]],
    "time_limits": [["clause_id", "kind"], ["kind", "date"]],
    "clause_versions": [["document_id", "version"]],
}

# The full text of a clause as a reader sees it, for views (heading, then body).
_FULL = "trim(coalesce({c}.heading, '') || case when {c}.heading is not null and {c}.text <> '' then ' ' else '' end || coalesce({c}.text, ''))"

_VIEWS = {
    "city_vs_province": f"""
select
  links.id as link_id,
  city_doc.jurisdiction as city_jurisdiction,
  city.id as city_clause_id,
  {_FULL.format(c="city")} as city_text,
  links.relation,
  links.score,
  links.why,
  {_FULL.format(c="prov")} as provincial_text,
  prov.id as provincial_clause_id,
  prov_doc.jurisdiction as provincial_jurisdiction,
  city_doc.id as city_document_id,
  city_doc.title as city_title,
  prov_doc.id as provincial_document_id,
  prov_doc.title as provincial_title,
  links.evidence
from links
join clauses as city on city.id = links.source_clause_id
join documents as city_doc on city_doc.id = city.document_id
join clauses as prov on prov.id = links.target_clause_id
join documents as prov_doc on prov_doc.id = prov.document_id
where city_doc.level in ('city', 'county') and prov_doc.level = 'province'
order by city_doc.jurisdiction, city_doc.id, city.position
""",
    "unresolved_clauses": f"""
select
  unresolved.clause_id,
  documents.jurisdiction,
  documents.id as document_id,
  documents.title,
  clauses.path,
  {_FULL.format(c="clauses")} as clause_text,
  unresolved.reason,
  unresolved.likely_document,
  unresolved.best_candidate_id,
  unresolved.best_score,
  unresolved.explanation
from unresolved
join clauses on clauses.id = unresolved.clause_id
join documents on documents.id = clauses.document_id
order by documents.jurisdiction, documents.id, clauses.position
""",
    "coverage_summary": """
select
  coverage.city_document_id,
  city_doc.jurisdiction as city_jurisdiction,
  city_doc.title as city_title,
  coverage.provincial_document_id,
  prov_doc.title as provincial_title,
  sum(coverage.restated) as restated,
  count(*) as total,
  round(100.0 * sum(coverage.restated) / count(*), 1) as percent_restated,
  group_concat(case when coverage.restated = 0 then prov.path end, '; ') as not_restated
from (select * from coverage order by id) as coverage
join clauses as prov on prov.id = coverage.provincial_clause_id
join documents as city_doc on city_doc.id = coverage.city_document_id
join documents as prov_doc on prov_doc.id = coverage.provincial_document_id
group by coverage.city_document_id, coverage.provincial_document_id
order by city_doc.jurisdiction, coverage.city_document_id, coverage.provincial_document_id
""",
}


# ---------------------------------------------------------------------------------------------
# Records of a build.


@dataclass
class BuildInfo:
    """What the ``builds`` row says about the build that wrote a database."""

    id: int
    started: str
    code_version: str
    corpus: str
    corpus_hash: str
    finished: str | None = None
    counts: dict = field(default_factory=dict)
    incremental: dict = field(default_factory=dict)  # what this build parsed and linked anew


@dataclass
class BuildReport:
    """What ``build`` did: where it wrote, the counts, and every problem it met."""

    db_path: str
    build: BuildInfo
    problems: list[Problem]
    changed: Changes | None = None  # what an incremental publish replaced (None: written whole)

    @property
    def counts(self) -> dict:
        return self.build.counts

    @property
    def failed_files(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass
class Changes:
    """What an incremental publish replaces; every other row of the previous database stays.

    - paths: files whose bytes or manifest entry differ from the database's (their ``sources`` rows);
    - documents: ids of documents from those files, every version: their ``documents``,
      ``clauses`` (with their rows of the search index), ``time_limits``, ``citations`` and
      ``clause_versions`` rows;
    - linked: ids of documents the linker recomputed (and the above): their ``links``
      (by source clause), ``parameters``, ``unresolved`` and ``coverage`` (by city notice) rows.

    The small tables that depend on every document (placeholder ``documents`` rows,
    ``doc_relations``, ``problems``, ``document_versions``) are written whole.
    """

    paths: set[str]
    documents: set[str]
    linked: set[str]


# One encoder for every JSON column: json.dumps with these options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, check_circular=False)  # records are trees


def _made_by(build: BuildInfo) -> str:
    """What every link's published evidence says of the build that made it, as JSON."""
    return _ENCODER.encode({"build_id": build.id, "code_version": build.code_version})


def _evidence_json(evidence: Mapping | None, made_by: str) -> str:
    """A link's evidence as published: ``made_by``'s keys first, then the evidence's. Its JSON
    text (an Evidence's own) is spliced in, not decoded and encoded again (at 10,000 notices
    that was most of the time writing the links took, in the process every other step waits for)."""
    rest = Evidence.of({} if evidence is None else evidence).text[1:].lstrip()
    return made_by[:-1] + (", " + rest if rest != "}" else "}")


def _json(value) -> str | None:
    if value is None:
        return None
    if value == []:  # most clauses name no responsible units
        return "[]"
    return _ENCODER.encode(value)


def _spans_json(spans: list[tuple[int, int]]) -> str:
    """``_json`` of character spans (pairs of ints), written out: the encoder costs more than the text."""
    return "[" + ", ".join([f"[{start}, {end}]" for start, end in spans]) + "]"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def code_version() -> str:
    """The package version and the git commit it was built from: ``0.1.0+<sha>[-dirty]``."""
    try:
        version = metadata.version("kb")
    except metadata.PackageNotFoundError:
        version = "unknown"
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "unknown", ""
    return f"{version}+{sha or 'unknown'}{'-dirty' if dirty else ''}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_hash(files: dict[str, str]) -> str:
    """sha256 over the sorted ``path\\tsha256`` lines of every file of the corpus."""
    lines = "".join(f"{path}\t{sha}\n" for path, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Rows.


def _byte_offsets(source: Source | None, offsets: set[int]) -> dict[int, int]:
    """Byte offset of each character offset, encoding the text once rather than once per offset."""
    if source is None:
        return {}
    result: dict[int, int] = {}
    previous, byte = 0, source.char_to_byte(0)
    # The length of a chunk alone, by the source's own rule: encoded with the file's codec, less
    # the byte-order mark that codec writes before any text (``Source.char_to_byte``).
    encoding, bom = source.encoding, len("".encode(source.encoding))
    for offset in sorted(o for o in offsets if o is not None):
        byte += len(source.text[previous:offset].encode(encoding)) - bom
        result[offset] = byte
        previous = offset
    return result


def _document_row(doc: Document, ids: dict[str, str]) -> dict:
    source = doc.source
    offsets = _byte_offsets(source, {doc.start, doc.end})
    primary = doc.implements[0] if doc.implements else None
    return {
        "id": doc.id,
        "doc_number": doc.doc_number,
        "title": doc.title,
        "level": doc.level,
        "jurisdiction": doc.jurisdiction,
        "province": doc.province,
        "issued": doc.issued,
        "issuers": _json(doc.issuers),
        "recipients": doc.recipients,
        "publication_note": doc.publication_note,
        "contact_note": doc.contact_note,
        "kind": doc.kind,
        "measures_title": doc.measures_title,
        "complete": int(doc.complete),
        "incomplete_reasons": _json(doc.incomplete_reasons),
        "implements": primary,
        "implements_document_id": ids.get(primary) if primary else None,
        "attached_to": doc.attached_to,
        "attachment_label": doc.attachment_label,
        "attachments_listed": _json(doc.attachments_listed),
        "clause_count": len(doc.clauses),
        "placeholder": 0,
        "source_path": source.path if source else None,
        "source_sha256": source.sha256 if source else None,
        "start": doc.start,
        "end": doc.end,
        "byte_start": offsets.get(doc.start),
        "byte_end": offsets.get(doc.end),
        "version": doc.version,
        "parser_version": doc.parser_version,
        "metadata_sources": _json(doc.metadata_sources),
        "genre": doc.genre,
        "force": doc.force,
        "version_date": doc.version_date,
        "effective": doc.effective,
        "events": _json([{"date": e.date, "body": e.body, "act": e.act, "text": e.text, "identifier": e.identifier} for e in doc.events]),
        "identifiers": _json(doc.identifiers),
        "amends": _json(doc.amends),
    }


_CLAUSE_COLUMNS = (
    "id", "document_id", "parent_id", "path", "label", "kind", "heading", "text", "position", "depth",
    "responsible", "lead", "responsible_note", "attached_document_id", "start", "end", "byte_start",
    "byte_end", "text_spans", "heading_span", "source_path", "source_sha256",
)  # fmt: skip


_CLAUSE_VERSION_COLUMNS = (
    "clause_id", "version", "document_id", "path", "label", "heading", "text", "position",
    "source_path", "source_sha256", "start", "end", "text_spans",
)  # fmt: skip


def _clause_rows(doc: Document) -> list[tuple]:
    """The ``clauses`` rows of doc, as tuples of ``_CLAUSE_COLUMNS``."""
    offsets = _byte_offsets(doc.source, {o for c in doc.clauses for o in (c.start, c.end)})
    path, sha = (doc.source.path, doc.source.sha256) if doc.source else (None, None)
    return [
        (
            c.id,
            c.document_id,
            c.parent_id,
            c.path,
            c.label,
            c.kind,
            c.heading,
            c.text,
            c.position,
            c.depth,
            _json(c.responsible),
            _json(c.lead),
            c.responsible_note,
            c.attached_document_id,
            c.start,
            c.end,
            offsets.get(c.start),
            offsets.get(c.end),
            _spans_json(c.text_spans),
            "[{}, {}]".format(*c.heading_span) if c.heading_span else None,
            c.source_path or path,
            c.source_sha256 or sha,
        )
        for c in doc.clauses
    ]


def _placeholders(
    documents: list[Document], linked: LinkResult, ids: dict[str, str], known: dict[str, tuple] | None = None
) -> list[dict]:
    """A row for every cited or implemented 文号 that is not in the corpus, level from the 文号.

    known: (level, jurisdiction, province) of 文号 already placed (by the previous database's
    rows, by this code): placing one reads the whole gazetteer.
    """
    known = known or {}
    titles: dict[str, Counter] = {}
    for doc in documents:
        for number in doc.implements:
            titles.setdefault(number, Counter())
        for c in doc.citations:
            if c.doc_number:
                titles.setdefault(c.doc_number, Counter())[c.title] += bool(c.title)
    for r in linked.relations:
        if r.target_doc_number:
            titles.setdefault(r.target_doc_number, Counter())[r.cited_title] += bool(r.cited_title)
    rows = []
    for number in sorted(n for n in titles if n not in ids):
        named = [t for t, n in titles[number].most_common() if t and n]
        level, jurisdiction, province = known[number] if number in known else places.classify_docno(number) or (None, None, None)
        rows.append(
            {
                "id": number,
                "doc_number": number,
                "title": named[0] if named else number,
                "level": level,
                "jurisdiction": jurisdiction,
                "province": province,
                "complete": 0,
                "incomplete_reasons": _json(["not in the corpus: known only from citations"]),
                "clause_count": 0,
                "placeholder": 1,
                "metadata_sources": _json({"level": "inferred", "jurisdiction": "inferred", "title": "cited"}),
            }
        )
    return rows


def _create_schema(db: sqlite_utils.Database) -> None:
    for name, (columns, pk, foreign_keys) in _TABLES.items():
        if db[name].exists():  # builds, when history was carried over
            continue
        db[name].create(columns, pk=pk, foreign_keys=foreign_keys, not_null=_NOT_NULL.get(name, set()))


def _insert(db: sqlite_utils.Database, name: str, rows: Iterable[dict]) -> None:
    """Append rows (dicts by column name; a missing column is NULL) to a table of ``_TABLES``.

    What sqlite-utils' ``insert_all`` writes for these rows, without its per-value conversion
    (every value here is already a str, int, float or None) and without its commit every 100
    rows: the caller holds one transaction around all of them.
    """
    columns = list(_TABLES[name][0])
    _insert_tuples(db, name, columns, (tuple(map(row.get, columns)) for row in rows))


def _insert_tuples(db: sqlite_utils.Database, name: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    """``_insert`` of rows given as tuples of the named columns (the others are NULL).

    For the tables of hundreds of thousands of rows: a dict per row, only to be read back in
    column order, costs about as much as SQLite's own work for the row.
    """
    columns = list(columns)
    sql = f"insert into [{name}] ({', '.join(f'[{c}]' for c in columns)}) values ({', '.join('?' * len(columns))})"
    db.conn.executemany(sql, rows)


@contextmanager
def _fast_writes(db: sqlite_utils.Database) -> Iterator[None]:
    """Commits that do not wait for the disk, then the setting db had.

    The database being built is a temp file that is swapped in only when complete (``build``):
    a crash half-way loses nothing, so its commits need not be synced. (A larger page cache,
    temp_store = memory and journal_mode = off or memory were measured too: no faster.)
    """
    before = db.execute("pragma synchronous").fetchone()[0]
    db.execute("pragma synchronous = off")
    try:
        yield
    finally:
        db.execute(f"pragma synchronous = {before}")


def _create_indexes(db: sqlite_utils.Database) -> None:
    for name, indexes in _INDEXES.items():
        for columns in indexes:
            db[name].create_index(columns)


@dataclass
class _Content:
    """What the rows are made from: the parse and link results, this build, and what ``publish``
    derives from them (the latest version of each document, 文号 and ids to row ids, placeholders)."""

    parsed: CorpusParse
    linked: LinkResult
    build: BuildInfo
    documents: list[Document]
    versions: list[DocumentVersion]
    ids: dict[str, str]
    placeholders: list[dict]


def _write_all(db: sqlite_utils.Database, content: _Content) -> None:
    """Every table, index, view and the search index, into an empty database."""
    with _fast_writes(db), _Scratch(db) as scratch:
        scratch.start(content.documents)  # the search index, in a process of its own
        with db.conn:  # one transaction (sqlite-utils' insert_all would commit every 100 rows)
            _create_schema(db)
            _insert_clauses(db, content)
            _insert_rows(db, content)
            _create_indexes(db)  # while the search index is still being written
        scratch.copy()
        with db.conn:
            for name, sql in _VIEWS.items():
                db.create_view(name, sql.strip())


def _update(db: sqlite_utils.Database, content: _Content, changed: Changes) -> None:
    """Replace, in a copy of the previous build's database, the rows of what changed (one transaction).

    Rows go out by the keys of what changed (the clauses' old ids and text are read first:
    the links, parameters and time limits hang on them, and the FTS5 table needs a row's old
    text to delete it), then the new rows of the same documents go in, as a full write makes
    them. Kept rows keep their rowids, and the ``build_id`` (and, in a link's evidence, the
    ``code_version``) of the build that wrote them; a rewritten notice's clauses take its old
    rowids, in order (new notices, and clauses beyond a notice's old count, go after all others).
    """
    conn = db.conn
    grams = search.GRAMS_TABLE
    with conn:
        for name, keys in (("kb_rewritten", changed.documents), ("kb_relinked", changed.linked), ("kb_paths", changed.paths)):
            conn.execute(f"create temp table {name} (id text primary key)")
            conn.executemany(f"insert into temp.{name} values (?)", [(k,) for k in sorted(keys)])
        of_relinked = "document_id in (select id from temp.kb_relinked)"
        of_rewritten = "document_id in (select id from temp.kb_rewritten)"
        conn.execute(f"delete from links where source_clause_id in (select id from clauses where {of_relinked})")
        conn.execute(f"delete from parameters where clause_id in (select id from clauses where {of_relinked})")
        conn.execute(f"delete from unresolved where clause_id in (select id from clauses where {of_relinked})")
        conn.execute("delete from coverage where city_document_id in (select id from temp.kb_relinked)")
        conn.execute(f"delete from time_limits where clause_id in (select id from clauses where {of_rewritten})")
        rowids: dict[str, list[int]] = {}  # a rewritten notice's clauses take its old rowids again
        old = []
        for rowid, document_id, heading, text in conn.execute(
            f"select rowid, document_id, heading, text from clauses where {of_rewritten} order by rowid"
        ):
            rowids.setdefault(document_id, []).append(rowid)
            old.append((rowid, heading, text))
        conn.executemany(f"insert into [{grams}] ([{grams}], rowid, heading, text) values ('delete', ?, ?, ?)", search.gram_rows(old))
        for table in ("clauses", "citations", "clause_versions"):
            conn.execute(f"delete from [{table}] where {of_rewritten}")
        conn.execute("delete from documents where id in (select id from temp.kb_rewritten) or placeholder = 1")
        conn.execute("delete from sources where path in (select id from temp.kb_paths)")
        for table in ("doc_relations", "problems", "document_versions"):
            conn.execute(f"delete from [{table}]")

        _insert_clauses(db, content, changed, rowids)
        _insert_rows(db, content, changed)
        new = conn.execute(f"select rowid, heading, text from clauses where {of_rewritten}").fetchall()
        conn.executemany(f"insert into [{grams}] (rowid, heading, text) values (?, ?, ?)", search.gram_rows(new))
        for name in ("kb_rewritten", "kb_relinked", "kb_paths"):
            conn.execute(f"drop table temp.{name}")


_LEVEL_ORDER = {level: k for k, level in enumerate(LEVELS)}


def _place_order(documents: list[Document]) -> list[Document]:
    """Documents in the order their rows are written: place by place, the nation's first, then
    each province's, its own rows in the middle of its cities' (the cities before it hold about
    half of their clauses, those after it the rest).

    So the clauses that can govern in one city (``kb.governs``: its own, its province's, the
    nation's) lie in a few spans of rowids, its own no further from its province's than half
    of the other cities' rows, and its full-text match reads only those spans of the index, not
    every match in the country. Each span read is a full-text query of its own, which pays for
    bm25's statistics over the whole table: in the middle, the province's span and the city's
    are close enough to be read as one (``kb.governs._runs``). Within a place, documents keep
    the corpus's order.
    """
    def province_of(doc: Document) -> str:
        return doc.province or doc.jurisdiction or ""

    clauses_by_place: dict[str, Counter] = {}  # province -> its cities' (and counties') clauses
    for doc in documents:
        if doc.level not in ("national", "province"):
            clauses_by_place.setdefault(province_of(doc), Counter())[doc.jurisdiction or ""] += len(doc.clauses)
    before: set[tuple[str, str]] = set()  # (province, place) written before the province's own rows
    for province, clauses in clauses_by_place.items():
        total, seen = sum(clauses.values()), 0
        for place in sorted(clauses):
            if seen + clauses[place] / 2 < total / 2:  # its middle lies in the first half
                before.add((province, place))
            seen += clauses[place]

    def key(doc: Document) -> tuple:
        province, place = province_of(doc), doc.jurisdiction or ""
        if doc.level == "national":
            section = 0
        elif doc.level == "province":
            section = 2
        else:
            section = 1 if (province, place) in before else 3
        return (doc.level != "national", province, section, _LEVEL_ORDER.get(doc.level or "", 4), place)

    return sorted(documents, key=key)


def publish(
    db: sqlite_utils.Database,
    parsed: CorpusParse,
    linked: LinkResult,
    build: BuildInfo,
    versions: list[DocumentVersion] | None = None,
    changed: Changes | None = None,
) -> dict:
    """Write every table, index, view and search index into an empty database; return counts.

    ``parsed.files`` give sources, documents and clauses; ``parsed.problems`` are recorded
    under ``build.id``. Earlier rows of ``builds`` are left in place (history); the row of
    this build is written last, with its counts, when everything else is in.

    With ``changed``, db is instead a copy of the database of the previous build (by this code,
    of the same documents) and only the rows ``changed`` names are replaced (``_update``).
    """
    if versions is None:
        documents, versions = assign_versions(parsed.documents)
    else:
        newest: dict[str, DocumentVersion] = {}
        for v in versions:
            if v.document_id not in newest or v.version > newest[v.document_id].version:
                newest[v.document_id] = v
        documents = [v.document for v in newest.values()]
    documents = _place_order(documents)
    ids = {d.doc_number: d.id for d in documents if d.doc_number}
    ids.update({d.id: d.id for d in documents})
    known = None
    if changed is not None:
        rows = db.execute("select id, level, jurisdiction, province from documents where placeholder = 1")
        known = {number: tuple(place) for number, *place in rows.fetchall()}
    placeholders = _placeholders(documents, linked, ids, known)
    ids.update({p["id"]: p["id"] for p in placeholders})

    # The row of builds, last, is written with db's own setting: that commit syncs the file.
    content = _Content(parsed, linked, build, documents, versions, ids, placeholders)
    if changed is not None:
        with _fast_writes(db):
            _update(db, content, changed)
    else:
        _write_all(db, content)

    problem_paths = {p.path for p in parsed.problems if p.severity == "error"}
    # The linker's figures are read from the tables: an incremental build's result holds
    # only the shares it recomputed.
    relations = dict(db.execute("select relation, count(*) from links group by relation").fetchall())
    tally = {name: db.execute(f"select count(*) from [{name}]").fetchone()[0] for name in ("unresolved", "coverage", "parameters")}
    severities = Counter(p.severity for p in parsed.problems)
    counts = {
        "files": len(parsed.files) + len(problem_paths - {f.source.path for f in parsed.files}),
        "files_failed": len(problem_paths - {f.source.path for f in parsed.files}),
        "documents": len(documents),
        "placeholders": len(placeholders),
        "clauses": sum(len(d.clauses) for d in documents),
        "links": dict(sorted(relations.items())),
        **tally,
        "citations": sum(len(d.citations) for d in documents),
        "problems": dict(sorted(severities.items())),
    }
    if build.incremental:
        counts["incremental"] = build.incremental
    build.counts = counts
    build.finished = _now()
    db["builds"].insert(
        {
            "id": build.id,
            "started": build.started,
            "finished": build.finished,
            "code_version": build.code_version,
            "corpus": build.corpus,
            "corpus_hash": build.corpus_hash,
            "counts": _json(counts),
        },
        replace=True,
    )
    if changed is None:
        db.analyze()
    else:  # the tables an update wrote; the search index's own tables are read by rowid only
        for table in _TABLES:
            db.analyze(table)
    return counts


def _insert_clauses(
    db: sqlite_utils.Database, content: _Content, only: Changes | None = None, rowids: dict[str, list[int]] | None = None
) -> None:
    """The rows of ``sources``, ``documents`` and ``clauses`` (with only: of its files and documents).

    ``rowids``: per document, the rowids its clauses take, in order (those of its rows in the
    previous database: a rewritten notice stays where it was in place order); clauses beyond
    them, and documents without, get new rowids after all others.
    """
    parsed, documents, ids, placeholders = content.parsed, content.documents, content.ids, content.placeholders
    if only is not None:
        documents = [d for d in documents if d.id in only.documents]
    _insert(
        db,
        "sources",
        (
            {
                "path": f.source.path,
                "sha256": f.source.sha256,
                "encoding": f.source.encoding,
                "bytes": f.source.size,
                "parsed": 1,
                "documents": len(f.documents),
                "discarded": _json(
                    [{"start": d.start, "end": d.end, "reason": d.reason, "text": d.text} for d in f.source.discarded]
                ),
                "manifest": _json(f.source.manifest or None),
            }
            for f in parsed.files
            if only is None or f.source.path in only.paths
        ),
    )
    _insert(db, "documents", [_document_row(d, ids) for d in documents] + placeholders)
    if rowids is None:
        _insert_tuples(db, "clauses", _CLAUSE_COLUMNS, (row for doc in documents for row in _clause_rows(doc)))
        return

    def placed(doc: Document) -> Iterator[tuple]:
        kept = rowids.get(doc.id, [])
        for k, row in enumerate(_clause_rows(doc)):
            yield (kept[k] if k < len(kept) else None, *row)  # None: SQLite's next rowid

    _insert_tuples(db, "clauses", ("rowid", *_CLAUSE_COLUMNS), (row for doc in documents for row in placed(doc)))


def _time_limit_rows(documents: list[Document]) -> Iterator[dict]:
    for d in documents:
        for c in d.clauses:
            for t in extract_time_limits(c.full_text, d.issued):
                yield {"clause_id": c.id, "kind": t.kind, "date": t.date, "words": t.words, "start": t.start, "end": t.end}


# FTS5 writes a segment each time its in-memory hash reaches this many bytes. Its default (1 MB)
# makes hundreds of small segments at this size, merged again and again: 16 MB halves the work.
_FTS_HASHSIZE = 16 << 20
_GRAMS_BATCH = 2000  # clauses turned into bigrams (numpy) at a time


class _Scratch:
    """The search index, written by another process into a scratch file, then copied in.

    The FTS5 index is the costliest part of publishing, and it needs nothing but the clause
    text. So ``start`` hands the text to a process of its own, which builds the index in a
    scratch database beside the one being built while this process writes every other table
    (one each on two cores); ``copy`` then moves its shadow tables in: rows in key order, a
    fraction of the cost of building them. Clause rowids are the clauses' order in
    ``documents`` in both files.

    The process is a new Python (``python -c``), given the text alone, pickled into a scratch
    file (a few hundred MB at 300,000 clauses, about a second) whose name goes down its stdin.
    Not forked: a forked process shares this one's pages, and every record this one then reads
    (a reference count written) would be copied, the records' whole size again. Not
    multiprocessing's spawn: that runs the caller's main script again, which a script without a
    ``__main__`` guard does not survive.

    The scratch index is built with a larger FTS5 hash (``_FTS_HASHSIZE``): fewer, larger
    segments, the same index (every term, row, column and offset, so the same matches and bm25
    ranks). The published ``*_config`` is the one the CREATE writes: the hash size is a setting
    of the build only. Leaving the block, also on an error, stops the process and removes the files.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        path = db.execute("pragma database_list").fetchall()[0][2]  # "" in memory
        where = Path(path) if path else None

        def scratch_file(kind: str) -> Path:
            fd, scratch = tempfile.mkstemp(prefix=(where.name if where else "kb") + kind, dir=where.parent if where else None)
            os.close(fd)
            return Path(scratch)

        self.path = scratch_file("-search-")
        # The texts the process reads: a file, not a pipe (a pickle of every clause's text in
        # memory is a few hundred MB at 300,000 clauses).
        self.texts = scratch_file("-search-texts-")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> _Scratch:
        return self

    def start(self, documents: list[Document]) -> None:
        with open(self.texts, "wb") as f:
            pickle.dump([(c.heading, c.text) for d in documents for c in d.clauses], f, protocol=pickle.HIGHEST_PROTOCOL)
        package_root = str(Path(__file__).resolve().parent.parent)  # so that the new Python imports this kb
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from kb.publish import _write_search_index; _write_search_index()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            pickle.dump((str(self.path), str(self.texts), os.getpid()), self.process.stdin)
            self.process.stdin.close()
        except BrokenPipeError:  # it died at once: copy() says why
            pass

    def copy(self) -> None:
        """Wait for the scratch file, then copy its tables into the database (one transaction)."""
        errors = self.process.stderr.read()  # until it ends
        if self.process.wait() != 0:
            raise KbError(
                f"writing the search index {search.GRAMS_TABLE} in {self.path} failed (exit code {self.process.returncode}):\n"
                + errors.decode("utf-8", "replace")
            )
        conn, table = self.db.conn, search.GRAMS_TABLE
        conn.execute("attach database ? as scratch", [str(self.path)])
        try:
            with conn:
                conn.execute(search.GRAMS_SQL)
                for shadow in ("data", "idx", "docsize"):
                    conn.execute(f"delete from main.[{table}_{shadow}]")
                    conn.execute(f"insert into main.[{table}_{shadow}] select * from scratch.[{table}_{shadow}]")
        finally:
            conn.execute("detach database scratch")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process.stderr.close()
        self.path.unlink(missing_ok=True)
        self.texts.unlink(missing_ok=True)


def _write_search_index() -> None:
    """The other process: the search index into a scratch file, from what stdin holds.

    stdin: (path, the file of the pickled texts, parent pid), pickled; rowid = place in texts,
    from 1. The index takes the clauses a few thousand at a time, as
    ``search.gram_rows`` of their text. If the build is killed, this stops at the next batch.
    """
    path, texts_path, parent = pickle.load(sys.stdin.buffer)
    table = search.GRAMS_TABLE
    with open(texts_path, "rb") as f:
        texts = pickle.load(f)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("pragma journal_mode = off")  # a scratch file: nothing to roll back to
        conn.execute("pragma synchronous = off")
        conn.execute("pragma secure_delete = off")  # merged segments need not be zeroed
        conn.execute("begin")
        conn.execute(search.GRAMS_SQL)
        conn.execute(f"insert into [{table}] ([{table}], rank) values ('hashsize', ?)", [_FTS_HASHSIZE])
        for start in range(0, len(texts), _GRAMS_BATCH):
            if os.getppid() != parent:
                sys.exit("the build that started this process is gone")
            batch = [(start + i + 1, heading, text) for i, (heading, text) in enumerate(texts[start : start + _GRAMS_BATCH])]
            conn.executemany(f"insert into [{table}] (rowid, heading, text) values (?, ?, ?)", search.gram_rows(batch))
        conn.execute("commit")
    finally:
        conn.close()


def _insert_rows(db: sqlite_utils.Database, content: _Content, only: Changes | None = None) -> None:
    """The rows of every other table but ``builds``, each in the order (so the ids) it always had.

    With only, the rows of its documents (citations, clause versions) and of the documents it
    names as relinked (links, parameters, unresolved, coverage), and every row of the small
    tables that depend on all documents (doc_relations, problems, document_versions).
    """
    parsed, linked, build, documents, versions, ids = (
        content.parsed, content.linked, content.build, content.documents, content.versions, content.ids
    )
    clause_doc = {c.id: d.id for d in documents for c in d.clauses}
    corpus_doc_ids = set(clause_doc.values())
    made_by = _made_by(build)
    if only is None:
        rewritten = relinked = lambda doc_id: True
    else:
        rewritten, relinked = only.documents.__contains__, only.linked.__contains__
    _insert(
        db,
        "citations",
        (
            {
                "document_id": d.id,
                "clause_id": c.clause_id if c.clause_id in clause_doc else None,
                "doc_number": c.doc_number,
                "title": c.title,
                "role": c.role,
                "basis": int(c.basis),
                "target_document_id": ids.get(c.doc_number) if c.doc_number else None,
                "in_corpus": int(bool(c.doc_number) and ids.get(c.doc_number) in corpus_doc_ids),
                "start": c.start,
                "end": c.end,
            }
            for d in documents
            if rewritten(d.id)
            for c in d.citations
        ),
    )
    corpus_ids = {d.id for d in documents}
    _insert(
        db,
        "doc_relations",
        (
            {
                "source_document_id": r.source_document_id,
                "relation": r.relation,
                "target_doc_number": r.target_doc_number,
                # A notice outside the corpus is reached through its placeholder row.
                "target_document_id": r.target_document_id or ids.get(r.target_doc_number or ""),
                "in_corpus": int(r.target_document_id in corpus_ids),
                "cited_title": r.cited_title,
                "title_mismatch": r.title_mismatch,
            }
            for r in linked.relations
        ),
    )
    _insert_tuples(
        db,
        "links",
        ("source_clause_id", "target_clause_id", "relation", "score", "why", "evidence", "build_id"),
        (
            (
                k.source_clause_id,
                k.target_clause_id,
                k.relation,
                k.score,
                k.evidence.get("why") if k.evidence is not None else None,
                _evidence_json(k.evidence, made_by),
                build.id,
            )
            for k in linked.links
            if relinked(clause_doc.get(k.source_clause_id))
        ),
    )
    _insert_tuples(
        db,
        "parameters",
        ("clause_id", "kind", "value", "unit", "bound", "subject", "text", "start", "end"),
        (
            (p.clause_id, p.kind, p.value, p.unit, p.bound, p.subject, p.text, p.start, p.end)
            for p in linked.parameters
            if relinked(clause_doc.get(p.clause_id))
        ),
    )
    _insert(
        db,
        "unresolved",
        (
            {
                "clause_id": u.clause_id,
                "reason": u.reason,
                "likely_document": u.likely_document,
                "likely_document_id": ids.get(u.likely_document or ""),
                "best_candidate_id": u.best_candidate_id,
                "best_score": u.best_score,
                "explanation": u.explanation,
            }
            for u in linked.unresolved
            if relinked(clause_doc.get(u.clause_id))
        ),
    )
    _insert_tuples(
        db,
        "coverage",
        ("city_document_id", "provincial_document_id", "provincial_clause_id", "restated", "by_clause_ids"),
        (
            (c.city_document_id, c.provincial_document_id, c.provincial_clause_id, int(c.restated), _json(c.by_clause_ids))
            for c in linked.coverage
            if relinked(c.city_document_id)
        ),
    )
    _insert(
        db,
        "problems",
        (
            {"build_id": build.id, "path": p.path, "line": p.line, "severity": p.severity, "message": p.message}
            for p in parsed.problems
        ),
    )
    _insert(db, "time_limits", _time_limit_rows([d for d in documents if rewritten(d.id)]))
    latest_version = {d.id: d.version for d in documents}
    _insert(
        db,
        "document_versions",
        (
            {
                "document_id": v.document_id,
                "version": v.version,
                "latest": int(latest_version.get(v.document_id) == v.version),
                "title": v.document.title,
                "issued": v.document.issued,
                "complete": int(v.document.complete),
                "clause_count": len(v.document.clauses),
                "source_path": v.document.source.path if v.document.source else None,
                "source_sha256": v.document.source.sha256 if v.document.source else None,
                "ordered_by": v.ordered_by,
                "changes": _json(v.changes or None),
                "parser_version": v.document.parser_version,
            }
            for v in versions
        ),
    )
    _insert_tuples(
        db,
        "clause_versions",
        _CLAUSE_VERSION_COLUMNS,
        (
            (
                c.id,
                v.version,
                v.document_id,
                c.path,
                c.label,
                c.heading,
                c.text,
                c.position,
                c.source_path,
                c.source_sha256,
                c.start,
                c.end,
                _spans_json(c.text_spans),
            )
            for v in versions
            if rewritten(v.document_id)
            for c in v.document.clauses
        ),
    )


# ---------------------------------------------------------------------------------------------
# The whole pipeline, written atomically.

_TEMP_RE = re.compile(
    r"""
    \.tmp-        # after the database's own name: kb.db.tmp-
    (?P<pid>\d+)  # the process id of the build that writes it
    -             # then mkstemp's random part
    """,
    re.X,
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temps(db_path: Path) -> None:
    """Remove temp files of builds that were killed (their process is gone)."""
    for p in db_path.parent.glob(db_path.name + ".tmp-*"):
        m = _TEMP_RE.search(p.name[len(db_path.name) :])
        if m and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
            p.unlink(missing_ok=True)


def _previous_builds(db_path: Path) -> list[dict]:
    """The ``builds`` rows of the database being replaced (history), or none if unreadable."""
    if not db_path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            old = sqlite_utils.Database(conn)
            return list(old["builds"].rows) if old["builds"].exists() else []
        finally:
            conn.close()
    except sqlite3.Error:  # an unreadable old database has no history to keep
        return []


def build(
    corpus: str | Path = "corpus",
    db_path: str | Path = "kb.db",
    on_file: Callable[[str], None] | None = None,
    full: bool = False,
    workers: int | None = None,
) -> BuildReport:
    """Parse every file under corpus, link, publish to a new database and swap it in at db_path.

    Files that fail to parse are recorded in ``problems`` and the build goes on with the rest.
    on_file is called with each file's path as it is parsed (for a progress bar). If anything
    fails before the new database is complete, the file at db_path is not touched.

    Incremental: parsed files and the linker's state are cached in ``<db>.cache/<code>/``
    (kb.cache); a rebuild by the same code parses only changed files and links only the
    documents a change touches. ``full`` ignores the cache; ``workers`` caps the processes.
    """
    corpus, db_path = Path(corpus), Path(db_path)
    if not corpus.is_dir():
        raise NotFoundError(f"corpus directory not found: {corpus} (expected a directory of notice files; use --corpus DIR)")
    files = corpus_files(corpus)
    if not files:
        raise KbError(f"no files to parse under {corpus}: expected notice text files (.txt, .html)")
    if db_path.is_dir():
        raise KbError(f"{db_path} is a directory: expected a database file path such as kb.db")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    started = _now()

    code = cache.code_fingerprint()
    cache_root = cache.cache_dir_for(db_path)
    here = cache.code_dir(cache_root, code)
    if full:
        shutil.rmtree(here, ignore_errors=True)
    _remove_stale_temps(db_path)
    fd, temp = tempfile.mkstemp(prefix=f"{db_path.name}.tmp-{os.getpid()}-", dir=db_path.parent)
    os.close(fd)
    # The database this code wrote last is copied while the corpus is parsed and linked: an
    # incremental publish updates the copy (two seconds of I/O at 10,000 notices that would
    # otherwise come after them). Emptied if the publish turns out to be a whole write.
    copying = None if full or not _written_last(db_path, here) else _in_background(shutil.copyfile, db_path, temp)
    state_file = None
    try:
        parsed = parse_corpus(corpus, on_file=on_file, workers=workers, cache_dir=here / "parse", files=files)
        latest, versions = assign_versions(parsed.documents)
        previous = None if full else cache.load_pickle(here / "link.pickle")
        linked = link(latest, workers=workers, previous=previous if isinstance(previous, LinkState) else None, code=code, complete=False)
        previous = None

        hashes = {f.source.path: f.source.sha256 for f in parsed.files}
        for path in files:
            rel = path.relative_to(corpus).as_posix()
            if rel not in hashes:  # a file that failed to parse: hashed here, it has no Source
                hashes[rel] = _sha256(path)
        history = _previous_builds(db_path)
        info = BuildInfo(
            id=max((b["id"] for b in history), default=0) + 1,
            started=started,
            code_version=code_version(),
            corpus=str(corpus),
            corpus_hash=corpus_hash(hashes),
            incremental={
                "files_parsed": len(parsed.parsed_paths),
                "files_from_cache": len(parsed.cached_paths),
                "documents_linked": len(linked.reuse.recomputed),
                "documents_reused": linked.reuse.reused,
            },
        )

        changed = None if copying is None else _changes(db_path, here, parsed, linked, latest, hashes)
        if copying is not None:
            copying.result()
        if changed is None:  # the whole database is written: every document's share, into an empty file
            complete_result(linked, latest)
            open(temp, "wb").close()
        _remove_stale_temps(here / "link.pickle")
        # The linker's state (every document's share and the index, pickled: 125 MB at 10,000
        # notices) waits on disk, not in memory, for the build to land.
        state_file = cache.pickle_beside(here / "link.pickle", linked.state)
        linked.state = None
        db = sqlite_utils.Database(temp)
        try:
            if changed is None:
                _create_schema_history(db, history)
            with cache.collector_paused():  # rows made from millions of objects, no cycles
                publish(db, parsed, linked, info, versions, changed=changed)
            _record_failed_sources(db, parsed, hashes, corpus, only=changed.paths if changed else None)
        finally:
            db.close()
        os.replace(temp, db_path)
    except BaseException:
        if copying is not None and not copying.cancel():
            copying.exception()  # a running copy is waited for: its file is removed next
        Path(temp).unlink(missing_ok=True)
        if state_file is not None:
            state_file.unlink(missing_ok=True)
        raise
    # Only a build that landed leaves state for the next one.
    os.replace(state_file, here / "link.pickle")
    cache.save_pickle(here / _PUBLISHED, {"id": info.id, "finished": info.finished, "file": _identity(db_path)})
    cache.prune(cache_root, keep=code)
    return BuildReport(str(db_path), info, parsed.problems, changed)


def _in_background(function: Callable, *args) -> Future:
    """function(*args) in a thread of its own (a file copy: the kernel's work, the GIL released)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-build")
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


# Beside the linker's state in the code's cache: which build of the database this code wrote last.
_PUBLISHED = "published.pickle"


def _identity(path: Path) -> tuple[int, int, int]:
    """The file as the file system knows it: a copy over it, a replacement or a write changes it."""
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _written_last(db_path: Path, here: Path) -> dict | None:
    """The record of the build this code wrote last, if the file at db_path is still that database."""
    record = cache.load_pickle(here / _PUBLISHED)
    if not db_path.is_file() or not isinstance(record, dict) or record.get("file") != _identity(db_path):
        return None
    return record


# Past this share of documents to rewrite, writing the whole database costs no more.
_MAX_CHANGED_SHARE = 0.5


def _changes(
    db_path: Path, here: Path, parsed: CorpusParse, linked: LinkResult, latest: list[Document], hashes: dict[str, str]
) -> Changes | None:
    """What an incremental publish replaces, or None when the database must be written whole.

    Incremental only when the database at db_path is the file this code wrote last (its inode,
    size and modification time, and its newest ``builds`` row, are the ones recorded in the
    code's cache: other code, or a database written or replaced by anything else, means a full
    write), it holds the same documents (ids and 文号) and the same files, and the documents to
    rewrite or relink are at most ``_MAX_CHANGED_SHARE`` of them.
    """
    reuse = linked.reuse
    record = _written_last(db_path, here)
    if reuse is None or record is None:
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            last = conn.execute("select id, finished from builds order by id desc limit 1").fetchone()
            if last is None or (last[0], last[1]) != (record.get("id"), record.get("finished")):
                return None
            documents = set(conn.execute("select id, doc_number from documents where placeholder = 0"))
            published = {path: (sha, manifest) for path, sha, manifest in conn.execute("select path, sha256, manifest from sources")}
        finally:
            conn.close()
    except sqlite3.Error:  # unreadable: written whole
        return None
    if documents != {(d.id, d.doc_number) for d in latest} or published.keys() != hashes.keys():
        return None
    # Files whose bytes or manifest entry differ from what the database was written from: by this
    # code, the same two give the same parse. (Not the files parsed this run: a file put back as
    # it was comes from the parse cache, yet the database holds the other version.)
    now = {path: (sha, None) for path, sha in hashes.items()}  # a file that failed: no manifest kept
    now.update({f.source.path: (f.source.sha256, _json(f.source.manifest or None)) for f in parsed.files})
    changed = {path for path in hashes if now[path] != published[path]}
    rewritten = {d.id for f in parsed.files if f.source.path in changed for d in f.documents}
    relinked = set(reuse.recomputed) | rewritten
    if len(relinked) > _MAX_CHANGED_SHARE * len(latest):
        return None
    return Changes(changed, rewritten, relinked)


def _create_schema_history(db: sqlite_utils.Database, history: list[dict]) -> None:
    """Carry the earlier builds' rows over, so ``builds`` reads as the database's history."""
    db["builds"].create(_TABLES["builds"][0], pk="id")
    db["builds"].insert_all(history)


def _record_failed_sources(
    db: sqlite_utils.Database, parsed: CorpusParse, hashes: dict[str, str], corpus: Path, only: set[str] | None = None
) -> None:
    """A ``sources`` row (parsed = 0) for every file (of only) that could not be parsed."""
    parsed_paths = {f.source.path for f in parsed.files}
    db["sources"].insert_all(
        {"path": path, "sha256": sha, "bytes": (corpus / path).stat().st_size, "parsed": 0, "documents": 0}
        for path, sha in sorted(hashes.items())
        if path not in parsed_paths and (only is None or path in only)
    )
