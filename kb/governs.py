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

Cost, on 10,000 notices: the full-text match dominates. The 200 best matches (and any tied
with the 200th: see ``_best``) are ranked in the FTS table alone, each match looked up in the
set of clauses that can govern in the city (two temp tables of rowids, the province's and the
city's, made once per connection: see ``_eligible``), reading only the ranges of rowids where
those sets lie (publish writes rows place by place: see ``_runs``); only those are joined to
their clauses. Everything else is read in a few set-based queries over all answers at once (ids
passed as a JSON array), with explicit orders where the first row wins, so that answers do not
depend on which index a query plan uses, nor on the rowids a build gave the clauses.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
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


# The clauses that can govern in a city: its own, its province's and the nation's, issued by the
# date, not a preamble, cover, closing or attachment. As clause rowids, in two sets (the
# province's with the nation's, and the city's), kept per connection (see _eligible).
_ELIGIBLE_SQL = """
select clauses.rowid from documents join clauses on clauses.document_id = documents.id
where ({where}) and (documents.issued is null or documents.issued <= :as_of)
  and clauses.kind not in ('preamble', 'cover', 'closing', 'attachment')
"""
_PROVINCE_WHERE = "documents.jurisdiction = :place or documents.level = 'national'"
_CITY_WHERE = "documents.jurisdiction = :place"

# Sets of clause rowids kept in a connection's temp schema, at most this many (a city's and
# its province's for each date asked about).
_TEMP_PREFIX = "kb_governs_"
_TEMP_TABLES = 64
# Where each kept set's rowids lie: (set, lo, hi) runs, one table for all sets (see _runs).
_RUNS_TABLE = "kb_eligible_runs"
# Each range is a full-text query of its own, and each pays bm25's count of the topic's
# matches in the whole table (its IDF) once: as much as reading the matches of a quarter of
# the table and looking each up in the sets. So runs closer than a quarter of the table (and
# at least _RUN_GAP rows) are read as one, and a set has at most _MAX_RUNS of them.
_RUN_GAP = 2048
_RUN_GAP_SHARE = 4
_MAX_RUNS = 16

# The matches by bm25, best first, ranked before anything is joined: joining every match to its
# clause and document costs more than the ranking. The first _CANDIDATES are read, and every
# match tied with the last of them (``_best``). The unary + keeps SQLite from handing the IN
# lists to FTS5 as rowid lookups (one full-text query per eligible clause): each match is
# looked up in the sets instead.
_MATCH_SQL = f"""
select rowid, bm25({GRAMS_TABLE}, {HEADING_WEIGHT}, {TEXT_WEIGHT}) as rank
from {GRAMS_TABLE}
where {GRAMS_TABLE} match :match and ({{eligible}})
order by rank, rowid
"""

# The same, reading only the runs of rowids where the sets lie: FTS5 takes a rowid range as a
# bound on its doclists, so matches elsewhere in the country are skipped, not read and looked up.
# (Publish writes the rows place by place, so a city's sets are a few runs.) bm25 does not
# depend on the range: its statistics are the whole table's.
_RUN_SQL = f"""
select rowid, bm25({GRAMS_TABLE}, {HEADING_WEIGHT}, {TEXT_WEIGHT}) as rank
from {GRAMS_TABLE}
where {GRAMS_TABLE} match :match and rowid between {{lo}} and {{hi}} and ({{eligible}})
"""
_RUNS_MATCH_SQL = """
select rowid, rank from ({runs})
order by rank, rowid
"""

# Ids are passed as one JSON array (json_each), so a page makes a handful of queries, not a few
# per candidate.
_IDS = "(select value from json_each(:ids))"

# Clauses with their notice's fields, by rowid (the matches) or by id (the rest of the answers).
_CLAUSES_SQL = f"""
select clauses.rowid, clauses.id, clauses.document_id, clauses.path, clauses.heading, clauses.text,
       documents.doc_number, documents.jurisdiction, documents.level, documents.issued
from clauses join documents on documents.id = clauses.document_id
where clauses.{{key}} in {_IDS}
"""

# City clauses standing on each provincial clause, in link order.
_STANDING_SQL = f"""
select links.target_clause_id, links.source_clause_id from links
join clauses on clauses.id = links.source_clause_id
join documents on documents.id = clauses.document_id
where links.target_clause_id in {_IDS} and links.relation in {STANDING}
  and documents.jurisdiction = :city and (documents.issued is null or documents.issued <= :as_of)
order by links.id
"""

# What each clause stands on, in link order.
_STANDS_ON_SQL = f"""
select links.source_clause_id, links.target_clause_id, links.relation, links.score, links.why,
       documents.doc_number, documents.issued, clauses.document_id
from links join clauses on clauses.id = links.target_clause_id
join documents on documents.id = clauses.document_id
where links.source_clause_id in {_IDS} and links.relation in {STANDING}
order by links.id
"""

_IMPLEMENTS_SQL = f"""
select source_document_id, target_doc_number, target_document_id from doc_relations
where source_document_id in {_IDS} and relation = 'implements'
order by id
"""

# A clause's latest end date: the first row of the latest date.
_EXPIRES_SQL = f"""
select clause_id, date, words from time_limits
where clause_id in {_IDS} and kind = 'expires' and date is not null
order by clause_id, date desc, id
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


def _rows(conn: sqlite3.Connection, sql: str, params: dict | tuple = ()) -> list[dict]:
    cursor = conn.execute(sql, params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


def _ids(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _grouped(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    """rows by the value of key, each group in the rows' order."""
    out: dict[Any, list[dict]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


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
    matched = _matches(conn, match, city_name, province, as_of)
    standing = _grouped(
        _rows(conn, _STANDING_SQL, {"ids": _ids(r["id"] for r in matched if r["jurisdiction"] != city_name), "city": city_name, "as_of": as_of}),
        "target_clause_id",
    )
    # (clause id, score, inherited) in the order a reader meets them; the first sets `inherited`.
    adds: dict[str, tuple[float, str | None]] = {}
    for row in matched:
        score = relevance(topic_n, row["heading"], row["text"], row["rank"])
        if row["jurisdiction"] == city_name:
            targets, inherited = [row["id"]], None
        elif row["id"] in standing:
            targets, inherited = [link["source_clause_id"] for link in standing[row["id"]]], None
        else:
            targets, inherited = [row["id"]], city_name
        for clause_id in targets:
            if clause_id in adds:
                adds[clause_id] = (max(adds[clause_id][0], score), adds[clause_id][1])
            else:
                adds[clause_id] = (score, inherited)
    answers = _answers(conn, adds, as_of, {row["id"]: row for row in matched})
    return sorted(answers, key=lambda a: (-a.relevance * _STATUS_WEIGHT[a.status["state"]], a.clause_id))


def _matches(conn, match: str, city: str, province: str, as_of: str) -> list[dict]:
    """The candidate clauses with their bm25 rank, best first."""
    sets = [(_PROVINCE_WHERE, province)] + ([(_CITY_WHERE, city)] if city != province else [])
    try:
        tables = _eligible(conn, sets, as_of)
        eligible = " or ".join(f"+rowid in temp.{table}" for table in tables)
        runs = " union all ".join(_RUN_SQL.format(lo=lo, hi=hi, eligible=eligible) for lo, hi in _runs(conn, tables))
        sql = _RUNS_MATCH_SQL.format(runs=runs) if runs else _MATCH_SQL.format(eligible="0")
        params = {"match": match}
    except sqlite3.OperationalError:  # no temp schema to write to (PRAGMA query_only): the same sets inline
        eligible = " or ".join(
            f"+rowid in ({_ELIGIBLE_SQL.format(where=where.replace(':place', f':place{k}'))})" for k, (where, _) in enumerate(sets)
        )
        params = {"match": match, "as_of": as_of} | {f"place{k}": place for k, (_, place) in enumerate(sets)}
        sql = _MATCH_SQL.format(eligible=eligible)
    ranked = _best(conn.execute(sql, params), _CANDIDATES)
    by_rowid = {r["rowid"]: r for r in _rows(conn, _CLAUSES_SQL.format(key="rowid"), {"ids": _ids(rowid for rowid, _ in ranked)})}
    return [dict(by_rowid[rowid], rank=rank) for rowid, rank in ranked]


def _best(ranked: sqlite3.Cursor, most: int) -> list[tuple[int, float]]:
    """The first ``most`` (rowid, rank) rows, and every later one tied with the last of them.

    Clauses with the same words have the same bm25 (restated rules are common), and a cut
    between them would keep the ones with the lower rowids: which clauses compete would depend
    on where publish happened to write them, not on what they say."""
    best = ranked.fetchmany(most)
    if len(best) == most:
        while (row := ranked.fetchone()) is not None and row[1] == best[-1][1]:
            best.append(row)
    return best


def _eligible(conn, sets: list[tuple[str, str]], as_of: str) -> list[str]:
    """Temp tables of the rowids _ELIGIBLE_SQL gives for each (where, place) by the date, made on first use.

    Finding them costs as much as the rest of the match, and every question about a city asks
    for the same ones. The database does not change while it is open (Datasette opens it
    immutable); a change committed by another connection changes ``data_version``, which is
    part of the key. The tables live in the connection's temp schema: each Datasette thread
    keeps its own, and they go with the connection.
    """
    version = conn.execute("pragma data_version").fetchone()[0]
    names = {
        _TEMP_PREFIX + hashlib.sha1(json.dumps([where, place, as_of, version], ensure_ascii=False).encode()).hexdigest()[:20]: (where, place)
        for where, place in sets
    }
    kept = {r[0] for r in conn.execute("select name from temp.sqlite_master where type = 'table' and name like ?", (_TEMP_PREFIX + "%",))}
    missing = [name for name in names if name not in kept]
    if not missing:
        return list(names)
    began = not conn.in_transaction
    try:
        conn.execute(f"create temp table if not exists {_RUNS_TABLE} (set_name text, lo integer, hi integer)")
        if len(kept) + len(missing) > _TEMP_TABLES:
            for old in kept - names.keys():
                conn.execute(f"drop table temp.{old}")
                conn.execute(f"delete from temp.{_RUNS_TABLE} where set_name = ?", (old,))
        for name in missing:
            where, place = names[name]
            try:
                conn.execute(f"create temp table {name} (clause_rowid integer primary key)")
                conn.execute(f"insert into temp.{name} {_ELIGIBLE_SQL.format(where=where)}", {"place": place, "as_of": as_of})
                rowids = conn.execute(f"select clause_rowid, clause_rowid from temp.{name} order by clause_rowid")
                runs = runs_of(rowids, _gap(conn), _MAX_RUNS)
                conn.executemany(f"insert into temp.{_RUNS_TABLE} values (?, ?, ?)", [(name, lo, hi) for lo, hi in runs])
            except sqlite3.Error:
                conn.execute(f"drop table if exists temp.{name}")  # never leave a half-filled set behind
                conn.execute(f"delete from temp.{_RUNS_TABLE} where set_name = ?", (name,))
                raise
    finally:
        if began and conn.in_transaction:  # the transaction sqlite3 opened for the inserts
            conn.commit()
    return list(names)


def runs_of(ranges: Iterable[tuple[int, int]], gap: int = _RUN_GAP, most: int = _MAX_RUNS) -> list[tuple[int, int]]:
    """Ranges (lo, hi) covering the given ones (in order of lo; a rowid r is (r, r)): those less
    than gap apart become one, and while there are more than ``most``, the two closest are joined."""
    runs: list[list[int]] = []
    for lo, hi in ranges:
        if runs and lo - runs[-1][1] < gap:
            runs[-1][1] = max(runs[-1][1], hi)
        else:
            runs.append([lo, hi])
    while len(runs) > most:
        k = min(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])
        runs[k : k + 2] = [[runs[k][0], runs[k + 1][1]]]
    return [(lo, hi) for lo, hi in runs]


def _gap(conn) -> int:
    return max(_RUN_GAP, (conn.execute("select max(rowid) from clauses").fetchone()[0] or 0) // _RUN_GAP_SHARE)


def _runs(conn, tables: list[str]) -> list[tuple[int, int]]:
    """The ranges to read for the kept sets together: their runs, joined again over all of them."""
    marks = ",".join("?" * len(tables))
    found = conn.execute(f"select lo, hi from temp.{_RUNS_TABLE} where set_name in ({marks}) order by lo, hi", tables)
    return runs_of(found, _gap(conn), _MAX_RUNS)


def _answers(conn, adds: dict[str, tuple[float, str | None]], as_of: str, known: dict[str, dict]) -> list[Answer]:
    """An Answer for each clause, read in a few queries over all of them (known: clauses already read)."""
    ids = _ids(adds)
    clauses = {clause_id: known[clause_id] for clause_id in adds if clause_id in known}
    missing = [clause_id for clause_id in adds if clause_id not in clauses]
    if missing:
        clauses.update((c["id"], c) for c in _rows(conn, _CLAUSES_SQL.format(key="id"), {"ids": _ids(missing)}))
    stands_on = _grouped(_rows(conn, _STANDS_ON_SQL, {"ids": ids}), "source_clause_id")
    basis_docs = {
        clause_id: stands_on[clause_id][0]["document_id"] if clause_id in stands_on else clauses[clause_id]["document_id"]
        for clause_id in adds
    }
    implements = _grouped(_rows(conn, _IMPLEMENTS_SQL, {"ids": _ids(set(basis_docs.values()))}), "source_document_id")
    expires = _grouped(_rows(conn, _EXPIRES_SQL, {"ids": ids}), "clause_id")
    targets = set(adds) | {s["target_clause_id"] for links in stands_on.values() for s in links}
    succeeds = _grouped(_rows(conn, _SUCCEEDS_SQL, {"ids": _ids(targets), "as_of": as_of}), "target_clause_id")
    statuses = {
        clause_id: _status(clause_id, [s["target_clause_id"] for s in stands_on.get(clause_id, [])], clauses[clause_id]["issued"], as_of, expires, succeeds)
        for clause_id in adds
    }
    successors = {s["document_id"] for s in statuses.values() if s.get("document_id")}
    prevails = _grouped(_rows(conn, _PREVAILS_SQL, {"ids": _ids(successors)}), "document_id") if successors else {}
    answers = []
    for clause_id, (score, inherited) in adds.items():
        c = clauses[clause_id]
        why: list[dict] = []
        displaces: list[dict] = []
        changes = None
        links = stands_on.get(clause_id, [])
        if links:
            why.append({"clause_id": clause_id, "doc_number": c["doc_number"], "jurisdiction": c["jurisdiction"], "relation": None})
            for s in links:
                displaces.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "relation": s["relation"]})
                why.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "relation": s["relation"], "why": s["why"]})
            changes = "; ".join(s["why"] for s in links if s["why"])
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
        for rel in implements.get(basis_docs[clause_id], []):
            why.append({"document": rel["target_doc_number"], "relation": "implements", "in_corpus": rel["target_document_id"] is not None})
        status = statuses[clause_id]
        if status.get("document_id"):
            words = prevails.get(status["document_id"])
            status = {
                "state": "superseded",
                "date": status["date"],
                "words": words[0]["words"] if words else f"{status['doc_number']} restates the rule",
                "by": status["by"],
            }
        answers.append(
            Answer(
                clause_id=clause_id,
                doc_number=c["doc_number"],
                path=c["path"],
                heading=c["heading"],
                text=c["text"],
                jurisdiction=c["jurisdiction"],
                issued=c["issued"],
                level=c["level"],
                relevance=score,
                status=status,
                why=why,
                displaces=displaces,
                changes=changes,
            )
        )
    return answers


def _status(clause_id: str, bases: list[str], issued: str | None, as_of: str, expires: dict, succeeds: dict) -> dict:
    """expired (by its own words) / superseded (by a later provincial restatement) / in force.

    A superseded status carries the successor's document_id and doc_number until its words are read.
    """
    ends = expires.get(clause_id)
    if ends and ends[0]["date"] < as_of:
        return {"state": "expired", "date": ends[0]["date"], "words": ends[0]["words"], "by": None}
    for target in [clause_id] + bases:
        for s in succeeds.get(target, []):
            if issued is None or (s["issued"] is not None and s["issued"] > issued):
                return {"by": s["source_clause_id"], "date": s["issued"], "document_id": s["document_id"], "doc_number": s["doc_number"]}
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
