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
import sqlite3
import weakref
from collections import OrderedDict
from urllib.parse import parse_qsl, quote, unquote, urlencode

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import BadRequest, NotFound, Response
from diff_match_patch import diff_match_patch
from jinja2 import pass_context
from markupsafe import Markup, escape

from .. import places as kb_places
from .. import search as kb_search
from ..dates import AsOf, DateError
from ..dates import as_of as read_as_of
from ..errors import KbError
from ..text import normalize_id
from . import i18n
from .pages import (
    citation_gbt7714,
    clause_statuses,
    document_statuses,
    rows_csv,
    source_html,
)
from .swap import asgi_wrapper  # noqa: F401 - a hook: a database replaced by kb build is reopened whole
from .diff_view import diff_view, document_versions

_dmp = diff_match_patch()
_dmp.Diff_Timeout = 0.5

# The document page's fields: column, Chinese label, English label (columns a database lacks,
# such as the statutes' force and genre before they are published, are left out).
_DOCUMENT_FIELDS = [
    ("doc_number", "文号", "Document number"),
    ("title", "标题", "Title"),
    ("genre", "文种", "Genre"),
    ("force", "效力级别", "Legal force"),
    ("level", "层级", "Level"),
    ("jurisdiction", "适用地域", "Jurisdiction"),
    ("province", "所属省份", "Province"),
    ("issued", "成文日期", "Issued"),
    ("version_date", "版本日期", "Version date"),
    ("effective", "施行日期", "In force from"),
    ("issuers", "发文机关", "Issuers"),
    ("recipients", "主送机关", "Recipients"),
    ("kind", "类型", "Kind"),
    ("measures_title", "所印发文件", "Measures issued"),
    ("implements", "贯彻落实", "Implements"),
    ("attached_to", "所属文件", "Attached to"),
    ("attachment_label", "附件序号", "Attachment label"),
    ("publication_note", "公开方式", "Publication note"),
    ("contact_note", "联系方式", "Contact"),
    ("version", "版本", "Version"),
    ("parser_version", "解析器版本", "Parser"),
    ("metadata_sources", "元数据来源", "Metadata from"),
]


# ---------------------------------------------------------------------------------------------
# Hooks.


@hookimpl
def prepare_connection(conn):
    kb_search.prepare_reader(conn)
    # kb_norm(:doc) in canned queries: the 文号/id as typed -> the stored form (kb.text.normalize_id).
    conn.create_function("kb_norm", 1, _kb_norm, deterministic=True)
    # kb_code(:kind) in canned queries: a code's Chinese name (比例, 实施) -> the stored code (rate, implements).
    conn.create_function("kb_code", 1, i18n.code_of, deterministic=True)


def _kb_norm(value):
    return normalize_id(value) if isinstance(value, str) else value


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
        (r"^/-/kb/?(?P<format>\.json|\.csv)?$", _cached(index_view)),
        (r"^/-/kb/search(?P<format>\.json|\.csv)?$", _cached(search_view)),
        (r"^/-/kb/clause/(?P<id>.+?)(?P<format>\.json)?$", _cached(clause_view)),
        (r"^/-/kb/document/(?P<id>.+?)(?P<format>\.json)?$", _cached(document_view)),
        (r"^/-/kb/source/(?P<id>.+?)(?P<format>\.json)?$", _cached(source_view)),
        (r"^/-/kb/governs(?P<format>\.json)?$", _cached(governs_view)),
        (r"^/-/kb/diff(?P<format>\.json|\.csv)?$", _cached(diff_view)),
    ]


def _request_lang(request) -> str:
    """The page's language; a bad ``lang`` is the caller's error (400), named."""
    try:
        return i18n.lang_of(request.args)
    except i18n.BadLanguage as e:
        raise BadRequest(str(e))


def _lenient_lang(request) -> str:
    """The language for Datasette's own pages, which do not answer a bad lang with an error."""
    try:
        return i18n.lang_of(request.args) if request is not None else i18n.DEFAULT_LANG
    except i18n.BadLanguage:
        return i18n.DEFAULT_LANG


@hookimpl
def extra_template_vars(request):
    lang = _lenient_lang(request)
    return {
        "kb_lang": lang,
        "kb_html_lang": i18n.HTML_LANG[lang],
        "tr": i18n.tr(lang),
        "nm": lambda kind, code: i18n.name(kind, code, lang),
        "nm_zh": lambda kind, code: i18n.name(kind, code, "zh"),  # the Chinese term beside an English one
        "kb_lang_toggle": _lang_toggle(request, lang) if request is not None else None,
    }


def _lang_toggle(request, lang: str) -> dict:
    """The link to the same page in the other language."""
    args = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k != "lang"]
    other = "en" if lang == "zh" else "zh"
    if other == "en":
        args.append(("lang", "en"))
    query = urlencode(args)
    return {"href": request.path + ("?" + query if query else ""), "label": "English" if other == "en" else "中文"}


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.static_plugins("kb", "kb.css")]


