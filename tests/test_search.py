"""Chinese full-text search: 1-, 2- and longer terms, ranking, city filter, highlighting."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest

from kb.search import RANK_LIMIT, SearchPage, fts_query, grams, highlight, search, search_page, snippet

CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------------------------------------
# The bigram index and the queries, without a database


@pytest.mark.parametrize(
    "text, expected",
    [
        ("补贴资金", "补贴 贴资 资金 金"),
        ("补", "补"),
        ("按30%返还", "按 30 返还 还"),
        ("1+X证书", "1 x 证书 书"),
        ("", ""),
        (None, ""),
    ],
)
def test_grams(text, expected):
    assert grams(text) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("补贴", '"补贴"'),
        ("补", '"补" *'),
        ("就业见习", '"就业 业见 见习"'),
        ("补贴 见习", '"补贴" AND "见习"'),
        ("1+X证书", '"1 x 证书"'),
        ("X证", '"x 证" *'),
        ("30", '"30"'),
        ("辽人社发(2021)7号", '"辽人 人社 社发 发 2021 7 号" *'),  # normalised like the text
        ('"; drop', '"drop" *'),  # FTS syntax characters never reach MATCH
        ("   ", None),
        ("、。", None),
    ],
)
def test_fts_query(query, expected):
    assert fts_query(query) == expected


def test_highlight_escapes_before_marking():
    assert highlight("<p>补贴</p>&", "补贴") == "&lt;p&gt;<mark>补贴</mark>&lt;/p&gt;&amp;"
    assert highlight("<script>alert(1)</script>", "alert") == "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"


def test_highlight_merges_overlapping_terms():
    assert highlight("就业见习补贴", "就业见习 见习补贴") == "<mark>就业见习补贴</mark>"
    assert highlight("Abc abc", "ABC") == "<mark>Abc</mark> <mark>abc</mark>"


def test_snippet_is_a_window_around_the_first_match():
    text = "一" * 200 + "补贴" + "二" * 200
    s = snippet(text, "补贴")
    assert s.startswith("…") and s.endswith("…") and "<mark>补贴</mark>" in s and len(s) < 200


# ---------------------------------------------------------------------------------------------
# On the seed database


def _like(kb_db, term: str) -> set[str]:
    return {
        r["id"]
        for r in kb_db.query(
            "select id from clauses where instr(coalesce(heading, ''), :t) or instr(coalesce(text, ''), :t)", {"t": term}
        )
    }


@pytest.mark.parametrize("term", ["补贴", "见习", "零工", "社保", "补", "就业见习", "灵活就业", "失业保险稳岗返还", "12333", "2021年12月31日"])
def test_finds_exactly_the_clauses_that_contain_the_term(kb_db, term):
    found = {r["clause_id"] for r in search(kb_db, term, limit=10_000)}
    assert found == _like(kb_db, term)


def test_trigram_alone_misses_two_character_terms(kb_db):
    # The reason the bigram table exists: FTS5's trigram tokenizer, on the same clauses, finds
    # nothing for a two-character term (and the knowledge base publishes no trigram index).
    with closing(sqlite3.connect(":memory:")) as trigram:
        trigram.execute("create virtual table t using fts5(heading, text, tokenize='trigram')")
        trigram.executemany("insert into t (heading, text) values (?, ?)", kb_db.execute("select heading, text from clauses").fetchall())
        assert _like(kb_db, "零工")
        assert trigram.execute("select count(*) from t where t match '\"零工\"'").fetchone()[0] == 0
        assert trigram.execute("select count(*) from t where t match '\"零工市场\"'").fetchone()[0] > 0  # it does index them
    assert len(search(kb_db, "零工")) == len(_like(kb_db, "零工"))


def test_every_two_character_substring_finds_its_clause(kb_db):
    for clause in kb_db.query("select id, heading, text from clauses where text <> ''"):
        text = clause["text"]
        for i in range(0, len(text) - 1, 37):
            pair = text[i : i + 2]
            if len(CJK.findall(pair)) == 2:
                ids = {r["clause_id"] for r in search(kb_db, pair, limit=10_000)}
                assert clause["id"] in ids, (clause["id"], pair)


def test_all_terms_must_match(kb_db):
    both = {r["clause_id"] for r in search(kb_db, "见习 补贴", limit=10_000)}
    assert both == _like(kb_db, "见习") & _like(kb_db, "补贴")
    assert both


@pytest.mark.parametrize("term", ["见习", "补贴", "创业", "灵活就业"])
def test_headings_rank_above_text(kb_db, term):
    results = search(kb_db, term, limit=1000)
    in_heading = [i for i, r in enumerate(results) if term in (r["heading"] or "")]
    only_text = [i for i, r in enumerate(results) if term not in (r["heading"] or "")]
    assert in_heading and only_text and max(in_heading) < min(only_text)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_two_character_term_ranked(kb_db):
    assert {r["clause_id"] for r in search(kb_db, "零工")} == {"辽人社〔2022〕22号:七", "辽人社〔2022〕22号:三"}


def test_city_filter(kb_db):
    dalian = search(kb_db, "补贴", city="大连")
    assert dalian and {r["jurisdiction"] for r in dalian} == {"大连市"}
    assert [r["clause_id"] for r in search(kb_db, "补贴", city="大连市")] == [r["clause_id"] for r in dalian]
    assert search(kb_db, "补贴", city="沈阳市") == []


def test_results_are_highlighted(kb_db):
    r = search(kb_db, "见习")[0]
    assert "<mark>见习</mark>" in r["heading_html"] + r["text_html"]
    assert r["snippet_html"] and r["title"] and r["document_id"] and r["path"]


def test_limit_and_empty_query(kb_db):
    assert len(search(kb_db, "就业", limit=3)) == 3
    assert search(kb_db, "") == [] and search(kb_db, "  ") == []
    assert search(kb_db, "没有这个词语组合") == []


def test_accepts_a_plain_sqlite3_connection(kb_db):
    assert search(kb_db.conn, "零工")


# ---------------------------------------------------------------------------------------------
# Too many matches to rank: listed in the knowledge base's order


@pytest.mark.parametrize("term", ["就业", "补贴 资金"])
def test_a_query_matching_more_than_the_rank_limit_is_listed_not_ranked(kb_db, containing, term):
    every = containing(term.split()[0])
    every = [c for c in every if c in set.intersection(*(_like(kb_db, t) for t in term.split()))]
    assert len(every) > 8
    listed = search_page(kb_db, term, limit=5, rank_limit=len(every) - 1)
    assert not listed.ranked and listed.matched == len(every) and listed.rank_limit == len(every) - 1
    assert [r["clause_id"] for r in listed.results] == every[:5]
    assert all(r["score"] is None for r in listed.results)
    assert "<mark>" in listed.results[0]["heading_html"] + listed.results[0]["text_html"]

    at_the_limit = search_page(kb_db, term, limit=len(every), rank_limit=len(every))
    assert at_the_limit.ranked and at_the_limit.matched == len(every)
    assert at_the_limit.results == search(kb_db, term, limit=len(every))
    scores = [r["score"] for r in at_the_limit.results]
    assert scores == sorted(scores, reverse=True) and [r["clause_id"] for r in at_the_limit.results] != every

    unlimited = search_page(kb_db, term, limit=len(every), rank_limit=None)
    assert (unlimited.ranked, unlimited.matched, unlimited.results) == (True, len(every), at_the_limit.results)


def test_a_city_search_is_ranked_and_counts_the_city_s_matches(kb_db, containing):
    in_dalian = containing("补贴", ("大连市",))
    page = search_page(kb_db, "补贴", city="大连", limit=3, rank_limit=0)
    assert page.ranked and page.matched == len(in_dalian) > 3
    assert len(page.results) == 3 and {r["clause_id"] for r in page.results} <= set(in_dalian)
    best = search_page(kb_db, "补贴", city="大连", limit=len(in_dalian))
    assert best.results[:3] == page.results and {r["clause_id"] for r in best.results} == set(in_dalian)


def test_the_default_limit_ranks_every_seed_search(kb_db):
    page = search_page(kb_db, "就业")
    assert page.ranked and page.matched == len(_like(kb_db, "就业"))
    assert search_page(kb_db, "没有这个词语组合") == SearchPage([], 0, True, RANK_LIMIT)


# ---------------------------------------------------------------------------------------------
# Traditional characters, filters and facets (issue 28)


@pytest.mark.parametrize(
    "query, expected",
    [("補貼", "补贴"), ("就業見習", "就业见习"), ("靈活就業 社會保險", "灵活就业 社会保险"), ("补贴", "补贴"), ("", "")],
)
def test_simplified_converts_traditional_queries_through_opencc(query, expected):
    from kb.search import simplified

    assert simplified(query) == expected


def test_a_traditional_query_finds_and_marks_simplified_text(kb_db):
    from kb.search import fts_query

    assert fts_query("補貼") == fts_query("补贴")
    found = search_page(kb_db, "補貼 見習")
    assert found.results and found.results == search_page(kb_db, "补贴 见习").results
    assert "<mark>见习</mark>" in found.results[0]["heading_html"] + found.results[0]["text_html"]


def test_filters_narrow_and_facets_count_every_match(kb_db, containing):
    from kb.search import SearchFilters

    every = containing("补贴")
    page = search_page(kb_db, "补贴", limit=3, facets=True)
    assert page.matched == len(every) and len(page.results) == 3
    assert sorted(page.matched_ids) == sorted(every)
    levels = dict(page.facets["level"])
    assert sum(levels.values()) == len(every)
    provincial = search_page(kb_db, "补贴", filters=SearchFilters(level="province"), limit=500)
    assert provincial.matched == levels["province"]
    assert {r["level"] for r in provincial.results} == {"province"}
    in_2022 = search_page(kb_db, "补贴", filters=SearchFilters(year="2022"), limit=500)
    assert in_2022.results and {r["document_id"] for r in in_2022.results} == {"辽人社〔2022〕22号"}
    linked = {r["source_clause_id"] for r in kb_db.query("select source_clause_id from links where relation = 'extends'")}
    extends = search_page(kb_db, "补贴", filters=SearchFilters(relation="extends"), limit=500)
    assert {r["clause_id"] for r in extends.results} == linked & set(every)
    both = search_page(kb_db, "补贴", filters=SearchFilters(city="大连", relation="extends"), limit=500)
    assert {r["jurisdiction"] for r in both.results} == {"大连市"} and both.matched < extends.matched


def test_facets_are_left_out_when_too_many_match(kb_db, monkeypatch):
    """Counting facets reads every match: past FACET_LIMIT the page shows none rather than slow down."""
    import kb.search as search_mod

    assert search_page(kb_db, "补贴", facets=True).facets is not None
    monkeypatch.setattr(search_mod, "FACET_LIMIT", 3)
    broad = search_page(kb_db, "补贴", facets=True)
    assert broad.facets is None and broad.matched_ids is None and broad.matched > 3
