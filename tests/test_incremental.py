"""Incremental builds: a rebuild parses only changed files and links only what a change touches,
and ends with the database a full build of the same corpus makes."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kb import cache
from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
DALIAN = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
P25 = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql))
    finally:
        conn.close()


def _links(db: Path) -> list[tuple]:
    return _rows(db, "select source_clause_id, target_clause_id, relation, score, why from links")


def _content(db: Path) -> dict:
    """What a reader sees, build ids aside."""
    return {
        "links": _links(db),
        "clauses": _rows(db, "select id, heading, text, source_sha256, byte_start, byte_end from clauses"),
        "unresolved": _rows(db, "select clause_id, reason, best_candidate_id, best_score from unresolved"),
        "parameters": _rows(db, "select clause_id, kind, value, bound, text from parameters"),
        "coverage": _rows(db, "select city_document_id, provincial_clause_id, restated from coverage"),
    }


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "data" / "seeds", target)  # the seed notices, copied
    return target


def _full(corpus: Path, tmp_path: Path) -> Path:
    db = tmp_path / "reference.db"
    build(corpus, db, full=True)
    return db


def test_an_unchanged_corpus_is_served_from_the_cache(corpus, tmp_path):
    db = tmp_path / "kb.db"
    first = build(corpus, db)
    assert first.counts["incremental"]["files_parsed"] == 4
    assert first.counts["incremental"]["documents_reused"] == 0
    before = _content(db)
    again = build(corpus, db)
    assert again.counts["incremental"] == {"files_parsed": 0, "files_from_cache": 4, "documents_linked": 0, "documents_reused": 5}
    assert _content(db) == before
    assert again.build.id == first.build.id + 1


def test_a_changed_city_file_is_parsed_and_linked_alone(corpus, tmp_path):
    db = tmp_path / "kb.db"
    build(corpus, db)
    # Dalian fixes a wider uplift: a number changed in one item of one city file.
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    report = build(corpus, db)
    assert report.counts["incremental"] == {"files_parsed": 1, "files_from_cache": 3, "documents_linked": 1, "documents_reused": 4}
    assert _content(db) == _content(_full(corpus, tmp_path))
    changed = _rows(db, "select text from clauses where id = '大人社发〔2020〕391号:三'")
    assert "18个月" in changed[0][0]


def test_a_changed_provincial_file_relinks_the_cities_standing_on_it(corpus, tmp_path):
    db = tmp_path / "kb.db"
    build(corpus, db)
    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    report = build(corpus, db)
    reuse = report.counts["incremental"]
    assert reuse["files_parsed"] == 1
    # 25号 itself and Dalian, which names it, at least (in the seeds every notice touches 25号:
    # Fushun's runner-up candidates, 7号's and 22号's succession)
    assert reuse["documents_linked"] >= 2
    assert _content(db) == _content(_full(corpus, tmp_path))
    ev = _rows(db, "select evidence from links where source_clause_id = '大人社发〔2020〕391号:三'")[0][0]
    assert "40%" in ev  # the city's 50% is now compared with the province's new bound


def test_full_ignores_the_cache(corpus, tmp_path):
    db = tmp_path / "kb.db"
    build(corpus, db)
    report = build(corpus, db, full=True)
    assert report.counts["incremental"]["files_parsed"] == 4
    assert report.counts["incremental"]["documents_reused"] == 0


def test_a_corrupt_link_state_means_a_full_link_not_an_error(corpus, tmp_path):
    db = tmp_path / "kb.db"
    build(corpus, db)
    before = _content(db)
    state = cache.code_dir(cache.cache_dir_for(db), cache.code_fingerprint()) / "link.pickle"
    assert state.is_file()
    state.write_bytes(b"not a pickle")
    report = build(corpus, db)
    assert report.counts["incremental"]["documents_reused"] == 0
    assert _content(db) == before


def test_other_code_reuses_nothing_and_its_cache_is_pruned(corpus, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    build(corpus, db)
    old = cache.code_fingerprint()
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "0123456789abcdef")
    report = build(corpus, db)
    assert report.counts["incremental"]["files_parsed"] == 4
    assert report.counts["incremental"]["documents_reused"] == 0
    root = cache.cache_dir_for(db)
    assert (root / "0123456789abcdef").is_dir() and not (root / old).exists()


def test_a_failed_build_leaves_the_previous_state(corpus, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    build(corpus, db)
    state = cache.code_dir(cache.cache_dir_for(db), cache.code_fingerprint()) / "link.pickle"
    saved = state.read_bytes()
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    from kb import publish as publish_mod

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_mod, "publish", broken)
    with pytest.raises(RuntimeError):
        build(corpus, db)
    assert state.read_bytes() == saved  # the state still matches the database in place
    assert list(tmp_path.glob("kb.db.tmp-*")) == []  # the copy it was updating is gone


def _latest(corpus: Path) -> list:
    from kb.parse import parse_corpus
    from kb.versions import assign_versions

    return assign_versions(parse_corpus(corpus, workers=1).documents)[0]


def test_a_partial_link_holds_the_recomputed_shares_and_completes_to_a_full_run(corpus):
    from kb.link import complete_result, link

    first = link(_latest(corpus), workers=1)
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    documents = _latest(corpus)
    partial = link(documents, workers=1, previous=first.state, complete=False)
    full = link(documents, workers=1)
    dalian = "大人社发〔2020〕391号"
    assert partial.reuse.partial and partial.reuse.recomputed == [dalian]
    assert partial.links and {k.source_clause_id.split(":")[0] for k in partial.links} == {dalian}
    assert partial.coverage and {c.city_document_id for c in partial.coverage} == {dalian}
    assert [c for c in full.coverage if c.city_document_id == dalian] == partial.coverage
    assert len(partial.links) < len(full.links)
    complete_result(partial, documents)
    assert not partial.reuse.partial
    for name in ("links", "unresolved", "coverage", "parameters"):
        assert getattr(partial, name) == getattr(full, name), name


def test_a_city_implementing_a_changed_notice_is_relinked_for_its_coverage(corpus):
    """Even when none of its links or candidates stood on that notice: its coverage rows list
    the notice's clauses."""
    from kb.link import Kept, LinkState, link

    first = link(_latest(corpus), workers=1)
    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    p25 = "辽政办发〔2020〕25号"
    implementing = sorted(d for d, targets in first.state.implemented.items() if p25 in targets)
    assert implementing
    # As if nothing of theirs had stood on 25号.
    kept = {d: Kept(k.fingerprint, k.stood_on - {p25}, k.blob) for d, k in first.state.documents.items()}
    again = link(_latest(corpus), workers=1, previous=LinkState(first.state.code, kept, first.state.implemented))
    for city in implementing:
        assert again.reuse.reasons[city].startswith("implements a changed notice"), again.reuse.reasons.get(city)


