"""Which clause governs X in a city, as of a date: questions read by hand from the seeds."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from contextlib import closing
from html import unescape
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.errors import KbError
from kb.governs import governs, rule


@pytest.fixture
def conn(kb_db_path):
    c = sqlite3.connect(kb_db_path)
    yield c
    c.close()


def first(conn, topic, city, as_of):
    answers = governs(conn, topic, city, as_of)
    assert answers, (topic, city, as_of)
    return answers[0]


def test_a_citys_own_clause_governs_in_place_of_the_provincial_one(conn):
    a = first(conn, "稳岗返还", "抚顺", "2021-08-01")
    assert a.clause_id == "抚人社发〔2021〕20号:一"  # 失业保险稳岗返还，大型企业按…30%返还
    assert a.status["state"] == "in force"
    assert [d["clause_id"] for d in a.displaces] == ["辽人社发〔2021〕7号:一/（一）"]
    assert "不超过30% → 30%" in a.changes
    chain = [w.get("clause_id") or w.get("document") for w in a.why]
    assert chain[:3] == ["抚人社发〔2021〕20号:一", "辽人社发〔2021〕7号:一/（一）", "人社部发〔2021〕29号"]


def test_before_the_city_notice_the_provincial_clause_governs(conn):
    a = first(conn, "稳岗返还", "抚顺市", "2021-07-01")  # 7号 signed 2021-06-30, Fushun 2021-07-29
    assert a.clause_id == "辽人社发〔2021〕7号:一/（一）"
    assert a.displaces == []
    answers = governs(conn, "稳岗返还", "抚顺", "2021-07-01")
    assert not any(x.clause_id.startswith("抚人社发") for x in answers)


@pytest.mark.parametrize(
    "as_of, expected",
    [
        ("2020-11-10", "辽政办发〔2020〕25号:三/（八）"),  # Dalian's notice is of 2020-11-24
        ("2021-01-15", "大人社发〔2020〕391号:五"),
    ],
)
def test_dalian_venue_subsidy_before_and_after_its_notice(conn, as_of, expected):
    assert first(conn, "创业场地补贴", "大连", as_of).clause_id == expected


def test_a_city_with_no_notice_inherits_the_provincial_rule(conn):
    a = first(conn, "见习", "沈阳", "2021-08-01")  # two-character topic
    assert a.clause_id == "辽人社发〔2021〕7号:一/（五）"  # 优化就业见习补贴政策
    assert a.jurisdiction == "辽宁省"
    assert "inherited" in (a.why[0].get("why") or "")


def test_a_rule_past_its_own_deadline_is_shown_as_expired_below_the_verdict_in_force(conn):
    answers = governs(conn, "以工代训", "抚顺", "2022-03-01")
    assert answers[0].status["state"] == "in force"  # the verdict: a lapsed rule is never listed above it
    expired = [a for a in answers if a.clause_id.startswith("抚人社发〔2021〕20号:")]
    assert expired and expired[0].status["state"] == "expired"
    assert expired[0].status["date"] == "2021-12-31"
    assert "2021年12月31日" in expired[0].status["words"]
    before = first(conn, "以工代训", "抚顺", "2021-09-01")
    assert before.clause_id == expired[0].clause_id and before.status["state"] == "in force"


def test_a_later_provincial_restatement_supersedes(conn):
    answers = {a.clause_id: a for a in governs(conn, "灵活就业社会保险补贴", "大连", "2022-08-01")}
    dalian = answers["大人社发〔2020〕391号:四"]
    assert dalian.status["state"] == "superseded"
    assert dalian.status["by"] == "辽人社发〔2021〕7号:三/（十二）"
    assert "以往规定与本通知不一致的" in dalian.status["words"]
    assert answers["辽人社〔2022〕22号:十一"].status["state"] == "in force"
    ranked = list(answers)
    assert ranked.index("辽人社〔2022〕22号:十一") < ranked.index("大人社发〔2020〕391号:四")


def test_two_character_topic_and_relevance(conn):
    answers = governs(conn, "零工", "抚顺", "2023-01-01")
    assert answers[0].clause_id in ("辽人社〔2022〕22号:七", "辽人社〔2022〕22号:三")
    assert all("零工" in (a.heading or "") + a.text for a in answers)


def test_nothing_issued_yet(conn):
    assert governs(conn, "零工", "抚顺", "2019-01-01") == []


def test_unknown_city(conn):
    with pytest.raises(KbError, match="unknown city"):
        governs(conn, "补贴", "火星")


def test_cli_json_and_text(kb_db_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["governs", "稳岗返还", "--city", "抚顺", "--as-of", "2021-08-01", "--db", str(kb_db_path), "--json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)["answers"]
    keys = {"clause_id", "doc_number", "path", "heading", "text", "jurisdiction", "issued", "why", "displaces", "status"}
    assert keys <= answers[0].keys()
    assert answers[0]["clause_id"] == "抚人社发〔2021〕20号:一"
    text = runner.invoke(cli, ["governs", "稳岗返还", "--city", "抚顺", "--as-of", "2021-08-01", "--db", str(kb_db_path)])
    assert "1. 抚人社发〔2021〕20号 一" in text.output and "in place of: 辽人社发〔2021〕7号:一/（一）" in text.output
    bad = runner.invoke(cli, ["governs", "补贴", "--city", "抚顺", "--as-of", "yesterday", "--db", str(kb_db_path)])
    assert bad.exit_code == 1 and "Error: --as-of 'yesterday'" in bad.output


async def test_governs_page(ds):
    r = await ds.client.get("/-/kb/governs?topic=稳岗返还&city=抚顺&as_of=2021-08-01")
    assert r.status_code == 200
    assert "抚人社发〔2021〕20号:一" in r.text and "in place of" in r.text
    assert r.text.index("抚人社发〔2021〕20号:一") < r.text.index("辽政办发〔2020〕25号:二/（五）")
    j = (await ds.client.get("/-/kb/governs.json?topic=见习&city=沈阳&as_of=2021-08-01")).json()
    assert j["answers"][0]["clause_id"] == "辽人社发〔2021〕7号:一/（五）"
    bad = await ds.client.get("/-/kb/governs?topic=补贴&city=火星")
    assert bad.status_code == 400 and "unknown city" in bad.text


async def test_governs_page_shows_the_best_answers_and_links_to_all(ds, monkeypatch):
    import kb.datasette_plugin as plugin

    query = "topic=" + quote("补贴") + "&city=" + quote("抚顺") + "&as_of=2022-08-01"
    every = [a["clause_id"] for a in (await ds.client.get("/-/kb/governs.json?" + query)).json()["answers"]]
    assert len(every) > 3
    monkeypatch.setattr(plugin, "GOVERNS_ANSWERS_SHOWN", 2)
    page = await ds.client.get("/-/kb/governs?" + query + "&lang=en")  # the pages are Chinese first
    listed = lambda html: [unquote(u).removesuffix("?lang=en") for u in re.findall(r'<li class="result answer[^"]*">\s*<h3><a href="/-/kb/clause/([^"]+)"', html)]
    assert listed(page.text) == every[:2]
    assert f"{len(every)} answers for <strong>补贴</strong> in 抚顺" in page.text and "the best 2 are shown" in page.text
    show_all = re.search(r'<a href="([^"]+)" class="kb-show-all">show all (\d+)</a>', page.text)
    assert show_all and int(show_all.group(2)) == len(every)
    everything = await ds.client.get(unescape(show_all.group(1)))
    assert listed(everything.text) == every and "kb-show-all" not in everything.text


@pytest.mark.parametrize("threads", [3, 4])
async def test_governs_questions_leave_a_sql_thread_for_the_other_pages(kb_db_path, kb_metadata, monkeypatch, threads):
    """While governs questions hold Datasette's SQL threads, a search page is still answered:
    they take at most one fewer threads than there are, and the rest wait their turn."""
    import asyncio
    import copy
    import threading

    from datasette.app import Datasette

    import kb.governs as governs_mod

    ds = Datasette([str(kb_db_path)], metadata=copy.deepcopy(kb_metadata), settings={"num_sql_threads": threads})
    await ds.invoke_startup()
    lock, release = threading.Lock(), threading.Event()
    running, most = [0], [0]

    def held(conn, *args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            release.wait(timeout=60)
            return rule(conn, *args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(governs_mod, "rule", held)
    questions = [asyncio.create_task(ds.client.get(f"/-/kb/governs.json?topic={quote('补贴')}&city={quote(city)}"))
                 for city in ("抚顺", "大连", "沈阳", "鞍山", "本溪", "丹东")]
    try:
        for _ in range(500):  # until the lane is full
            if running[0] == threads - 1:
                break
            await asyncio.sleep(0.01)
        search = await asyncio.wait_for(ds.client.get("/-/kb/search.json?q=" + quote("补贴")), timeout=15)
        assert search.status_code == 200 and search.json()["results"]
        assert running[0] == most[0] == threads - 1  # the questions still hold their threads, and no more
    finally:
        release.set()
    answered = await asyncio.gather(*questions)
    assert all(r.status_code == 200 and r.json()["answers"] for r in answered[:3])
    assert most[0] == threads - 1


async def test_search_and_clause_pages_link_to_governs(ds):
    r = await ds.client.get("/-/kb/search?q=见习")
    assert "/-/kb/governs?topic=" in r.text
    r = await ds.client.get("/-/kb/clause/辽人社发〔2021〕7号:一/（五）")
    assert "/-/kb/governs?topic=" in r.text


# ---------------------------------------------------------------------------------------------
# The sets of clauses that can govern, kept per connection (kb.governs._eligible).

QUESTIONS = [
    ("稳岗返还", "抚顺", "2021-08-01"),
    ("稳岗返还", "抚顺", "2021-07-01"),
    ("创业场地补贴", "大连", "2020-11-10"),
    ("灵活就业社会保险补贴", "大连", "2022-08-01"),
    ("以工代训", "抚顺", "2022-03-01"),
    ("见习", "沈阳", "2021-08-01"),
    ("零工", "抚顺", None),
    ("补贴", "辽宁省", None),
]


def _answers(conn, questions=QUESTIONS):
    return [[a.to_dict() for a in governs(conn, topic, city, as_of)] for topic, city, as_of in questions]


def _kept(conn) -> set[str]:
    return {r[0] for r in conn.execute("select name from temp.sqlite_master where name like 'kb_governs_%'")}


def test_kept_sets_give_the_answers_of_inline_queries(kb_db_path):
    """A connection that cannot write its temp schema reads the same sets inline."""
    kept = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    inline = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    inline.execute("pragma query_only = 1")
    try:
        first_pass = _answers(kept)
        assert _kept(kept) and not _kept(inline)
        assert first_pass == _answers(inline)
        assert _answers(kept) == first_pass  # from the kept sets, made on the first pass
        assert not kept.in_transaction  # the sets are committed, the connection left as found
    finally:
        kept.close()
        inline.close()


def test_kept_sets_are_reused_and_bounded(kb_db_path, monkeypatch):
    import kb.governs

    conn = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    small = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    try:
        governs(conn, "稳岗返还", "抚顺", "2021-08-01")
        made = _kept(conn)
        assert len(made) == 2  # 辽宁省 with the nation, and 抚顺市, by that date
        governs(conn, "以工代训", "抚顺", "2021-08-01")
        assert _kept(conn) == made
        expected = _answers(conn)
        assert len(_kept(conn)) > 3
        monkeypatch.setattr(kb.governs, "_TEMP_TABLES", 3)  # sets dropped and made again, question by question
        for _ in range(2):
            for question, answers in zip(QUESTIONS, expected):
                assert _answers(small, [question]) == [answers]
                assert len(_kept(small)) <= 3
    finally:
        conn.close()
        small.close()


def test_a_change_committed_elsewhere_is_seen(tmp_path, kb_db_path):
    """data_version is part of a set's key: a connection sees what another one committed."""
    import shutil

    path = tmp_path / "kb.db"
    shutil.copy(kb_db_path, path)
    reader, writer = sqlite3.connect(path), sqlite3.connect(path)
    try:
        before = [a.clause_id for a in governs(reader, "稳岗返还", "抚顺", "2021-08-01")]
        assert "抚人社发〔2021〕20号:一" in before
        with writer:
            writer.execute("update documents set issued = '2099-01-01' where id = '抚人社发〔2021〕20号'")
        after = [a.clause_id for a in governs(reader, "稳岗返还", "抚顺", "2021-08-01")]
        assert not any(c.startswith("抚人社发〔2021〕20号") for c in after)
    finally:
        reader.close()
        writer.close()


