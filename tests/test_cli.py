"""The kb command: build, parse, search, serve; errors as `Error: …`, exit 1, no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from kb.cli import cli, load_metadata

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "seeds"  # corpus/ also holds the real laws; this is its four seed notices (symlinks)
GAZETTE = CORPUS / "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"


@pytest.fixture
def runner():
    return CliRunner()


def _no_traceback(result):
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_build_prints_a_summary(runner, tmp_path):
    db = tmp_path / "kb.db"
    result = runner.invoke(cli, ["build", "--corpus", str(CORPUS), "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Built {db}" in out
    assert "documents   5 (+15 cited, not in the corpus)" in out
    assert "clauses     131" in out
    assert "links" in out and "implements" in out
    assert "unresolved  8" in out
    assert "problems" in out and "warning" in out
    assert sqlite_utils.Database(db)["clauses"].count == 131


def test_build_json(runner, tmp_path):
    result = runner.invoke(cli, ["build", "--corpus", str(CORPUS), "--db", str(tmp_path / "kb.db"), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output[result.output.index("{") :])
    assert data["build"]["counts"]["documents"] == 5 and data["build"]["id"] == 1


def test_build_lists_files_that_failed(runner, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(GAZETTE, corpus / GAZETTE.name)
    (corpus / "empty.txt").write_bytes(b"")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 1  # a failed file fails the command, and the rest is still built
    assert "1 file(s) could not be parsed" in result.output and "empty.txt" in result.output
    assert result.output.index("empty.txt") < result.output.index("Built ")  # failures first
    assert "(1 failed)" in result.output and "Error: 1 file(s) failed" in result.output
    assert sqlite_utils.Database(tmp_path / "kb.db")["documents"].count == 1
    kept = runner.invoke(cli, ["build", "--corpus", str(corpus), "--db", str(tmp_path / "kb2.db"), "--keep-going"])
    assert kept.exit_code == 0 and "empty.txt" in kept.output and "Error:" not in kept.output


def test_build_missing_corpus(runner, tmp_path):
    result = runner.invoke(cli, ["build", "--corpus", str(tmp_path / "nope"), "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 1
    assert result.output.strip().endswith("Error: corpus directory not found: " + str(tmp_path / "nope") + " (expected a directory of notice files; use --corpus DIR)")
    _no_traceback(result)
    assert not (tmp_path / "kb.db").exists()


def test_parse_prints_documents_and_tree(runner):
    result = runner.invoke(cli, ["parse", str(GAZETTE)])
    assert result.exit_code == 0
    out = result.output
    assert "辽人社〔2022〕22号  关于印发《进一步支持多渠道灵活就业若干措施》的通知" in out
    assert "jurisdiction 辽宁省" in out and "issued       2022-07-05" in out
    assert "三 [item] 加强零工市场建设" in out


def test_parse_json_leaves_out_source_text(runner):
    result = runner.invoke(cli, ["parse", str(GAZETTE), "--json"])
    assert result.exit_code == 0
    [parsed] = json.loads(result.output)
    assert set(parsed["source"]) == {"path", "sha256", "encoding", "size", "discarded", "manifest"}
    [doc] = parsed["documents"]
    assert doc["id"] == "辽人社〔2022〕22号" and "source" not in doc and doc["source_path"] == str(GAZETTE)
    assert len(doc["clauses"]) == 20 and doc["clauses"][4]["heading"] == "加强零工市场建设"
    assert "text" not in parsed["source"] and "raw" not in parsed["source"]


def test_parse_bad_file(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n", encoding="utf-8")
    result = runner.invoke(cli, ["parse", str(bad), str(GAZETTE)])
    assert result.exit_code == 1
    assert f"Error: {bad}:1: no recognisable notice structure" in result.output
    assert "辽人社〔2022〕22号" in result.output  # the good file is still shown
    _no_traceback(result)


def test_parse_missing_file(runner, tmp_path):
    result = runner.invoke(cli, ["parse", str(tmp_path / "missing.txt")])
    assert result.exit_code == 1 and "Error:" in result.output and "cannot read file" in result.output


def test_search(runner, kb_db_path):
    result = runner.invoke(cli, ["search", "零工", "--db", str(kb_db_path)])
    assert result.exit_code == 0
    assert "辽人社〔2022〕22号:七" in result.output and "辽人社〔2022〕22号:三" in result.output
    result = runner.invoke(cli, ["search", "补贴", "--db", str(kb_db_path), "--city", "大连", "--json"])
    rows = json.loads(result.output)
    assert rows and {r["jurisdiction"] for r in rows} == {"大连市"}


def test_search_lists_a_query_too_broad_to_rank(runner, kb_db_path, containing):
    ranked = runner.invoke(cli, ["search", "补贴", "--db", str(kb_db_path), "--limit", "3"])
    listed = runner.invoke(cli, ["search", "补贴", "--db", str(kb_db_path), "--limit", "3", "--rank-limit", "2"])
    assert ranked.exit_code == listed.exit_code == 0
    assert "too many to rank" not in ranked.output and "More than 2 clauses match: too many to rank" in listed.output
    first = containing("补贴")[:3]
    rows = [line.split() for line in listed.output.splitlines() if line.startswith("      -")]
    assert [row[1] for row in rows] == first


def test_search_without_database(runner, tmp_path):
    result = runner.invoke(cli, ["search", "补贴", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "Error: no database at" in result.output and "kb build" in result.output


def test_serve_without_database(runner, tmp_path):
    result = runner.invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "Error: no database at" in result.output
    _no_traceback(result)


def test_metadata_follows_the_database_name(tmp_path):
    data = load_metadata(ROOT / "metadata.yml", tmp_path / "other.db")
    assert "other" in data["databases"] and "kb" not in data["databases"]
    assert data["plugins"]["kb"]["database"] == "other"
    assert "kb" in load_metadata(ROOT / "metadata.yml", "kb.db")["databases"]


@pytest.mark.parametrize("command", ["build", "serve", "parse", "search"])
def test_help_ends_with_an_example(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example: kb " + command in result.output
