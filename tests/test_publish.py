"""Publishing: schema, rows from the seeds, placeholders, provenance, atomic builds, bad files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from kb import publish as publish_mod
from kb.errors import KbError, NotFoundError
from kb.model import Clause, Document, Link, LinkResult, Source
from kb.parse import CorpusParse, ParsedFile, Problem, parse_file
from kb.publish import BuildInfo, _update, build, corpus_hash, publish

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "seeds"  # corpus/ also holds the real laws; this is its four seed notices (symlinks)

DL = "大人社发〔2020〕391号"
FS = "抚人社发〔2021〕20号"
P25 = "辽政办发〔2020〕25号"
P7 = "辽人社发〔2021〕7号"
P22 = "辽人社〔2022〕22号"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Schema


def test_tables_and_views(kb_db):
    tables = set(kb_db.table_names())
    assert {
        "builds",
        "sources",
        "documents",
        "clauses",
        "links",
        "citations",
        "doc_relations",
        "parameters",
        "unresolved",
        "coverage",
        "problems",
        "clauses_grams",
    } <= tables
    assert not any(t.startswith("clauses_fts") for t in tables)  # no trigram index (see test_search_index_is_the_bigram_one)
    assert set(kb_db.view_names()) >= {"city_vs_province", "unresolved_clauses", "coverage_summary"}


@pytest.mark.parametrize(
    "table, pk",
    [("documents", ["id"]), ("clauses", ["id"]), ("links", ["id"]), ("sources", ["path"]), ("unresolved", ["clause_id"]), ("builds", ["id"])],
)
def test_primary_keys(kb_db, table, pk):
    assert kb_db[table].pks == pk


@pytest.mark.parametrize(
    "table, column, other",
    [
        ("clauses", "document_id", "documents"),
        ("clauses", "parent_id", "clauses"),
        ("links", "source_clause_id", "clauses"),
        ("links", "target_clause_id", "clauses"),
        ("links", "build_id", "builds"),
        ("doc_relations", "target_document_id", "documents"),
        ("citations", "target_document_id", "documents"),
        ("documents", "attached_to", "documents"),
        ("documents", "source_path", "sources"),
        ("coverage", "provincial_clause_id", "clauses"),
        ("unresolved", "best_candidate_id", "clauses"),
        ("parameters", "clause_id", "clauses"),
        ("problems", "build_id", "builds"),
    ],
)
def test_foreign_keys_declared(kb_db, table, column, other):
    assert any(fk.column == column and fk.other_table == other for fk in kb_db[table].foreign_keys)


def test_every_foreign_key_reaches_a_row(kb_db):
    # Placeholders make this hold for citations and lineage too.
    assert list(kb_db.query("pragma foreign_key_check")) == []


@pytest.mark.parametrize(
    "table, columns",
    [("links", ["source_clause_id"]), ("links", ["target_clause_id", "relation"]), ("clauses", ["document_id", "position"]),
     ("documents", ["jurisdiction"]), ("time_limits", ["clause_id", "kind"])],
)
def test_indexes_for_the_queries(kb_db, table, columns):
    # an index leading with these columns serves the query (it may carry more after them)
    assert any(ix.columns[: len(columns)] == columns for ix in kb_db[table].indexes)


def test_search_index_is_the_bigram_one(kb_db):
    # Datasette finds no index of clauses by itself: the plugin's filters_from_request gives its
    # search box the bigram index (test_datasette), which a trigram index could not serve.
    assert kb_db["clauses"].detect_fts() is None
    assert [t for t in kb_db.table_names() if kb_db[t].schema.lower().startswith("create virtual table")] == ["clauses_grams"]


# ---------------------------------------------------------------------------------------------
# Rows from the seeds


def test_documents(kb_db):
    docs = {d["id"]: d for d in kb_db["documents"].rows_where("placeholder = 0")}
    assert set(docs) == {P25, DL, FS, P7, P22}
    dl = docs[DL]
    assert dl["doc_number"] == DL and dl["level"] == "city" and dl["jurisdiction"] == "大连市"
    assert dl["province"] == "辽宁省" and dl["issued"] == "2020-11-24"
    assert json.loads(dl["issuers"]) == ["大连市人力资源和社会保障局", "大连市财政局"]
    assert dl["implements"] == P25 and dl["implements_document_id"] == P25
    assert dl["complete"] == 0 and "ends mid-sentence" in json.loads(dl["incomplete_reasons"])[0]
    assert docs[P7]["attached_to"] == FS and docs[P7]["attachment_label"] == "附件1"
    assert docs[P22]["kind"] == "issuing"
    assert json.loads(docs[P25]["metadata_sources"])["doc_number"] == "manifest"
    assert all(d["parser_version"] and d["version"] == 1 for d in docs.values())


def test_placeholders_for_cited_notices(kb_db):
    national = kb_db["documents"].get("国办发〔2020〕27号")
    assert national["placeholder"] == 1 and national["level"] == "national" and national["complete"] == 0
    assert national["title"] == "国务院办公厅关于支持多渠道灵活就业的意见"
    assert kb_db["documents"].get(P25)["implements_document_id"] == "国办发〔2020〕27号"
    city = kb_db["documents"].get("大人社发〔2019〕378号")
    assert city["placeholder"] == 1 and (city["level"], city["jurisdiction"]) == ("city", "大连市")
    assert kb_db["documents"].get("辽政发〔2020〕9号")["level"] == "province"
    # lineage reaches the placeholder: 辽政办发〔2020〕25号 implements 国办发〔2020〕27号
    rel = next(kb_db["doc_relations"].rows_where("source_document_id = ? and relation = 'implements'", [P25]))
    assert rel["target_document_id"] == "国办发〔2020〕27号" and rel["in_corpus"] == 0


def test_doc_relations_in_the_corpus(kb_db):
    rel = next(kb_db["doc_relations"].rows_where("source_document_id = ? and relation = 'implements'", [FS]))
    assert rel["target_document_id"] == P7 and rel["in_corpus"] == 1
    assert rel["title_mismatch"] == "关于延续实施和优化完善减负稳岗扩就业政策措施的通知"


def test_clauses(kb_db):
    c = kb_db["clauses"].get(f"{P7}:一/（一）")
    assert c["document_id"] == P7 and c["parent_id"] == f"{P7}:一" and c["depth"] == 2
    assert c["label"] == "（一）" and c["kind"] == "item"
    assert c["source_path"].startswith("2021-07-29_fushun") and len(c["source_sha256"]) == 64
    assert kb_db["clauses"].count == sum(d["clause_count"] for d in kb_db["documents"].rows)


def test_char_and_byte_offsets_point_at_the_same_text(kb_db):
    sources = {}
    for c in kb_db["clauses"].rows:
        path = c["source_path"]
        if path not in sources:
            sources[path] = parse_file(CORPUS / path, display_path=path).source
        source = sources[path]
        assert source.sha256 == c["source_sha256"]
        by_chars = source.text[c["start"] : c["end"]]
        by_bytes = source.raw[c["byte_start"] : c["byte_end"]].decode(source.encoding)
        assert by_bytes.replace("\r\n", "\n") == by_chars.replace("\r\n", "\n"), c["id"]


def test_links(kb_db, kb_build):
    link = next(kb_db["links"].rows_where("source_clause_id = ?", [f"{DL}:三"]))
    assert link["target_clause_id"] == f"{P25}:二/（六）" and link["relation"] == "implements"
    assert link["build_id"] == kb_build.build.id
    assert json.loads(link["evidence"])["why"] == link["why"]
    relations = {r["relation"] for r in kb_db.query("select distinct relation from links")}
    assert relations <= {"implements", "extends", "overrides", "succeeds"}


def test_published_evidence_is_the_links_with_the_build_that_made_it(kb_build):
    # the linker hands evidence over as JSON text (Evidence) or, made by hand, as a dict: both
    # are published as the same keys and values, with the build and code version added
    from kb.model import Evidence

    build = kb_build.build
    made_by = {"build_id": build.id, "code_version": build.code_version}
    evidence = {"why": "restates “一、”", "scores": {"combined": 0.9}, "diff": [{"op": "insert", "text": "我市"}], "novel": []}
    for given in (evidence, Evidence.of(evidence), {}, Evidence.of({}), None):
        published = publish_mod._evidence_json(given, publish_mod._made_by(build))
        assert json.loads(published) == {**dict(given or {}), **made_by}
        assert list(json.loads(published))[:2] == ["build_id", "code_version"]


def test_citations_resolved(kb_db):
    rows = list(kb_db["citations"].rows_where("document_id = ?", [DL]))
    by_number = {r["doc_number"]: r for r in rows}
    assert by_number[P25]["in_corpus"] == 1 and by_number[P25]["target_document_id"] == P25
    assert by_number["大人社发〔2019〕378号"]["in_corpus"] == 0
    assert by_number["大人社发〔2019〕378号"]["target_document_id"] == "大人社发〔2019〕378号"


def test_parameters_unresolved_coverage(kb_db):
    assert kb_db["parameters"].count > 50
    u = kb_db["unresolved"].get(f"{DL}:七")
    assert u["reason"] == "counterpart-missing" and u["likely_document_id"] == P25
    assert kb_db["coverage"].count > 0


def test_sources(kb_db):
    rows = {r["path"]: r for r in kb_db["sources"].rows}
    assert len(rows) == 4
    for path, row in rows.items():
        assert row["sha256"] == _sha(CORPUS / path) and row["parsed"] == 1
        assert row["bytes"] == (CORPUS / path).stat().st_size
    gazette = rows["2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"]
    assert any(d["reason"] == "portal-footer" for d in json.loads(gazette["discarded"]))
    assert json.loads(gazette["manifest"])["seed"] == "004_6de813b4fd071fbf.txt"


def test_build_row(kb_db, kb_build):
    b = kb_db["builds"].get(kb_build.build.id)
    assert b["started"] <= b["finished"]
    assert b["code_version"].startswith("0.1.0+")
    expected = corpus_hash({p.name: _sha(p) for p in CORPUS.iterdir() if p.name != "manifest.toml"})
    assert b["corpus_hash"] == expected
    counts = json.loads(b["counts"])
    assert counts["documents"] == 5 and counts["clauses"] == kb_db["clauses"].count
    assert sum(counts["links"].values()) == kb_db["links"].count


def test_problems_recorded(kb_db, kb_build):
    rows = list(kb_db["problems"].rows)
    assert rows and all(r["build_id"] == kb_build.build.id for r in rows)
    assert any(r["path"].startswith("2020-11-24_dalian") and r["severity"] == "warning" for r in rows)


def test_views(kb_db):
    row = next(kb_db.query("select * from city_vs_province where city_clause_id = ?", [f"{DL}:三"]))
    assert row["provincial_clause_id"] == f"{P25}:二/（六）" and row["relation"] == "implements"
    assert row["city_jurisdiction"] == "大连市" and row["provincial_jurisdiction"] == "辽宁省"
    assert row["city_text"] and row["provincial_text"] and json.loads(row["evidence"])
    assert len(list(kb_db.query("select * from unresolved_clauses"))) == kb_db["unresolved"].count
    summary = next(kb_db.query("select * from coverage_summary where city_document_id = ? and provincial_document_id = ?", [DL, P25]))
    rows = list(kb_db["coverage"].rows_where("city_document_id = ? and provincial_document_id = ?", [DL, P25]))
    assert summary["total"] == len(rows) and summary["restated"] == sum(r["restated"] for r in rows)
    missing = [kb_db["clauses"].get(r["provincial_clause_id"])["path"] for r in rows if not r["restated"]]
    assert (summary["not_restated"] or "").split("; ") == (missing or [""])


# ---------------------------------------------------------------------------------------------
# publish() on hand-built records


def _hand_parse(text: str = "一、<b>补贴</b>标准") -> CorpusParse:
    source = Source("x.txt", "0" * 64, "utf-8", len(text.encode()), text=text)
    clause = Clause(id="测〔2024〕1号:一", document_id="测〔2024〕1号", path="一", label="一", kind="item", heading=None, text=text[2:], start=0, end=len(text))
    doc = Document(
        id="测〔2024〕1号",
        doc_number="测〔2024〕1号",
        title="测试通知",
        level="city",
        jurisdiction="大连市",
        province="辽宁省",
        issued="2024-01-01",
        issuers=["大连市人力资源和社会保障局"],
        implements=["辽人社发〔2099〕1号"],
        clauses=[clause],
        source=source,
        end=len(text),
    )
    return CorpusParse([ParsedFile(source, [doc])], [Problem("bad.txt", 3, "no notice here")])


def test_publish_hand_built_records(memory_db):
    info = BuildInfo(id=7, started="2024-01-01T00:00:00+00:00", code_version="test", corpus="c", corpus_hash="h")
    counts = publish(memory_db, _hand_parse(), LinkResult(), info)
    assert counts["documents"] == 1 and counts["placeholders"] == 1 and counts["links"] == {}
    assert memory_db["documents"].get("辽人社发〔2099〕1号")["placeholder"] == 1
    assert memory_db["documents"].get("测〔2024〕1号")["implements_document_id"] == "辽人社发〔2099〕1号"
    assert memory_db["clauses"].get("测〔2024〕1号:一")["byte_end"] == len("一、<b>补贴</b>标准".encode())
    problem = next(memory_db["problems"].rows)
    assert (problem["path"], problem["line"], problem["build_id"]) == ("bad.txt", 3, 7)
    assert memory_db["builds"].get(7)["counts"]


def test_publish_links_need_both_clauses(memory_db):
    parsed = _hand_parse()
    link = Link("测〔2024〕1号:一", "测〔2024〕1号:一", "implements", 0.9, {"why": "test"})
    info = BuildInfo(id=1, started="s", code_version="v", corpus="c", corpus_hash="h")
    publish(memory_db, parsed, LinkResult(links=[link]), info)
    assert memory_db["links"].get(1)["why"] == "test"


# ---------------------------------------------------------------------------------------------
# build(): errors, history, bad files, atomic replacement


def test_missing_corpus_is_an_error(tmp_path):
    with pytest.raises(NotFoundError, match="corpus directory not found"):
        build(tmp_path / "nope", tmp_path / "kb.db")


def test_empty_corpus_is_an_error(tmp_path):
    (tmp_path / "c").mkdir()
    with pytest.raises(KbError, match="no files to parse"):
        build(tmp_path / "c", tmp_path / "kb.db")


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Dalian's notice and the provincial one it implements: quick to build, with links."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt", "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


def test_bad_files_are_recorded_and_the_rest_built(small_corpus, tmp_db_path):
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (small_corpus / "sub").mkdir()
    (small_corpus / "sub" / "nothing.txt").write_text("这不是一份通知。\n", encoding="utf-8")
    report = build(small_corpus, tmp_db_path)
    db = sqlite_utils.Database(tmp_db_path)
    assert {d["id"] for d in db["documents"].rows_where("placeholder = 0")} == {P25, DL}
    errors = {r["path"]: r for r in db["problems"].rows_where("severity = 'error'")}
    assert set(errors) == {"empty.txt", "binary.bin", "sub/nothing.txt"}
    assert all(r["message"] for r in errors.values())
    assert {p.path for p in report.failed_files} == set(errors)
    failed = {r["path"]: r for r in db["sources"].rows_where("parsed = 0")}
    assert set(failed) == set(errors)
    assert failed["binary.bin"]["sha256"] == _sha(small_corpus / "binary.bin") and failed["empty.txt"]["bytes"] == 0
    assert report.counts["files"] == 5 and report.counts["files_failed"] == 3


def test_rebuild_keeps_build_history(small_corpus, tmp_db_path):
    first = build(small_corpus, tmp_db_path)
    second = build(small_corpus, tmp_db_path)  # nothing changed: the rows stay, a builds row is added
    db = sqlite_utils.Database(tmp_db_path)
    assert [b["id"] for b in db["builds"].rows] == [first.build.id, second.build.id] == [1, 2]
    assert {r["build_id"] for r in db["links"].rows} == {1}  # kept links name the build that made them
    db.close()
    third = build(small_corpus, tmp_db_path, full=True)
    db = sqlite_utils.Database(tmp_db_path)
    assert [b["id"] for b in db["builds"].rows] == [1, 2, third.build.id] == [1, 2, 3]
    assert {r["build_id"] for r in db["links"].rows} == {3}
    assert not list(tmp_db_path.parent.glob("kb.db.tmp-*"))


# A build fails or is killed half-way through writing: a full write (its search indexes being
# built beside it) or an incremental one (the rows of what changed deleted from the copy).
_MIDWAY = [pytest.param(True, "_create_indexes", id="full"), pytest.param(False, "_insert_rows", id="incremental")]


@pytest.mark.parametrize("full, step", _MIDWAY)
def test_failed_build_leaves_the_old_database(small_corpus, tmp_db_path, monkeypatch, full, step):
    build(small_corpus, tmp_db_path)
    before = _sha(tmp_db_path)
    updates = []
    monkeypatch.setattr(publish_mod, "_update", lambda *a: updates.append(a) or _update(*a))

    def boom(db, *args):
        assert db["clauses"].count > 0  # half the database is written when this runs
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(publish_mod, step, boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build(small_corpus, tmp_db_path, full=full)
    assert bool(updates) is not full  # the path meant
    assert _sha(tmp_db_path) == before
    assert sorted(p.name for p in tmp_db_path.parent.iterdir() if p.is_file()) == ["kb.db"]


_SLOW_BUILD = """
import sys, time
from pathlib import Path
import kb.publish
from kb.cli import cli

