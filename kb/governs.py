"""Which clause governs a topic in a city, as of a date — as a careful reader would apply the notices.

1. Clauses about the topic: full-text match on headings and text (2-character topics too),
   ranked by how central the topic is to the clause (in its heading, at its start, how dense),
   not merely whether it is mentioned.
2. What can govern in a city: the city's own clauses, and those of its province and of the
   nation. A city inherits every provincial rule it has not restated; a city with no notice at
   all still gets the provincial answer.
3. A city clause that implements, extends or overrides a provincial clause governs in place of
   it: the answer names the clause it ``displaces`` and what the city changed.
4. As of a date (default today): only notices issued on or before it count; a later provincial
   clause that restates an earlier rule (``succeeds``) supersedes it (and the city clauses that
   stood on it), quoting the later notice's "以往规定与本通知不一致的，以本通知为准" where it has
   one; a clause whose own words limit it in time is flagged ``expired`` when the date is past —
   shown, never hidden.

Answers are ranked by relevance, discounted for expired (x0.6) and superseded (x0.4) rules: a
lapsed rule is still the best record of its topic when nothing replaced it, a superseded one
yields to its successor.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from . import places
from .errors import KbError
from .search import GRAMS_TABLE, HEADING_WEIGHT, TEXT_WEIGHT, fts_query
from .text import normalize_text

STANDING = ("implements", "extends", "overrides")
# A lapsed rule is still the best record of a topic when nothing replaced it; a superseded one
# yields to the rule that replaced it (which is itself among the answers).
_STATUS_WEIGHT = {"in force": 1.0, "expired": 0.6, "superseded": 0.4}
_CANDIDATES = 200


@dataclass
class Answer:
    clause_id: str
    doc_number: str | None
    path: str
    heading: str | None
    text: str
    jurisdiction: str | None
    issued: str | None
    level: str | None
    relevance: float
    status: dict  # {"state": in force|expired|superseded, "date", "words", "by"}
    why: list[dict] = field(default_factory=list)  # the chain, city clause first
    displaces: list[dict] = field(default_factory=list)
    changes: str | None = None  # what the city changed, from the link's evidence

    def to_dict(self) -> dict:
        return asdict(self)


_MATCH_SQL = f"""
select clauses.id, clauses.document_id, clauses.path, clauses.heading, clauses.text, clauses.kind,
       documents.doc_number, documents.jurisdiction, documents.level, documents.issued,
       bm25({GRAMS_TABLE}, {HEADING_WEIGHT}, {TEXT_WEIGHT}) as rank
from {GRAMS_TABLE}
join clauses on clauses.rowid = {GRAMS_TABLE}.rowid
join documents on documents.id = clauses.document_id
where {GRAMS_TABLE} match :match
  and clauses.kind not in ('preamble', 'cover', 'closing', 'attachment')
  and (documents.jurisdiction in (:city, :province) or documents.level = 'national')
  and (documents.issued is null or documents.issued <= :as_of)
