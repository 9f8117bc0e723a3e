"""Identity across files: two files share a document id only when they hold versions of it.

A document's id is its 文号, else its jurisdiction and normalised title (``kb.model.document_id``).
Two files whose documents claim one id with *different* titles are not versions of one document:
a 文号 mistyped in one of them, or two bodies' texts of the same name. They are never merged:
the first file (in path order) keeps the id, and each later claimant is left out of the build
with an error naming both files, so the corpus gets fixed instead of the knowledge base lying.

What this module does not do: order versions (``kb.versions``).
"""

from __future__ import annotations

import re

from ..text import compact

# A version note after a title, which names the version and not the document: its id leaves it out,
# so 中华人民共和国公司法（2018年修正） and 中华人民共和国公司法 are versions of one law.
_VERSION_NOTE_RE = re.compile(
    r"""
    [（(]
    (?:\d{4}年?)?                                # 2018年
    (?:第[一二三四五六七八九十]+次)?                # 第二次
    (?:修正|修订|修正文本|修订文本|版)             # 修正
    [)）]$
    """,
    re.VERBOSE,
)


def title_key(title: str) -> str:
    """The title as an identity: its version note left out."""
    return _VERSION_NOTE_RE.sub("", title.strip())


def conflicting_ids(files: list) -> list[tuple[str, str, str]]:
    """Drop the documents whose id another file's document holds under a different title.

    files: ``ParsedFile`` records, in path order; edited in place (documents removed, a file
    left with none removed). Returns (path, message, severity) for each claimant: an error for
    a document left out; a warning for a notice carried as another's attachment, which is kept
    (its parent's clauses point at it) but named, so the clash is never silent.
    """
    first: dict[str, tuple[str, str]] = {}  # id -> (compact title, path)
    problems = []
    for parsed in files:
        kept = []
        for doc in parsed.documents:
            title = compact(title_key(doc.title))
            path = parsed.source.path
            claimed = first.setdefault(doc.id, (title, path))
            if claimed[0] != title:
                fate = "it is kept as the attachment it is" if doc.attached_to else "this one is left out"
                problems.append(
                    (
                        path,
                        (
                            f"{doc.id!r} is the id of {doc.title!r} here and of a document titled differently in "
                            f"{claimed[1]}: different documents cannot share an id, so {fate}; "
                            "correct the 文号 or title in one of the files (or its manifest entry)"
                        ),
                        "warning" if doc.attached_to else "error",
                    )
                )
                if not doc.attached_to:
                    continue
            kept.append(doc)
        parsed.documents[:] = kept
    files[:] = [f for f in files if f.documents]
    return problems
