"""Every page through Datasette's own client: tables, views, canned queries, /-/kb/ pages."""

from __future__ import annotations

import copy
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from datasette.app import Datasette
from datasette.utils import tilde_encode

from kb.model import Clause, Document, LinkResult, Source
from kb.parse import CorpusParse, ParsedFile
from kb.publish import BuildInfo, publish
from kb.search import search as kb_search

DL = "大人社发〔2020〕391号"
FS = "抚人社发〔2021〕20号"
P25 = "辽政办发〔2020〕25号"
P7 = "辽人社发〔2021〕7号"
P22 = "辽人社〔2022〕22号"
METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"


def clause_url(clause_id: str) -> str:
    return "/-/kb/clause/" + quote(clause_id, safe="")


def document_url(document_id: str) -> str:
    return "/-/kb/document/" + quote(document_id, safe="")


def _text(html: str) -> str:
    """Visible-ish text of a page: tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", "", html))


# ---------------------------------------------------------------------------------------------
# Datasette's own pages, with metadata.yml


async def test_index_shows_title_and_search_link(ds):
    r = await ds.client.get("/")
    assert r.status_code == 200
    assert "Liaoning employment policy knowledge base" in r.text
    assert "/-/kb/search" in r.text


@pytest.mark.parametrize(
    "table",
    ["documents", "clauses", "links", "citations", "doc_relations", "parameters", "unresolved", "coverage", "sources", "builds", "problems"],
)
async def test_table_pages_have_descriptions(ds, kb_metadata, table):
    r = await ds.client.get(f"/kb/{table}")
    assert r.status_code == 200
    description = kb_metadata["databases"]["kb"]["tables"][table]["description"]
    assert _text(description)[:30] in _text(r.text)


def test_metadata_describes_every_column(kb_db, kb_metadata):
    tables = kb_metadata["databases"]["kb"]["tables"]
    for name in kb_db.table_names() + kb_db.view_names():
        if name.startswith(("clauses_fts", "clauses_grams", "sqlite_")):
            continue
        assert name in tables, name
        columns = kb_db[name].columns_dict
        assert set(columns) == set(tables[name]["columns"]), name


async def test_documents_facets_and_labels(ds):
    r = await ds.client.get("/kb/documents.json?_shape=objects&_facet=level&_facet=jurisdiction")
    data = r.json()
    facets = data["facet_results"]
    assert {"level", "jurisdiction", "placeholder"} <= set(facets)
    levels = {f["value"] for f in facets["level"]["results"]}
    assert {"province", "city", "national"} <= levels


async def test_links_facet_by_relation(ds):
    data = (await ds.client.get("/kb/links.json?_shape=objects")).json()
    relations = {f["value"] for f in data["facet_results"]["relation"]["results"]}
    assert "implements" in relations and "extends" in relations


async def test_foreign_keys_link_rows(ds):
    r = await ds.client.get("/kb/clauses?document_id=" + quote(DL))
    assert r.status_code == 200
    # document_id cells link to the document page (not the raw row), labelled with its title
    assert 'href="' + document_url(DL) + '">' + DL + " 全力做好当前促进和扩大就业有关工作的通知</a>" in r.text
    assert "/kb/documents/" + tilde_encode(DL) not in r.text


async def test_row_page_shows_incoming_links(ds):
    r = await ds.client.get("/kb/documents/" + tilde_encode(P25))
    assert r.status_code == 200
    assert "clauses.document_id" in r.text or "clauses" in r.text


async def test_datasette_search_box_on_clauses(ds):
    data = (await ds.client.get("/kb/clauses.json?_search=" + quote("零工市场") + "&_shape=objects")).json()
    assert {r["id"] for r in data["rows"]} == {f"{P22}:三"}


@pytest.mark.parametrize("query", ["补贴", "零工", "补", "灵活就业", "就业 补贴", "12333"])
async def test_datasette_search_box_finds_every_clause_holding_the_words(ds, containing, query):
    # A trigram index, the one Datasette would find by itself, finds nothing for 补贴 or 零工.
    expected = set.intersection(*(set(containing(word)) for word in query.split()))
    assert expected
    data = (await ds.client.get("/kb/clauses.json?_search=" + quote(query) + "&_shape=objects&_size=max")).json()
    assert {r["id"] for r in data["rows"]} == expected
    assert data["filtered_table_rows_count"] == len(expected)


async def test_datasette_search_box_is_shown_and_says_what_it_searched(ds, containing):
    r = await ds.client.get("/kb/clauses")
    assert 'name="_search"' in r.text  # the box, before any search
    r = await ds.client.get("/kb/clauses?_search=" + quote("零工"))
    assert r.status_code == 200
    assert 'value="零工"' in r.text and 'search matches "零工"' in _text(r.text)
    assert f"{len(containing('零工'))} rows" in _text(r.text)
    wordless = (await ds.client.get("/kb/clauses.json?_search=" + quote("，。") + "&_shape=objects")).json()
    assert wordless["rows"] == []  # punctuation alone looks nothing up: nothing matches


@pytest.mark.parametrize("view", ["city_vs_province", "unresolved_clauses", "coverage_summary"])
async def test_views(ds, view):
    data = (await ds.client.get(f"/kb/{view}.json?_shape=objects")).json()
    assert data["rows"]


async def test_view_city_vs_province(ds):
    data = (await ds.client.get("/kb/city_vs_province.json?_shape=objects&city_clause_id=" + quote(f"{DL}:三"))).json()
    [row] = data["rows"]
    assert row["provincial_clause_id"] == f"{P25}:二/（六）" and row["relation"] == "implements"
    assert row["city_jurisdiction"] == "大连市" and row["provincial_jurisdiction"] == "辽宁省"


# ---------------------------------------------------------------------------------------------
# Canned queries


async def _canned(ds, name: str, **params) -> list[dict]:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    r = await ds.client.get(f"/kb/{name}.json?_shape=array&{query}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_canned_clauses_on_topic(ds):
    rows = await _canned(ds, "clauses_on_topic", city="大连", topic="补贴")
    assert rows and {r["jurisdiction"] for r in rows} == {"大连市"}
    assert all("补贴" in (r["heading"] or "") + r["text"] for r in rows)
    assert f"{DL}:三" in {r["clause_id"] for r in rows}
    html = (await ds.client.get("/kb/clauses_on_topic?city=" + quote("大连") + "&topic=" + quote("补贴"))).text
    assert "Clauses of a city on a topic" in html and DL in html


async def test_canned_city_beside_province(ds):
    rows = await _canned(ds, "city_beside_province", city="大连市", relation="extends")
    assert rows and {r["relation"] for r in rows} == {"extends"}
    row = next(r for r in rows if r["city_clause_id"] == f"{DL}:六")
    assert row["provincial_clause_id"] == f"{P25}:四/（十一）"
    assert row["city_text"] and row["provincial_text"]
    everything = await _canned(ds, "city_beside_province", city="", relation="")
    assert {r["city_jurisdiction"] for r in everything} == {"大连市", "抚顺市"}


async def test_canned_unresolved(ds):
    rows = await _canned(ds, "unresolved_in_city", city="大连")
    assert f"{DL}:七" in {r["clause_id"] for r in rows}
    assert all(r["likely_document"] == P25 for r in rows if r["reason"] == "counterpart-missing")


async def test_canned_provincial_coverage(ds):
    rows = await _canned(ds, "provincial_coverage", provincial=P25)
    assert rows and {r["city_document_id"] for r in rows} == {DL}
    restated = {r["provincial_path"] for r in rows if r["restated"]}
    assert "二/（六）" in restated  # restated by 大连 三


async def test_canned_parameter_across_cities(ds):
    rows = await _canned(ds, "parameter_across_cities", kind="rate", topic="")
    assert rows
    assert all(r["city_jurisdiction"] in ("大连市", "抚顺市") and r["provincial_jurisdiction"] == "辽宁省" for r in rows)
    assert {r["comparison"] for r in rows} <= {"same", "differs", ""}


async def test_canned_queries_listed_on_database_page(ds):
    html = (await ds.client.get("/kb")).text
    for title in (
        "Clauses of a city on a topic",
        "City vs province, side by side",
        "Unresolved clauses",
        "Coverage of a provincial notice",
        "A parameter compared across cities",
    ):
        assert title in html


# ---------------------------------------------------------------------------------------------
# /-/kb/search


async def test_search_page_two_character_term(ds):
    r = await ds.client.get("/-/kb/search?q=" + quote("零工"))
    assert r.status_code == 200
    assert "<mark>零工</mark>" in r.text
    assert clause_url(f"{P22}:七") in r.text and clause_url(f"{P22}:三") in r.text
    assert '<form action="/-/kb/search"' in r.text and 'value="零工"' in r.text


async def test_search_page_ranks_and_filters_by_city(ds):
    r = await ds.client.get("/-/kb/search?q=" + quote("补贴") + "&city=" + quote("大连市"))
    assert "<mark>补贴</mark>" in r.text
    links = re.findall(r'href="/-/kb/clause/([^"]+)"', r.text)
    assert links and all(p.startswith(quote(DL, safe="")) for p in links)
    assert '<option value="大连市" selected>' in r.text


async def test_search_page_without_query_shows_the_form(ds):
    r = await ds.client.get("/-/kb/search")
    assert r.status_code == 200 and 'name="q"' in r.text and "<ol" not in r.text


async def test_search_json(ds):
    data = (await ds.client.get("/-/kb/search.json?q=" + quote("见习"))).json()
    assert data["q"] == "见习" and data["results"]
    assert "<mark>见习</mark>" in data["results"][0]["heading_html"] + data["results"][0]["text_html"]


async def test_search_page_says_how_many_clauses_match(ds, containing):
    containing = len(containing("补贴"))
    assert containing > 5
    r = await ds.client.get("/-/kb/search?q=" + quote("补贴") + "&limit=5")
    assert f"{containing:,}条条款匹配<strong>补贴</strong>；按相关度显示前5条" in r.text
    english = await ds.client.get("/-/kb/search?q=" + quote("补贴") + "&limit=5&lang=en")
    assert f"{containing:,} clauses match <strong>补贴</strong>; the best 5 by relevance" in english.text
    assert "too many to rank" not in r.text and len(re.findall(r'<li class="result">', r.text)) == 5
    data = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴"))).json()
    assert data["matched"] == containing and data["ranked"] is True


async def test_search_page_lists_a_query_too_broad_to_rank(kb_db_path, kb_metadata, kb_db, containing):
    metadata = copy.deepcopy(kb_metadata)
    metadata["plugins"]["kb"]["rank_limit"] = 3
    ds = Datasette([str(kb_db_path)], metadata=metadata)
    await ds.invoke_startup()
    in_rowid_order = containing("补贴")
    r = await ds.client.get("/-/kb/search?q=" + quote("补贴") + "&limit=4")
    assert r.status_code == 200
    assert "与<strong>补贴</strong>匹配的条款超过3条，过多而未按相关度排序" in r.text
    links = re.findall(r'<h3><a href="/-/kb/clause/([^"]+)"', r.text)
    assert [unquote(link) for link in links] == in_rowid_order[:4]
    assert "相关度" not in _text(r.text).split("过多而未按相关度排序")[1].split("全部排序")[1]
    data = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&limit=4")).json()
    assert (data["matched"], data["ranked"], data["rank_limit"]) == (4, False, 3)
    assert [x["clause_id"] for x in data["results"]] == in_rowid_order[:4] and {x["score"] for x in data["results"]} == {None}
    ranked = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&city=" + quote("大连市"))).json()
    assert ranked["ranked"] is True and all(x["score"] is not None for x in ranked["results"])

    rank_all = re.search(r'<a href="([^"]+)" class="kb-rank-all">', r.text).group(1)
    everything = await ds.client.get(unescape(rank_all))
    assert f"{len(in_rowid_order):,}条条款匹配<strong>补贴</strong>；按相关度显示前4条" in everything.text
    best = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&limit=4&rank=all")).json()
    assert (best["matched"], best["ranked"], best["rank_limit"]) == (len(in_rowid_order), True, None)
    assert [x["clause_id"] for x in best["results"]] == [x["clause_id"] for x in kb_search(kb_db, "补贴", limit=4)]
    best_links = re.findall(r'<h3><a href="/-/kb/clause/([^"]+)"', everything.text)
    assert [unquote(link) for link in best_links] == [x["clause_id"] for x in best["results"]]


async def test_kb_root_is_the_home_page(ds):
    r = await ds.client.get("/-/kb/")
    assert r.status_code == 200 and "<h1>浏览文件</h1>" in r.text


# ---------------------------------------------------------------------------------------------
# /-/kb/clause/<id>


async def test_clause_page_city_clause(ds):
    r = await ds.client.get(clause_url(f"{DL}:三"))
    assert r.status_code == 200
    html = r.text
    assert "加大吸纳就业补贴力度" in html
    # breadcrumb to its document
    assert document_url(DL) in html
    # its provincial source, relation, score and evidence
    section = html[html.index('id="provincial-sources"') : html.index('id="city-descendants"')]
    assert clause_url(f"{P25}:二/（六）") in section
    assert 'class="relation relation-implements" title="implements">实施<' in section
    assert "本市规定重述上级规定" in section
    # the differing characters, escaped and marked
    assert "<ins>费</ins>" in section and "<del>顶额</del>" in section
    # provenance: file, sha256, char and byte offsets, build
    prov = html[html.index('id="provenance"') :]
    assert "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt" in prov
    assert re.search(r"<code>[0-9a-f]{64}</code>", prov)
    assert re.search(r"字符位置</th><td>\d+–\d+", prov) and re.search(r"字节位置</th><td>\d+–\d+", prov)
    assert "0.1.0+" in prov


async def test_clause_page_parameter_changes(ds):
    html = (await ds.client.get(clause_url(f"{DL}:六"))).text
    assert 'relation-extends" title="extends">补充<' in html
    assert "本市规定「20%」，上级规定未设这一数值" in html


async def test_clause_page_provincial_clause_shows_descendants(ds):
    html = (await ds.client.get(clause_url(f"{P25}:二/（六）"))).text
    section = html[html.index('id="city-descendants"') :]
    assert clause_url(f"{DL}:三") in section and "大连市" in section and ">实施<" in section
    assert "<ins>费</ins>" in section


async def test_clause_page_breadcrumb_by_path(ds):
    html = (await ds.client.get(clause_url(f"{P7}:一/（一）"))).text
    crumbs = html[html.index('class="crumbs breadcrumb"') : html.index("</p>", html.index('class="crumbs breadcrumb"'))]
    assert document_url(P7) in crumbs and clause_url(f"{P7}:一") in crumbs and "（一）" in crumbs


async def test_clause_page_unresolved(ds):
    html = (await ds.client.get(clause_url(f"{DL}:七"))).text
    assert "未找到上级对应条款：上级文本缺失对应内容" in html and P25 in html


async def test_clause_page_tilde_encoded_id(ds):
    r = await ds.client.get("/-/kb/clause/" + tilde_encode(f"{DL}:三"))
    assert r.status_code == 200 and "加大吸纳就业补贴力度" in r.text


async def test_unknown_clause_is_404(ds):
    r = await ds.client.get(clause_url(f"{DL}:九十九"), follow_redirects=True)
    assert r.status_code == 404
    assert "no clause" in r.text
    r = await ds.client.get("/-/kb/clause/nothing", follow_redirects=True)
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# /-/kb/document/<id>


async def test_document_page(ds):
    r = await ds.client.get(document_url(FS))
    assert r.status_code == 200
    html = r.text
    assert "抚顺市关于延续实施和优化完善减负稳岗扩就业政策实施细则" in html
    assert "<p class=\"completeness\">完整。</p>" in html
    # clause tree with links to clauses
    assert clause_url(f"{FS}:附件2/（一）") in html
    # the attachment that is a notice of its own
    assert document_url(P7) in html
    # citations: in the corpus and not
    citations = html[html.index('class="citations"') :]
    assert "抚人社发〔2020〕50号" in citations and "未收入知识库" in citations
    # the corpus's literal <p> fragments never reach the page as markup
    assert "<p style" not in html


async def test_document_page_incomplete(ds):
    html = (await ds.client.get(document_url(DL))).text
    assert "文本不全：" in html and "ends mid-sentence" in html
    assert document_url(P25) in html  # implements
    assert "未找到上级对应条款" in html


async def test_document_page_lineage_and_coverage(ds):
    html = (await ds.client.get(document_url(P25))).text
    assert document_url("国办发〔2020〕27号") in html  # implements a placeholder
    assert document_url(DL) in html  # implemented by Dalian
    assert "重述覆盖情况" in html


async def test_placeholder_document_page(ds):
    html = (await ds.client.get(document_url("国办发〔2020〕27号"))).text
    assert "仅被引用，未收入知识库" in html and "未收入知识库：仅从其他文件的引用中得知" in html
    assert document_url(P25) in html  # who implements it


async def test_unknown_document_is_404(ds):
    r = await ds.client.get(document_url("辽人社发〔1999〕1号"), follow_redirects=True)
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# Stored text is escaped everywhere


@pytest.fixture
async def hostile_ds(tmp_path):
    """A database whose text is markup: it must show as text on every page."""
    import sqlite_utils

    text = "一、<p>补贴</p><script>alert('x')</script>标准"
    source = Source("<b>x</b>.txt", "0" * 64, "utf-8", len(text.encode()), text=text)
    doc_id = "测〔2024〕1号"
    clause = Clause(id=f"{doc_id}:一", document_id=doc_id, path="一", label="一", kind="item", heading="<i>补贴</i>", text=text[2:], end=len(text))
    doc = Document(doc_id, doc_id, "<b>测试</b>通知", "city", "大连市", "辽宁省", "2024-01-01", ["<em>局</em>"], clauses=[clause], source=source, end=len(text))
    path = tmp_path / "kb.db"
    db = sqlite_utils.Database(path)
    publish(db, CorpusParse([ParsedFile(source, [doc])], []), LinkResult(), BuildInfo(1, "s", "v", "c", "h"))
    db.close()
    instance = Datasette([str(path)])
    await instance.invoke_startup()
    return instance


@pytest.mark.parametrize(
    "path",
    ["/-/kb/search?q=" + quote("补贴"), clause_url("测〔2024〕1号:一"), document_url("测〔2024〕1号")],
)
async def test_stored_markup_is_escaped(hostile_ds, path):
    html = (await hostile_ds.client.get(path)).text
    assert "<script>alert" not in html and "<p>补贴" not in html and "<b>测试" not in html and "<i>补贴" not in html
    assert "&lt;script&gt;" in html or "&lt;p&gt;" in html or "&lt;b&gt;" in html


async def test_views_and_queries_link_to_kb_pages(ds):
    html = (await ds.client.get("/kb/city_vs_province")).text
    assert f'href="{clause_url(f"{DL}:三")}"' in html and f'href="{document_url(DL)}"' in html
    html = (await ds.client.get("/kb/unresolved_in_city?city=" + quote("大连"))).text
    assert f'href="{clause_url(f"{DL}:七")}"' in html


# ---------------------------------------------------------------------------------------------
# Serving: the page cache, the governs answers rendered apart, the worker processes' app

PAGES = [
    "/-/kb/search?q=" + quote("补贴"),
    "/-/kb/search?q=" + quote("见习") + "&city=" + quote("大连市"),
    "/-/kb/search.json?q=" + quote("见习"),
    "/-/kb/governs?topic=" + quote("稳岗返还") + "&city=" + quote("抚顺") + "&as_of=2021-08-01",
    "/-/kb/governs.json?topic=" + quote("见习") + "&city=" + quote("沈阳"),
    clause_url(f"{P7}:一/（一）"),
    document_url(DL),
]


async def _served(kb_db_path, cache_mb):
    """Datasette as kb serve makes it: the database immutable, metadata.yml, a page cache of cache_mb."""
    from kb.datasette_plugin import asgi

    instance = asgi.datasette(kb_db_path, METADATA, cache_mb)
    await instance.invoke_startup()
    return instance


async def test_page_cache_serves_the_same_bytes(kb_db_path, ds):
    from kb.datasette_plugin import _PAGES

    served = await _served(kb_db_path, 64)
    uncached = await _served(kb_db_path, 0)
    for path in PAGES:
        first = await served.client.get(path)
        again = await served.client.get(path)
        fresh = await uncached.client.get(path)
        mutable = await ds.client.get(path)  # the tests' Datasette: a mutable database, never cached
        assert first.status_code == again.status_code == fresh.status_code == mutable.status_code == 200, path
        assert first.content == again.content == fresh.content == mutable.content, path
        assert again.headers["content-type"] == fresh.headers["content-type"]
    cache = _PAGES[served]
    assert (cache.hits, cache.misses) == (len(PAGES), len(PAGES))
    assert 0 < cache.size <= cache.max_bytes
    assert _PAGES[uncached] is None and _PAGES[ds].hits == 0


async def test_page_cache_skips_errors_and_cookies_and_keeps_to_its_budget(kb_db_path):
    from kb.datasette_plugin import _PAGES

    served = await _served(kb_db_path, 0.05)  # 50 kB: one or two pages
    bad = "/-/kb/governs?topic=" + quote("补贴") + "&city=" + quote("火星")
    assert (await served.client.get(bad)).status_code == 400
    cache = _PAGES[served]
    assert (await served.client.get(PAGES[0], cookies={"ds_actor": "x"})).status_code == 200
    assert cache.size == 0 and cache.misses == 1  # the 400 was not kept; the request with a cookie not looked up
    for path in PAGES:
        await served.client.get(path)
        assert cache.size <= cache.max_bytes
    assert len(cache._pages) < len(PAGES)


async def test_governs_answers_render_as_datasette_would(ds):
    """The answers list is rendered by a synchronous copy of Datasette's environment: same HTML."""
    from kb.datasette_plugin import _sync_env
    from kb.datasette_plugin import clause_url as kb_clause_url
    from kb.governs import governs

    answers = await (ds.get_database("kb")).execute_fn(lambda conn: governs(conn, "灵活就业社会保险补贴", "大连", "2022-08-01"))
    assert any(a.status["state"] == "superseded" for a in answers) and any(a.displaces for a in answers)
    for a in answers:
        a.url = kb_clause_url(a.clause_id)
        a.displaced = [dict(d, url=kb_clause_url(d["clause_id"])) for d in a.displaces]
        a.chain = [dict(w, url=kb_clause_url(w["clause_id"]) if w.get("clause_id") else None) for w in a.why]
    from kb.datasette_plugin import i18n

    context = {"answers": answers, "urls": ds.urls, "kb_lang": "zh", "tr": i18n.tr("zh"), "nm": lambda kind, code: i18n.name(kind, code, "zh")}
    expected = await ds.jinja_env.get_template("_kb_governs_answers.html").render_async(**context)
    assert _sync_env(ds).get_template("_kb_governs_answers.html").render(**context) == expected
    assert expected.count("<li class=") == len(answers)