def test_runs_of_cover_every_rowid_in_at_most_so_many_ranges():
    import random

    from kb.governs import runs_of

    rng = random.Random(3)
    for _ in range(200):
        rowids = sorted(rng.sample(range(1, 5000), rng.randint(0, 300)))
        gap, most = rng.choice([1, 2, 50, 2048]), rng.randint(1, 20)
        runs = runs_of([(r, r) for r in rowids], gap, most)
        assert len(runs) <= most
        assert all(lo <= hi for lo, hi in runs)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(runs))  # disjoint, in order
        assert all(any(lo <= r <= hi for lo, hi in runs) for r in rowids)
        assert all(lo in rowids and hi in rowids for lo, hi in runs)  # no range reaches past the set
        if most >= len(rowids) and gap == 1:
            assert len(runs) == len(rowids)
        assert runs_of(runs, gap, most) == runs  # ranges that are already runs stay as they are


def test_many_short_runs_give_the_answers_of_inline_queries(kb_db_path, monkeypatch):
    """Every run read on its own (no gap bridged): still exactly the matches of the whole sets."""
    import kb.governs

    monkeypatch.setattr(kb.governs, "_RUN_GAP", 1)
    monkeypatch.setattr(kb.governs, "_RUN_GAP_SHARE", 10**9)
    monkeypatch.setattr(kb.governs, "_MAX_RUNS", 10_000)
    kept = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    inline = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    inline.execute("pragma query_only = 1")
    try:
        answers = _answers(kept)
        runs = kept.execute("select count(*) from temp.kb_eligible_runs").fetchone()[0]
        assert runs > 2 * len(_kept(kept))  # the sets are in many runs, each read on its own
        assert answers == _answers(inline)
        assert any(answers)
    finally:
        kept.close()
        inline.close()