def test_the_index_is_saved_and_reused_until_a_provincial_notice_changes(corpus, monkeypatch):
    from kb import link as link_mod

    first = link_mod.link(_latest(corpus), workers=1)
    assert first.state.index is not None
    _edit(corpus / DALIAN, "执行期限自本文印发之日起12个月", "执行期限自本文印发之日起18个月")
    documents = _latest(corpus)
    full = link_mod.link(documents, workers=1)
    assert full.state.index.key == first.state.index.key  # the same provincial notices

    def rebuilt(*args):
        raise AssertionError("the index was rebuilt")

    with monkeypatch.context() as patched:
        patched.setattr(link_mod, "_build_index", rebuilt)
        again = link_mod.link(documents, workers=1, previous=first.state)
    assert again.state.index is first.state.index
    for name in ("links", "unresolved", "coverage", "parameters"):
        assert getattr(again, name) == getattr(full, name), name

    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    after = link_mod.link(_latest(corpus), workers=1, previous=again.state)
    assert after.state.index.key != first.state.index.key


def test_after_a_provincial_change_the_index_localises_that_notice_alone(corpus, monkeypatch):
    """The index over the changed notices takes the localised forms of the unchanged ones from
    the saved index, and is the index a run from nothing builds."""
    from kb import link as link_mod

    first = link_mod.link(_latest(corpus), workers=1)
    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    documents = _latest(corpus)
    indexed = sorted((d for d in documents if d.level in ("province", "national")), key=link_mod._scope_key)
    fingerprints = [link_mod.document_fingerprint(d) for d in indexed]
    assert len(indexed) >= 2

    localised = []
    make_entry = link_mod._make_entry
    monkeypatch.setattr(link_mod, "_make_entry", lambda clause, doc: localised.append(doc.id) or make_entry(clause, doc))
    link_mod._ENTRY_CACHE.clear()
    partly, partly_text = link_mod._build_index(indexed, first.state.index, fingerprints)
    assert set(localised) == {"辽政办发〔2020〕25号"}
    link_mod._ENTRY_CACHE.clear()
    fresh, fresh_text = link_mod._build_index(indexed)
    link_mod._ENTRY_CACHE.clear()
    assert len(set(localised)) == len(indexed)

    def forms(index):
        return [(e.clause.id, e.local, e.local_text, e.heading, e.localisation) for e in index.entries]

    assert forms(partly) == forms(fresh)
    # An unchanged notice's text is made when a link to it is classified, the same text
    assert set(partly_text) == {"辽政办发〔2020〕25号"}
    assert {doc_id: partly_text[doc_id] for doc_id in fresh_text} == fresh_text
    for name in ("alphabet", "grams", "starts", "postings"):
        assert getattr(partly, name).tolist() == getattr(fresh, name).tolist(), name