async def test_worker_app_from_the_environment(kb_db_path, monkeypatch):
    """kb serve --workers N: each worker builds its app from KB_SERVE_* (kb.datasette_plugin.asgi)."""
    import httpx

    from kb.datasette_plugin import asgi

    monkeypatch.setenv(asgi.ENV_DB, str(kb_db_path))
    monkeypatch.setenv(asgi.ENV_METADATA, str(METADATA))
    monkeypatch.setenv(asgi.ENV_CACHE_MB, "0")
    app = asgi.app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kb") as client:
        r = await client.get(PAGES[3])
        assert r.status_code == 200 and "抚人社发〔2021〕20号:一" in r.text
        assert "Liaoning employment policy knowledge base" in (await client.get("/")).text  # metadata.yml applied


# ---------------------------------------------------------------------------------------------
# Issue 28: Chinese first, English one click away; evidence as sentences; status; navigation;
# provenance that can be checked; Datasette's conventions (.json, CSV, pick-lists, metadata).

PAGE_URLS = [
    "/-/kb/",
    "/-/kb/search?q=" + quote("补贴"),
    clause_url(f"{DL}:三"),
    document_url(DL),
    "/-/kb/source/" + quote("2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt", safe=""),
    "/-/kb/governs?topic=" + quote("稳岗返还") + "&city=" + quote("抚顺市"),
    "/-/kb/diff",
    "/kb/links",
    "/kb/parameter_across_cities?kind=rate&topic=",
]


