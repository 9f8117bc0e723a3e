"""`kb provenance` shows a clause's whole lineage: city → province → nation, read from a real SQLite build."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kb.parse import parse_bytes, parse_file
from kb.provenance import clause_provenance, lineage, to_text
from kb.publish import build

REALWORLD = Path(__file__).resolve().parent.parent / "corpus"

# A city notice restating a clause of 广东省失业保险条例 (第七条, which stands on 失业保险条例 第五条).
_CITY = """穗人社发〔2023〕9号

广州市人力资源和社会保障局关于失业保险基金管理的通知

各区人力资源社会保障局：
现就有关事项通知如下：
一、失业保险基金由下列各项构成：失业保险费；失业保险基金的利息；滞纳金；财政补贴；依法纳入失业保险基金的其他资金。
广州市人力资源和社会保障局
2023年3月1日
"""


@pytest.fixture(scope="module")
def chain_db(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("chain") / "corpus"
    corpus.mkdir()
    for name in ("失业保险条例(1999-01-22).md", "广东省失业保险条例(2022-06-01).md"):
        (corpus / name).write_bytes((REALWORLD / name).read_bytes())
    (corpus / "guangzhou.txt").write_text(_CITY, encoding="utf-8")
    assert parse_bytes(_CITY.encode(), "guangzhou.txt").documents[0].level == "city"
    assert parse_file(corpus / "guangzhou.txt").documents[0].province == "广东省"
    path = corpus.parent / "kb.db"
    build(corpus, path)
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def test_lineage_is_the_whole_chain(chain_db):
    city_clause = chain_db.execute("select id from clauses where document_id = '穗人社发〔2023〕9号' and path = '一'").fetchone()[0]
    steps = lineage(chain_db, city_clause)
    levels = [(s["distance"], s["level"], s["document_id"]) for s in steps]
    assert (1, "province", "广东省失业保险条例") in levels
    assert any(d == 2 and level == "national" and doc == "失业保险条例" for d, level, doc in levels)
    record = clause_provenance(chain_db, city_clause)
    assert record["lineage"] == steps
    text = to_text(record)
    assert "lineage    1. implements 广东省失业保险条例:第七条 (province 广东省)" in text
    assert "2. implements 失业保险条例:第五条 (national 中华人民共和国)" in text
