"""Chinese full-text search over clause headings and text, with 1- and 2-character terms.

SQLite's FTS5 ``trigram`` tokenizer finds terms of three characters or more and silently
finds nothing for 补贴, 见习 or 零工. So the publish stage writes a second, contentless FTS5
table, ``clauses_grams``, whose documents are the clause text rewritten as *character
bigrams*: every run of CJK characters becomes its overlapping pairs followed by its last
character on its own (``补贴资金`` -> ``补贴 贴资 资金 金``), and the ``unicode61`` tokenizer
indexes each pair as one token. Then

- a 2-character term is one token lookup (``"补贴"``) -- the fast, common case;
- a longer term is a phrase of its pairs (``"就业 业见 见习"``), which matches exactly where the
  term occurs as a substring, because pairs of one run sit at consecutive positions;
- a 1-character term is a prefix query (``"补"*``): every character starts a pair or ends a run.

Every term of a query goes through this one table, so one ``MATCH`` and one ``bm25`` rank the
whole query, headings weighted ten times the text. Highlighting is done here, in Python, on
escaped text (``<mark>``); FTS5's own ``highlight()`` is not used because it returns raw text.

``gram_rows`` (which ``kb.publish`` feeds the table from) computes the same
strings as ``grams`` a few thousand clauses at a time on numpy arrays of code points
(``_grams_of_all``): making a Python string of every pair costs more than indexing.

Datasette's own search box on the ``clauses`` table reads this table too (the plugin's
``filters_from_request`` hands it ``fts_query``): no trigram index is published.

A query that matches more than ``RANK_LIMIT`` clauses (20,000: a term in most clauses, such as
就业 or 工作) is *listed*, not ranked: ``search_page`` says so (``ranked`` False), and gives the
first matches in the knowledge base's order (rowid order: publish writes clauses place by
place, the nation's, then each province's among its cities'; an incremental publish puts a
rewritten notice's clauses back at its old rowids, and new notices, or clauses beyond a
notice's old count, after all the others). bm25 reads every match, about a
microsecond each, so ranking 250,000 of them costs a third of a second of one core, the whole
budget of a page under load; and its IDF is near zero there (for a term in more than half of
all clauses FTS5 sets it to 10^-6), so the order it gives says little about the query. Counting
the matches up to the limit costs a millisecond or two. With a city the matches are always
ranked: they are joined to the city first (as before), and a city holds a small share of them.

Deliberately not here: query syntax (OR, NOT, quotes). Terms are separated by spaces and all
must match.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from .text import normalize_text

__all__ = ["FACETS", "FACET_LIMIT", "GRAMS_SQL", "GRAMS_TABLE", "HEADING_WEIGHT", "RANK_LIMIT", "READ_MMAP_BYTES", "TEXT_WEIGHT", "SearchFilters", "SearchPage", "fts_query", "gram_rows", "grams", "highlight", "prepare_reader", "search", "search_page", "simplified", "snippet"]

# Readers (search, governs, the CLI and Datasette) map the database into memory: a question
# touches thousands of scattered pages of the index, the docsize table and the clauses, each
# otherwise copied into the connection's page cache. The database is only read there.
READ_MMAP_BYTES = 1 << 32


def prepare_reader(conn: Any) -> None:
    """Settings of a connection that only reads the knowledge base."""
    conn.execute(f"pragma mmap_size = {READ_MMAP_BYTES}")


GRAMS_TABLE = "clauses_grams"
# Queries matching more clauses than this are listed in the knowledge base's order, not ranked.
RANK_LIMIT = 20_000
HEADING_WEIGHT = 10.0
TEXT_WEIGHT = 1.0

# The characters of a CJK run. (Written as joined strings: in re.VERBOSE a character class
# keeps its spaces and '#', so the comments cannot go inside it.)
_CJK_CHARS = (
    "\u3007"  # 〇, the ideographic zero
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003ffff"  # extensions B and later
)
_CJK_RUN = re.compile(f"[{_CJK_CHARS}]+")

# What unicode61 keeps as a token outside CJK runs: letters and digits (underscore separates).
_WORD = re.compile(r"[^\W_]+")

_SNIPPET_CONTEXT = 60


def _run_tokens(run: str, last: bool) -> list[str]:
    """Tokens of one CJK run: its pairs, then its last character (left out at a query's end)."""
    pairs = [run[i : i + 2] for i in range(len(run) - 1)]
    if last and pairs:
        return pairs
    return pairs + [run[-1]]


def _tokens(text: str, query: bool = False) -> tuple[list[str], bool]:
    """The bigram tokens of text, and whether the last one must be matched as a prefix.

    In a query, the text after the term may continue in the indexed clause, so a term that
    ends in one CJK character or in a Latin word matches it as a prefix.
    """
    tokens: list[str] = []
    prefix = False
    pos = 0
    runs = list(_CJK_RUN.finditer(text))
    for i, m in enumerate(runs):
        words = _WORD.findall(text[pos : m.start()])
        tokens += [w.lower() for w in words]
        at_end = query and i == len(runs) - 1 and not _WORD.search(text[m.end() :])
        tokens += _run_tokens(m.group(), at_end)
        prefix = at_end and len(m.group()) == 1
        pos = m.end()
    words = _WORD.findall(text[pos:])
    if words:
        tokens += [w.lower() for w in words]
        # A Latin word may be the start of a longer one; a number is matched whole.
        prefix = query and not words[-1].isdigit()
    return tokens, prefix


def grams(text: str | None) -> str:
    """The text as the ``clauses_grams`` table indexes it: CJK pairs, then Latin words."""
    if not text:
        return ""
    return " ".join(_tokens(text)[0])


@functools.cache
def _to_simplified():
    """OpenCC's traditional-to-simplified converter (its C++ library, loaded once)."""
    import opencc

    return opencc.OpenCC("t2s")


def simplified(query: str) -> str:
    """The query in simplified characters, as the corpus is written: 補貼 finds 补贴.

    OpenCC converts by phrase and character tables kept by its project, not a hand-written
    table here; a query already in simplified characters comes back unchanged."""
    return _to_simplified().convert(query) if query else query


def _terms(query: str) -> list[str]:
    return [t for t in (normalize_text(part).strip() for part in simplified(query).split()) if t]


def fts_query(query: str) -> str | None:
    """The FTS5 MATCH expression over ``clauses_grams`` for a query, or None if it has no words."""
    phrases = []
    for term in _terms(query):
        tokens, prefix = _tokens(term, query=True)
        if tokens:
            phrases.append('"' + " ".join(tokens) + '"' + (" *" if prefix else ""))
    return " AND ".join(phrases) if phrases else None


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in text (case-insensitive), overlapping spans merged."""
    spans = []
    folded = text.lower()
    for term in terms:
        term = term.lower()
        start = folded.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str | None, query: str | list[str], window: tuple[int, int] | None = None) -> str:
    """text escaped for HTML, every occurrence of a query term wrapped in ``<mark>``.

    window (start, end) limits the output to that part of the text, with ``…`` where cut.
    """
    if not text:
        return ""
    terms = _terms(query) if isinstance(query, str) else query
    lo, hi = window or (0, len(text))
    out = ["…" if lo > 0 else ""]
    pos = lo
    for a, b in _spans(text, terms):
        if b <= lo or a >= hi:
            continue
        a, b = max(a, lo), min(b, hi)
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:hi]))
    out.append("…" if hi < len(text) else "")
    return "".join(out)


def snippet(text: str | None, query: str | list[str], context: int = _SNIPPET_CONTEXT) -> str:
    """A highlighted window of text around the first match (the start when nothing matches)."""
    if not text:
        return ""
    terms = _terms(query) if isinstance(query, str) else query
    spans = _spans(text, terms)
    first = spans[0][0] if spans else 0
    lo = max(0, first - context)
    hi = min(len(text), max(first + 2 * context, lo + 2 * context))
    return highlight(text, terms, (lo, hi))


# Every search picks the (rowid, rank) of the clauses to show first, then reads them for display
# by rowid (_SQL_BY_ROWID). Without a city they are picked from the FTS table alone: joining
# first would read every matching clause row before sorting, which dominates for common terms
# (就业, 补贴). With a city, filtering in the join first is faster: most matches are dropped
# before they are sorted.
_RANK = f"bm25({GRAMS_TABLE}, {HEADING_WEIGHT}, {TEXT_WEIGHT})"

# The best matches.
_SQL_RANKED = f"select rowid, {_RANK} as rank from {GRAMS_TABLE} where {GRAMS_TABLE} match :match order by rank limit :limit"

# The first matches in rowid order: FTS5 yields them in that order, so no match past them is read.
_SQL_LISTED = f"select rowid, null as rank from {GRAMS_TABLE} where {GRAMS_TABLE} match :match order by rowid limit :limit"

# How many clauses match, counted no further than :most.
_SQL_COUNT = f"select count(*) from (select 1 from {GRAMS_TABLE} where {GRAMS_TABLE} match :match limit :most)"

# With a city, every match in the city, ranked (its length is the count).
_SQL_CITY = f"""
select {GRAMS_TABLE}.rowid, {_RANK} as rank
from {GRAMS_TABLE}
join clauses on clauses.rowid = {GRAMS_TABLE}.rowid
join documents on documents.id = clauses.document_id
where {GRAMS_TABLE} match :match and documents.jurisdiction in (:city, :city || '市')
order by rank, {GRAMS_TABLE}.rowid
"""

# With filters (place, level, year, relation), every match that passes them, ranked. The
# year is the document's version date's when the documents have one, else its issue date's.
_SQL_FILTERED = f"""
select {GRAMS_TABLE}.rowid, {_RANK} as rank
from {GRAMS_TABLE}
join clauses on clauses.rowid = {GRAMS_TABLE}.rowid
join documents on documents.id = clauses.document_id
where {GRAMS_TABLE} match :match
  and (:city is null or documents.jurisdiction in (:city, :city || '市'))
  and (:level is null or documents.level = :level)
  and (:year is null or substr({{date}}, 1, 4) = :year)
  and (:relation is null or exists (select 1 from links where links.source_clause_id = clauses.id and links.relation = :relation))
order by rank, {GRAMS_TABLE}.rowid
"""

# What the facets count: each match's place, level, year and the relations it is the source of.
_SQL_FACETS = f"""
select clauses.id, documents.jurisdiction, documents.level, substr({{date}}, 1, 4) as year,
  (select group_concat(distinct relation) from links where links.source_clause_id = clauses.id) as relations
from {GRAMS_TABLE}
join clauses on clauses.rowid = {GRAMS_TABLE}.rowid
join documents on documents.id = clauses.document_id
where {GRAMS_TABLE} match :match and clauses.rowid in (select value from json_each(:rowids))
"""

# Clauses with their document's fields, by rowid (a JSON array).
_SQL_BY_ROWID = """
select clauses.rowid,
  clauses.id as clause_id,
  clauses.document_id,
  clauses.path,
  clauses.label,
  clauses.kind,
  clauses.heading,
  clauses.text,
  documents.doc_number,
  documents.title,
  documents.level,
  documents.jurisdiction
from clauses
join documents on documents.id = clauses.document_id
where clauses.rowid in (select value from json_each(:rowids))
"""


@dataclass
class SearchPage:
    """The results a search shows, and what they stand for.

    matched counts the clauses that match, up to ``rank_limit + 1`` (so ``rank_limit + 1``
    means "more than rank_limit"). ranked is False when there were more than that: the results
    are then the first matches in the knowledge base's order, with ``score`` None. A rank_limit
    of None ranks every query, and matched is the full count.
    """

    results: list[dict]
    matched: int
    ranked: bool
    rank_limit: int | None
    # facet -> [(value, count)] over every match (None when too many matched to count them)
    facets: dict[str, list[tuple[str, int]]] | None = None
    # the ids of every match the facets counted, for facets read elsewhere (status)
    matched_ids: list[str] | None = None


@dataclass(frozen=True)
class SearchFilters:
    """What a search is narrowed to, besides its words: a place (大连市 or 大连), a level
    (national, province, city, county), a year (of the document's date) and a relation its
    clause has to a higher one (implements, extends, overrides, succeeds)."""

    city: str | None = None
    level: str | None = None
    year: str | None = None
    relation: str | None = None

    def any(self) -> bool:
        return any((self.city, self.level, self.year, self.relation))


FACETS = ("jurisdiction", "level", "year", "relation")
# Facets are counted over every match up to this many; a broader query shows none (counting reads
# each match's document and links, too slow for a page under load) until it is narrowed.
FACET_LIMIT = 2_000


def _date_column(conn: Any) -> str:
    """The documents' date for years: version_date where the table has it (statutes), else issued."""
    columns = {row[1] for row in conn.execute("pragma table_info(documents)")}
    return "coalesce(documents.version_date, documents.issued)" if "version_date" in columns else "documents.issued"


def _facets(conn: Any, match: str, rowids: list[int]) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    ids = []
    sql = _SQL_FACETS.format(date=_date_column(conn))
    for clause_id, jurisdiction, level, year, relations in conn.execute(sql, {"match": match, "rowids": json.dumps(rowids)}):
        ids.append(clause_id)
        for facet, value in (("jurisdiction", jurisdiction), ("level", level), ("year", year)):
            if value:
                counts[facet][value] = counts[facet].get(value, 0) + 1
        for relation in (relations or "").split(","):
            if relation:
                counts["relation"][relation] = counts["relation"].get(relation, 0) + 1
    return {f: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for f, c in counts.items()}, ids


def search_page(
    conn: Any,
    query: str,
    city: str | None = None,
    limit: int = 50,
    rank_limit: int | None = RANK_LIMIT,
    filters: SearchFilters | None = None,
    facets: bool = False,
) -> SearchPage:
    """Clauses matching every term of query: the best first, or listed when too many match.

    conn is a ``sqlite3.Connection`` or a ``sqlite_utils.Database`` of a published knowledge
    base. city limits results to one jurisdiction (``大连市``, or ``大连``). With a city, or
    with rank_limit None, the matches are always ranked. Each result is a dict of the clause and
    its document, ``score`` (higher is better; None when not ranked) and ``heading_html``,
    ``text_html`` and ``snippet_html``: escaped HTML with matches in ``<mark>``.

    >>> search_page(conn, "补贴 见习", city="大连市").ranked  # doctest: +SKIP
    True
    """
    conn = getattr(conn, "conn", conn)
    match = fts_query(query)
    if match is None:
        return SearchPage([], 0, True, rank_limit)
    filters = filters or SearchFilters(city=city)
    if city and not filters.city:
        filters = SearchFilters(city, filters.level, filters.year, filters.relation)
    counted: tuple[dict, list[str]] | None = None
    if filters.any() and (filters.level or filters.year or filters.relation):
        params = {"match": match, "city": filters.city, "level": filters.level, "year": filters.year, "relation": filters.relation}
        every = conn.execute(_SQL_FILTERED.format(date=_date_column(conn)), params).fetchall()
        matched, ranked, hits = len(every), True, every[: int(limit)]
        if facets and matched <= FACET_LIMIT:
            counted = _facets(conn, match, [rowid for rowid, _ in every])
    elif filters.city:
        every = conn.execute(_SQL_CITY, {"match": match, "city": filters.city}).fetchall()
        matched, ranked, hits = len(every), True, every[: int(limit)]
        if facets and matched <= FACET_LIMIT:
            counted = _facets(conn, match, [rowid for rowid, _ in every])
    else:
        most = -1 if rank_limit is None else rank_limit + 1  # LIMIT -1: no limit
        matched = conn.execute(_SQL_COUNT, {"match": match, "most": most}).fetchone()[0]
        ranked = rank_limit is None or matched <= rank_limit
        hits = conn.execute(_SQL_RANKED if ranked else _SQL_LISTED, {"match": match, "limit": int(limit)}).fetchall()
        if facets and matched <= FACET_LIMIT:
            every = conn.execute(_SQL_RANKED, {"match": match, "limit": -1}).fetchall()
            counted = _facets(conn, match, [rowid for rowid, _ in every])
    cursor = conn.execute(_SQL_BY_ROWID, {"rowids": json.dumps([rowid for rowid, _ in hits])})
    columns = [d[0] for d in cursor.description][1:]
    clauses = {row[0]: dict(zip(columns, row[1:])) for row in cursor.fetchall()}
    terms = _terms(query)
    results = []
    for rowid, rank in hits:
        r = clauses[rowid]
        r["score"] = round(-rank, 4) if rank is not None else None
        r["heading_html"] = highlight(r["heading"], terms)
        r["text_html"] = highlight(r["text"], terms)
        r["snippet_html"] = snippet(r["text"], terms)
        results.append(r)
    return SearchPage(results, matched, ranked, rank_limit, counted[0] if counted else None, counted[1] if counted else None)


def search(conn: Any, query: str, city: str | None = None, limit: int = 50) -> list[dict]:
    """The results of ``search_page``: the best matches first, unless too many match (see there).

    >>> search(conn, "补贴 见习", city="大连市")  # doctest: +SKIP
    """
    return search_page(conn, query, city=city, limit=limit).results


GRAMS_SQL = f"create virtual table {GRAMS_TABLE} using fts5(heading, text, content='', tokenize='unicode61')"


def gram_rows(rows: list[tuple[int, str | None, str | None]]) -> list[tuple[int, str, str]]:
    """``(rowid, grams(heading), grams(text))`` of clause rows, as ``clauses_grams`` takes them."""
    texts = _grams_of_all([t for _, heading, text in rows for t in (heading, text)])
    return [(rowid, texts[2 * i], texts[2 * i + 1]) for i, (rowid, _, _) in enumerate(rows)]


# What _grams_of_all's arrays say each character is.
_OTHER, _WORD_CHAR, _CJK_CHAR = 0, 1, 2
_NOT_CJK = re.compile(f"[^{_CJK_CHARS}]")
_NOT_WORD = re.compile(r"[\W_]")


def _codes(text: str):
    """text as an array of code points (a lone surrogate stays one code point)."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _classes(chars: str):
    """For each character of chars: _CJK_CHAR, _WORD_CHAR (of ``_WORD``, not CJK) or _OTHER."""
    import numpy as np

    cjk = _codes(_NOT_CJK.sub("\0", chars)) != 0
    word = _codes(_NOT_WORD.sub("\0", chars)) != 0
    return np.where(cjk, _CJK_CHAR, np.where(word, _WORD_CHAR, _OTHER)).astype(np.uint8)


@functools.cache
def _bmp_classes():
    """_classes of every character of the Basic Multilingual Plane, indexed by code point."""
    return _classes("".join(map(chr, range(0x10000))))


def _grams_of_all(texts: list[str | None]) -> list[str]:
    """``[grams(t) for t in texts]``, the same strings, at a fraction of the cost.

    grams() makes a Python string of every pair. Here numpy lays the texts out as code points
    and lets every character contribute, in order, up to three: itself (if CJK or a word
    character), the next character (if both are CJK: a pair) and a space (after a CJK
    character, or at the end of a word). That is every token of grams() followed by a space;
    dropping the last space and lower-casing the whole (words are separated by spaces, so
    casing reads each word alone) gives grams(). numpy is imported here, not at module top:
    serving (search()) never needs it.
    """
    import numpy as np

    if not texts:
        return []
    joined = "\n".join(t or "" for t in texts)  # "\n" is neither CJK nor a word character
    codes = _codes(joined)
    kind = np.zeros(len(codes), dtype=np.uint8)
    bmp = codes < 0x10000
    kind[bmp] = _bmp_classes()[codes[bmp]]
    if not bmp.all():  # characters beyond the BMP (CJK extension B, ...): classed one by one
        astral = np.unique(codes[~bmp])
        kind[~bmp] = _classes("".join(map(chr, astral.tolist())))[np.searchsorted(astral, codes[~bmp])]
    cjk = kind == _CJK_CHAR
    word = kind == _WORD_CHAR
    next_cjk = np.append(cjk[1:], False)
    next_word = np.append(word[1:], False)

    out = np.empty((len(codes), 3), dtype=np.uint32)
    out[:, 0] = codes
    out[:-1, 1] = codes[1:]
    out[:, 2] = ord(" ")
    keep = np.empty((len(codes), 3), dtype=bool)
    keep[:, 0] = cjk | word
    keep[:, 1] = cjk & next_cjk
    keep[:, 2] = cjk | (word & ~next_word)
    flat = out[keep].tobytes().decode("utf-32-le", "surrogatepass")
    lowered = flat.lower()
    # Lower-casing all at once reads each word alone too; only a character that lower-cases to
    # two (İ) would shift the offsets below, and then each text is lower-cased on its own.
    at_once = len(lowered) == len(flat)
    flat = lowered if at_once else flat

    # Where each text's part of flat ends: the code points kept up to its last character.
    kept = np.concatenate(([0], np.cumsum(keep)[2::3]))  # kept[i]: from the characters before i
    ends = np.cumsum([len(t or "") + 1 for t in texts]) - 1  # where each text ends in joined
    result, previous = [], 0
    for end in kept[ends].tolist():
        piece = flat[previous : end - 1] if end > previous else ""  # less the last space
        result.append(piece if at_once else piece.lower())
        previous = end
    return result