@pytest.mark.parametrize("url", PAGE_URLS)
async def test_every_page_says_it_is_chinese_and_offers_english(ds, url):
    zh = await ds.client.get(url)
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    sep = "&" if "?" in url else "?"
    en = await ds.client.get(url + sep + "lang=en")
    assert en.status_code == 200 and '<html lang="en">' in en.text
    # the menu offers the other language, keeping the page and its query
    assert "lang=en" in re.search(r'<a href="([^"]*)">English</a>', zh.text).group(1)


def test_base_template_is_datasettes_but_for_the_lang_line():
    """The plugin's base.html overrides Datasette's only to set <html lang>: the rest must stay
    Datasette 0.65's, or an upgrade would silently lose its changes."""
    import datasette

    ours = (Path(__file__).resolve().parent.parent / "kb/datasette_plugin/templates/base.html").read_text(encoding="utf-8")
    theirs = (Path(datasette.__file__).parent / "templates/base.html").read_text(encoding="utf-8")
    ours_lines = [line for line in ours.splitlines() if not line.startswith("{#-")]
    differing = [(a, b) for a, b in zip(ours_lines, theirs.splitlines()) if a != b]
    assert len(ours_lines) == len(theirs.splitlines())
    assert differing == [('<html lang="{{ kb_html_lang or "zh-CN" }}">', "<html>")]


