"""Versions: two sources carrying the same 文号 are versions of one document.

Not duplicates, not an overwrite: every version keeps its clauses and provenance. Versions
are numbered 1, 2, … by the manifest's ``date`` for the file, else by the dates the text
carries (a statute's version date, a notice's signature date), else by file name. The latest version is the document the rest of
the pipeline links, searches and serves; clause ids are path-based, so they stay the same
across versions and the history of one clause is a lookup by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diff import Side, diff_sides
from .model import Document


@dataclass
class DocumentVersion:
    document_id: str
    version: int
    document: Document
    ordered_by: str  # manifest-date | text-date | file-name
    changes: dict = field(default_factory=dict)  # counts against the previous version


def _order_key(doc: Document) -> tuple:
    """(undated last, date, where the date came from, signature date, path): versions dated by
    the manifest and by their text sort together, by date; the path only breaks ties."""
    manifest = doc.source.manifest if doc.source else {}
    date = manifest.get("date")
    path = doc.source.path if doc.source else ""
    if date:
        return (0, str(date), 0, doc.issued or "", path)
    if doc.version_date or doc.issued:
        return (0, doc.version_date or doc.issued, 1, "", path)
    return (1, "", 2, "", path)


_ORDERED_BY = {0: "manifest-date", 1: "text-date", 2: "file-name"}


def assign_versions(documents: list[Document]) -> tuple[list[Document], list[DocumentVersion]]:
    """Group documents by id; return the latest of each (in first-seen order) and all versions."""
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.id, []).append(doc)
    latest: list[Document] = []
    versions: list[DocumentVersion] = []
    for doc_id, docs in groups.items():
        ordered = sorted(docs, key=_order_key)
        previous = None
        for number, doc in enumerate(ordered, start=1):
            doc.version = number
            changes = {}
            if previous is not None:
                report = diff_sides(Side("old", previous.title, previous.clauses), Side("new", doc.title, doc.clauses))
                changes = {"summary": report.summary} if report.articles else {
                    "changed": [e.path for e in report.changed],
                    "added": [e.path for e in report.added],
                    "removed": [e.path for e in report.removed],
                    "moved": [f"{e.old_path} → {e.new_path}" for e in report.moved],
                    "unchanged": report.unchanged,
                }
            versions.append(DocumentVersion(doc_id, number, doc, _ORDERED_BY[_order_key(doc)[2]], changes))
            previous = doc
        latest.append(ordered[-1])
    return latest, versions


# -- point in time ---------------------------------------------------------------------------


def _in_force_from(row: dict) -> str | None:
    """When a version took effect: its 施行 date, else its version date, else its signing date."""
    return row.get("effective") or row.get("version_date") or row.get("issued")


def version_in_force(versions: list[dict], as_of: str) -> dict | None:
    """Of one document's ``document_versions`` rows, the one in force on ``as_of`` (ISO date).

    That is the latest version (by version number, which follows the version dates) that had
    taken effect on that day; None when the first version had not. Derived versions (an
    amendment decision applied, ``kb.amend.derived_versions``) are never chosen. A version with no date at
    all is taken to be in force from the start: it cannot be placed, and hiding it would hide
    the document.
    """
    chosen = None
    for row in sorted(versions, key=lambda r: r["version"]):
        if str(row.get("ordered_by") or "").startswith("derived"):
            continue  # made by applying a decision: the published versions are the law
        start = _in_force_from(row)
        if start is None or start <= as_of:
            chosen = row
    return chosen


def version_as_of(conn, document_id: str, as_of: str) -> dict | None:
    """The ``document_versions`` row of ``document_id`` in force on ``as_of``: what pages and
    ``kb governs`` call to show a document as it stood on a date."""
    cursor = conn.execute("select * from document_versions where document_id = ? order by version", (document_id,))
    cols = [d[0] for d in cursor.description]
    return version_in_force([dict(zip(cols, r)) for r in cursor.fetchall()], as_of)