def test_rows_are_published_place_by_place(kb_db, place_by_place):
    """The nation's clauses, then each province's among its cities': a city's sets are few runs, close together."""
    blocks = place_by_place(kb_db)
    assert len({place for *_, place, _ in blocks}) >= 3
    order = [(level, place) for level, _, place, _ in blocks]
    # the seeds: 辽宁省 between its two cities
    assert [level for level, _ in order] == ["city", "province", "city"]




def test_the_answers_do_not_depend_on_the_rowids_a_build_gave_the_clauses(synthetic_corpus, tmp_path, monkeypatch):
    """Restated rules have the same words, so the same bm25: a cut at the 200th match between
    clauses tied there would keep the ones publish wrote first. The same corpus published in
    the reverse order gives the same answers, with the cut at 200 and at a few (where ties
    are certain to fall on it)."""
    import kb.governs
    import kb.publish
    from kb.publish import build

    in_order, in_reverse = tmp_path / "in-order.db", tmp_path / "in-reverse.db"
    build(synthetic_corpus, in_order, full=True)
    place_order = kb.publish._place_order
    monkeypatch.setattr(kb.publish, "_place_order", lambda documents: place_order(documents)[::-1])
    build(synthetic_corpus, in_reverse, full=True)
    with closing(sqlite3.connect(in_order)) as a, closing(sqlite3.connect(in_reverse)) as b:
        rowids = "select id, rowid from clauses order by id"
        assert a.execute(rowids).fetchall() != b.execute(rowids).fetchall()
        cities = [r[0] for r in a.execute("select distinct jurisdiction from documents where level = 'city' and placeholder = 0 order by 1")]
        topics = ("补贴", "就业", "见习", "创业", "培训", "社会保险", "岗位", "高校毕业生", "失业", "贷款", "灵活就业", "稳岗")
        best, tied = kb.governs._best, []

        def counting(ranked, most):
            found = best(ranked, most)
            tied.append(len(found) > most)
            return found

        monkeypatch.setattr(kb.governs, "_best", counting)
        for most in (200, 20, 5, 3):
            monkeypatch.setattr(kb.governs, "_CANDIDATES", most)
            for topic, city in itertools.product(topics, cities[:6]):
                answers = [x.to_dict() for x in governs(a, topic, city, "2026-01-01")]
                assert answers == [x.to_dict() for x in governs(b, topic, city, "2026-01-01")], (most, topic, city)
        assert any(tied)  # ties fell on the cut: the test can tell