async def test_chinese_labels_and_english_one_click_away(ds):
    zh = (await ds.client.get(clause_url(f"{DL}:三"))).text
    for label in ("上级依据", "下级落实", "出处", "时效性", "文字差异", "引用格式"):
        assert label in zh
    en = (await ds.client.get(clause_url(f"{DL}:三") + "?lang=en")).text
    for label in ("Higher sources", "Descendants", "Provenance", "Status", "Difference", "Citation"):
        assert label in en
    assert "上级依据" not in en
    # English pages link to English pages
    sources = en[en.index('id="provincial-sources"') : en.index('id="city-descendants"')]
    assert clause_url(f"{P25}:二/（六）") + "?lang=en" in sources


async def test_a_bad_language_is_refused(ds):
    r = await ds.client.get(clause_url(f"{DL}:三") + "?lang=fr")
    assert r.status_code == 400 and "lang=&#39;fr&#39;" in r.text or "lang='fr'" in r.text
    r = await ds.client.get("/-/kb/search.json?q=x&lang=klingon")
    assert r.status_code == 400 and "lang=" in r.json()["error"]


async def test_relation_names_are_chinese(ds):
    html = (await ds.client.get(document_url(FS))).text
    assert ">实施 <a" in html and ">补充 <a" in html
    assert "succeeds" not in _text(html).replace("title=", "")


