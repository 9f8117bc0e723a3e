"""A truncated higher text is not evidence of what a lower one adds (issue 28 #2): words the
lower notice has and the cut provincial copy lacks may be on the missing pages."""

from __future__ import annotations

import json


def _link(kb_db, source: str) -> dict:
    rows = list(kb_db.query("select * from links where source_clause_id = :s and relation != 'succeeds'", {"s": source}))
    assert len(rows) == 1
    return rows[0]


def test_dalian_six_is_not_extends_by_text_the_cut_provincial_copy_lacks(kb_db):
    link = _link(kb_db, "大人社发〔2020〕391号:六")
    assert link["target_clause_id"] == "辽政办发〔2020〕25号:四/（十一）"  # cut mid-word: '…等开展1年以上企业新型学'
    evidence = json.loads(link["evidence"])
    assert "found nowhere in the provincial notice" not in link["why"]
    assert "preview cut off" in evidence["novel_not_judged"]
    assert "not counted as additions: its copy is incomplete" in link["why"]
    # What stays evidence of an addition: the city cites its own notices, which no provincial text could.
    assert link["relation"] == "extends" and "references to local notices" in link["why"]


def test_against_a_complete_provincial_notice_novelty_still_counts(kb_db):
    link = _link(kb_db, "抚人社发〔2021〕20号:附件2/（十六）")
    assert link["relation"] == "extends" and "found nowhere in the provincial" in link["why"]
    assert json.loads(link["evidence"])["novel_not_judged"] is None
