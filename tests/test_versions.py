"""Two sources with one 文号 are versions: both kept with provenance, diffed exactly."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import networkx as nx
import pytest
import yaml
from click.testing import CliRunner
from datasette.app import Datasette

from kb.cli import cli
from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
GAZETTE = "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"
DOC = "辽人社〔2022〕22号"


def _edit(text: str) -> str:
    edited = (
        text.replace("不超过24个月的创业场地补贴", "不超过36个月的创业场地补贴")  # number changed in 二
        .replace("推进线上线下结合,开展“互联网+职业技能培训”,", "")  # sentence removed from 五
        .replace("  十八、强化正向激励。", "  十八、加强监测评估。定期评估各项措施落实成效。\n  十九、强化正向激励。")  # added, renumbered
    )
    assert edited != text
    return edited


@pytest.fixture(scope="module")
def versioned(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    original = (ROOT / "corpus" / GAZETTE).read_text(encoding="utf-8")
    shutil.copy(ROOT / "corpus" / GAZETTE, corpus / "v1.txt")
    (corpus / "v2-corrected.txt").write_text(_edit(original), encoding="utf-8")
    # The manifest orders the versions (both texts carry the same signing date).
    (corpus / "manifest.toml").write_text(
        '[files."v1.txt"]\ndate = 2022-07-05\n[files."v2-corrected.txt"]\ndate = 2022-08-01\nnote = "corrected re-issue"\n',
        encoding="utf-8",
    )
    db_path = tmp_path_factory.mktemp("db") / "kb.db"
    build(corpus, db_path)
    return corpus, db_path


def test_both_versions_are_kept_with_provenance(versioned):
    corpus, db_path = versioned
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "select version, latest, source_path, source_sha256, ordered_by from document_versions where document_id = ? order by version", (DOC,)
    ).fetchall()
    assert [(v, latest, path, order) for v, latest, path, _, order in rows] == [
        (1, 0, "v1.txt", "manifest-date"),
        (2, 1, "v2-corrected.txt", "manifest-date"),
    ]
    for _, _, path, sha, _ in rows:
        assert sha == hashlib.sha256((corpus / path).read_bytes()).hexdigest()
    changes = json.loads(conn.execute("select changes from document_versions where document_id = ? and version = 2", (DOC,)).fetchone()[0])
    assert changes["changed"] == ["二", "五"] and changes["added"] == ["十八"] and changes["moved"] == ["十八 → 十九"]
    # clause ids are stable; each version keeps its words
    texts = dict(conn.execute("select version, text from clause_versions where clause_id = ?", (f"{DOC}:二",)).fetchall())
    assert "不超过24个月" in texts[1] and "不超过36个月" in texts[2]
    assert "不超过36个月" in conn.execute("select text from clauses where id = ?", (f"{DOC}:二",)).fetchone()[0]
    assert conn.execute("select count(*) from documents where id = ?", (DOC,)).fetchone()[0] == 1


@pytest.mark.parametrize("fmt", ["json", "md", "html"])
def test_cli_diff_reports_exactly_the_edits(versioned, fmt):
    _, db_path = versioned
    result = CliRunner().invoke(cli, ["diff", f"{DOC}@1", f"{DOC}@2", "--format", fmt, "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    if fmt == "json":
        data = json.loads(out)
        assert [e["path"] for e in data["changed"]] == ["二", "五"]
        assert [e["path"] for e in data["added"]] == ["十八"]
        assert [(e["old_path"], e["new_path"]) for e in data["moved"]] == [("十八", "十九")]
        assert data["removed"] == []
        assert data["changed"][0]["numbers"][0]["old"] == "不超过24个月" and data["changed"][0]["numbers"][0]["new"] == "不超过36个月"
        assert [s["text"] for s in data["changed"][1]["spans"]] == ["推进线上线下结合，开展“互联网+职业技能培训”，"]
    elif fmt == "md":
        assert "2 changed, 1 added, 0 removed, 1 moved" in out
        assert "不超过24个月 → 不超过36个月" in out and "十八 → 十九" in out
    else:
        assert out.startswith("<!DOCTYPE html>") and "<del>24</del>" in out and "<ins>36</ins>" in out
        assert "2 changed, 1 added, 0 removed, 1 moved" in out


def test_a_notice_against_itself_reports_no_change(versioned):
    _, db_path = versioned
    result = CliRunner().invoke(cli, ["diff", f"{DOC}@2", DOC, "--format", "json", "--db", str(db_path)])
    data = json.loads(result.output)
    assert data["changed"] == data["added"] == data["removed"] == data["moved"] == []
    assert data["unchanged"] > 0


def test_a_file_against_its_published_version(versioned):
    corpus, db_path = versioned
    result = CliRunner().invoke(cli, ["diff", str(corpus / "v1.txt"), f"{DOC}@1", "--format", "json", "--db", str(db_path)])
    assert json.loads(result.output)["changed"] == []


def test_unknown_version_is_a_clear_error(versioned):
    _, db_path = versioned
    result = CliRunner().invoke(cli, ["diff", f"{DOC}@3", DOC, "--db", str(db_path)])
    assert result.exit_code == 1 and "has no version 3 (versions: 1, 2)" in result.output


def test_provenance_names_file_hash_offsets_and_build(versioned):
    corpus, db_path = versioned
    result = CliRunner().invoke(cli, ["provenance", f"{DOC}:二", "--db", str(db_path), "--json"])
    record = json.loads(result.output)
    assert record["source"]["path"] == "v2-corrected.txt"
    assert record["source"]["sha256"] == hashlib.sha256((corpus / "v2-corrected.txt").read_bytes()).hexdigest()
    raw = (corpus / "v2-corrected.txt").read_bytes()
    start, end = record["offsets"]["bytes"]
    assert raw[start:end].decode("utf-8").startswith("二、提供低成本场地支持")
    assert [v["source_path"] for v in record["versions"]] == ["v1.txt", "v2-corrected.txt"]
    assert record["build"]["code_version"] and len(record["build"]["corpus_hash"]) == 64
    text = CliRunner().invoke(cli, ["provenance", f"{DOC}:二", "--db", str(db_path)]).output
    assert "sha256" in text and "parser     parse/1" in text


async def test_diff_page_and_clause_history(versioned):
    _, db_path = versioned
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    ds = Datasette([str(db_path)], metadata=metadata)
    page = await ds.client.get(f"/-/kb/diff?a={DOC}@1&b={DOC}@2")
    assert page.status_code == 200
    assert "<del>24</del>" in page.text and "<ins>36</ins>" in page.text and "十八 → 十九" in page.text
    clause = await ds.client.get(f"/-/kb/clause/{DOC}:二?lang=en")  # the pages are Chinese first
    assert "version 2: v2-corrected.txt" in clause.text and "diff with version 1" in clause.text


def test_export_graphml(kb_db_path, tmp_path):
    out = tmp_path / "kb.graphml"
    result = CliRunner().invoke(cli, ["export", "graphml", str(out), "--db", str(kb_db_path)])
    assert result.exit_code == 0, result.output
    g = nx.read_graphml(out)
    assert g.has_edge("clause:抚人社发〔2021〕20号:一", "clause:辽人社发〔2021〕7号:一/（一）")
    relations = {d["relation"] for _, _, d in g.edges(data=True)}
    assert {"contains", "implements", "extends", "succeeds", "cites", "attaches"} <= relations