# ---------------------------------------------------------------------------------------------
# Places, levels and the verdict (issue 28 #4, #8, #9; issue 26 #8).


def test_a_place_without_documents_is_outside_the_corpus(conn):
    ruling = rule(conn, "稳岗返还", "北京", "2021-08-01")
    assert ruling.jurisdiction == "北京市" and ruling.in_corpus is False
    assert ruling.note.startswith("no document of 北京市 in the corpus")
    assert ruling.answers == [] and ruling.verdict is None


def test_cli_says_outside_the_corpus_not_no_clause(kb_db_path):
    out = CliRunner().invoke(cli, ["governs", "稳岗返还", "--city", "北京", "--as-of", "2021-08-01", "--db", str(kb_db_path)])
    assert out.exit_code == 0 and "no document of 北京市 in the corpus" in out.output and "No clause" not in out.output


def test_a_county_inherits_from_its_city_then_its_province(conn):
    ruling = rule(conn, "稳岗返还", "抚顺县", "2021-08-01")
    assert ruling.chain == ["抚顺市抚顺县", "抚顺市", "辽宁省", "中华人民共和国"] and ruling.in_corpus
    v = ruling.verdict
    assert v.clause_id == "抚人社发〔2021〕20号:一"  # 抚顺市's own rule, not the province's it restates
    assert v.basis["basis"] == "inherited" and v.basis["from"] == "抚顺市" and v.basis["silent"] == ["抚顺市抚顺县"]
    assert v.why[0]["why"] == "inherited: 抚顺市抚顺县 has no clause restating it"
    before = rule(conn, "稳岗返还", "抚顺县", "2021-07-01").verdict  # before 抚顺市's notice: the province's
    assert before.clause_id == "辽人社发〔2021〕7号:一/（一）" and before.basis["silent"] == ["抚顺市抚顺县", "抚顺市"]


