"""Diffs between versions of a notice, on a seed with known edits, in all three formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.diff import Side, diff_sides, to_html, to_json, to_markdown
from kb.parse import parse_bytes, parse_corpus

ROOT = Path(__file__).resolve().parent.parent
GAZETTE = ROOT / "corpus" / "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"

REMOVED_SENTENCE = "推进线上线下结合,开展“互联网+职业技能培训”,"


def _side(doc, name):
    return Side(name, doc.title, doc.clauses)


@pytest.fixture(scope="module")
def versions():
    text = GAZETTE.read_text(encoding="utf-8")
    assert "不超过24个月的创业场地补贴" in text and REMOVED_SENTENCE in text
    edited = (
        text.replace("不超过24个月的创业场地补贴", "不超过36个月的创业场地补贴")  # a number changed (二)
        .replace(REMOVED_SENTENCE, "")  # a sentence removed (五)
        .replace("  十八、强化正向激励。", "  十八、加强监测评估。定期评估各项措施落实成效。\n  十九、强化正向激励。")  # added + renumbered
    )
    old = parse_bytes(text.encode(), "v1.txt").documents[0]
    new = parse_bytes(edited.encode(), "v2.txt").documents[0]
    return old, new


@pytest.fixture(scope="module")
def report(versions):
    old, new = versions
    return diff_sides(_side(old, "辽人社〔2022〕22号@1"), _side(new, "辽人社〔2022〕22号@2"))


def test_reports_exactly_the_edits(report):
    assert [e.path for e in report.changed] == ["二", "五"]
    assert [e.path for e in report.added] == ["十八"]
    assert [(e.old_path, e.new_path) for e in report.moved] == [("十八", "十九")]
    assert report.removed == []
    assert report.unchanged == 20 - 2 - 1  # cover, preamble, 一–十八 less the changed and the moved


def test_number_change_is_called_out(report):
    two = report.changed[0]
    assert {"old": "不超过24个月", "new": "不超过36个月"}.items() <= {k: two.numbers[0][k] for k in ("old", "new")}.items()
    assert {s["op"] for s in two.spans} == {"delete", "insert"}


def test_removed_sentence_is_one_deleted_span(report):
    five = report.changed[1]
    deleted = [s["text"] for s in five.spans if s["op"] == "delete"]
    inserted = [s for s in five.spans if s["op"] == "insert"]
    assert deleted == ["推进线上线下结合，开展“互联网+职业技能培训”，"]
    assert inserted == []


def test_json_markdown_html_carry_the_same_entries(report):
    data = json.loads(to_json(report))
    assert [e["path"] for e in data["changed"]] == ["二", "五"]
    assert all({"path", "label", "old", "new", "spans"} <= e.keys() for e in data["changed"])
    md = to_markdown(report)
    assert "不超过24个月 → 不超过36个月" in md and "## Added" in md and "十八 → 十九" in md
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.split("<body>")[1]
    assert "<del>24</del>" in page and "<ins>36</ins>" in page


def test_a_notice_against_itself_is_unchanged(versions):
    old, _ = versions
    report = diff_sides(_side(old, "a"), _side(old, "a"))
    assert report.is_empty and report.unchanged == len([c for c in old.clauses if c.full_text])
    assert json.loads(to_json(report))["changed"] == []


def test_html_escapes_corpus_text(versions):
    old, new = versions
    new.clauses[2].text += "<script>alert(1)</script>"
    try:
        page = to_html(diff_sides(_side(old, "a"), _side(new, "b")))
    finally:
        new.clauses[2].text = new.clauses[2].text.replace("<script>alert(1)</script>", "")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_provincial_notice_against_the_city_table():
    docs = {d.id: d for d in parse_corpus(ROOT / "corpus").documents}
    p7, fushun = docs["辽人社发〔2021〕7号"], docs["抚人社发〔2021〕20号"]
    items = [c for c in p7.clauses if c.kind == "item" and not c.path.startswith("附件")]
    rows = [c for c in fushun.clauses if c.path.startswith("附件2/")]
    report = diff_sides(Side("7号", p7.title, items), Side("责任分工表", fushun.title, rows, root_path="附件2"), cross=True)
    assert not report.added and not report.removed  # all 18 rows align with an item
    one = next(e for e in report.changed if e.new_path == "（一）")
    assert one.old_path == "一/（一）"
    assert any(n["old"] == "不超过30%" and n["new"] == "30%" for n in one.numbers)
    assert "（三）" in report.unchanged_paths  # restated word for word
