"""What the pages show beyond rows: status badges, the source text with a span marked, a
GB/T 7714 citation, CSV of a page's table.

Status (时效性) is ``kb.status``'s question (in force, not yet in force, expired, superseded,
incomplete, as of a date). Until that module is in the package, ``clause_statuses`` and
``document_statuses`` read what the database already says (time limits in a clause's own
words, a later provincial restatement, an incomplete text), the same reading as the governs
page's; with ``kb.status`` present (it is), its ``clause_statuses(conn, ids, as_of)`` and
``document_status(conn, id, as_of)`` answer instead, put in the pages' shape (``_as_dict``).

Nothing here reads a file of the server: the source text is the ``sources.text`` column the
publish stage wrote.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

from markupsafe import Markup, escape


def _rows(conn: Any, sql: str, params: dict | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _status_module():
    try:
        from .. import status  # type: ignore[attr-defined]
    except ImportError:
        return None
    return status


def today() -> str:
    return datetime.date.today().isoformat()


_CLAUSE_FACTS = """
select clauses.id, clauses.path, clauses.document_id, documents.issued, documents.complete,
       documents.incomplete_reasons,
       (select max(date) from time_limits t where t.clause_id = clauses.id and t.kind = 'expires') as expires,
       (select words from time_limits t where t.clause_id = clauses.id and t.kind = 'expires' order by date desc limit 1) as expires_words,
       (select min(date) from time_limits t where t.clause_id = clauses.id and t.kind = 'effective') as effective
from clauses join documents on documents.id = clauses.document_id
where clauses.id in (select value from json_each(:ids))
"""

_SUCCESSORS = """
select links.target_clause_id, links.source_clause_id, documents.issued, documents.doc_number
from links join clauses on clauses.id = links.source_clause_id
join documents on documents.id = clauses.document_id
where links.relation = 'succeeds' and links.target_clause_id in (select value from json_each(:ids))
  and (documents.issued is null or documents.issued <= :as_of)
order by documents.issued
"""


def clause_statuses(
    conn: Any, clause_ids: list[str], as_of: str | None = None
) -> dict[str, dict]:
    """{clause id: {"state", "date", "words", "by", "incomplete"}} as of a date (today).

    state is in force, not yet in force, expired (by its own words: words, date) or superseded
    (by a later restatement: by, date); incomplete holds why the clause's own text is cut, or
    None; document_incomplete why its document's text is (the clause may be whole)."""
    as_of = as_of or today()
    module = _status_module()
    if module is not None and hasattr(module, "clause_statuses"):
        return {
            k: _as_dict(v)
            for k, v in module.clause_statuses(conn, clause_ids, as_of).items()
        }
    if not clause_ids:
        return {}
    ids = json.dumps(list(dict.fromkeys(clause_ids)), ensure_ascii=False)
    successors: dict[str, dict] = {}
    for row in _rows(conn, _SUCCESSORS, {"ids": ids, "as_of": as_of}):
        successors.setdefault(row["target_clause_id"], row)
    out = {}
    for row in _rows(conn, _CLAUSE_FACTS, {"ids": ids}):
        status = {
            "state": "in force",
            "date": None,
            "words": None,
            "by": None,
            "incomplete": None,
        }
        if row["issued"] and row["issued"] > as_of:  # not yet made
            status.update(state="not yet in force", date=row["issued"])
        elif row["effective"] and row["effective"] > as_of:
            status.update(state="not yet in force", date=row["effective"])
        elif row["expires"] and row["expires"] < as_of:
            status.update(
                state="expired", date=row["expires"], words=row["expires_words"]
            )
        elif row["id"] in successors and (row["issued"] or "") < (
            successors[row["id"]]["issued"] or "~"
        ):
            s = successors[row["id"]]
            status.update(
                state="superseded",
                date=s["issued"],
                by=s["source_clause_id"],
                words=s["doc_number"],
            )
        if not row["complete"]:
            reasons = [
                r
                for r in json.loads(row["incomplete_reasons"] or "[]")
                if isinstance(r, str)
            ]
            own = [r for r in reasons if r.startswith(row["path"] + " ")]
            # the clause's own text is cut (its path opens a reason), or only its document's
            status["incomplete"] = own[0] if own else None
            status["document_incomplete"] = "; ".join(reasons) or "incomplete"
        out[row["id"]] = status
    return out