def slow(db, *args):
    Path(sys.argv[3]).write_text("writing")
    time.sleep(60)

setattr(kb.publish, sys.argv[4], slow)
cli(["build", "--corpus", sys.argv[1], "--db", sys.argv[2]] + (["--full"] if sys.argv[5] == "full" else []))
"""


@pytest.mark.parametrize("full, step", _MIDWAY)
def test_killed_build_leaves_the_old_database(small_corpus, tmp_db_path, tmp_path, full, step):
    build(small_corpus, tmp_db_path)
    before = _sha(tmp_db_path)
    marker = tmp_path / "midway"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_BUILD, str(small_corpus), str(tmp_db_path), str(marker), step, "full" if full else ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the build ended before it was half written"
            assert time.monotonic() < deadline, "the build never got midway"
            time.sleep(0.05)
        temps = list(tmp_db_path.parent.glob("kb.db.tmp-*"))
        halves = [p for p in temps if "-search-" not in p.name and not p.name.endswith("-journal")]
        assert len(halves) == 1 and halves[0].stat().st_size > 0  # half a database, beside the old one
        if full:
            assert any("-search-" in p.name for p in temps)  # and the scratch file of its search index
        assert list(tmp_db_path.parent.glob("kb.db.cache/*/link.pickle.tmp-*"))  # the linker's state, waiting to land
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert _sha(tmp_db_path) == before
    assert sqlite_utils.Database(tmp_db_path)["documents"].count > 0
    # The next build clears the dead build's temp files and replaces the database.
    build(small_corpus, tmp_db_path)
    assert not list(tmp_db_path.parent.glob("kb.db.tmp-*"))
    assert not list(tmp_db_path.parent.glob("kb.db.cache/*/link.pickle.tmp-*"))  # the linker's state waited there
    assert list(tmp_db_path.parent.glob("kb.db.cache/*/link.pickle"))
    assert [b["id"] for b in sqlite_utils.Database(tmp_db_path)["builds"].rows] == [1, 2]