async def test_evidence_is_sentences_not_a_dump(ds):
    html = (await ds.client.get(clause_url(f"{FS}:附件2/（一）"))).text
    section = html[html.index('id="provincial-sources"') : html.index('id="city-descendants"')]
    assert "上级规定「不超过30%」，本市规定「30%」，在上级幅度内" in section
    en = (await ds.client.get(clause_url(f"{FS}:附件2/（一）") + "?lang=en")).text
    assert "the higher rule says “不超过30%”, this rule “30%”" in en and "within the higher bound" in en
    visible = _text(section.split("<details>")[0])
    assert "within_bound" not in visible and "None" not in visible and "city:" not in visible


@pytest.mark.parametrize("clause", [f"{DL}:三", f"{DL}:六", f"{FS}:一", f"{FS}:附件2/（一）", f"{P7}:一/（六）", f"{P25}:三/（九）"])
async def test_no_date_shown_as_a_number(ds, clause):
    html = (await ds.client.get(clause_url(clause))).text
    assert not re.search(r"\b20\d{6}\.0\b", _text(html))  # the evidence's JSON included


async def test_the_garbled_why_is_gone(ds):
    """Issue 28 #5: the evidence quoted 完善全地三所高校, words in neither text."""
    html = (await ds.client.get(clause_url(f"{FS}:附件2/（十一）"))).text
    assert "全地" not in html
    assert "本市规定新增上级文件中没有的内容「完善全市三所高校」「的办公室及办公条件，适时组织负责人培训」" in html


