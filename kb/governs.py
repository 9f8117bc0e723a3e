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

5. Three levels: a county inherits from its city, a city from its province, a province from the
   nation (``places.chain_of``). A clause shadows the higher clause it restates (a link of kind
   implements, extends or overrides), which shadows the one above it: the most local restatement
   is the answer, and it says which level governs and why (``Answer.basis``: its own rule, or
   inherited from whom, naming the places below that are silent). A heading with no text of its
   own (a chapter, a part's title) is never an answer.
6. One verdict (``Ruling``): the best answer in force, first; the rest are alternatives. A place
   with no document in the corpus (北京) is said to be outside it, not answered "no clause".

Dates are read by ``kb.dates`` (every common form, or a clear refusal; empty means today and the
ruling says so); status (in force, not yet in force, expired, superseded, incomplete) is
``kb.status``'s, the same as every page's.

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
from . import status as kb_status
from .dates import AsOf
from .dates import as_of as read_as_of
from .errors import KbError
from .search import GRAMS_TABLE, HEADING_WEIGHT, TEXT_WEIGHT, fts_query
from .text import normalize_text

STANDING = ("implements", "extends", "overrides")
# A lapsed rule is still the best record of a topic when nothing replaced it; a superseded one
# yields to the rule that replaced it (which is itself among the answers).
_STATUS_WEIGHT = {"in force": 1.0, "not yet in force": 0.5, "expired": 0.6, "superseded": 0.4}
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
    status: dict  # kb.status.Status.to_dict(): {"state", "date", "words", "by", "incomplete", "label_zh", …}
    why: list[dict] = field(default_factory=list)  # the chain, city clause first
    displaces: list[dict] = field(default_factory=list)
    changes: str | None = None  # what the city changed, from the link's evidence
    # Which level governs and why: {"jurisdiction", "level", "basis": "own rule" | "inherited",
    # "from", "silent": [places below with no clause restating it], "reason"}.
    basis: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# The clauses that can govern in a city: its own, its province's and the nation's, issued by the
# date, not a preamble, cover, closing or attachment. As clause rowids, in two sets (the
# province's with the nation's, and the city's), kept per connection (see _eligible).
_ELIGIBLE_SQL = """
select clauses.rowid from documents join clauses on clauses.document_id = documents.id
where ({where}) and (documents.issued is null or documents.issued <= :as_of)
  and clauses.kind not in ('preamble', 'cover', 'closing', 'attachment', 'book', 'chapter', 'section')
  and coalesce(clauses.text, '') <> ''
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

# Clauses of the more local places standing on each clause, in link order (headings without
# text of their own never stand in for a rule).
_STANDING_SQL = f"""
select links.target_clause_id, links.source_clause_id, documents.jurisdiction from links
join clauses on clauses.id = links.source_clause_id
join documents on documents.id = clauses.document_id
where links.target_clause_id in {_IDS} and links.relation in {STANDING}
  and documents.jurisdiction in (select value from json_each(:places))
  and (documents.issued is null or documents.issued <= :as_of)
  and coalesce(clauses.text, '') <> ''
order by links.id
"""

# What each clause stands on, in link order.
_STANDS_ON_SQL = f"""
select links.source_clause_id, links.target_clause_id, links.relation, links.score, links.why,
       documents.doc_number, documents.issued, documents.jurisdiction, clauses.document_id
from links join clauses on clauses.id = links.target_clause_id
join documents on documents.id = clauses.document_id
where links.source_clause_id in {_IDS} and links.relation in {STANDING}
order by links.id
"""

# A notice cited but not in the corpus is a placeholder row: in_corpus is false for it.
_IMPLEMENTS_SQL = f"""
select doc_relations.source_document_id, doc_relations.target_doc_number, doc_relations.target_document_id,
       coalesce(documents.placeholder = 0, 0) as in_corpus
from doc_relations left join documents on documents.id = doc_relations.target_document_id
where doc_relations.source_document_id in {_IDS} and doc_relations.relation = 'implements'
order by doc_relations.id
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


@dataclass
class Ruling:
    """The answer to "which clause governs topic in place as of a date": one verdict, then the rest."""

    topic: str
    place: str  # as asked
    jurisdiction: str  # as resolved: 抚顺市抚顺县
    chain: list[str]  # whose rules hold there, the most local first
    as_of: AsOf
    answers: list[Answer]  # the verdict first (when there is one), then the alternatives, ranked
    verdict: Answer | None  # the best answer in force; None when none is
    in_corpus: bool  # has the corpus any document of the place or the places above it (the nation aside)?
    note: str | None = None  # what a reader must know first: outside the corpus, nothing in force

    @property
    def alternatives(self) -> list[Answer]:
        return self.answers[1:] if self.verdict is not None else self.answers

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "place": {"asked": self.place, "jurisdiction": self.jurisdiction, "chain": self.chain, "in_corpus": self.in_corpus},
            "as_of": self.as_of.to_dict(),
            "note": self.note,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "answers": [a.to_dict() for a in self.answers],
        }