order by rank
limit {_CANDIDATES}
"""


def _rows(conn: sqlite3.Connection, sql: str, params: dict | tuple = ()) -> list[dict]:
    cursor = conn.execute(sql, params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


def relevance(topic: str, heading: str | None, text: str | None, rank: float) -> float:
    """How central the topic is to a clause: in its heading, at its start, how dense, bm25."""
    heading, text = heading or "", text or ""
    occurrences = (heading + text).count(topic)
    density = occurrences * len(topic) / max(len(heading) + len(text), 40)
    return round(
        -rank / 10  # bm25 (negative: better is lower), headings weighted
        + (1.0 if topic in heading else 0.0)
        + (1.0 if topic in text[: len(topic) + 8] else 0.0)
        + 10 * density,
        4,
    )


def governs(conn: Any, topic: str, city: str, as_of: str | None = None) -> list[Answer]:
    """Ranked answers: which clauses govern topic in city as of the date (ISO, default today)."""
    conn = getattr(conn, "conn", conn)
    city_name = places.resolve_place(city)
    if city_name is None:
        raise KbError(f"unknown city {city!r}: expected a city name such as 抚顺 or 抚顺市")
    province = places.province_of(city_name) or city_name
    as_of = as_of or date.today().isoformat()
    topic_n = normalize_text(topic)
    match = fts_query(topic_n)
    if match is None:
        raise KbError(f"empty topic {topic!r}: give the words to look for, e.g. 稳岗返还")
    matched = _rows(conn, _MATCH_SQL, {"match": match, "city": city_name, "province": province, "as_of": as_of})
    answers: dict[str, Answer] = {}
    for row in matched:
        score = relevance(topic_n, row["heading"], row["text"], row["rank"])
        if row["jurisdiction"] == city_name:
            _add(conn, answers, row["id"], score, as_of)
            continue
        standing = _city_clauses_on(conn, row["id"], city_name, as_of)
        if standing:
            for link in standing:
                _add(conn, answers, link["source_clause_id"], score, as_of)
        else:
            _add(conn, answers, row["id"], score, as_of, inherited=city_name)
    ranked = sorted(answers.values(), key=lambda a: (-a.relevance * _STATUS_WEIGHT[a.status["state"]], a.clause_id))
    return ranked


def _city_clauses_on(conn, provincial_clause_id: str, city: str, as_of: str) -> list[dict]:
    return _rows(
        conn,
        f"""
        select links.source_clause_id, links.relation from links
        join clauses on clauses.id = links.source_clause_id
        join documents on documents.id = clauses.document_id
        where links.target_clause_id = ? and links.relation in {STANDING}
          and documents.jurisdiction = ? and (documents.issued is null or documents.issued <= ?)
        """,
        (provincial_clause_id, city, as_of),
    )


def _clause(conn, clause_id: str) -> dict:
    rows = _rows(
        conn,
        """select clauses.id, clauses.path, clauses.heading, clauses.text, clauses.document_id,
                  documents.doc_number, documents.jurisdiction, documents.level, documents.issued
           from clauses join documents on documents.id = clauses.document_id where clauses.id = ?""",
        (clause_id,),
    )
    return rows[0]


def _add(conn, answers: dict[str, Answer], clause_id: str, score: float, as_of: str, inherited: str | None = None) -> None:
    if clause_id in answers:
        answers[clause_id].relevance = max(answers[clause_id].relevance, score)
        return
    c = _clause(conn, clause_id)
    why: list[dict] = []
    displaces: list[dict] = []
    changes = None
    stands_on = _rows(
        conn,
        f"""select links.target_clause_id, links.relation, links.score, links.why, documents.doc_number, documents.issued
            from links join clauses on clauses.id = links.target_clause_id
            join documents on documents.id = clauses.document_id
            where links.source_clause_id = ? and links.relation in {STANDING}""",
        (clause_id,),
    )
    if stands_on:
        why.append({"clause_id": clause_id, "doc_number": c["doc_number"], "jurisdiction": c["jurisdiction"], "relation": None})
        for s in stands_on:
            displaces.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "relation": s["relation"]})
            why.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "relation": s["relation"], "why": s["why"]})
        changes = "; ".join(s["why"] for s in stands_on if s["why"])
        basis_doc = _clause(conn, stands_on[0]["target_clause_id"])["document_id"]
    else:
        why.append(
            {
                "clause_id": clause_id,
                "doc_number": c["doc_number"],
                "jurisdiction": c["jurisdiction"],
                "relation": None,
                "why": f"inherited: {inherited} has no clause restating it" if inherited else None,
            }
        )
        basis_doc = c["document_id"]
    for rel in _rows(
        conn,
        "select target_doc_number, target_document_id from doc_relations where source_document_id = ? and relation = 'implements'",
        (basis_doc,),
    ):
        why.append({"document": rel["target_doc_number"], "relation": "implements", "in_corpus": rel["target_document_id"] is not None})
    answers[clause_id] = Answer(
        clause_id=clause_id,
        doc_number=c["doc_number"],
        path=c["path"],
        heading=c["heading"],
        text=c["text"],
        jurisdiction=c["jurisdiction"],
        issued=c["issued"],
        level=c["level"],
        relevance=score,
        status=_status(conn, clause_id, [d["clause_id"] for d in displaces], c["issued"], as_of),
        why=why,
        displaces=displaces,
        changes=changes,
    )


def _status(conn, clause_id: str, bases: list[str], issued: str | None, as_of: str) -> dict:
    """expired (by its own words) / superseded (by a later provincial restatement) / in force."""
    ends = _rows(
        conn,
        "select date, words from time_limits where clause_id = ? and kind = 'expires' and date is not null order by date desc limit 1",
        (clause_id,),
    )
    if ends and ends[0]["date"] < as_of:
        return {"state": "expired", "date": ends[0]["date"], "words": ends[0]["words"], "by": None}
    for target in [clause_id] + bases:
        later = _rows(
            conn,
            """select links.source_clause_id, documents.doc_number, documents.issued, documents.id as document_id
               from links join clauses on clauses.id = links.source_clause_id
               join documents on documents.id = clauses.document_id
               where links.target_clause_id = ? and links.relation = 'succeeds'
                 and documents.issued <= ? and (? is null or documents.issued > ?)
               order by documents.issued desc limit 1""",
            (target, as_of, issued, issued),
        )
        if later:
            s = later[0]
            prevails = _rows(
                conn,
                "select words from time_limits join clauses on clauses.id = time_limits.clause_id "
                "where clauses.document_id = ? and time_limits.kind = 'prevails' limit 1",
                (s["document_id"],),
            )
            words = prevails[0]["words"] if prevails else f"{s['doc_number']} restates the rule"
            return {"state": "superseded", "date": s["issued"], "words": words, "by": s["source_clause_id"]}
    return {"state": "in force", "date": None, "words": None, "by": None}


def to_json(answers: list[Answer]) -> str:
    return json.dumps({"answers": [a.to_dict() for a in answers]}, ensure_ascii=False, indent=2)


def to_text(answers: list[Answer], topic: str, city: str, as_of: str) -> str:
    if not answers:
        return f"No clause about {topic} governs in {city} as of {as_of}.\n"
    lines = [f"{topic} in {city}, as of {as_of}:", ""]
    for k, a in enumerate(answers, start=1):
        state = a.status["state"] + (f" ({a.status['date']}: {a.status['words']})" if a.status["state"] != "in force" else "")
        lines.append(f"{k}. {a.doc_number or '—'} {a.path}  {a.heading or ''}  [{a.jurisdiction}, {a.issued}]  {state}")
        lines.append(f"   {a.text[:160]}{'…' if len(a.text) > 160 else ''}")
        if a.displaces:
            lines.append("   in place of: " + ", ".join(f"{d['clause_id']} ({d['relation']})" for d in a.displaces))
        if a.changes:
            lines.append(f"   changes: {a.changes[:200]}")
        chain = " → ".join(
            w.get("clause_id") or w.get("document") for w in a.why if w.get("clause_id") or w.get("document")
        )
        lines.append(f"   why: {chain}")
        lines.append("")
    return "\n".join(lines)