async def test_home_page_browses_documents(ds):
    html = (await ds.client.get("/-/kb/")).text
    for facet in ("层级", "地域", "年份", "时效性"):
        assert f"<h3>{facet}</h3>" in html
    assert document_url(FS) in html and document_url("国办发〔2020〕27号") not in html  # placeholders aside
    data = (await ds.client.get("/-/kb/.json?level=city")).json()
    assert {d["id"] for d in data["documents"]} == {DL, FS}
    assert dict(data["facets"]["level"]) == {"city": 2, "province": 2}  # other values stay offered
    cities = (await ds.client.get("/-/kb/?level=city")).text
    assert document_url(P7) not in cities.split("<table", 1)[1] and document_url(DL) in cities
    year = (await ds.client.get("/-/kb/.json?year=2021")).json()
    assert [d["id"] for d in year["documents"]] == [FS]
    in_force = (await ds.client.get("/-/kb/.json?status=in+force&as_of=2021-08-01")).json()
    assert {d["id"] for d in in_force["documents"]} == {FS, DL, P25}
    bad = await ds.client.get("/-/kb/.json?level=moon")
    assert bad.status_code == 400 and "level='moon'" in bad.json()["error"]
    assert (await ds.client.get("/-/kb/.json?as_of=2021-13-45")).status_code == 400
    same = (await ds.client.get("/-/kb/.json?status=in+force&as_of=" + quote("2021年8月1日"))).json()  # kb.dates reads every common form
    assert same["documents"] == in_force["documents"]


async def test_home_page_csv(ds):
    r = await ds.client.get("/-/kb/.csv?level=province")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(__import__("csv").DictReader(r.text.splitlines()))
    assert {row["id"] for row in rows} == {P25, P22}
    assert {row["level"] for row in rows} == {"province"}


async def test_home_page_browses_by_legal_force_when_documents_have_it(kb_db_path, kb_metadata, tmp_path):
    """The statutes' columns (force, genre, version_date) are read when the database has them."""
    import shutil
    import sqlite3

    path = tmp_path / "kb.db"
    shutil.copy(kb_db_path, path)
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("pragma table_info(documents)")}
        for column in ("force", "version_date"):  # a build before the statutes' columns lacks them
            if column not in columns:
                conn.execute(f"alter table documents add column {column} text")
        conn.execute("update documents set force = '规范性文件'")
        conn.execute("update documents set version_date = '2023-01-01' where id = :id", {"id": P22})
    instance = Datasette([str(path)], metadata=copy.deepcopy(kb_metadata))
    html = (await instance.client.get("/-/kb/")).text
    assert "<h3>效力级别</h3>" in html and "规范性文件" in html
    data = (await instance.client.get("/-/kb/.json?force=" + quote("规范性文件") + "&year=2023")).json()
    assert [d["id"] for d in data["documents"]] == [P22]


async def test_menu_reaches_every_page(ds):
    html = (await ds.client.get("/")).text
    for href in ("/-/kb/", "/-/kb/search", "/-/kb/governs", "/-/kb/diff"):
        assert f'<a href="{href}">' in html


async def test_clause_and_document_pages_reach_governs_and_diff(ds):
    clause = (await ds.client.get(clause_url(f"{DL}:三"))).text
    assert "/-/kb/governs?topic=" + quote("加大吸纳就业补贴力度") in clause.replace("+", "%20") or "governs?topic=" in clause
    assert re.search(r'href="/-/kb/diff\?a=[^"]+&amp;b=[^"]+" class="kb-compare"', clause)
    document = (await ds.client.get(document_url(DL))).text
    assert 'class="kb-governs-link"' in document and "/-/kb/diff?a=" + quote(P25) in document


async def test_relation_badges_name_the_higher_clause(ds):
    html = (await ds.client.get(document_url(DL))).text
    badge = re.search(r'<span class="relation relation-implements kb-badge"[^>]*>实施 <a href="([^"]+)">([^<]+)</a>', html)
    assert badge and unquote(badge.group(1)).startswith("/-/kb/clause/" + P25) and badge.group(2).startswith(P25 + ":")