def test_one_verdict_in_force_first_then_the_alternatives(conn):
    ruling = rule(conn, "灵活就业社会保险补贴", "大连", "2022-08-01")
    assert ruling.verdict is ruling.answers[0] and ruling.verdict.status["state"] == "in force"
    assert all(a.status["state"] != "in force" or a.relevance * 1.0 <= ruling.verdict.relevance for a in ruling.alternatives)
    assert "大人社发〔2020〕391号:四" in [a.clause_id for a in ruling.alternatives]
    assert ruling.to_dict()["verdict"]["clause_id"] == ruling.verdict.clause_id


def test_a_heading_with_no_text_of_its_own_is_never_an_answer(conn):
    # 7号 一 is the title of a part (统筹抓好延续实施政策落实) over items that carry the rules.
    for topic in ("统筹抓好延续实施政策落实", "扩大职业技能培训政策范围", "补贴"):
        answers = governs(conn, topic, "抚顺", "2022-01-01")
        assert all(a.text for a in answers), topic
        assert "辽人社发〔2021〕7号:一" not in [a.clause_id for a in answers]


def test_notices_not_in_the_corpus_are_not_said_to_be_in_it(conn):
    a = first(conn, "稳岗返还", "抚顺", "2021-08-01")
    cited = {w["document"]: w["in_corpus"] for w in a.why if w.get("document")}
    assert cited["人社部发〔2021〕29号"] is False  # a placeholder row: cited, not in the corpus