def governs(conn: Any, topic: str, city: str, as_of: str | AsOf | None = None) -> list[Answer]:
    """Ranked answers, the verdict first: which clauses govern topic in a place as of the date
    (any common written form, ``kb.dates``; empty means today). See ``rule``."""
    return rule(conn, topic, city, as_of).answers


def rule(conn: Any, topic: str, place: str, as_of: str | AsOf | None = None) -> Ruling:
    """Which clauses govern topic in a place (a county, city, province or the nation) as of the date."""
    conn = getattr(conn, "conn", conn)
    when = as_of if isinstance(as_of, AsOf) else read_as_of(as_of)
    jurisdiction = places.resolve_place(place)
    if jurisdiction is None:
        raise KbError(f"unknown city {place!r}: expected a place name such as 抚顺, 抚顺市, 抚顺县 or 辽宁省")
    topic_n = normalize_text(topic)
    match = fts_query(topic_n)
    if match is None:
        raise KbError(f"empty topic {topic!r}: give the words to look for, e.g. 稳岗返还")
    chain = places.chain_of(jurisdiction)
    local = [j for j in chain if j != places.NATIONAL]
    in_corpus = not local or _has_documents(conn, local)
    matched = _matches(conn, match, chain, when.date)
    adds = _shadowed(conn, matched, topic_n, chain, when.date)
    answers = _answers(conn, adds, when.date, {row["id"]: row for row in matched}, chain)
    answers.sort(key=lambda a: (-a.relevance * _STATUS_WEIGHT[a.status["state"]], a.clause_id))
    verdict = next((a for a in answers if a.status["state"] == kb_status.IN_FORCE), None)
    if verdict is not None:
        answers.remove(verdict)
        answers.insert(0, verdict)
    note = None
    if not in_corpus:
        note = f"no document of {jurisdiction} in the corpus" + ("; only national rules can be shown" if answers else "")
    elif answers and verdict is None:
        note = f"no clause about {topic} in force in {jurisdiction} as of {when.describe()}: the rules found have lapsed or are not yet in force"
    return Ruling(topic, place, jurisdiction, chain, when, answers, verdict, in_corpus, note)


def _has_documents(conn, jurisdictions: list[str]) -> bool:
    sql = f"select 1 from documents where placeholder = 0 and jurisdiction in {_IDS} limit 1"
    return conn.execute(sql, {"ids": _ids(jurisdictions)}).fetchone() is not None


