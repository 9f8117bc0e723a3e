"""Incremental publish: a rebuild after one city and one provincial file changed replaces only
their rows in a copy of the previous database, and ends with what a full build writes.

Compared table by table, every column, rowids (and the ids that are rowids), build ids and
build times aside; the search indexes by what they hold (term, clause, column, offset), which
fts5vocab reads whatever the layout of their segments.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from kb import publish as publish_mod
from kb import search
from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
DALIAN = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
P25 = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"


def _content(db: Path) -> dict[str, list]:
    """Every table's rows and every view's, as sorted lists; see the module docstring."""
    conn = sqlite3.connect(db)
    try:
        master = conn.execute("select type, name, sql from sqlite_master where name not like 'sqlite_autoindex%'").fetchall()
        fts = [name for kind, name, sql in master if kind == "table" and sql and "using fts5" in sql.lower()]
        shadows = {f"{f}_{s}" for f in fts for s in ("data", "idx", "docsize", "config")}
        out: dict[str, list] = {"schema": sorted(master)}
        for kind, name, _ in master:
            if kind not in ("table", "view") or name in fts or name in shadows or name == "builds":
                continue
            columns = [row[1] for row in conn.execute(f"pragma table_info([{name}])")]
            rowid_alias = {row[1] for row in conn.execute(f"pragma table_info([{name}])") if row[5] and row[2] == "INTEGER"}
            kept = [c for c in columns if c not in rowid_alias and c not in ("build_id", "link_id")]  # link_id: a view's
            rows = conn.execute(f"select {', '.join(f'[{c}]' for c in kept)} from [{name}]").fetchall()
            if name == "sqlite_stat1":  # FTS5's shadow tables hold segments, laid out differently; builds: history
                rows = [r for r in rows if r[0] not in shadows and r[0] != "builds"]
            if "evidence" in kept:
                at = kept.index("evidence")
                rows = [r[:at] + (_without_build(r[at]),) + r[at + 1 :] for r in rows]
            out[name] = sorted(rows, key=repr)
        for name in fts:
            conn.execute(f"create virtual table temp.[v_{name}] using fts5vocab(main, [{name}], 'instance')")
            out[name] = sorted(
                conn.execute(f"select v.term, c.id, v.col, v.offset from temp.[v_{name}] v join clauses c on c.rowid = v.doc")
            )
            out[f"{name} rows"] = sorted(
                conn.execute(f"select c.id, d.sz from [{name}_docsize] d join clauses c on c.rowid = d.id")
            )
        return out
    finally:
        conn.close()


def _rowids(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as conn:
        return dict(conn.execute("select id, rowid from clauses"))


def _without_build(evidence: str | None) -> str | None:
    if evidence is None:
        return None
    value = json.loads(evidence)
    value.pop("build_id", None)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _assert_same(incremental: Path, full: Path) -> None:
    a, b = _content(incremental), _content(full)
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rebuild_and_compare(corpus: Path, tmp_path: Path, edits, place_by_place, relinks_all: bool = False) -> None:
    db = tmp_path / "kb.db"
    first = build(corpus, db)
    assert first.changed is None  # nothing to start from
    for path, old, new in edits:
        _edit(path, old, new)
    report = build(corpus, db)
    assert report.changed is not None, "the rebuild wrote the whole database"
    assert report.changed.paths == {p.relative_to(corpus).as_posix() for p, _, _ in edits}
    assert 0 < len(report.changed.documents) < report.counts["documents"]
    assert len(report.changed.linked) <= report.counts["documents"] if relinks_all else len(report.changed.linked) < report.counts["documents"]
    reference = tmp_path / "full.db"
    assert build(corpus, reference, full=True).changed is None
    _assert_same(db, reference)
    # The edits keep every notice's clauses: each is written at the rowid a full build gives it
    # (the rewritten notices take their old rowids again), so the rows stay place by place.
    assert _rowids(db) == _rowids(reference)
    for path in (db, reference):
        with closing(sqlite3.connect(path)) as conn:
            place_by_place(conn)
    # and a search finds the same clauses
    for term in ("补贴", "就业", "见习", "个月", "创业担保贷款"):
        found = {r["clause_id"] for r in search.search(sqlite3.connect(db), term, limit=1000)}
        assert found == {r["clause_id"] for r in search.search(sqlite3.connect(reference), term, limit=1000)}


@pytest.fixture
def any_share(monkeypatch):
    """Incremental whatever share of the documents changed (in the seeds every notice touches 25号)."""
    monkeypatch.setattr(publish_mod, "_MAX_CHANGED_SHARE", 1.0)


def test_seeds_one_city_and_one_provincial_file(tmp_path, any_share, place_by_place):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    _rebuild_and_compare(
        corpus,
        tmp_path,
        [
            (corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月，并给予一次性见习补贴"),
            (corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴"),
        ],
        place_by_place,
        relinks_all=True,  # every seed notice stands on 25号
    )


def test_synthetic_one_city_and_one_provincial_file(synthetic_corpus, tmp_path, any_share, place_by_place):
    corpus = tmp_path / "corpus"
    shutil.copytree(synthetic_corpus, corpus)
    province = sorted(corpus.glob("*_province-liaoning_*.txt"))[0]
    number = re.search(r"^辽\S+〔\d{4}〕\d+号$", province.read_text(encoding="utf-8"), re.M).group()
    city = next(p for p in sorted(corpus.glob("*_city-*.txt")) if number in p.read_text(encoding="utf-8"))
    bound = re.compile(r"最多(\d+)(%|个月)")
    edits = []
    for path in (province, city):
        m = bound.search(path.read_text(encoding="utf-8"))
        edits.append((path, m.group(), f"最多{int(m[1]) + 1}{m[2]}"))
    # and the city says something new in its first item (new words for both search indexes)
    first_item = re.search(r"^一、(.+?)。", city.read_text(encoding="utf-8"), re.M).group(1)
    edits.append((city, first_item, first_item + "，开展零工市场见习服务"))
    _rebuild_and_compare(corpus, tmp_path, edits, place_by_place)


def test_a_file_put_back_is_rewritten_though_its_parse_is_cached(tmp_path, any_share):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    db = tmp_path / "kb.db"
    original = (corpus / DALIAN).read_bytes()
    build(corpus, db)
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    build(corpus, db)
    (corpus / DALIAN).write_bytes(original)  # back as it was: its parse comes from the cache
    report = build(corpus, db)
    assert report.counts["incremental"]["files_parsed"] == 0
    assert report.changed is not None and report.changed.paths == {DALIAN}
    reference = tmp_path / "full.db"
    build(corpus, reference, full=True)
    _assert_same(db, reference)


def test_other_documents_mean_a_full_write(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    db = tmp_path / "kb.db"
    build(corpus, db)
    (corpus / DALIAN).unlink()  # a document fewer
    assert build(corpus, db).changed is None
    assert build(corpus, db).changed is not None  # and the next rebuild starts from that one


def test_a_large_change_means_a_full_write(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    db = tmp_path / "kb.db"
    build(corpus, db)
    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    monkeypatch.setattr(publish_mod, "_MAX_CHANGED_SHARE", 0.1)  # 25号 and the notices standing on it are more
    assert build(corpus, db).changed is None


def test_a_database_written_by_other_means_is_written_whole(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    db = tmp_path / "kb.db"
    build(corpus, db)
    other = tmp_path / "other.db"
    build(corpus, other, full=True)
    shutil.copyfile(other, db)  # not the database this cache's build wrote last
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    assert build(corpus, db).changed is None
    # written to after the build (here: a title corrected by hand)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update documents set title = title || '（修订）' where id = '大人社发〔2020〕391号'")
    conn.close()
    _edit(corpus / DALIAN, "执行期限自本文印发之日起18个月", "执行期限自本文印发之日起24个月")
    assert build(corpus, db).changed is None
    assert "修订" not in sqlite3.connect(db).execute("select title from documents where id = '大人社发〔2020〕391号'").fetchone()[0]
