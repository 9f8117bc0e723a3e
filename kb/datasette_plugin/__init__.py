"""Datasette plugin: clause search, clause and document pages under ``/-/kb/``.

- ``/-/kb/search?q=…&city=…`` (and ``/-/kb/search.json``): ranked clause search, 1- and
  2-character terms included (``kb.search``); a query matching more than ``plugins: kb:
  rank_limit:`` clauses (default 20,000) is listed in the knowledge base's order, and says so;
- ``/-/kb/clause/<clause id>``: a clause in its document, its provenance, its provincial
  sources and city descendants with relation, score, evidence and a character diff;
- ``/-/kb/document/<document id>``: metadata, completeness, clause tree, citations, lineage;
- ``/-/kb/governs?topic=…&city=…&as_of=…`` (and ``.json``): which clause governs a topic in a city;
- ``/-/kb/diff?a=…&b=…`` (and ``.json``, ``.csv``): what changed between versions, notices or clauses (``diff_view``);
- Datasette's own search box on the ``clauses`` table, from the same bigram index.

Ids carry Chinese, 〔〕, ':' and '/': the routes take everything after the prefix, and accept
both percent-encoding (what browsers send) and Datasette's tilde-encoding (what Datasette
redirects a percent-encoded 404 to). Unknown ids raise ``NotFound``.

Every piece of corpus text reaches a page through Jinja's autoescaping or through
``markupsafe.escape`` before ``<mark>``, ``<ins>`` or ``<del>`` is added around it; nothing
stored is rendered raw. The plugin reads the database named by the ``database`` plugin setting
(metadata.yml, ``plugins: kb: database:``), else the first database with a ``clauses`` table.

Serving a large database (``kb serve``, ``asgi.py``): the pages are kept by URL in each process
(``plugins: kb: cache_mb:``, default 64; only for an immutable database and anonymous requests
without cookies), the jurisdiction lists are read once, the governs answers, a long list,
are rendered by a synchronous copy of Datasette's Jinja environment, and governs questions
take at most all but one of Datasette's SQL threads (``_governs_lane``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import weakref
from collections import OrderedDict
from urllib.parse import quote, unquote, urlencode

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response
from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

from .. import search as kb_search
from ..errors import KbError
from .diff_view import diff_view, document_versions

_dmp = diff_match_patch()
_dmp.Diff_Timeout = 0.5

_DOCUMENT_FIELDS = [
    ("doc_number", "文号"),
    ("title", "Title"),
    ("level", "Level"),
    ("jurisdiction", "Jurisdiction"),
    ("province", "Province"),
    ("issued", "Issued"),
    ("issuers", "Issuers"),
    ("recipients", "Recipients"),
    ("kind", "Kind"),
    ("measures_title", "Measures issued"),
    ("implements", "Implements"),
    ("attached_to", "Attached to"),
    ("attachment_label", "Attachment label"),
    ("publication_note", "Publication note"),
    ("contact_note", "Contact"),
    ("version", "Version"),
    ("parser_version", "Parser"),
    ("metadata_sources", "Metadata from"),
]


# ---------------------------------------------------------------------------------------------
# Hooks.


@hookimpl
def prepare_connection(conn):
    kb_search.prepare_reader(conn)


@hookimpl(trylast=True)  # last, so that its supports_search is the one the page reads
def filters_from_request(request, database, table, datasette):
    """Datasette's own search box on ``clauses`` (``?_search=``), answered by the bigram index.

    Datasette's search runs the words through ``escape_fts`` into a MATCH of the table's FTS
    index; an FTS5 ``trigram`` index finds nothing for 补贴 or 零工, and the bigram index
    (``clauses_grams``) needs the words rewritten as pairs (``kb.search.fts_query``). So the
    knowledge base publishes no index Datasette would find by itself, and this hook gives the
    ``clauses`` table its search: the box, the description, and the filter."""
    if table != "clauses":
        return None

    async def inner():
        db = datasette.get_database(database)
        if not await db.table_exists(kb_search.GRAMS_TABLE):
            return None
        query = request.args.get("_search", "")
        if not query.strip():
            return FilterArguments([], extra_context={"supports_search": True})
        match = kb_search.fts_query(query)
        if match is None:  # punctuation only: nothing to look up, so nothing matches
            return FilterArguments(["0"], {}, [f'search matches "{query}"'], {"supports_search": True, "search": query})
        return FilterArguments(
            [f"rowid in (select rowid from [{kb_search.GRAMS_TABLE}] where [{kb_search.GRAMS_TABLE}] match :kb_search)"],
            {"kb_search": match},
            [f'search matches "{query}"'],
            {"supports_search": True, "search": query},
        )

    return inner


@hookimpl
def register_routes():
    return [
        (r"^/-/kb/?$", index_view),
        (r"^/-/kb/search(?P<format>\.json)?$", _cached(search_view)),
        (r"^/-/kb/clause/(?P<id>.+)$", _cached(clause_view)),
        (r"^/-/kb/document/(?P<id>.+)$", _cached(document_view)),
        (r"^/-/kb/governs(?P<format>\.json)?$", _cached(governs_view)),
        (r"^/-/kb/diff(?P<format>\.json|\.csv)?$", _cached(diff_view)),
    ]


@hookimpl
def menu_links(datasette):
    return [{"href": datasette.urls.path("/-/kb/search"), "label": "Search clauses"}]


# Columns of the views and canned queries that hold clause or document ids: shown as links to
# the /-/kb/ pages (tables already link their foreign keys to rows).
_CLAUSE_COLUMNS = {"clause_id", "city_clause_id", "provincial_clause_id", "best_candidate_id"}
_DOCUMENT_COLUMNS = {"document_id", "city_document_id", "provincial_document_id", "likely_document"}
_VIEWS = {"city_vs_province", "unresolved_clauses", "coverage_summary"}


@hookimpl
def render_cell(value, column, table, database, datasette):
    if not isinstance(value, str) or not value or (table is not None and table not in _VIEWS):
        return None
    wanted = (datasette.plugin_config("kb") or {}).get("database")
    if wanted and database != wanted:
        return None
    if column in _CLAUSE_COLUMNS:
        url = clause_url(value)
    elif column in _DOCUMENT_COLUMNS:
        url = document_url(value)
    else:
        return None
    return Markup('<a href="{}">{}</a>').format(datasette.urls.path(url), value)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["kb_clause_url"] = clause_url
    env.filters["kb_document_url"] = document_url
    env.filters["kb_tilde"] = tilde_encode


# ---------------------------------------------------------------------------------------------
# Helpers.


def clause_url(clause_id: str) -> str:
    return "/-/kb/clause/" + quote(clause_id, safe="")


def document_url(document_id: str) -> str:
    return "/-/kb/document/" + quote(document_id, safe="")


def _decode_id(raw: str) -> str:
    """The id in a route: percent-encoded from a browser, tilde-encoded after a Datasette redirect."""
    if "%" in raw:
        return unquote(raw)
    if "~" in raw:
        return tilde_decode(raw)
    return raw


async def _database(datasette):
    config = datasette.plugin_config("kb") or {}
    name = config.get("database")
    if name:
        try:
            return datasette.get_database(name)
        except KeyError:
            raise NotFound(f"kb plugin: database {name!r} (plugins.kb.database in metadata) is not served")
    for db in datasette.databases.values():
        if db.name != "_internal" and await db.table_exists("clauses"):
            return db
    raise NotFound("no knowledge base database is served: expected one with a 'clauses' table (run kb build)")


async def _rows(db, sql: str, params: dict | None = None) -> list[dict]:
    result = await db.execute(sql, params or {})
    return [dict(r) for r in result.rows]


async def _one(db, sql: str, params: dict | None = None) -> dict | None:
    rows = await _rows(db, sql, params)
    return rows[0] if rows else None


def _loads(value, default=None):
    if value is None:
        return default
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def _full_text(clause: dict) -> str:
    heading, text = clause.get("heading") or "", clause.get("text") or ""
    return f"{heading} {text}".strip() if heading and text else heading or text


def diff_html(provincial: str, city: str, spans: list[dict] | None = None) -> Markup:
    """The two texts as one, escaped: provincial-only characters in <del>, city-only in <ins>.

    spans are the linker's evidence (op, text, provincial_at, city_at over the two clause texts);
    used when they fit the texts, else diff-match-patch runs here.
    """
    ops = _ops_from_spans(provincial, city, spans) if spans is not None else None
    if ops is None:
        ops = _dmp.diff_main(provincial, city)
        _dmp.diff_cleanupSemantic(ops)
    out = []
    for op, text in ops:
        if op == 0:
            out.append(str(escape(text)))
        elif op < 0:
            out.append(f"<del>{escape(text)}</del>")
        else:
            out.append(f"<ins>{escape(text)}</ins>")
    return Markup("".join(out))


def _ops_from_spans(provincial: str, city: str, spans: list[dict]) -> list[tuple[int, str]] | None:
    """diff-match-patch style ops rebuilt from evidence spans, or None if they do not fit."""
    ops: list[tuple[int, str]] = []
    p = c = 0
    try:
        for span in spans:
            at_p, at_c, text = span["provincial_at"], span["city_at"], span["text"]
            if at_p - p != at_c - c or provincial[p:at_p] != city[c:at_c]:
                return None
            if at_p > p:
                ops.append((0, provincial[p:at_p]))
            p, c = at_p, at_c
            if span["op"] == "delete":
                if provincial[p : p + len(text)] != text:
                    return None
                ops.append((-1, text))
                p += len(text)
            elif span["op"] == "insert":
                if city[c : c + len(text)] != text:
                    return None
                ops.append((1, text))
                c += len(text)
            else:
                return None
    except (KeyError, TypeError):
        return None
    if provincial[p:] != city[c:]:
        return None
    if p < len(provincial):
        ops.append((0, provincial[p:]))
    return ops


def _evidence(evidence: dict) -> dict:
    """The parts of a link's evidence a reader needs, in reading order; the rest stays as JSON."""
    shown = {k: evidence.get(k) for k in ("why", "parameter_changes", "novel", "delegation", "local_references", "scores")}
    rest = {k: v for k, v in evidence.items() if k not in shown and k != "diff"}
    return {"shown": shown, "rest": json.dumps(rest, ensure_ascii=False, indent=1, sort_keys=True) if rest else ""}


