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
                changes = {
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