@hookimpl
def extra_body_script(template, database, datasette, request):
    """Pick-lists for the canned queries' parameters: each declared parameter's box gets a
    <datalist> of the values the database holds (metadata.yml, ``plugins: kb: choices:``)."""
    if template != "query.html" or request is None:
        return None
    choices = (datasette.plugin_config("kb") or {}).get("choices") or {}
    if not choices:
        return None

    async def inner():
        lang = _lenient_lang(request)
        db = datasette.get_database(database)
        lists = {}
        for param, spec in choices.items():
            try:
                values = [r[0] for r in (await db.execute(spec["sql"])).rows if r[0] is not None]
            except sqlite3.Error:  # a database without that table: no pick-list for the parameter
                continue
            lists[param] = [[str(v), i18n.name(spec.get("names", ""), v, lang) if spec.get("names") else ""] for v in values]
        return _PICK_LISTS_JS.replace("__CHOICES__", json.dumps(lists, ensure_ascii=False).replace("</", "<\\/"))

    return inner


# Adds a <datalist> to each canned-query parameter box that has a pick-list.
_PICK_LISTS_JS = """
(function () {
  var choices = __CHOICES__;
  Object.keys(choices).forEach(function (param) {
    var input = document.querySelector('form input[type=text][name="' + param + '"]');
    if (!input) { return; }
    var list = document.createElement('datalist');
    list.id = 'kb-choices-' + param;
    choices[param].forEach(function (pair) {
      var option = document.createElement('option');
      option.value = pair[0];
      if (pair[1] && pair[1] !== pair[0]) { option.label = pair[1]; }
      list.appendChild(option);
    });
    input.parentNode.appendChild(list);
    input.setAttribute('list', list.id);
  });
})();
"""


@hookimpl
def menu_links(datasette, request):
    lang = _lenient_lang(request)
    t = i18n.tr(lang)
    suffix = "?lang=en" if lang == "en" else ""
    links = [
        {"href": datasette.urls.path("/-/kb/") + suffix, "label": t("浏览文件", "Browse documents")},
        {"href": datasette.urls.path("/-/kb/search") + suffix, "label": t("检索条款", "Search clauses")},
        {"href": datasette.urls.path("/-/kb/governs") + suffix, "label": t("适用规定查询", "Which clause governs")},
        {"href": datasette.urls.path("/-/kb/diff") + suffix, "label": t("版本与文件比对", "Compare (diff)")},
    ]
    if request is not None:
        toggle = _lang_toggle(request, lang)
        links.append({"href": toggle["href"], "label": toggle["label"]})
    return links


# Columns that hold clause or document ids, in the tables, views and canned queries: shown as
# links to the /-/kb/ pages, not to raw rows (issue 28: a researcher follows a clause id to read
# the clause in its document, with its lineage).
_CLAUSE_COLUMNS = {
    "clause_id",
    "city_clause_id",
    "provincial_clause_id",
    "best_candidate_id",
    "source_clause_id",
    "target_clause_id",
    "parent_id",
}
_DOCUMENT_COLUMNS = {
    "document_id",
    "city_document_id",
    "provincial_document_id",
    "likely_document",
    "likely_document_id",
    "target_document_id",
    "source_document_id",
    "implements_document_id",
    "attached_to",
    "attached_document_id",
}
_OWN_ID = {"clauses": "clause", "documents": "document", "clause_versions": None}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column in _DATE_NUMBERS and isinstance(value, float) and _row_get(row, "unit") == "date":
        # parameters keep a date as the number yyyymmdd.0 (comparable); a reader sees the date
        return _number_as_date(value)
    label = None
    if isinstance(value, dict) and "value" in value:  # a foreign key Datasette expanded with its label
        value, label = value["value"], value.get("label")
    if not isinstance(value, str) or not value:
        return None
    wanted = (datasette.plugin_config("kb") or {}).get("database")
    if wanted and database != wanted:
        return None
    if column == "relation" and value in i18n.RELATIONS:
        # the stored code stays what facets and filters use; its Chinese name is shown beside it
        return Markup('{} <span class="kb-code">{}</span>').format(i18n.name("relation", value, "zh"), value)
    if column in _CLAUSE_COLUMNS or (column == "id" and _OWN_ID.get(table or "") == "clause"):
        url = clause_url(value)
    elif column in _DOCUMENT_COLUMNS or (column == "id" and _OWN_ID.get(table or "") == "document"):
        url = document_url(value)
    elif column == "path" and table == "sources":
        url = source_url(value)
    else:
        return None
    # (Datasette 0.65 does not hand render_cell the request: these links open in Chinese.)
    text = value if not label or label == value else f"{value} {label}"
    return Markup('<a href="{}">{}</a>').format(datasette.urls.path(url), text)


_DATE_NUMBERS = {"value", "provincial_value", "city_value"}


def _row_get(row, key: str):
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None


def _number_as_date(value: float) -> str | None:
    """20211231.0 -> 2021-12-31 (None when it is not a date written that way)."""
    digits = f"{value:.0f}"
    if len(digits) != 8 or value != int(value):
        return None
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


@pass_context
def _clause_url_filter(context, clause_id: str) -> str:
    return _with_lang(clause_url(clause_id), context.get("kb_lang"))