def _sync_env(datasette):
    """Datasette's Jinja environment (loader, filters, autoescaping), rendering synchronously.

    Datasette's environment is asynchronous: every piece of output passes through a chain of
    async generators, which costs more than the rest of a long list (a governs page of two
    hundred answers took 18 ms to render that way; 7 ms this way). Long lists are rendered
    here, then inserted.
    """
    env = _SYNC_ENVS.get(datasette)
    if env is None:
        env = _SYNC_ENVS[datasette] = datasette.jinja_env.overlay(enable_async=False, cache_size=50)
    return env


_SYNC_ENVS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _render(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    return Response.html(await datasette.render_template(template, context, request=request), status=status)


async def _jurisdictions(db, sql: str) -> list[str]:
    """The jurisdictions a page offers (first column of sql): read once per immutable database."""
    if db.is_mutable:
        return [r[0] for r in (await db.execute(sql)).rows]
    cached = _LISTS.setdefault(db, {})
    if sql not in cached:
        cached[sql] = [r[0] for r in (await db.execute(sql)).rows]
    return list(cached[sql])


# Lists read once per served immutable database (Database objects), dropped with it.
_LISTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------------------------------------
# The governs lane.


def _governs_lane(datasette) -> asyncio.Semaphore:
    """What a governs question waits on before it takes one of Datasette's SQL threads: governs
    questions run at most one fewer at a time than there are threads.

    A governs question is a full-text scan of a city's and its province's clauses, tens of
    milliseconds of SQL; a search or clause page needs a few. Datasette's threads take work first
    come, first served, so under load the short pages queued behind several governs scans
    (search p95 254-307 ms at 20 clients, 10,000 notices, no page cache). With a thread always
    left for them they do not (80-84 ms) and as many pages a second are answered; the wait falls
    on governs questions instead, behind each other. One lane per Datasette and event loop (a
    semaphore belongs to a loop)."""
    lanes = _LANES.get(datasette)
    if lanes is None:
        lanes = _LANES[datasette] = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    if loop not in lanes:
        lanes[loop] = asyncio.Semaphore(max(1, (datasette.setting("num_sql_threads") or 1) - 1))
    return lanes[loop]


_LANES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Datasette -> {event loop: semaphore}


# ---------------------------------------------------------------------------------------------
# Rendered pages, kept by URL.


class _PageCache:
    """Responses by full URL (path and query string), the least recently used dropped first
    once their bodies pass max_bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._pages: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        page = self._pages.get(key)
        if page is None:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def put(self, key: tuple, page: tuple, size: int) -> None:
        if size > self.max_bytes or key in self._pages:
            return
        self._pages[key] = page + (size,)
        self.size += size
        while self.size > self.max_bytes:
            _, old = self._pages.popitem(last=False)
            self.size -= old[-1]


# One cache per Datasette instance; the tests make many instances in one process.
_PAGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
DEFAULT_CACHE_MB = 64


def _page_cache(datasette) -> _PageCache | None:
    if datasette not in _PAGES:
        mb = (datasette.plugin_config("kb") or {}).get("cache_mb", DEFAULT_CACHE_MB)
        _PAGES[datasette] = _PageCache(int(float(mb) * 1_000_000)) if mb and float(mb) > 0 else None
    return _PAGES[datasette]


def _cached(view):
    """view, its 200 responses kept by URL while the database is immutable.

    A served database does not change (Datasette opens it immutable), so a page is a function of
    its URL: the same question gets the same bytes without being asked of SQLite again. Not kept:
    pages of a mutable database, and requests with an actor or cookies (a page could differ).
    """

    @functools.wraps(view)
    async def cached_view(datasette, request):
        cache = _page_cache(datasette)
        if cache is None or request.actor is not None or request.cookies:
            return await view(datasette, request)
        db = await _database(datasette)
        if db.is_mutable:
            return await view(datasette, request)
        key = (db.name, request.path, request.query_string)
        page = cache.get(key)
        if page is not None:
            body, status, headers, content_type, _ = page
            return Response(body, status=status, headers=dict(headers), content_type=content_type)
        response = await view(datasette, request)
        if response.status == 200 and isinstance(response.body, (str, bytes)) and not response._set_cookie_headers:
            body = response.body if isinstance(response.body, bytes) else response.body.encode("utf-8")
            cache.put(key, (body, response.status, dict(response.headers), response.content_type), len(body))
        return response

    return cached_view


# ---------------------------------------------------------------------------------------------
# Views.


async def index_view(datasette, request):
    return Response.redirect(datasette.urls.path("/-/kb/search"))


async def search_view(datasette, request):
    db = await _database(datasette)
    q = (request.args.get("q") or "").strip()
    city = (request.args.get("city") or "").strip() or None
    try:
        limit = max(1, min(500, int(request.args.get("limit") or 50)))
    except ValueError:
        limit = 50
    rank_all = request.args.get("rank") == "all"  # the page's "rank them all"
    rank_limit = None if rank_all else int((datasette.plugin_config("kb") or {}).get("rank_limit", kb_search.RANK_LIMIT))
    page = await db.execute_fn(lambda conn: kb_search.search_page(conn, q, city=city, limit=limit, rank_limit=rank_limit)) if q else None
    results = page.results if page else []
    if request.url_vars.get("format") == ".json":
        counts = {"matched": page.matched, "ranked": page.ranked, "rank_limit": page.rank_limit} if page else {}
        return Response.json({"q": q, "city": city, **counts, "results": results})
    for r in results:
        for key in ("heading_html", "text_html", "snippet_html"):
            r[key] = Markup(r[key])
        r["url"] = datasette.urls.path(clause_url(r["clause_id"]))
        r["document_url"] = datasette.urls.path(document_url(r["document_id"]))
    cities = await _jurisdictions(
        db, "select distinct jurisdiction from documents where placeholder = 0 and jurisdiction is not null order by level, jurisdiction"
    )
    return await _render(
        datasette,
        request,
        "kb_search.html",
        {
            "q": q,
            "city": city,
            "cities": cities,
            "results": results,
            "page": page,
            "rank_all_url": datasette.urls.path("/-/kb/search")
            + "?"
            + urlencode({"q": q, "rank": "all", **({"limit": limit} if request.args.get("limit") else {})}),
            "json_url": datasette.urls.path("/-/kb/search.json")
            + "?"
            + urlencode({"q": q, **({"city": city} if city else {}), **({"rank": "all"} if rank_all else {})}),
        },
    )


def _sql_rows(conn, sql: str, params: dict | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


_LINK_SQL = """
    select links.*, clauses.heading, clauses.text, clauses.path, documents.id as document_id,
           documents.title, documents.jurisdiction, documents.level, documents.doc_number
    from links
    join clauses on clauses.id = links.{other}
    join documents on documents.id = clauses.document_id
    where links.{own} = :id
    order by links.score desc, links.id
"""


def _clause_page_rows(conn, clause_id: str) -> dict | None:
    """Every row the clause page shows, read in one go on one connection: a page is one trip
    through Datasette's small pool of SQL threads, not fourteen (which queue under load)."""
    found = _sql_rows(conn, "select * from clauses where id = :id", {"id": clause_id})
    if not found:
        return None
    clause = found[0]
    one = lambda sql, params=None: next(iter(_sql_rows(conn, sql, params)), None)
    ancestors = []
    parent = clause["parent_id"]
    while parent and len(ancestors) < 20:
        row = one("select id, path, label, heading, parent_id from clauses where id = :id", {"id": parent})
        if row is None:
            break
        ancestors.insert(0, row)
        parent = row["parent_id"]
    by_id = {"id": clause_id}
    return {
        "clause": clause,
        "document": one("select * from documents where id = :id", {"id": clause["document_id"]}),
        "ancestors": ancestors,
        "children": _sql_rows(conn, "select id, label, heading, text from clauses where parent_id = :id order by position", by_id),
        "source": one("select * from sources where path = :p", {"p": clause["source_path"]}),
        "build": one("select * from builds order by id desc limit 1"),
        "sources": _sql_rows(conn, _LINK_SQL.format(other="target_clause_id", own="source_clause_id"), by_id),
        "descendants": _sql_rows(conn, _LINK_SQL.format(other="source_clause_id", own="target_clause_id"), by_id),
        "unresolved": one("select * from unresolved where clause_id = :id", by_id),
        "parameters": _sql_rows(conn, "select * from parameters where clause_id = :id order by start", by_id),
        "citations": _sql_rows(
            conn,
            """select citations.*, documents.title as target_title, documents.placeholder as target_placeholder
               from citations left join documents on documents.id = citations.target_document_id
               where clause_id = :id order by citations.start""",
            by_id,
        ),
        "coverage": _sql_rows(
            conn,
            """select coverage.*, documents.jurisdiction, documents.title from coverage
               join documents on documents.id = coverage.city_document_id
               where provincial_clause_id = :id order by documents.jurisdiction""",
            by_id,
        ),
        "history": _sql_rows(
            conn,
            "select version, source_path, source_sha256, heading, text from clause_versions where clause_id = :id order by version",
            by_id,
        ),
        "generations": _sql_rows(
            conn,
            """select links.source_clause_id, links.target_clause_id, links.score, d.doc_number, d.issued,
                      case when links.source_clause_id = :id then 'succeeds' else 'succeeded by' end as direction
               from links join clauses c on c.id = (case when links.source_clause_id = :id then links.target_clause_id else links.source_clause_id end)
               join documents d on d.id = c.document_id
               where links.relation = 'succeeds' and (links.source_clause_id = :id or links.target_clause_id = :id)
               order by d.issued, links.id""",  # ties in link order, whichever index finds the links
            by_id,
        ),
    }


async def clause_view(datasette, request):
    db = await _database(datasette)
    clause_id = _decode_id(request.url_vars["id"])
    rows = await db.execute_fn(lambda conn: _clause_page_rows(conn, clause_id))
    if rows is None:
        raise NotFound(f"no clause {clause_id!r}: clause ids are '<document id>:<path>', e.g. 辽人社发〔2021〕7号:一/（一）")
    clause, document = rows["clause"], rows["document"]
    sources_, descendants = rows["sources"], rows["descendants"]
    for link in sources_:
        ev = _loads(link["evidence"], {}) or {}
        link["evidence_view"] = _evidence(ev)
        link["diff_html"] = diff_html(link["text"] or "", clause["text"] or "", ev.get("diff"))
    for link in descendants:
        ev = _loads(link["evidence"], {}) or {}
        link["evidence_view"] = _evidence(ev)
        link["diff_html"] = diff_html(clause["text"] or "", link["text"] or "", ev.get("diff"))

    coverage, generations = rows["coverage"], rows["generations"]
    for c in coverage:
        c["by"] = _loads(c["by_clause_ids"], [])
    for g in generations:
        other = g["target_clause_id"] if g["direction"] == "succeeds" else g["source_clause_id"]
        g["other"] = other
        # the earlier rule (the target of `succeeds`) on the left
        g["diff_url"] = datasette.urls.path("/-/kb/diff?" + urlencode({"a": g["target_clause_id"], "b": g["source_clause_id"]}))
    governs_url = datasette.urls.path(
        "/-/kb/governs?" + urlencode({"topic": clause["heading"] or "", "city": document["jurisdiction"] or ""})
    )
    return await _render(
        datasette,
        request,
        "kb_clause.html",
        {
            "history": rows["history"],
            "generations": generations,
            "governs_url": governs_url,
            "clause": clause,
            "document": document,
            "ancestors": rows["ancestors"],
            "children": rows["children"],
            "responsible": _loads(clause["responsible"], []),
            "lead": _loads(clause["lead"], []),
            "text_spans": _loads(clause["text_spans"], []),
            "source": rows["source"],
            "build": rows["build"],
            "sources": sources_,
            "descendants": descendants,
            "unresolved": rows["unresolved"],
            "parameters": rows["parameters"],
            "citations": rows["citations"],
            "coverage": coverage,
            "database": db.name,
        },
    )


def _tree(clauses: list[dict]) -> list[dict]:
    """Clauses nested under their parents, in document order."""
    by_id = {c["id"]: dict(c, children=[]) for c in clauses}
    roots = []
    for c in by_id.values():
        parent = by_id.get(c["parent_id"]) if c["parent_id"] else None
        (parent["children"] if parent else roots).append(c)
    return roots


async def document_view(datasette, request):
    db = await _database(datasette)
    document_id = _decode_id(request.url_vars["id"])
    document = await _one(db, "select * from documents where id = :id", {"id": document_id})
    if document is None:
        document = await _one(db, "select * from documents where doc_number = :id order by version desc", {"id": document_id})
    if document is None:
        raise NotFound(f"no document {document_id!r}: document ids are the 文号 (辽人社发〔2021〕7号) or 无文号-<hash>")
    document_id = document["id"]
    clauses = await _rows(
        db,
        "select id, parent_id, path, label, kind, heading, text, depth, attached_document_id from clauses "
        "where document_id = :id order by position",
        {"id": document_id},
    )
    linked = {
        r["clause_id"]: r
        for r in await _rows(
            db,
            """select source_clause_id as clause_id, group_concat(relation, ', ') as relations, count(*) as n
               from links join clauses on clauses.id = links.source_clause_id
               where clauses.document_id = :id group by source_clause_id""",
            {"id": document_id},
        )
    }
    unresolved = {
        r["clause_id"]
        for r in await _rows(
            db,
            "select clause_id from unresolved join clauses on clauses.id = unresolved.clause_id where clauses.document_id = :id",
            {"id": document_id},
        )
    }
    for c in clauses:
        c["links"] = linked.get(c["id"])
        c["unresolved"] = c["id"] in unresolved
    citations = await _rows(
        db,
        """select citations.*, clauses.path as clause_path, documents.title as target_title,
                  documents.placeholder as target_placeholder
           from citations
           left join clauses on clauses.id = citations.clause_id
           left join documents on documents.id = citations.target_document_id
           where citations.document_id = :id order by clauses.position, citations.start""",
        {"id": document_id},
    )
    outgoing = await _rows(
        db,
        """select doc_relations.*, documents.title as target_title, documents.placeholder as target_placeholder
           from doc_relations left join documents on documents.id = doc_relations.target_document_id
           where source_document_id = :id order by doc_relations.id""",
        {"id": document_id},
    )
    incoming = await _rows(
        db,
        """select doc_relations.*, documents.title as source_title, documents.jurisdiction as source_jurisdiction
           from doc_relations join documents on documents.id = doc_relations.source_document_id
           where target_document_id = :id order by doc_relations.id""",
        {"id": document_id},
    )
    attachments = await _rows(
        db, "select id, title, attachment_label from documents where attached_to = :id order by start", {"id": document_id}
    )
    coverage = await _rows(
        db,
        """select * from coverage_summary where city_document_id = :id or provincial_document_id = :id""",
        {"id": document_id},
    )
    source = await _one(db, "select * from sources where path = :p", {"p": document["source_path"]})
    fields = []
    for key, label in _DOCUMENT_FIELDS:
        value = document.get(key)
        if key in ("issuers", "metadata_sources"):
            value = _loads(value)
            if isinstance(value, list):
                value = "、".join(value)
            elif isinstance(value, dict):
                value = "; ".join(f"{k}: {v}" for k, v in value.items())
        if value not in (None, "", []):
            fields.append((key, label, value))
    return await _render(
        datasette,
        request,
        "kb_document.html",
        {
            "document": document,
            "fields": fields,
            "reasons": _loads(document["incomplete_reasons"], []),
            "attachments_listed": _loads(document["attachments_listed"], []),
            "tree": _tree(clauses),
            "clause_count": len(clauses),
            "citations": citations,
            "outgoing": outgoing,
            "incoming": incoming,
            "attachments": attachments,
            "coverage": coverage,
            "source": source,
            "versions": await document_versions(db, document_id),
            "database": db.name,
        },
    )


# ---------------------------------------------------------------------------------------------
# Governs and diff pages: the same functions as the command line, on Datasette's connection.


# The governs page shows the best answers first and this many of them (a city inherits every
# provincial rule it has not restated: a common topic has a couple of hundred answers, most of
# them weak); "show all" lists every one. The JSON always has all of them.
GOVERNS_ANSWERS_SHOWN = 50


async def governs_view(datasette, request):
    from .. import governs as kb_governs
    from .. import places

    db = await _database(datasette)
    topic = (request.args.get("topic") or "").strip()
    city = (request.args.get("city") or "").strip()
    as_of = (request.args.get("as_of") or "").strip() or None
    answers, error = [], None
    if topic and city:
        try:
            async with _governs_lane(datasette):
                answers = await db.execute_fn(lambda conn: kb_governs.governs(conn, topic, city, as_of))
        except KbError as e:
            error = str(e)
    if request.url_vars.get("format") == ".json":
        if error:
            return Response.json({"ok": False, "error": error}, status=400)
        return Response.json({"answers": [a.to_dict() for a in answers]})
    show_all = request.args.get("show") == "all"
    shown = answers if show_all else answers[:GOVERNS_ANSWERS_SHOWN]
    for a in shown:
        a.url = clause_url(a.clause_id)
        a.displaced = [dict(d, url=clause_url(d["clause_id"])) for d in a.displaces]
        a.chain = [dict(w, url=clause_url(w["clause_id"]) if w.get("clause_id") else None) for w in a.why]
    answers_html = Markup(_sync_env(datasette).get_template("_kb_governs_answers.html").render(answers=shown, urls=datasette.urls))
    query = {"topic": topic, "city": city, "as_of": as_of or ""}
    cities = await _jurisdictions(db, "select distinct jurisdiction from documents where level in ('city', 'county') and placeholder = 0 order by jurisdiction")
    return await _render(
        datasette,
        request,
        "kb_governs.html",
        {
            "topic": topic,
            "city": city,
            "as_of": as_of or "",
            "answers": answers,
            "shown": len(shown),
            "answers_html": answers_html,
            "show_all_url": datasette.urls.path("/-/kb/governs?" + urlencode(query | {"show": "all"})),
            "error": error,
            "cities": cities + [c for c in places.city_names("辽宁省") if c not in cities],
            "json_url": datasette.urls.path("/-/kb/governs.json?" + urlencode(query)),
        },
        status=400 if error else 200,
    )