def _shadowed(conn, matched: list[dict], topic: str, chain: list[str], as_of: str) -> dict[str, tuple[float, str | None]]:
    """Each match replaced by the most local clauses restating it, down the chain.

    A national clause restated by the province, restated in turn by the city, is answered by
    the city's clause; a rule no place below restates is inherited (the value says from which
    jurisdiction). Returns answer clause id -> (best relevance, inherited-from or None), in the
    order a reader meets them."""
    rank = {j: k for k, j in enumerate(chain)}
    lower: dict[str, list[str]] = {}
    frontier = {row["id"]: row["jurisdiction"] for row in matched if rank.get(row["jurisdiction"], len(chain)) > 0}
    seen = set(frontier)
    for _ in range(len(chain)):  # one level down per round
        if not frontier:
            break
        links = _rows(conn, _STANDING_SQL, {"ids": _ids(frontier), "places": _ids(chain[:-1]), "as_of": as_of})
        found: dict[str, str] = {}
        for link in links:
            above = rank.get(frontier[link["target_clause_id"]], len(chain))
            if rank.get(link["jurisdiction"], len(chain)) < above:
                lower.setdefault(link["target_clause_id"], []).append(link["source_clause_id"])
                if link["source_clause_id"] not in seen:
                    found[link["source_clause_id"]] = link["jurisdiction"]
                    seen.add(link["source_clause_id"])
        frontier = found

    def leaves(clause_id: str, depth: int = 0) -> list[str]:
        below = lower.get(clause_id)
        if not below or depth > len(chain):
            return [clause_id]
        return [leaf for c in below for leaf in leaves(c, depth + 1)]

    adds: dict[str, tuple[float, str | None]] = {}
    for row in matched:
        score = relevance(topic, row["heading"], row["text"], row["rank"])
        for clause_id in leaves(row["id"]):
            if clause_id in adds:
                adds[clause_id] = (max(adds[clause_id][0], score), adds[clause_id][1])
            else:
                adds[clause_id] = (score, None)
    return adds


def _matches(conn, match: str, chain: list[str], as_of: str) -> list[dict]:
    """The candidate clauses with their bm25 rank, best first: those of every place of the chain."""
    # The province's set holds the nation's clauses too; each more local place has a set of its own.
    top = chain[-2] if len(chain) > 1 else chain[0]
    sets = [(_PROVINCE_WHERE, top)] + [(_CITY_WHERE, j) for j in chain[:-2]]
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


def _answers(conn, adds: dict[str, tuple[float, str | None]], as_of: str, known: dict[str, dict], chain: list[str]) -> list[Answer]:
    """An Answer for each clause, read in a few queries over all of them (known: clauses already read)."""
    clauses = {clause_id: known[clause_id] for clause_id in adds if clause_id in known}
    missing = [clause_id for clause_id in adds if clause_id not in clauses]
    if missing:
        clauses.update((c["id"], c) for c in _rows(conn, _CLAUSES_SQL.format(key="id"), {"ids": _ids(missing)}))
    # What each answer stands on, and what that stands on, up the chain.
    stands_on: dict[str, list[dict]] = {}
    asked: set[str] = set()
    frontier = set(adds)
    for _ in range(len(chain)):
        frontier -= asked
        if not frontier:
            break
        asked |= frontier
        found = _grouped(_rows(conn, _STANDS_ON_SQL, {"ids": _ids(frontier)}), "source_clause_id")
        stands_on.update(found)
        frontier = {s["target_clause_id"] for links in found.values() for s in links}
    basis_docs = {
        clause_id: stands_on[clause_id][0]["document_id"] if clause_id in stands_on else clauses[clause_id]["document_id"]
        for clause_id in adds
    }
    implements = _grouped(_rows(conn, _IMPLEMENTS_SQL, {"ids": _ids(set(basis_docs.values()))}), "source_document_id")
    statuses = kb_status.clause_statuses(conn, adds, as_of)
    rank = {j: k for k, j in enumerate(chain)}
    answers = []
    for clause_id, (score, _) in adds.items():
        c = clauses[clause_id]
        why: list[dict] = []
        displaces: list[dict] = []
        changes = None
        links = stands_on.get(clause_id, [])
        own_rank = rank.get(c["jurisdiction"], len(chain) - 1)
        silent = chain[:own_rank]  # the places below it, none of which restates it
        basis: dict[str, Any] = {"jurisdiction": c["jurisdiction"], "level": c["level"], "silent": silent}
        if silent:
            basis |= {"basis": "inherited", "from": c["jurisdiction"], "reason": f"inherited from {c['jurisdiction']}: {_silence(silent)}"}
        else:
            basis |= {"basis": "own rule", "from": None, "reason": f"{c['jurisdiction']}'s own rule"}
        why.append(
            {
                "clause_id": clause_id,
                "doc_number": c["doc_number"],
                "jurisdiction": c["jurisdiction"],
                "relation": None,
                "why": f"inherited: {_silence(silent)}" if silent else None,
            }
        )
        # The rules it displaces, up the chain (the first link at each step: the best).
        step, hops = links, 0
        while step and hops < len(chain):
            for s in step:
                displaces.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "jurisdiction": s["jurisdiction"], "relation": s["relation"]})
                why.append({"clause_id": s["target_clause_id"], "doc_number": s["doc_number"], "jurisdiction": s["jurisdiction"], "relation": s["relation"], "why": s["why"]})
            step, hops = stands_on.get(step[0]["target_clause_id"], []), hops + 1
        if links:
            changes = "; ".join(s["why"] for s in links if s["why"])
            basis["reason"] += ", in place of " + "、".join(f"{d['jurisdiction']}'s {d['clause_id']}" for d in displaces)
        for rel in implements.get(basis_docs[clause_id], []):
            why.append({"document": rel["target_doc_number"], "relation": "implements", "in_corpus": bool(rel["in_corpus"])})
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
                status=statuses[clause_id].to_dict(),
                why=why,
                displaces=displaces,
                changes=changes,
                basis=basis,
            )
        )
    return answers