@pass_context
def _document_url_filter(context, document_id: str) -> str:
    return _with_lang(document_url(document_id), context.get("kb_lang"))


@pass_context
def _source_url_filter(context, path: str) -> str:
    return _with_lang(source_url(path), context.get("kb_lang"))


@pass_context
def _lang_url_filter(context, url: str) -> str:
    return _with_lang(url, context.get("kb_lang"))


def _with_lang(url: str, lang: str | None) -> str:
    """url, kept in the page's language: English pages link to English pages."""
    if lang != "en":
        return url
    return url + ("&" if "?" in url else "?") + "lang=en"


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["kb_clause_url"] = _clause_url_filter
    env.filters["kb_document_url"] = _document_url_filter
    env.filters["kb_source_url"] = _source_url_filter
    env.filters["kb_lang_url"] = _lang_url_filter
    env.filters["kb_tilde"] = tilde_encode


# ---------------------------------------------------------------------------------------------
# Helpers.


def clause_url(clause_id: str) -> str:
    return "/-/kb/clause/" + quote(clause_id, safe="")


def document_url(document_id: str) -> str:
    return "/-/kb/document/" + quote(document_id, safe="")


def source_url(path: str) -> str:
    return "/-/kb/source/" + quote(path, safe="")


def _decode_id(raw: str) -> str:
    """The id in a route: percent-encoded from a browser, tilde-encoded after a Datasette redirect."""
    if "%" in raw:
        return unquote(raw)
    if "~" in raw:
        return tilde_decode(raw)
    return raw


def _as_of_arg(request) -> AsOf:
    """?as_of=, in any common written form (kb.dates); empty means today. A bad date is a 400 saying why."""
    try:
        return read_as_of(request.args.get("as_of"), "as_of")
    except DateError as e:
        raise BadRequest(str(e)) from None


def _choice_arg(request, name: str, choices: tuple[str, ...]) -> str:
    """?name= that must be one of choices ('' when absent); anything else is a 400 naming them."""
    value = request.args.get(name) or ""
    if value not in choices:
        raise BadRequest(f"{name} {value!r}: expected one of {', '.join(repr(c) for c in choices if c) or 'nothing'} or nothing")
    return value


