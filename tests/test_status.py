"""Status (时效性) of clauses and documents as of a date (kb.status), and incompleteness on the
clauses it affects (issue 28 #2, #4)."""

from __future__ import annotations

import sqlite3

import pytest

from kb.status import LABELS_ZH, clause_status, clause_statuses, document_status


@pytest.fixture(scope="module")
def conn(kb_db_path):
    c = sqlite3.connect(f"file:{kb_db_path}?mode=ro", uri=True)
    yield c
    c.close()


def test_in_force_then_expired_by_its_own_words(conn):
    before = clause_status(conn, "抚人社发〔2021〕20号:一", "2021-08-01")
    after = clause_status(conn, "抚人社发〔2021〕20号:一", "2022-01-01")
    assert (before.state, before.label_zh) == ("in force", "现行有效")
    assert (after.state, after.date, after.label_zh) == ("expired", "2021-12-31", "已失效")
    assert "2021年12月31日" in after.words


def test_not_yet_in_force_before_it_is_issued(conn):
    s = clause_status(conn, "辽人社〔2022〕22号:十一", "2021-08-01")
    assert (s.state, s.date, s.label_zh) == ("not yet in force", "2022-07-05", "尚未施行")


def test_superseded_names_what_superseded_it(conn):
    s = clause_status(conn, "大人社发〔2020〕391号:四", "2022-08-01")
    assert s.state == "superseded" and s.label_zh == LABELS_ZH["superseded"]
    assert s.by == "辽人社发〔2021〕7号:三/（十二）" and s.by_document == "辽人社发〔2021〕7号"
    assert "以往规定与本通知不一致的" in s.words


def test_a_clause_cut_mid_word_says_so_before_its_documents_reasons(conn):
    """25号 四/（十一） ends mid-word where the preview stopped: the clause itself is incomplete."""
    s = clause_status(conn, "辽政办发〔2020〕25号:四/（十一）", "2021-01-01")
    assert s.incomplete[0]["scope"] == "clause" and "ends mid-sentence" in s.incomplete[0]["reason"]
    assert s.incomplete[-1]["scope"] == "document" and "preview cut off" in s.incomplete[-1]["reason"]
    other = clause_status(conn, "辽政办发〔2020〕25号:一/（一）", "2021-01-01")
    assert other.incomplete and all(r["scope"] == "document" for r in other.incomplete)  # its document is incomplete
    assert clause_status(conn, "辽人社发〔2021〕7号:一/（一）", "2021-08-01").incomplete == []
    assert s.to_dict()["incomplete_zh"] == "文本不完整"


def test_many_at_once_agree_with_one_by_one(conn):
    ids = [r[0] for r in conn.execute("select id from clauses order by rowid")]
    together = clause_statuses(conn, ids, "2022-08-01")
    assert set(together) == set(ids)
    for clause_id in ids[::7]:
        assert together[clause_id] == clause_status(conn, clause_id, "2022-08-01")
    states = {s.state for s in together.values()}
    assert {"in force", "expired", "superseded"} <= states


def test_document_status(conn):
    assert document_status(conn, "辽人社〔2022〕22号", "2021-08-01").state == "not yet in force"
    partly = document_status(conn, "辽人社发〔2021〕7号", "2022-08-01")
    assert partly.state == "in force" and "clauses expired" in partly.words
    assert document_status(conn, "辽政办发〔2020〕25号", "2021-01-01").incomplete
    assert document_status(conn, "国办发〔2020〕27号", "2021-01-01") is None  # cited, not in the corpus
    assert document_status(conn, "no such document", "2021-01-01") is None


# ---------------------------------------------------------------------------------------------
# On the pages: the status as of the chosen date, a bad date refused.


async def test_clause_page_shows_status_and_incompleteness_as_of_the_date(ds):
    from urllib.parse import quote

    cut = await ds.client.get("/-/kb/clause/" + quote("辽政办发〔2020〕25号:四/（十一）", safe="") + "?as_of=2021-06-01&lang=en", follow_redirects=True)
    assert cut.status_code == 200
    assert 'class="kb-status status-in-force"' in cut.text and "现行有效" in cut.text
    assert "this clause is cut: 四/（十一） ends mid-sentence" in cut.text  # the flag the issue found missing
    later = await ds.client.get("/-/kb/clause/" + quote("大人社发〔2020〕391号:四", safe="") + "?as_of=2022年8月1日", follow_redirects=True)
    assert 'class="kb-status status-superseded"' in later.text and "辽人社发〔2021〕7号:三/（十二）" in later.text


async def test_document_page_shows_status(ds):
    from urllib.parse import quote

    r = await ds.client.get("/-/kb/document/" + quote("辽人社〔2022〕22号", safe="") + "?as_of=20210801", follow_redirects=True)
    assert r.status_code == 200 and 'class="kb-status status-not-yet-in-force"' in r.text and "尚未施行" in r.text


@pytest.mark.parametrize(
    "path, message",
    [
        ("/-/kb/clause/%E6%8A%9A%E4%BA%BA%E7%A4%BE%E5%8F%91%E3%80%942021%E3%80%9520%E5%8F%B7%3A%E4%B8%80?as_of=2021-02-30", "as_of &#39;2021-02-30&#39;: 2021-02 has no day 30"),
        ("/-/kb/document/%E6%8A%9A%E4%BA%BA%E7%A4%BE%E5%8F%91%E3%80%942021%E3%80%9520%E5%8F%B7?as_of=garbage", "as_of &#39;garbage&#39;: not a date"),
        ("/-/kb/search?q=%E8%A7%81%E4%B9%A0&limit=abc", "limit &#39;abc&#39;: expected a whole number from 1 to 500"),
        ("/-/kb/search?q=%E8%A7%81%E4%B9%A0&limit=100000", "limit &#39;100000&#39;: expected a whole number from 1 to 500"),
        ("/-/kb/search?q=%E8%A7%81%E4%B9%A0&city=%E7%81%AB%E6%98%9F", "city &#39;火星&#39;: not a place in the gazetteer"),
        ("/-/kb/search?q=%E8%A7%81%E4%B9%A0&rank=everything", "rank &#39;everything&#39;: expected one of &#39;all&#39; or nothing"),
    ],
)
async def test_every_route_parameter_is_checked_with_a_400_that_says_why(ds, path, message):
    r = await ds.client.get(path)
    assert r.status_code == 400, path
    assert message in r.text