_DOCUMENT_FACTS = """
select documents.id, documents.issued, documents.complete, documents.placeholder, documents.incomplete_reasons,
       (select max(t.date) from time_limits t join clauses c on c.id = t.clause_id
         where c.document_id = documents.id and t.kind = 'expires') as expires,
       (select min(t.date) from time_limits t join clauses c on c.id = t.clause_id
         where c.document_id = documents.id and t.kind = 'effective') as effective
from documents where documents.id in (select value from json_each(:ids))
"""


def document_statuses(
    conn: Any, document_ids: list[str], as_of: str | None = None
) -> dict[str, dict]:
    """{document id: {"state", "date", "incomplete"}}: expired once the last time limit its
    clauses set has passed, not yet in force before the date it says it takes effect."""
    as_of = as_of or today()
    module = _status_module()
    if module is not None and hasattr(module, "document_status"):
        found = {
            d: module.document_status(conn, d, as_of)
            for d in dict.fromkeys(document_ids)
        }
        out = {
            d: _as_dict(v)
            if v is not None
            else {"state": "unknown", "date": None, "words": None, "incomplete": None}
            for d, v in found.items()
        }
        for status in out.values():  # a document's incompleteness is its own
            status["incomplete"] = status.get("incomplete") or status.get(
                "document_incomplete"
            )
        return out
    if not document_ids:
        return {}
    out = {}
    for row in _rows(
        conn,
        _DOCUMENT_FACTS,
        {"ids": json.dumps(list(dict.fromkeys(document_ids)), ensure_ascii=False)},
    ):
        status: dict = {"state": "in force", "date": None, "incomplete": None}
        if row["placeholder"]:
            status["state"] = "unknown"
        elif row["issued"] and row["issued"] > as_of:  # not yet made
            status.update(state="not yet in force", date=row["issued"])
        elif row["effective"] and row["effective"] > as_of:
            status.update(state="not yet in force", date=row["effective"])
        elif row["expires"] and row["expires"] < as_of:
            status.update(state="expired", date=row["expires"])
        if not row["complete"] and not row["placeholder"]:
            reasons = [
                r
                for r in json.loads(row["incomplete_reasons"] or "[]")
                if isinstance(r, str)
            ]
            status["incomplete"] = "; ".join(reasons) or "incomplete"
        out[row["id"]] = status
    return out


def _as_dict(status: Any) -> dict:
    """kb.status's Status in the pages' shape: incomplete is the clause's own cut (or None),
    document_incomplete its document's reasons."""
    reasons = status.incomplete or []
    own = [r["reason"] for r in reasons if r.get("scope") == "clause"]
    others = [r["reason"] for r in reasons if r.get("scope") != "clause"]
    return {
        "state": status.state,
        "date": status.date,
        "words": status.words,
        "by": status.by,
        "incomplete": own[0] if own else None,
        "document_incomplete": "; ".join(others) or None,
    }


def source_html(text: str, spans: list[tuple[int, int]]) -> Markup:
    """The source text escaped, the given character spans in ``<mark>`` (the first one with
    ``id="kb-span"``, so the page can scroll to it)."""
    out, pos = [], 0
    for k, (start, end) in enumerate(
        sorted((max(0, a), min(len(text), b)) for a, b in spans if b > a)
    ):
        start = max(start, pos)
        if start >= end:
            continue
        out.append(str(escape(text[pos:start])))
        anchor = ' id="kb-span"' if k == 0 else ""
        out.append(f"<mark{anchor}>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def citation_gbt7714(
    document: dict, manifest: dict | None, accessed: str | None = None
) -> str:
    """A reference to the document in GB/T 7714-2015 style, as Chinese papers cite notices:
    ``发文机关. 标题: 文号[EB/OL]. (成文日期)[引用日期]. URL.`` for a text read on the web
    (the manifest's retrieved_from); ``[Z]`` (other) with the date when no address is known."""
    issuers = document.get("issuers")
    try:
        names = json.loads(issuers) if isinstance(issuers, str) else issuers or []
    except ValueError:
        names = [issuers]
    author = ", ".join(n for n in names if n) or (document.get("jurisdiction") or "")
    title = document.get("title") or ""
    number = document.get("doc_number")
    head = f"{author}. {title}" + (f": {number}" if number else "")
    issued = document.get("issued") or ""
    where = (manifest or {}).get("retrieved_from") or ""
    if where.startswith(("http://", "https://")):
        return f"{head}[EB/OL]. ({issued})[{accessed or today()}]. {where}."
    return f"{head}[Z]. {issued}." if issued else f"{head}[Z]."


def rows_csv(rows: list[dict], columns: list[str]) -> str:
    """rows as CSV with a header, the columns in order (what a page's table shows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()
