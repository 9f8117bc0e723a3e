"""Status (时效性) of a clause or document as of a date: in force, not yet in force, expired,
superseded (by what), and whether its text is incomplete (why).

Read from what the knowledge base already holds, never guessed:

- **not yet in force** (尚未施行): the document is issued after the date, or says it takes
  effect later (a ``time_limits`` row of kind ``effective``: 自2021年1月1日起施行; a statute's
  ``effective`` column where the build has one);
- **expired** (已失效): the clause's own words, or an enclosing clause's, end it before the
  date (``time_limits`` of kind ``expires``: 执行期限至2021年12月31日);
- **superseded** (已被取代): a later rule restates it (a ``succeeds`` link from a clause issued
  by the date, and after it), or restates the rule it stands on; ``by`` names the later
  clause, ``words`` quote the later notice's 以往规定与本通知不一致的，以本通知为准 where it has one;
- **in force** (现行有效) otherwise.

Incompleteness is not a state in time but a warning that goes with any state: ``incomplete``
lists why, the clause's own (its text is cut mid-sentence: the document's reason names the
clause's path) before the document's (pages missing, a preview cut off).

Statuses are computed for many clauses at once (``clause_statuses``), in a few set-based
queries, for pages that list many (search, governs, a document's tree). Expired outranks
superseded: a rule past its own end date is reported as such even if a later one restated it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

STANDING = ("implements", "extends", "overrides")

IN_FORCE, NOT_YET, EXPIRED, SUPERSEDED = "in force", "not yet in force", "expired", "superseded"

# The terms Chinese legal databases use for 时效性 (北大法宝, 国家法律法规数据库).
LABELS_ZH = {IN_FORCE: "现行有效", NOT_YET: "尚未施行", EXPIRED: "已失效", SUPERSEDED: "已被取代", "incomplete": "文本不完整"}


@dataclass(frozen=True)
class Status:
    """A clause's or document's status as of ``as_of``; see the module docstring."""

    state: str
    as_of: str
    date: str | None = None  # when it took effect / expired / was superseded
    words: str | None = None  # the words that say so
    by: str | None = None  # superseded by: the later clause's id (or document's, for a document)
    by_document: str | None = None
    incomplete: list[dict] = field(default_factory=list)  # {"scope": clause|document, "reason"}

    @property
    def label_zh(self) -> str:
        return LABELS_ZH[self.state]

    def to_dict(self) -> dict:
        return asdict(self) | {"label_zh": self.label_zh, "incomplete_zh": LABELS_ZH["incomplete"] if self.incomplete else None}


_IDS = "(select value from json_each(:ids))"

_CLAUSES_SQL = f"""
select clauses.id, clauses.path, clauses.document_id, documents.issued, documents.complete,
       documents.incomplete_reasons, documents.placeholder
from clauses join documents on documents.id = clauses.document_id
where clauses.id in {_IDS}
"""

# Each clause and its enclosing clauses (a part's time limit holds for its items).
_ANCESTORS_SQL = f"""
with recursive up(clause_id, ancestor_id) as (
  select id, id from clauses where id in {_IDS}
  union
  select up.clause_id, clauses.parent_id from up join clauses on clauses.id = up.ancestor_id
  where clauses.parent_id is not null
)
select up.clause_id, time_limits.date, time_limits.words from up
join time_limits on time_limits.clause_id = up.ancestor_id
where time_limits.kind = 'expires' and time_limits.date is not null
order by up.clause_id, time_limits.date desc, time_limits.id
"""

# When a document says it takes effect, the latest such date first.
_EFFECTIVE_SQL = f"""
select clauses.document_id, time_limits.date, time_limits.words from time_limits
join clauses on clauses.id = time_limits.clause_id
where clauses.document_id in {_IDS} and time_limits.kind = 'effective' and time_limits.date is not null
order by clauses.document_id, time_limits.date desc, time_limits.id
"""

# What each clause stands on (its bases can be superseded under it).
_BASES_SQL = f"""
select source_clause_id, target_clause_id from links
where source_clause_id in {_IDS} and relation in {STANDING}
order by id
"""

# Later restatements issued by the date: the latest first, ties in link order.
_SUCCEEDS_SQL = f"""
select links.target_clause_id, links.source_clause_id, documents.doc_number, documents.issued,
       documents.id as document_id