async def test_governs_page_gives_the_verdict_and_the_reason_it_governs(ds):
    r = await ds.client.get("/-/kb/governs?topic=见习&city=沈阳&as_of=2021-08-01")
    assert r.status_code == 200
    assert "inherited from 辽宁省: 沈阳市 has no clause restating it" in r.text  # the HTML keeps the JSON's reason
    assert 'class="result answer status-in-force verdict"' in r.text
    out = await ds.client.get("/-/kb/governs?topic=稳岗返还&city=北京")
    assert out.status_code == 200 and "no document of 北京市 in the corpus" in out.text
    bad = await ds.client.get("/-/kb/governs?topic=稳岗返还&city=抚顺&show=everything")
    assert bad.status_code == 400 and "show &#39;everything&#39;" in bad.text


@pytest.fixture(scope="module")
def three_levels(kb_db_path, tmp_path_factory):
    """The seeds with a national rule on 稳岗返还 that 辽人社发〔2021〕7号 一/（一） restates (the
    seeds cite national notices but hold none): nation -> province -> city."""
    import shutil

    from kb.search import GRAMS_TABLE, gram_rows

    path = tmp_path_factory.mktemp("levels") / "kb.db"
    shutil.copy(kb_db_path, path)
    c = sqlite3.connect(path)
    with c:
        c.execute(
            "insert into documents (id, doc_number, title, level, jurisdiction, issued, complete, placeholder, clause_count)"
            " values ('人社部发〔2021〕99号', '人社部发〔2021〕99号', '关于稳岗返还的通知', 'national', '中华人民共和国', '2021-03-01', 1, 0, 1)"
        )
        text = "失业保险稳岗返还，大型企业返还比例不超过企业及其职工上年度实际缴纳失业保险费的30%。"
        c.execute(
            "insert into clauses (id, document_id, path, label, kind, heading, text, position, depth)"
            " values ('人社部发〔2021〕99号:一', '人社部发〔2021〕99号', '一', '一', 'part', '稳岗返还', ?, 0, 1)",
            (text,),
        )
        rowid = c.execute("select rowid from clauses where id = '人社部发〔2021〕99号:一'").fetchone()[0]
        c.executemany(f"insert into {GRAMS_TABLE} (rowid, heading, text) values (?, ?, ?)", gram_rows([(rowid, "稳岗返还", text)]))
        c.execute(
            "insert into links (source_clause_id, target_clause_id, relation, score, why)"
            " values ('辽人社发〔2021〕7号:一/（一）', '人社部发〔2021〕99号:一', 'implements', 0.9, 'restates the national rule')"
        )
    yield c
    c.close()


def test_city_shadows_province_shadows_nation(three_levels):
    fushun = rule(three_levels, "稳岗返还", "抚顺", "2021-08-01")
    ids = [a.clause_id for a in fushun.answers]
    assert fushun.verdict.clause_id == "抚人社发〔2021〕20号:一"
    assert "人社部发〔2021〕99号:一" not in ids and "辽人社发〔2021〕7号:一/（一）" not in ids
    assert [d["clause_id"] for d in fushun.verdict.displaces] == ["辽人社发〔2021〕7号:一/（一）", "人社部发〔2021〕99号:一"]
    assert fushun.verdict.basis["basis"] == "own rule" and "in place of 辽宁省's" in fushun.verdict.basis["reason"]
    shenyang = rule(three_levels, "稳岗返还", "沈阳", "2021-08-01")
    v = shenyang.verdict
    assert v.clause_id == "辽人社发〔2021〕7号:一/（一）" and v.basis["from"] == "辽宁省" and v.basis["silent"] == ["沈阳市"]
    assert [d["clause_id"] for d in v.displaces] == ["人社部发〔2021〕99号:一"]
    assert "人社部发〔2021〕99号:一" not in [a.clause_id for a in shenyang.answers]
    # Before the province restated it, the nation's rule governs in 沈阳, inherited over two levels.
    early = rule(three_levels, "稳岗返还", "沈阳", "2021-04-01").verdict
    assert early.clause_id == "人社部发〔2021〕99号:一"
    assert early.basis == {"basis": "inherited", "from": "中华人民共和国", "jurisdiction": "中华人民共和国", "level": "national",
                           "silent": ["沈阳市", "辽宁省"], "reason": "inherited from 中华人民共和国: 沈阳市、辽宁省 have no clause restating it"}
