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