@pytest.mark.parametrize(
    "table, column, value",
    [("links", "source_clause_id", f"{DL}:三"), ("parameters", "clause_id", f"{DL}:三"), ("time_limits", "clause_id", f"{DL}:三"), ("clauses", "parent_id", f"{P7}:一")],
)
async def test_table_ids_link_to_clause_pages(ds, table, column, value):
    html = (await ds.client.get(f"/kb/{table}?{column}=" + quote(value))).text
    assert 'href="' + clause_url(value) + '"' in html


async def test_plugin_css_widens_chinese_text_columns(ds):
    html = (await ds.client.get("/kb/clauses")).text
    assert '/-/static-plugins/kb/kb.css' in html
    css = (await ds.client.get("/-/static-plugins/kb/kb.css")).text
    assert "td.col-text" in css and "min-width: 18em" in css and "Noto Sans CJK SC" in css


async def test_search_facets_and_filters(ds):
    data = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴"))).json()
    assert set(data["facets"]) == {"jurisdiction", "level", "year", "relation", "status"}
    assert sum(n for _, n in data["facets"]["jurisdiction"]) == data["matched"]
    extends = dict(data["facets"]["relation"])["extends"]
    narrowed = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&relation=extends")).json()
    assert narrowed["matched"] == extends == 2
    html = (await ds.client.get("/-/kb/search?q=" + quote("补贴"))).text
    assert "<h3>与上级关系</h3>" in html and ">补充</a>" in html
    assert (await ds.client.get("/-/kb/search?q=x&level=galaxy")).status_code == 400
    assert (await ds.client.get("/-/kb/search?q=x&limit=many")).status_code == 400


async def test_search_by_status(ds):
    expired = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&status=expired&as_of=2022-01-01")).json()
    assert expired["results"] and {r["status"] for r in expired["results"]} == {"expired"}
    before = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴") + "&status=expired&as_of=2020-01-01")).json()
    assert before["matched"] < expired["matched"]


async def test_traditional_characters_find_simplified_text(ds):
    simplified = (await ds.client.get("/-/kb/search.json?q=" + quote("补贴 见习"))).json()
    traditional = (await ds.client.get("/-/kb/search.json?q=" + quote("補貼 見習"))).json()
    assert traditional["matched"] == simplified["matched"] > 0
    assert [r["clause_id"] for r in traditional["results"]] == [r["clause_id"] for r in simplified["results"]]
    assert "<mark>补贴</mark>" in traditional["results"][0]["snippet_html"] + traditional["results"][0]["heading_html"]


async def test_search_csv(ds):
    r = await ds.client.get("/-/kb/search.csv?q=" + quote("零工"))
    rows = list(__import__("csv").DictReader(r.text.splitlines()))
    data = (await ds.client.get("/-/kb/search.json?q=" + quote("零工"))).json()
    assert [row["clause_id"] for row in rows] == [x["clause_id"] for x in data["results"]]
    assert "<mark>" not in r.text


async def test_status_badges_on_clause_document_and_search(ds):
    clause = (await ds.client.get(clause_url(f"{DL}:三") + "?as_of=2022-01-01")).text
    assert 'class="status status-expired"' in clause and "已失效 2021-11-24" in clause
    earlier = (await ds.client.get(clause_url(f"{DL}:三") + "?as_of=2021-01-01")).text
    assert "现行有效" in earlier.split('class="kb-status')[1].split("</p>")[0]
    cut = (await ds.client.get(clause_url(f"{P25}:四/（十一）"))).text
    assert "本条文本不全：" in cut
    whole = (await ds.client.get(clause_url(f"{P25}:二/（六）"))).text
    assert "本条文本不全" not in whole and "所在文件文本不全（本条完整）" in whole
    data = (await ds.client.get(clause_url(f"{DL}:三") + ".json?as_of=2022-01-01")).json()
    assert data["status"]["state"] == "expired" and data["status"]["date"] == "2021-11-24"
    assert (await ds.client.get(clause_url(f"{DL}:三") + "?as_of=" + quote("2021年13月1日"))).status_code == 400


async def test_clause_and_document_json(ds):
    clause = (await ds.client.get(clause_url(f"{DL}:三") + ".json")).json()
    assert clause["clause"]["id"] == f"{DL}:三" and clause["sources"][0]["clause_id"] == f"{P25}:二/（六）"
    assert clause["sources"][0]["sentences"] == ["本市规定重述上级规定"]
    assert clause["provenance"]["sha256"] and clause["provenance"]["characters"][0] < clause["provenance"]["characters"][1]
    document = (await ds.client.get(document_url(DL) + ".json")).json()
    assert document["document"]["id"] == DL and len(document["clauses"]) == document["document"]["clause_count"]
    assert any(l["target_clause_id"].startswith(P25) for c in document["clauses"] for l in c["links"])
    assert (await ds.client.get(clause_url(f"{DL}:九十九") + ".json", follow_redirects=True)).status_code == 404