def _int_arg(request, name: str, default: int, lo: int, hi: int) -> int:
    """?name= a whole number from lo to hi (default when absent); anything else is a 400, never clamped in silence."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise BadRequest(f"{name} {raw!r}: expected a whole number from {lo} to {hi}")
    return int(raw)


def _place_arg(request, name: str) -> str | None:
    """?name= a place the gazetteer knows (大连, 大连市, 抚顺县, 辽宁省), or absent; an unknown one is a 400."""
    value = (request.args.get(name) or "").strip()
    if value and kb_places.resolve_place(value) is None:
        raise BadRequest(f"{name} {value!r}: not a place in the gazetteer, expected a name such as 大连, 抚顺市 or 辽宁省")
    return value or None


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
    page = template.removeprefix("kb_").removesuffix(".html")
    described = ((datasette.plugin_config("kb") or {}).get("pages") or {}).get(page) or {}
    context = {"page_description": described.get(_lenient_lang(request)) or "", **context}
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


# The home page's browsing dimensions: query argument, the SQL that gives a document's value,
# Chinese and English name, and the code kind whose names the values take. force and genre
# are read only where the documents table has them (the statutes' columns).
_BROWSE = [
    ("level", "documents.level", "层级", "Level", "level"),
    ("jurisdiction", "documents.jurisdiction", "地域", "Jurisdiction", None),
    ("force", "documents.force", "效力级别", "Legal force", None),
    ("genre", "documents.genre", "文种", "Genre", "genre"),
    ("year", "substr({date}, 1, 4)", "年份", "Year", None),
]
_STATUS_ORDER = ["in force", "not yet in force", "expired", "superseded", "unknown"]


def _document_columns(conn) -> set[str]:
    return {row[1] for row in conn.execute("pragma table_info(documents)")}


def _home_rows(conn, as_of: str) -> tuple[list[dict], list[tuple]]:
    """Every document in the corpus (placeholders aside) with the values it is browsed by."""
    columns = _document_columns(conn)
    date = "coalesce(documents.version_date, documents.issued)" if "version_date" in columns else "documents.issued"
    dimensions = [(key, sql.format(date=date), zh, en, kind) for key, sql, zh, en, kind in _BROWSE if key not in ("force", "genre") or key in columns]
    selected = ", ".join(f"{sql} as [{key}]" for key, sql, *_ in dimensions)
    rows = _sql_rows(
        conn,
        f"""select documents.id, documents.doc_number, documents.title, documents.issued, documents.complete,
                   documents.clause_count, {selected}
            from documents where documents.placeholder = 0 and documents.attached_to is null
            order by {date} desc, documents.id""",
    )
    statuses = document_statuses(conn, [r["id"] for r in rows], as_of)
    for r in rows:
        status = statuses.get(r["id"], {})
        r["status"] = status.get("state")
        r["status_date"] = status.get("date")
        r["status_words"] = status.get("words")
        r["incomplete"] = status.get("incomplete")
    return rows, dimensions


async def index_view(datasette, request):
    """The home page: documents browsed by level and jurisdiction, 效力级别, year and status."""
    lang = _request_lang(request)
    db = await _database(datasette)
    as_of = _as_of(request)
    rows, dimensions = await db.execute_fn(lambda conn: _home_rows(conn, as_of))
    keys = [d[0] for d in dimensions] + ["status"]
    chosen = {k: (request.args.get(k) or "").strip() for k in keys if (request.args.get(k) or "").strip()}
    for key, value in chosen.items():
        if value not in {str(r.get(key)) for r in rows}:
            raise BadRequest(f"{key}={value!r}: no document of the knowledge base has it (see the choices on /-/kb/)")
    shown = [r for r in rows if all(str(r.get(k)) == v for k, v in chosen.items())]
    facets = []
    for key, _, zh, en, kind in [*dimensions, ("status", None, "时效性", "Status", "status")]:
        counts: dict[str, int] = {}
        for r in rows:
            if all(str(r.get(k)) == v for k, v in chosen.items() if k != key) and r.get(key) not in (None, ""):
                counts[str(r[key])] = counts.get(str(r[key]), 0) + 1
        order = sorted(counts, key=lambda v: (_STATUS_ORDER.index(v) if key == "status" and v in _STATUS_ORDER else 0, -int(v) if key == "year" and v.isdigit() else 0, v))
        facets.append(
            {
                "key": key,
                "label": zh if lang == "zh" else en,
                "values": [
                    {
                        "value": v,
                        "label": i18n.name(kind, v, lang) if kind else v,
                        "count": counts[v],
                        "selected": chosen.get(key) == v,
                        "href": datasette.urls.path("/-/kb/") + "?" + urlencode({**{k: x for k, x in chosen.items() if k != key}, **({} if chosen.get(key) == v else {key: v}), **({"lang": "en"} if lang == "en" else {})}),
                    }
                    for v in order
                ],
            }
        )
    fmt = request.url_vars.get("format")
    columns = ["id", "doc_number", "title", *[d[0] for d in dimensions], "issued", "status", "status_date", "status_words", "incomplete", "clause_count"]
    if fmt == ".json":
        return Response.json({"as_of": as_of, "filters": chosen, "facets": {f["key"]: [(v["value"], v["count"]) for v in f["values"]] for f in facets}, "documents": [{c: r.get(c) for c in columns} for r in shown]})
    if fmt == ".csv":
        return Response(rows_csv(shown, columns), content_type="text/csv; charset=utf-8")
    query = urlencode({**chosen, **({"lang": "en"} if lang == "en" else {})})
    return await _render(
        datasette,
        request,
        "kb_home.html",
        {
            "documents": shown,
            "total": len(rows),
            "facets": facets,
            "chosen": chosen,
            "as_of": as_of,
            "json_url": datasette.urls.path("/-/kb/.json") + ("?" + query if query else ""),
            "csv_url": datasette.urls.path("/-/kb/.csv") + ("?" + query if query else ""),
        },
    )


def _as_of(request) -> str:
    """The date statuses are read as of (ISO): ``as_of`` in any written form kb.dates reads, else today; a bad one is a 400."""
    return _as_of_arg(request).date


_SEARCH_FILTERS = ("level", "year", "relation", "status")
_SEARCH_CSV_COLUMNS = ["clause_id", "document_id", "jurisdiction", "level", "doc_number", "title", "path", "heading", "text", "score", "status"]


async def search_view(datasette, request):
    lang = _request_lang(request)
    db = await _database(datasette)
    q = (request.args.get("q") or "").strip()
    city = _place_arg(request, "city")
    limit = _int_arg(request, "limit", 50, 1, 500)
    chosen = {k: (request.args.get(k) or "").strip() for k in _SEARCH_FILTERS if (request.args.get(k) or "").strip()}
    if "level" in chosen and chosen["level"] not in ("national", "province", "city", "county"):
        raise BadRequest(f"level={chosen['level']!r}: expected national, province, city or county")
    if "year" in chosen and not (chosen["year"].isdigit() and len(chosen["year"]) == 4):
        raise BadRequest(f"year={chosen['year']!r}: expected a year such as 2021")
    if "relation" in chosen and chosen["relation"] not in ("implements", "extends", "overrides", "succeeds"):
        raise BadRequest(f"relation={chosen['relation']!r}: expected implements, extends, overrides or succeeds")
    if "status" in chosen and chosen["status"] not in _STATUS_ORDER:
        raise BadRequest(f"status={chosen['status']!r}: expected one of {', '.join(_STATUS_ORDER)}")
    as_of = _as_of(request)
    rank_all = _choice_arg(request, "rank", ("", "all")) == "all"  # the page's "rank them all"
    rank_limit = None if rank_all else int((datasette.plugin_config("kb") or {}).get("rank_limit", kb_search.RANK_LIMIT))
    filters = kb_search.SearchFilters(city, chosen.get("level"), chosen.get("year"), chosen.get("relation"))
    want_status = "status" in chosen
    # A status filter is applied to the matches after the search, so it needs them all: at most
    # FACET_LIMIT (the matches whose statuses the facets count), else the page asks to narrow first.
    fetch = kb_search.FACET_LIMIT if want_status else limit

    def run(conn):
        page = kb_search.search_page(conn, q, city=city, limit=fetch, rank_limit=rank_limit, filters=filters, facets=True)
        ids = page.matched_ids if page.matched_ids is not None else [r["clause_id"] for r in page.results]
        return page, clause_statuses(conn, ids, as_of)

    page, statuses = await db.execute_fn(run) if q else (None, {})
    results = page.results if page else []
    for r in results:
        status = statuses.get(r["clause_id"], {})
        r["status"], r["status_date"], r["incomplete"] = status.get("state"), status.get("date"), status.get("incomplete")
    facets = dict(page.facets or {}) if page else {}
    if page and page.facets is not None:
        counts: dict[str, int] = {}
        for s in statuses.values():
            counts[s["state"]] = counts.get(s["state"], 0) + 1
        facets["status"] = sorted(counts.items(), key=lambda kv: _STATUS_ORDER.index(kv[0]) if kv[0] in _STATUS_ORDER else 9)
    matched = page.matched if page else 0
    if want_status and page and page.matched_ids is None:
        raise BadRequest(f"status={chosen['status']!r}: more than {kb_search.FACET_LIMIT:,} clauses match; narrow the search by place, level or year first")
    if want_status:
        results = [r for r in results if r["status"] == chosen["status"]]
        matched = len(results)
        results = results[:limit]
    fmt = request.url_vars.get("format")
    if fmt == ".json":
        counts_ = {"matched": matched, "ranked": page.ranked, "rank_limit": page.rank_limit} if page else {}
        return Response.json({"q": q, "simplified": kb_search.simplified(q), "city": city, "filters": chosen, "as_of": as_of, **counts_, "facets": facets, "results": results})
    if fmt == ".csv":
        return Response(rows_csv(results, _SEARCH_CSV_COLUMNS), content_type="text/csv; charset=utf-8")
    for r in results:
        for key in ("heading_html", "text_html", "snippet_html"):
            r[key] = Markup(r[key])
    cities = await _jurisdictions(
        db, "select distinct jurisdiction from documents where placeholder = 0 and jurisdiction is not null order by level, jurisdiction"
    )
    base = {"q": q, **({"city": city} if city else {}), **chosen, **({"lang": "en"} if lang == "en" else {})}
    facet_names = {"jurisdiction": ("地域", "Place", None), "level": ("层级", "Level", "level"), "year": ("年份", "Year", None), "relation": ("与上级关系", "Relation", "relation"), "status": ("时效性", "Status", "status")}
    facet_view = []
    for key, values in facets.items():
        zh, en, kind = facet_names[key]
        arg = "city" if key == "jurisdiction" else key
        current = city if key == "jurisdiction" else chosen.get(key)
        facet_view.append(
            {
                "label": zh if lang == "zh" else en,
                "values": [
                    {
                        "label": i18n.name(kind, v, lang) if kind else v,
                        "count": n,
                        "selected": current == v,
                        "href": datasette.urls.path("/-/kb/search") + "?" + urlencode({k: x for k, x in base.items() if k != arg} | ({} if current == v else {arg: v})),
                    }
                    for v, n in values
                ],
            }
        )
    return await _render(
        datasette,
        request,
        "kb_search.html",
        {
            "q": q,
            "simplified_q": kb_search.simplified(q),
            "city": city,
            "cities": cities,
            "chosen": chosen,
            "results": results,
            "matched": matched,
            "page": page,
            "facets": facet_view,
            "rank_all_url": datasette.urls.path("/-/kb/search")
            + "?"
            + urlencode({**base, "rank": "all", **({"limit": limit} if request.args.get("limit") else {})}),
            "json_url": datasette.urls.path("/-/kb/search.json") + "?" + urlencode({**base, **({"rank": "all"} if rank_all else {})}),
            "csv_url": datasette.urls.path("/-/kb/search.csv") + "?" + urlencode({**base, **({"rank": "all"} if rank_all else {})}),
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


def _link_view(link: dict, lang: str, provincial_text: str, city_text: str, lower_level: str | None) -> None:
    """A link of the clause page made readable: evidence as sentences, the diff, the rest as JSON."""
    ev = _loads(link["evidence"], {}) or {}
    link["sentences"] = i18n.evidence_sentences(ev, link["relation"], lang, lower_level)
    link["relation_name"] = i18n.name("relation", link["relation"], lang)
    link["scores"] = ev.get("scores") or {}
    link["diff_html"] = diff_html(provincial_text, city_text, ev.get("diff"))
    rest = {k: v for k, v in ev.items() if k not in ("diff", "why", "scores")}
    rest["parameter_changes"] = [
        {k: (_number_as_date(v) if k in _DATE_NUMBERS and c.get("unit") == "date" and isinstance(v, float) else v) for k, v in c.items()}
        for c in rest.get("parameter_changes") or []
        if isinstance(c, dict)
    ]
    link["evidence_json"] = json.dumps(rest, ensure_ascii=False, indent=1, sort_keys=True) if rest else ""


async def clause_view(datasette, request):
    lang = _request_lang(request)
    db = await _database(datasette)
    clause_id = _decode_id(request.url_vars["id"])
    as_of = _as_of(request)

    def read(conn):
        rows = _clause_page_rows(conn, clause_id) or _clause_page_rows(conn, normalize_id(clause_id))
        if rows is not None:
            ids = [clause_id] + [l["target_clause_id"] for l in rows["sources"]] + [l["source_clause_id"] for l in rows["descendants"]]
            rows["statuses"] = clause_statuses(conn, ids, as_of)
        return rows

    rows = await db.execute_fn(read)
    if rows is None:
        raise NotFound(f"no clause {clause_id!r}: clause ids are '<document id>:<path>', e.g. 辽人社发〔2021〕7号:一/（一）")
    clause, document = rows["clause"], rows["document"]
    sources_, descendants = rows["sources"], rows["descendants"]
    statuses = rows["statuses"]
    for link in sources_:
        _link_view(link, lang, link["text"] or "", clause["text"] or "", document["level"])
        link["status"] = statuses.get(link["target_clause_id"])
        link["diff_url"] = "/-/kb/diff?" + urlencode({"a": link["target_clause_id"], "b": clause["id"]})
    for link in descendants:
        _link_view(link, lang, clause["text"] or "", link["text"] or "", link["level"])
        link["status"] = statuses.get(link["source_clause_id"])
        link["diff_url"] = "/-/kb/diff?" + urlencode({"a": clause["id"], "b": link["source_clause_id"]})

    coverage, generations = rows["coverage"], rows["generations"]
    for c in coverage:
        c["by"] = _loads(c["by_clause_ids"], [])
    for g in generations:
        other = g["target_clause_id"] if g["direction"] == "succeeds" else g["source_clause_id"]
        g["other"] = other
        # the earlier rule (the target of `succeeds`) on the left
        g["diff_url"] = "/-/kb/diff?" + urlencode({"a": g["target_clause_id"], "b": g["source_clause_id"]})
    governs_url = "/-/kb/governs?" + urlencode({"topic": clause["heading"] or "", "city": document["jurisdiction"] or ""})
    source = rows["source"]
    manifest = _loads(source.get("manifest"), {}) if source else {}
    status = statuses.get(clause_id)
    if request.url_vars.get("format") == ".json":
        return Response.json(
            {
                "clause": clause,
                "document": {k: document.get(k) for k in ("id", "doc_number", "title", "level", "jurisdiction", "issued", "complete")},
                "status": status,
                "as_of": as_of,
                "sources": [_link_json(l, "target_clause_id") for l in sources_],
                "descendants": [_link_json(l, "source_clause_id") for l in descendants],
                "unresolved": rows["unresolved"],
                "parameters": rows["parameters"],
                "citations": rows["citations"],
                "provenance": {
                    "source_path": clause["source_path"],
                    "sha256": clause["source_sha256"],
                    "characters": [clause["start"], clause["end"]],
                    "bytes": [clause["byte_start"], clause["byte_end"]],
                    "text_spans": _loads(clause["text_spans"], []),
                    "retrieved_from": (manifest or {}).get("retrieved_from"),
                    "note": (manifest or {}).get("note"),
                    "citation": citation_gbt7714(document, manifest),
                },
            }
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
            "status": status,
            "as_of": as_of,
            "ancestors": rows["ancestors"],
            "children": rows["children"],
            "responsible": _loads(clause["responsible"], []),
            "lead": _loads(clause["lead"], []),
            "text_spans": _loads(clause["text_spans"], []),
            "source": source,
            "manifest": manifest or {},
            "citation": citation_gbt7714(document, manifest),
            "source_link": source_url(clause["source_path"]) + "?" + urlencode({"clause": clause_id}) if source else None,
            "build": rows["build"],
            "sources": sources_,
            "descendants": descendants,
            "unresolved": rows["unresolved"],
            "parameters": rows["parameters"],
            "citations": rows["citations"],
            "coverage": coverage,
            "database": db.name,
            "json_url": clause_url(clause_id) + ".json",
            "as_of_meaning": _as_of_arg(request).describe(),
        },
    )


def _link_json(link: dict, other: str) -> dict:
    return {
        "clause_id": link[other],
        "relation": link["relation"],
        "score": link["score"],
        "why": link["why"],
        "sentences": link["sentences"],
        "status": link.get("status"),
        "evidence": _loads(link["evidence"], {}),
    }


def _tree(clauses: list[dict]) -> list[dict]:
    """Clauses nested under their parents, in document order."""
    by_id = {c["id"]: dict(c, children=[]) for c in clauses}
    roots = []
    for c in by_id.values():
        parent = by_id.get(c["parent_id"]) if c["parent_id"] else None
        (parent["children"] if parent else roots).append(c)
    return roots


async def document_view(datasette, request):
    lang = _request_lang(request)
    db = await _database(datasette)
    document_id = _decode_id(request.url_vars["id"])
    as_of = _as_of(request)
    document = await _one(db, "select * from documents where id = :id", {"id": document_id})
    if document is None:
        document = await _one(db, "select * from documents where id = :id", {"id": normalize_id(document_id)})
    if document is None:
        document = await _one(db, "select * from documents where doc_number = :id order by version desc", {"id": normalize_id(document_id)})
    if document is None:
        raise NotFound(f"no document {document_id!r}: document ids are the 文号 (辽人社发〔2021〕7号) or 无文号-<hash>")
    document_id = document["id"]
    clauses = await _rows(
        db,
        "select id, parent_id, path, label, kind, heading, text, depth, attached_document_id from clauses "
        "where document_id = :id order by position",
        {"id": document_id},
    )
    linked: dict[str, list[dict]] = {}
    for r in await _rows(
        db,
        """select links.source_clause_id as clause_id, links.relation, links.target_clause_id, links.score
           from links join clauses on clauses.id = links.source_clause_id
           where clauses.document_id = :id order by links.score desc, links.id""",
        {"id": document_id},
    ):
        r["relation_name"] = i18n.name("relation", r["relation"], lang)
        linked.setdefault(r["clause_id"], []).append(r)
    unresolved = {
        r["clause_id"]
        for r in await _rows(
            db,
            "select clause_id from unresolved join clauses on clauses.id = unresolved.clause_id where clauses.document_id = :id",
            {"id": document_id},
        )
    }
    statuses = await db.execute_fn(lambda conn: clause_statuses(conn, [c["id"] for c in clauses], as_of))
    doc_status = (await db.execute_fn(lambda conn: document_statuses(conn, [document_id], as_of))).get(document_id)
    for c in clauses:
        c["links"] = linked.get(c["id"], [])
        c["unresolved"] = c["id"] in unresolved
        c["status"] = statuses.get(c["id"])
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
    for r in outgoing:
        if r["relation"] == "implements" and r["in_corpus"]:
            r["diff_url"] = "/-/kb/diff?" + urlencode({"a": r["target_document_id"], "b": document_id})
    for r in incoming:
        if r["relation"] == "implements":
            r["diff_url"] = "/-/kb/diff?" + urlencode({"a": document_id, "b": r["source_document_id"]})
    attachments = await _rows(
        db, "select id, title, attachment_label from documents where attached_to = :id order by start", {"id": document_id}
    )
    coverage = await _rows(
        db,
        """select * from coverage_summary where city_document_id = :id or provincial_document_id = :id""",
        {"id": document_id},
    )
    versions = await _rows(db, "select version, issued, source_path from document_versions where document_id = :id order by version", {"id": document_id})
    source = await _one(db, "select path, sha256, encoding, bytes, manifest from sources where path = :p", {"p": document["source_path"]})
    manifest = _loads(source["manifest"], {}) if source else {}
    fields = []
    for key, zh, en in _DOCUMENT_FIELDS:
        value = document.get(key)
        if key in ("issuers", "metadata_sources"):
            value = _loads(value)
            if isinstance(value, list):
                value = "、".join(value)
            elif isinstance(value, dict):
                field_names = {k: (zh if lang == "zh" else en) for k, zh, en in _DOCUMENT_FIELDS}
                value = "；".join(f"{field_names.get(k, k)}：{i18n.name('metadata_source', v, lang)}" for k, v in value.items())
        elif key == "level":
            value = i18n.name("level", value, lang)
        elif key == "kind":
            value = i18n.name("kind", value, lang)
        elif key == "genre":
            value = i18n.name("genre", value, lang)
        if value not in (None, "", []):
            fields.append((key, zh if lang == "zh" else en, value))
    if request.url_vars.get("format") == ".json":
        return Response.json(
            {
                "document": document,
                "status": doc_status,
                "as_of": as_of,
                "clauses": [
                    {k: c.get(k) for k in ("id", "parent_id", "path", "label", "kind", "heading", "text", "status")}
                    | {"links": [{k: l[k] for k in ("relation", "target_clause_id", "score")} for l in c["links"]], "unresolved": c["unresolved"]}
                    for c in clauses
                ],
                "citations": citations,
                "lineage": {"outgoing": outgoing, "incoming": incoming},
                "coverage": coverage,
                "versions": versions,
                "source": {
                    "path": document["source_path"],
                    "sha256": document["source_sha256"],
                    "retrieved_from": (manifest or {}).get("retrieved_from"),
                    "note": (manifest or {}).get("note"),
                    "citation": citation_gbt7714(document, manifest) if not document["placeholder"] else None,
                },
            }
        )
    return await _render(
        datasette,
        request,
        "kb_document.html",
        {
            "document": document,
            "status": doc_status,
            "as_of": as_of,
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
            "manifest": manifest or {},
            "citation": citation_gbt7714(document, manifest) if not document["placeholder"] else None,
            "source_link": source_url(document["source_path"]) + "?" + urlencode({"document": document_id}) if source else None,
            "governs_url": "/-/kb/governs?" + urlencode({"city": document["jurisdiction"] or ""}),
            "versions": await document_versions(db, document_id),
            "database": db.name,
            "json_url": document_url(document_id) + ".json",
            "as_of_meaning": _as_of_arg(request).describe(),
        },
    )


async def source_view(datasette, request):
    """A corpus file's decoded text as the knowledge base stored it (``sources.text``), with the
    span of a clause (``?clause=``) or document (``?document=``) marked: what a reader checks a
    clause against. Never a file of the server."""
    _request_lang(request)  # a bad lang is refused
    db = await _database(datasette)
    path = _decode_id(request.url_vars["id"])
    has_text = "text" in {row[1] for row in (await db.execute("pragma table_info(sources)")).rows}
    source = await _one(db, "select path, sha256, encoding, bytes, manifest" + (", text" if has_text else ", null as text") + " from sources where path = :p", {"p": path})
    if source is None:
        raise NotFound(f"no source {path!r}: source paths are the corpus files' paths, as in the sources table")
    spans: list[tuple[int, int]] = []
    marked = None
    clause_id = (request.args.get("clause") or "").strip()
    doc_id = (request.args.get("document") or "").strip()
    if clause_id:
        marked = await _one(db, "select id, text_spans, start, end, source_path from clauses where id = :id", {"id": clause_id})
        if marked is None or marked["source_path"] != path:
            raise BadRequest(f"clause={clause_id!r}: no clause of this source has that id")
        spans = [tuple(s) for s in _loads(marked["text_spans"], []) or []] or [(marked["start"], marked["end"])]
    elif doc_id:
        marked = await _one(db, "select id, start, end, source_path from documents where id = :id", {"id": doc_id})
        if marked is None or marked["source_path"] != path:
            raise BadRequest(f"document={doc_id!r}: no document of this source has that id")
        spans = [(marked["start"], marked["end"])]
    manifest = _loads(source["manifest"], {}) or {}
    text = source["text"]
    if request.url_vars.get("format") == ".json":
        return Response.json({"path": path, "sha256": source["sha256"], "encoding": source["encoding"], "bytes": source["bytes"], "manifest": manifest, "spans": spans, "text": text})
    document = None
    if doc_id or clause_id:
        document = await _one(db, "select * from documents where id = (select document_id from clauses where id = :c) or id = :d", {"c": clause_id, "d": doc_id})
    return await _render(
        datasette,
        request,
        "kb_source.html",
        {
            "source": source,
            "manifest": manifest,
            "text_html": source_html(text, spans) if text is not None else None,
            "marked": marked,
            "clause_id": clause_id,
            "document": document,
            "citation": citation_gbt7714(document, manifest) if document else None,
            "json_url": source_url(path) + ".json",
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
    from ..dates import as_of as read_as_of

    lang = _request_lang(request)
    db = await _database(datasette)
    topic = (request.args.get("topic") or "").strip()
    city = (request.args.get("city") or "").strip()
    as_of = (request.args.get("as_of") or "").strip()
    show = request.args.get("show") or ""
    ruling, error = None, None
    try:
        when = read_as_of(as_of, "as_of")  # every written form, or 400 with why; empty means today
        if show not in ("", "all"):
            raise KbError(f"show {show!r}: expected 'all' (every answer) or nothing (the best {GOVERNS_ANSWERS_SHOWN})")
        if topic and city:
            async with _governs_lane(datasette):
                ruling = await db.execute_fn(lambda conn: kb_governs.rule(conn, topic, city, when))
    except KbError as e:
        error = str(e)
    answers = ruling.answers if ruling else []
    if request.url_vars.get("format") == ".json":
        if error:
            return Response.json({"ok": False, "error": error}, status=400)
        return Response.json(ruling.to_dict() if ruling else {"answers": [], "as_of": when.to_dict()})
    shown = answers if show == "all" else answers[:GOVERNS_ANSWERS_SHOWN]
    for a in shown:
        a.url = clause_url(a.clause_id)
        a.displaced = [dict(d, url=clause_url(d["clause_id"])) for d in a.displaces]
        a.is_verdict = ruling is not None and a is ruling.verdict
        a.chain = [dict(w, url=clause_url(w["clause_id"]) if w.get("clause_id") else None, why=i18n.governs_why(w.get("why"), lang)) for w in a.why]
    answers_html = Markup(
        _sync_env(datasette)
        .get_template("_kb_governs_answers.html")
        .render(answers=shown, urls=datasette.urls, kb_lang=lang, tr=i18n.tr(lang), nm=lambda kind, code: i18n.name(kind, code, lang))
    )
    query = {"topic": topic, "city": city, "as_of": as_of}
    cities = await _jurisdictions(db, "select distinct jurisdiction from documents where level in ('city', 'county') and placeholder = 0 order by jurisdiction")
    return await _render(
        datasette,
        request,
        "kb_governs.html",
        {
            "topic": topic,
            "city": city,
            "as_of": as_of,
            "as_of_meaning": ruling.as_of.describe() if ruling else "",
            "ruling": ruling,
            "note": ruling.note if ruling else None,
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
