"""Amendment decisions applied: the State Council's 2024 decision on 放假办法, and a decision
written for this test with every kind of operation, whose result was worked out by hand."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import amend
from kb.cli import cli
from kb.parse import parse_file

REALWORLD = Path(__file__).resolve().parent.parent / "corpus"
DECISION = REALWORLD / "国务院关于修改《全国年节及纪念日放假办法》的决定(2024-11-10).txt"
V2013 = REALWORLD / "全国年节及纪念日放假办法(2013-12-11).md"
V2024 = REALWORLD / "全国年节及纪念日放假办法(2024-11-10).md"
DATA = Path(__file__).parent / "data" / "amend"
TEST_LAW = DATA / "示例条例.md"
TEST_DECISION = DATA / "示例机关关于修改《示例条例》的决定.txt"

# What the 2024 consolidated text changed without the decision spelling it out ("个别文字").
UNSPELLED = (("新年", "元旦"), ("10月1日、2日、3日", "10月1日至3日"), ("星期六、星期日", "周六、周日"))


@pytest.fixture(scope="module")
def holidays():
    old = parse_file(V2013).documents[0]
    new = parse_file(V2024).documents[0]
    result = amend.apply(DECISION.read_text(encoding="utf-8"), old.clauses)
    return amend.compare(result, new.clauses), new


def test_the_decision_is_read_as_its_operations(holidays):
    result, _ = holidays
    assert [(o.item, o.kind, o.article, o.sub_item, o.to) for o in result.operations] == [
        ("一", "rewrite", 2, 2, None),
        ("一", "rewrite", 2, 4, None),  # "第四项修改为": continues 第二条
        ("二", "insert-article", None, None, 7),
        ("此外", "reorder", None, None, None),
    ]
    assert result.failed == []


def test_decision_explains_its_items_and_the_new_article(holidays):
    result, _ = holidays
    by_path = {c.path: c for c in result.clauses}
    assert by_path["第二条/（二）"].text == "春节，放假4天（农历除夕、正月初一至初三）；"  # the list's "；" kept
    assert by_path["第二条/（四）"].text == "劳动节，放假2天（5月1日、2日）；"
    assert [m[:2] for m in by_path["第二条/（二）"].made_by] == ["一:"]
    assert by_path["第七条"].text.startswith("全体公民放假的假日，可合理安排统一放假调休")
    assert by_path["第七条"].made_by[0].startswith("二:")
    assert by_path["第八条"].text == "本办法自公布之日起施行。"
    assert any("第七条 → 第八条" in m for m in by_path["第八条"].made_by)
    assert by_path["第二条/（一）"].made_by == []  # untouched by the decision


def test_unexplained_are_exactly_the_unspelled_word_changes(holidays):
    result, published = holidays
    assert [u["path"] for u in result.unexplained] == ["第二条/（一）", "第二条/（七）", "第六条"]
    # the applied text, with exactly the three unspelled changes made, is the published text
    published_by_path = {c.path: c.text for c in amend._flatten(amend._labelled(amend.articles_of(published.clauses)))}
    for c in result.clauses:
        text = c.text
        for old, new in UNSPELLED:
            text = text.replace(old, new)
        assert text == published_by_path[c.path], c.path
    assert set(published_by_path) == {c.path for c in result.clauses}
    six = next(u for u in result.unexplained if u["path"] == "第六条")
    assert [s["text"] for s in six["spans"] if s["op"] == "delete"] == ["星期六、星期", "星期六、星期"]  # both sentences


@pytest.fixture(scope="module")
def test_decision():
    expected = tomllib.loads((DATA / "示例条例.expected.toml").read_text(encoding="utf-8"))
    law = parse_file(TEST_LAW).documents[0]
    return amend.apply(TEST_DECISION.read_text(encoding="utf-8"), law.clauses), expected


def test_every_kind_of_operation_is_applied_exactly(test_decision):
    result, expected = test_decision
    assert {o.kind for o in result.operations} == {"rewrite", "replace", "delete", "insert-article", "insert-paragraph", "move", "reorder"}
    assert [(c.path, c.text) for c in result.clauses] == list(expected["clauses"].items())


def test_each_change_names_the_items_that_made_it(test_decision):
    result, expected = test_decision
    made_by = {c.path: sorted({m.split(":")[0] for m in c.made_by}) for c in result.clauses if c.made_by}
    assert made_by == {path: sorted(items) for path, items in expected["made_by"].items()}


def test_failing_operations_are_reported_with_their_item_and_not_guessed(test_decision):
    result, expected = test_decision
    assert [f.item for f in result.failed] == list(expected["failed"])
    for f in result.failed:
        assert expected["failed"][f.item] in f.reason
    assert "十日" in next(c.text for c in result.clauses if c.path == "第五条")  # 八 named words not there: left alone


def test_cli_json_has_clauses_failed_and_unexplained():
    result = CliRunner().invoke(cli, ["amend", str(DECISION), "--to", str(V2013), "--against", str(V2024), "--format", "json", "--db", "/nonexistent.db"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"path", "label", "text"} <= data["clauses"][0].keys()
    assert data["failed"] == []
    assert [u["path"] for u in data["unexplained"]] == ["第二条/（一）", "第二条/（七）", "第六条"]
    assert data["decision"]["sha256"] and data["document"]["sha256"] and data["against"]["sha256"]


def test_cli_markdown_lists_failed_items():
    result = CliRunner().invoke(cli, ["amend", str(TEST_DECISION), "--to", str(TEST_LAW), "--db", "/nonexistent.db"])
    assert result.exit_code == 0, result.output
    assert "- item 七: 第九条: the earlier version has no such article" in result.output