def test_only_the_changed_clauses_of_a_changed_notice_are_checked_against_every_other(corpus):
    from kb.link import changed_clauses, link

    first = link(_latest(corpus), workers=1)
    p25 = "辽政办发〔2020〕25号"
    _edit(corpus / P25, "可预拨不超过50%的一次性吸纳就业补贴", "可预拨不超过40%的一次性吸纳就业补贴")
    notice = next(d for d in _latest(corpus) if d.id == p25)
    changed = changed_clauses([notice], first.state)
    assert [c.id for c, _ in changed] == [c.id for c in notice.clauses if "不超过40%的一次性吸纳就业补贴" in c.text]
    assert len(changed) == 1 and len(notice.clauses) > 10
    # a notice the previous run did not have: every linkable clause is new
    assert len(changed_clauses([notice], type(first.state)(first.state.code))) > 10


def test_records_come_back_from_a_pickle_whole(tmp_path):
    """The caches hold pickled records (``kb.model``'s slotted ones pickle as their fields'
    values): every field comes back, the provenance ones that equality leaves out too."""
    import dataclasses
    import pickle

    from kb.link import link
    from kb.parse import parse_corpus
    from kb.versions import assign_versions

    parsed = parse_corpus(ROOT / "tests" / "data" / "seeds")
    documents, _ = assign_versions(parsed.documents)
    linked = link(documents)
    records = {
        "Clause": [c for d in documents for c in d.clauses],
        "Citation": [c for d in documents for c in d.citations],
        "Parameter": linked.parameters,
        "Link": linked.links,
        "DocRelation": linked.relations,
        "Unresolved": linked.unresolved,
        "Coverage": linked.coverage,
    }
    for name, values in records.items():
        assert values, f"the seeds make no {name}"
        back = pickle.loads(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
        for a, b in zip(values, back, strict=True):
            assert type(b) is type(a) and type(a).__name__ == name
            every = [f.name for f in dataclasses.fields(a)]
            assert [getattr(b, f) for f in every] == [getattr(a, f) for f in every], name
        provenance = [f.name for f in dataclasses.fields(values[0]) if not f.compare]
        if provenance:  # equality would not see them: they are set, and came back
            assert all(any(getattr(a, f) not in (0, "", None, []) for a in values) for f in provenance), name