async def test_source_text_is_served_from_the_database_with_the_span_marked(kb_db_path, kb_metadata, tmp_path):
    """The source page shows sources.text (the database's copy), never the corpus file: a copy
    of the database whose stored text was changed shows the change."""
    import shutil
    import sqlite3

    path = tmp_path / "kb.db"
    shutil.copy(kb_db_path, path)
    with sqlite3.connect(path) as conn:
        (text,) = conn.execute("select text from sources where path like '%dalian%'").fetchone()
        start, end, spans = conn.execute("select start, end, text_spans from clauses where id = :id", {"id": f"{DL}:三"}).fetchone()
        conn.execute("update sources set text = :t where path like '%dalian%'", {"t": text.replace("大连市", "大連市")})
    instance = Datasette([str(path)], metadata=copy.deepcopy(kb_metadata))
    clause = (await instance.client.get(clause_url(f"{DL}:三"))).text
    link = re.search(r'<a href="([^"]+)" class="kb-source-link">', clause).group(1)
    page = (await instance.client.get(unescape(link))).text
    assert "大連市" in page
    marked = re.search(r'<mark id="kb-span">([^<]*)</mark>', page).group(1)
    (a, b), *_ = __import__("json").loads(spans)
    assert marked == text[a:b].replace("大连市", "大連市") and marked.startswith("企业吸纳登记失业")
    data = (await instance.client.get("/-/kb/source/" + quote("2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt", safe="") + ".json")).json()
    assert data["text"] == text.replace("大连市", "大連市")
    assert (await instance.client.get("/-/kb/source/" + quote("../../etc/passwd", safe=""), follow_redirects=True)).status_code == 404
    bad = await instance.client.get("/-/kb/source/" + quote("2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt", safe="") + "?clause=" + quote(f"{P25}:一"))
    assert bad.status_code == 400


async def test_provenance_shows_where_the_text_came_from_and_a_citation(ds):
    html = (await ds.client.get(clause_url(f"{P25}:二/（六）"))).text
    prov = html[html.index('id="provenance"') :]
    assert '<a href="https://www.yunbaogao.cn/report/index/report?reportId=11_4880"' in prov
    assert "Web preview of" in prov  # the manifest's note
    citation = _text(re.search(r'<div class="citation kb-citation">(.*?)</div>', prov, re.S).group(1))
    assert re.fullmatch(
        r"辽宁省人民政府办公厅\. 全力做好当前促进和扩大就业工作的若干举措: 辽政办发〔2020〕25号\[EB/OL\]\. \(2020-1\d-\d\d\)\[\d{4}-\d\d-\d\d\]\. https://www\.yunbaogao\.cn/report/index/report\?reportId=11_4880\.",
        citation,
    ), citation
    # without an address: [Z] and the date
    dalian = _text(re.search(r'<div class="citation kb-citation">(.*?)</div>', (await ds.client.get(document_url(DL))).text, re.S).group(1))
    assert dalian.endswith("全力做好当前促进和扩大就业有关工作的通知: 大人社发〔2020〕391号[Z]. 2020-11-24.")


async def test_canned_query_parameters_have_pick_lists(ds):
    html = (await ds.client.get("/kb/parameter_across_cities?kind=rate&topic=")).text
    assert "kb-choices-" in html
    choices = __import__("json").loads(re.search(r"var choices = (\{.*?\});\n", html).group(1))
    assert ["rate", "比例"] in choices["kind"] and ["implements", "实施"] in choices["relation"]
    assert ["大连市", ""] in choices["city"] and [P25, ""] in choices["provincial"]


async def test_metadata_describes_every_plugin_page(ds, kb_metadata):
    pages = kb_metadata["plugins"]["kb"]["pages"]
    assert set(pages) == {"home", "search", "clause", "document", "source", "governs"}
    html = (await ds.client.get("/-/kb/")).text
    assert pages["home"]["zh"] in html
    html = (await ds.client.get(clause_url(f"{DL}:三") + "?lang=en")).text
    assert pages["clause"]["en"].replace("“", "&#34;")[:20] in html or pages["clause"]["en"][:20] in html


async def test_governs_page_says_why_a_provincial_rule_is_inherited(ds):
    """Issue 28 #4: the JSON said "inherited: 抚顺市 has no clause restating it"; the HTML did not."""
    url = "/-/kb/governs?topic=" + quote("稳岗返还") + "&city=" + quote("抚顺市") + "&as_of=2021-08-01"
    assert "继承：抚顺市没有重述此条的条款" in (await ds.client.get(url)).text
    assert "inherited: 抚顺市 has no clause restating it" in (await ds.client.get(url + "&lang=en")).text


async def test_relation_cells_carry_their_chinese_name(ds):
    html = (await ds.client.get("/kb/links?relation=extends")).text
    assert '补充 <span class="kb-code">extends</span>' in html


async def test_canned_queries_take_chinese_names_of_codes(ds):
    """Issue 28 #3: the parameter query took only English kind codes, so 比例 gave 0 rows."""
    rate = await _canned(ds, "parameter_across_cities", kind="rate", topic="")
    assert rate and await _canned(ds, "parameter_across_cities", kind="比例", topic="") == rate
    implements = await _canned(ds, "city_beside_province", city="", relation="implements")
    assert implements and await _canned(ds, "city_beside_province", city="", relation="实施") == implements


async def test_dates_kept_as_numbers_show_as_dates_in_tables(ds):
    """Issue 28 #5: dates read as 20211231.0. parameters keep them as numbers (to compare); the
    table shows the date."""
    html = (await ds.client.get("/kb/parameters?unit=date&_size=max")).text
    table = html.split("<table", 1)[1]
    assert not re.search(r"\b20\d{6}\.0\b", _text(table))
    assert re.search(r'<td class="col-value[^"]*">20\d\d-\d\d-\d\d</td>', table)


async def test_home_page_flags_incomplete_documents(ds):
    data = (await ds.client.get("/-/kb/.json")).json()
    incomplete = {d["id"] for d in data["documents"] if d["incomplete"]}
    assert incomplete == {DL, P25}
    html = (await ds.client.get("/-/kb/")).text
    assert html.count('class="status status-incomplete"') == 2