def _silence(places_below: list[str]) -> str:
    """'抚顺市 has no clause restating it', '沈阳市、辽宁省 have no clause restating it'."""
    return f"{'、'.join(places_below)} {'has' if len(places_below) == 1 else 'have'} no clause restating it"


def to_json(ruling: Ruling) -> str:
    return json.dumps(ruling.to_dict(), ensure_ascii=False, indent=2)


def to_text(ruling: Ruling, limit: int | None = None) -> str:
    """The ruling for a terminal: the note, the verdict, then the alternatives."""
    topic, place, when = ruling.topic, ruling.jurisdiction, ruling.as_of.describe()
    lines = []
    if ruling.note:
        lines += [ruling.note + ".", ""]
    if not ruling.answers:
        if ruling.in_corpus:
            lines.append(f"No clause about {topic} governs in {place} as of {when}.")
        return "\n".join(lines) + "\n"
    lines += [f"{topic} in {place}, as of {when}:", ""]
    shown = ruling.answers[:limit] if limit else ruling.answers
    for k, a in enumerate(shown, start=1):
        if k == 1 and ruling.verdict is a:
            lines.append("Verdict:")
        elif k == (2 if ruling.verdict is not None else 1):
            lines.append("Alternatives:")
        state = a.status["state"] + (f" ({a.status['date']}: {a.status['words']})" if a.status["state"] != "in force" else "")
        if a.status.get("incomplete"):
            state += "; text incomplete: " + a.status["incomplete"][0]["reason"]
        lines.append(f"{k}. {a.doc_number or '—'} {a.path}  {a.heading or ''}  [{a.jurisdiction}, {a.issued}]  {state}")
        lines.append(f"   {a.text[:160]}{'…' if len(a.text) > 160 else ''}")
        lines.append(f"   governs: {a.basis.get('reason')}")
        if a.displaces:
            lines.append("   in place of: " + ", ".join(f"{d['clause_id']} ({d['relation']})" for d in a.displaces))
        if a.changes:
            lines.append(f"   changes: {a.changes[:200]}")
        chain = " → ".join(str(w.get("clause_id") or w.get("document")) for w in a.why if w.get("clause_id") or w.get("document"))
        lines.append(f"   why: {chain}")
        lines.append("")
    return "\n".join(lines)