from links join clauses on clauses.id = links.source_clause_id
join documents on documents.id = clauses.document_id
where links.target_clause_id in {_IDS} and links.relation = 'succeeds' and documents.issued <= :as_of
order by links.target_clause_id, documents.issued desc, links.id
"""

# A notice's "以往规定…以本通知为准", from its first clause that has one.
_PREVAILS_SQL = f"""
select clauses.document_id, time_limits.words from time_limits join clauses on clauses.id = time_limits.clause_id
where clauses.document_id in {_IDS} and time_limits.kind = 'prevails'
order by clauses.document_id, clauses.position, clauses.rowid, time_limits.id
"""


def _rows(conn: Any, sql: str, params: dict) -> list[dict]:
    cursor = conn.execute(sql, params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


def _first_by(rows: list[dict], key: str) -> dict[Any, dict]:
    out: dict[Any, dict] = {}
    for row in rows:
        out.setdefault(row[key], row)
    return out


def _grouped(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _ids(values) -> str:
    return json.dumps(sorted(set(values)), ensure_ascii=False)


def _effective_column(conn: Any) -> bool:
    """Does this build's documents table have a statute's ``effective`` date (施行日期)?"""
    return any(row[1] == "effective" for row in conn.execute("pragma table_info(documents)"))


def incompleteness(path: str | None, complete: int | None, reasons_json: str | None, placeholder: int | None = 0) -> list[dict]:
    """Why a clause's text is incomplete: its own cut first (a reason naming its path), then the document's."""
    if complete or placeholder:
        return []
    try:
        reasons = json.loads(reasons_json or "[]")
    except ValueError:
        reasons = [reasons_json]
    own = [r for r in reasons if path and isinstance(r, str) and r.startswith(path + " ")]
    return [{"scope": "clause", "reason": r} for r in own] + [{"scope": "document", "reason": r} for r in reasons if r not in own]


def clause_statuses(conn: Any, clause_ids, as_of: str) -> dict[str, Status]:
    """Status of each clause as of the date (ISO); unknown ids are left out."""
    conn = getattr(conn, "conn", conn)
    ids = _ids(clause_ids)
    clauses = {c["id"]: c for c in _rows(conn, _CLAUSES_SQL, {"ids": ids})}
    if not clauses:
        return {}
    docs = _ids(c["document_id"] for c in clauses.values())
    expires = _first_by(_rows(conn, _ANCESTORS_SQL, {"ids": ids}), "clause_id")
    effective = _first_by(_rows(conn, _EFFECTIVE_SQL, {"ids": docs}), "document_id")
    if _effective_column(conn):
        for row in _rows(conn, f"select id as document_id, effective as date from documents where id in {_IDS} and effective is not null", {"ids": docs}):
            effective[row["document_id"]] = row | {"words": f"施行日期 {row['date']}"}
    bases = _grouped(_rows(conn, _BASES_SQL, {"ids": ids}), "source_clause_id")
    targets = set(clauses) | {b["target_clause_id"] for links in bases.values() for b in links}
    succeeds = _grouped(_rows(conn, _SUCCEEDS_SQL, {"ids": _ids(targets), "as_of": as_of}), "target_clause_id")
    out: dict[str, Status] = {}
    later_documents = set()
    for clause_id, c in clauses.items():
        incomplete = incompleteness(c["path"], c["complete"], c["incomplete_reasons"], c["placeholder"])
        starts = effective.get(c["document_id"])
        ends = expires.get(clause_id)
        if c["issued"] and c["issued"] > as_of:
            out[clause_id] = Status(NOT_YET, as_of, c["issued"], f"issued {c['issued']}", incomplete=incomplete)
        elif starts and starts["date"] > as_of:
            out[clause_id] = Status(NOT_YET, as_of, starts["date"], starts["words"], incomplete=incomplete)
        elif ends and ends["date"] < as_of:
            out[clause_id] = Status(EXPIRED, as_of, ends["date"], ends["words"], incomplete=incomplete)
        else:
            successor = _successor(clause_id, [b["target_clause_id"] for b in bases.get(clause_id, [])], c["issued"], succeeds)
            if successor:
                later_documents.add(successor["document_id"])
                out[clause_id] = Status(
                    SUPERSEDED, as_of, successor["issued"], successor["doc_number"], successor["source_clause_id"], successor["document_id"], incomplete
                )
            else:
                out[clause_id] = Status(IN_FORCE, as_of, incomplete=incomplete)
    if later_documents:
        prevails = _first_by(_rows(conn, _PREVAILS_SQL, {"ids": _ids(later_documents)}), "document_id")
        for clause_id, s in out.items():
            if s.state == SUPERSEDED:
                words = prevails.get(s.by_document)
                text = words["words"] if words else f"{s.words or s.by_document} restates the rule"
                out[clause_id] = Status(s.state, s.as_of, s.date, text, s.by, s.by_document, s.incomplete)
    return out


def _successor(clause_id: str, bases: list[str], issued: str | None, succeeds: dict) -> dict | None:
    """The latest later restatement of the clause or of a rule it stands on, issued after it."""
    for target in [clause_id] + bases:
        for s in succeeds.get(target, []):
            if issued is None or (s["issued"] is not None and s["issued"] > issued):
                return s
    return None


def clause_status(conn: Any, clause_id: str, as_of: str) -> Status | None:
    """Status of one clause as of the date; None for an unknown id."""
    return clause_statuses(conn, [clause_id], as_of).get(clause_id)


def document_status(conn: Any, document_id: str, as_of: str) -> Status | None:
    """A document's status as of the date: not yet in force, expired (every clause with a
    time limit has lapsed and none is left without one... see below), superseded, in force.

    A notice is expired when all of its clauses that carry rules are expired, superseded when
    all are superseded (``by`` names the document of the latest successor), otherwise in force
    (``words`` then counts the clauses that are not, "3 of 14 clauses expired"). Placeholders
    (cited, not in the corpus) get None: the knowledge base cannot say.
    """
    conn = getattr(conn, "conn", conn)
    doc = _rows(conn, "select id, issued, complete, incomplete_reasons, placeholder from documents where id = :id", {"id": document_id})
    if not doc or doc[0]["placeholder"]:
        return None
    d = doc[0]
    incomplete = incompleteness(None, d["complete"], d["incomplete_reasons"], d["placeholder"])
    rule_ids = [
        r[0]
        for r in conn.execute(
            "select id from clauses where document_id = ? and kind not in ('preamble', 'cover', 'closing', 'attachment')"
            " and coalesce(text, '') <> '' order by position",
            (document_id,),
        )
    ]
    statuses = clause_statuses(conn, rule_ids, as_of)
    if d["issued"] and d["issued"] > as_of:
        return Status(NOT_YET, as_of, d["issued"], f"issued {d['issued']}", incomplete=incomplete)
    nyet = [s for s in statuses.values() if s.state == NOT_YET]
    if statuses and len(nyet) == len(statuses):
        return Status(NOT_YET, as_of, nyet[0].date, nyet[0].words, incomplete=incomplete)
    counts: dict[str, int] = {}
    for s in statuses.values():
        counts[s.state] = counts.get(s.state, 0) + 1
    n = len(statuses)
    if n and counts.get(EXPIRED, 0) == n:
        last = max(s.date or "" for s in statuses.values())
        return Status(EXPIRED, as_of, last, f"all {n} clauses expired, the last on {last}", incomplete=incomplete)
    if n and counts.get(SUPERSEDED, 0) == n:
        latest = max(statuses.values(), key=lambda s: s.date or "")
        return Status(SUPERSEDED, as_of, latest.date, latest.words, latest.by_document, latest.by_document, incomplete)
    if n and counts.get(EXPIRED, 0) + counts.get(SUPERSEDED, 0) == n:
        return Status(EXPIRED, as_of, None, _counted(counts, n), incomplete=incomplete)
    lapsed = {k: v for k, v in counts.items() if k != IN_FORCE}
    return Status(IN_FORCE, as_of, None, _counted(lapsed, n) if lapsed else None, incomplete=incomplete)


def _counted(counts: dict[str, int], n: int) -> str:
    return "; ".join(f"{v} of {n} clauses {k}" for k, v in sorted(counts.items()))
