"""Linking on the real seeds; expectations read by hand from the notices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import link as link_mod
from kb.link import link, localise
from kb.parse import parse_bytes, parse_corpus, parse_file

ROOT = Path(__file__).resolve().parent.parent
FUSHUN_FILE = ROOT / "corpus" / "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"
DL = "大人社发〔2020〕391号"
FS = "抚人社发〔2021〕20号"
P25 = "辽政办发〔2020〕25号"
P7 = "辽人社发〔2021〕7号"
P22 = "辽人社〔2022〕22号"


@pytest.fixture(scope="module")
def corpus():
    return parse_corpus(ROOT / "corpus")


@pytest.fixture(scope="module")
def result(corpus):
    return link(corpus.documents)


def _links_from(result, clause_id):
    return [l for l in result.links if l.source_clause_id == clause_id and l.relation != "succeeds"]


def _one(result, clause_id):
    found = _links_from(result, clause_id)
    assert len(found) == 1, f"{clause_id}: {found}"
    return found[0]


@pytest.mark.parametrize(
    "city_path, provincial_path, relation",
    [
        ("一", "一/（二）", "implements"),  # 电商直播 support restated verbatim
        ("二", "二/（五）", "implements"),  # 加大援企稳岗力度
        ("三", "二/（六）", "implements"),  # 加大吸纳就业补贴力度
        ("四", "三/（七）", "implements"),  # fixes the 6-month extension the province left to the cities
        ("五", "三/（八）", "implements"),  # 提供低成本场地支持
        ("六", "四/（十一）", "extends"),  # same heading; adds Dalian standards and a 20% uplift
    ],
)
def test_dalian_items(result, city_path, provincial_path, relation):
    found = _one(result, f"{DL}:{city_path}")
    assert found.target_clause_id == f"{P25}:{provincial_path}"
    assert found.relation == relation
    assert found.evidence["why"]


def test_dalian_item_six_evidence_names_local_notices_and_new_rate(result):
    ev = _one(result, f"{DL}:六").evidence
    assert any("大人社发〔2019〕378号" in r for r in ev["local_references"])
    assert any(c["city"] == "20%" and not c["provincial"] for c in ev["parameter_changes"])
    assert ev["scores"]["heading"] == 1.0  # 实施青年学徒培养计划 on both sides


def test_dalian_four_fills_the_delegated_period(result):
    ev = _one(result, f"{DL}:四").evidence
    assert any("各市" in d for d in ev["delegation"])
    change = next(c for c in ev["parameter_changes"] if c["city"] == "6个月")
    assert change["provincial"] == "最多可延长6个月" and change["within_bound"] is True


@pytest.mark.parametrize("label", ["七", "八", "九", "十", "十一", "十二", "十三", "十四"])
def test_dalian_items_beyond_the_preview_stay_unlinked(result, label):
    clause_id = f"{DL}:{label}"
    assert _links_from(result, clause_id) == []
    unresolved = next(u for u in result.unresolved if u.clause_id == clause_id)
    assert unresolved.reason == "counterpart-missing"
    assert unresolved.likely_document == P25
    assert unresolved.best_score < link_mod.LINK_THRESHOLD


@pytest.mark.parametrize(
    "city_path, provincial_path, relation",
    [
        ("一", "一/（一）", "implements"),
        ("二", "一/（二）", "implements"),  # fills 以工代训补贴标准由各地…确定 with local notices
        ("三", "二/（八）", "implements"),  # fills 证书补贴标准由各市自行确定
        ("四", "三/（十二）", "implements"),  # fills 各市可自行确定继续延长
        ("五", "五/（十六）", "extends"),  # a 15-day deadline and a filing procedure of its own
    ],
)
def test_fushun_items(result, city_path, provincial_path, relation):
    found = _one(result, f"{FS}:{city_path}")
    assert (found.target_clause_id, found.relation) == (f"{P7}:{provincial_path}", relation)


def test_fushun_one_keeps_the_rate_within_the_provincial_cap(result):
    changes = _one(result, f"{FS}:一").evidence["parameter_changes"]
    change = next(c for c in changes if c["city"] == "30%")
    assert change["provincial"] == "不超过30%"
    assert change["within_bound"] is True


def test_fushun_five_sets_its_own_deadline(result):
    ev = _one(result, f"{FS}:五").evidence
    change = next(c for c in ev["parameter_changes"] if c["city"] and "15日" in c["city"])
    assert "30日" in change["provincial"]
    assert "deadline of its own" in ev["why"]


def test_all_eighteen_table_rows_link_to_the_same_provincial_item(result, corpus):
    p7 = next(d for d in corpus.documents if d.id == P7)
    items = [c for c in p7.clauses if c.kind == "item" and "/" in c.path and not c.path.startswith("附件")]
    assert len(items) == 18
    for item in items:
        label = item.label  # （一） … （十八）
        found = _one(result, f"{FS}:附件2/{label}")
        assert found.target_clause_id == item.id
        assert found.relation in ("implements", "extends")
        assert found.score >= link_mod.LINK_THRESHOLD


@pytest.mark.parametrize("label", ["（十一）", "（十六）"])
def test_rows_with_local_provisions_extend(result, label):
    found = _one(result, f"{FS}:附件2/{label}")
    assert found.relation == "extends"
    assert found.evidence["novel"]


def test_novel_words_are_quoted_as_the_city_wrote_them(corpus, result):
    """Each novel piece is a run of the city clause's own text (not its localised form, not
    pieces glued together): issue 28 #5 quoted 完善全地三所高校的办公室…, in neither text."""
    found = _one(result, f"{FS}:附件2/（十一）")
    city = next(c for d in corpus.documents for c in d.clauses if c.id == found.source_clause_id)
    ev = found.evidence
    assert ev["novel"] and all(piece in city.text for piece in ev["novel"])
    assert "完善全市三所高校" in ev["novel"] and all("全地" not in piece for piece in ev["novel"])
    assert "全地" not in ev["why"] and "完善全地三所高校" not in ev["why"]


def test_row_one_localisation_is_recorded(result):
    ev = _one(result, f"{FS}:附件2/（一）").evidence
    found = [x for rule in ev["localisation"]["city"] for x in rule["found"]]
    assert "我市" in found
    assert any(span["op"] == "delete" and "不超过" in span["text"] for span in ev["diff"])


def test_succession_chain_of_the_flexible_employment_extension(result):
    succeeds = {(l.source_clause_id, l.target_clause_id) for l in result.links if l.relation == "succeeds"}
    assert (f"{P7}:三/（十二）", f"{P25}:三/（七）") in succeeds
    assert (f"{P22}:十一", f"{P7}:三/（十二）") in succeeds
    # no succession from a later notice to itself or to a later one
    for src, dst in succeeds:
        assert src.split(":")[0] != dst.split(":")[0]


def test_coverage_of_the_provincial_notices(result):
    fushun = [c for c in result.coverage if c.city_document_id == FS and c.provincial_document_id == P7]
    restated = {c.provincial_clause_id for c in fushun if c.restated}
    assert {f"{P7}:一/（一）", f"{P7}:五/（十八）"} <= restated
    dalian = {c.provincial_clause_id: c.restated for c in result.coverage if c.city_document_id == DL}
    assert dalian[f"{P25}:一/（二）"] is True
    assert dalian[f"{P25}:一/（一）"] is False  # 重大投资项目 is not in the Dalian notice
    assert dalian[f"{P25}:三/（十）"] is False


def test_document_relations(result):
    rels = {(r.source_document_id, r.target_doc_number, r.relation): r for r in result.relations}
    assert (DL, P25, "implements") in rels
    assert (DL, "国办发〔2020〕27号", "cites") in rels
    assert rels[(DL, "国办发〔2020〕27号", "cites")].target_document_id is None  # a placeholder
    implements_7 = rels[(FS, P7, "implements")]
    assert implements_7.cited_title == "关于延续实施部分减负稳岗扩就业政策措施的通知"
    assert implements_7.title_mismatch == "关于延续实施和优化完善减负稳岗扩就业政策措施的通知"
    assert (FS, P7, "attaches") in rels


def test_parameters_are_extracted_for_every_clause(result):
    by_clause = {p.clause_id for p in result.parameters}
    assert f"{P7}:一/（一）" in by_clause
    big = [p for p in result.parameters if p.clause_id == f"{FS}:一" and p.value == 30 and p.unit == "%"]
    assert big and "大型企业" in (big[0].subject or "")


def test_a_rate_beyond_the_provincial_cap_overrides(corpus):
    """Same method, a notice it has not seen: Fushun raising the large-enterprise rate to 40%."""
    text = FUSHUN_FILE.read_text(encoding="utf-8")
    edited = text.replace("大型企业按企业及其职工上年度实际缴纳失业保险费的30%返还", "大型企业按企业及其职工上年度实际缴纳失业保险费的40%返还", 1)
    assert edited != text
    parsed = parse_bytes(edited.encode("utf-8"), "edited.txt")
    provincial = [d for d in corpus.documents if d.level == "province"]
    city = [d for d in parsed.documents if d.id == FS]
    found = _one(link(provincial + city), f"{FS}:一")
    assert found.relation == "overrides"
    change = next(c for c in found.evidence["parameter_changes"] if c["city"] == "40%")
    assert change["provincial"] == "不超过30%" and change["within_bound"] is False
    assert "higher 不超过30%, lower 40% — outside the higher max bound" in found.evidence["why"]
    assert "上级规定「不超过30%」，本市规定「40%」" in found.evidence["why_zh"]


def test_a_city_notice_is_not_linked_to_later_provincial_notices(result, corpus):
    issued = {d.id: d.issued for d in corpus.documents}
    for l in result.links:
        if l.relation == "succeeds":
            continue
        assert issued[l.target_clause_id.split(":")[0]] <= issued[l.source_clause_id.split(":")[0]]


def test_candidates_come_from_the_index_not_all_pairs(corpus, monkeypatch):
    calls = []
    real = link_mod.similarity
    monkeypatch.setattr(link_mod, "similarity", lambda a, b, *batch: calls.append(1) or real(a, b, *batch))
    link(corpus.documents)
    city = [c for d in corpus.documents if d.level == "city" for c in d.clauses if link_mod._linkable(c)]
    provincial = [c for d in corpus.documents if d.level == "province" for c in d.clauses if link_mod._linkable(c)]
    # every query scores at most MAX_CANDIDATES (+ heading matches), far fewer than all pairs
    assert len(calls) < 0.5 * (len(city) + len(provincial)) * len(provincial)



def _pairs(result):
    """City clause -> provincial clause links (succession, a rule among provincial notices
    with no truth to check it against, is left out)."""
    return {(l.source_clause_id, l.target_clause_id, l.relation) for l in result.links if l.relation != "succeeds"}


def test_exhaustive_scores_every_allowed_pair(corpus, monkeypatch):
    calls = []
    real = link_mod.similarity
    monkeypatch.setattr(link_mod, "similarity", lambda a, b, *batch: calls.append(1) or real(a, b, *batch))
    link(corpus.documents)
    indexed = len(calls)
    calls.clear()
    link(corpus.documents, exhaustive=True)
    assert len(calls) > 2 * indexed


def test_exhaustive_finds_the_links_of_the_index_on_the_seeds(corpus, result):
    brute = link(corpus.documents, exhaustive=True)
    assert _pairs(brute) == _pairs(result)
    assert brute.state.code.endswith(":exhaustive")  # never reused by an indexed run

def test_localise_neutralises_only_localisation_words():
    a, applied = localise("在我省参加失业保险的企业，由省人力资源社会保障厅负责")
    b, _ = localise("在我市参加失业保险的企业，由市人力资源社会保障局负责")
    assert a == b
    assert applied[0]["found"] == ["我省"]
    c, _ = localise("在我市参加医疗保险的企业")
    assert c != b


def test_localise_drops_every_whitespace_character_and_only_those():
    """localise drops whitespace with str.split: every character re's \\s matches, and no other."""
    import re

    space = re.compile(r"\s")
    assert all(bool(space.match(chr(c))) == chr(c).isspace() for c in range(0x110000))
    text = "".join(chr(c) for c in range(0x3000 + 1)) + "由省 人力资源\u3000社会保障厅\n负责"
    assert localise(text)[0] == localise(re.sub(r"\s+", "", text))[0]
    assert localise(text)[0].endswith("由本级人力资源社会保障局负责")


@pytest.fixture(scope="module")
def synthetic_documents(tmp_path_factory):
    """80 synthetic notices (scripts/make_corpus), parsed: enough for the parallel path."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_corpus"), "--notices", "80", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return parse_corpus(out / "corpus").documents


def test_forked_workers_give_the_serial_result(synthetic_documents):
    serial = link(synthetic_documents, workers=1)
    forked = link(synthetic_documents, workers=2)
    assert len(serial.links) > 100 and serial.unresolved
    assert forked.links == serial.links  # same links, same order, same evidence
    assert [l.evidence for l in forked.links] == [l.evidence for l in serial.links]
    assert forked.unresolved == serial.unresolved
    assert forked.parameters == serial.parameters
    assert forked.coverage == serial.coverage
    # the index is saved in this process while the workers link, as it is without them
    saved, expected = forked.state.index, serial.state.index
    assert (saved.key, saved.blob, saved.layout) == (expected.key, expected.blob, expected.layout)
    assert all(np.array_equal(a, b) for a, b in zip(saved.postings, expected.postings, strict=True))


def _provincial_edit(documents, first, edit):
    """The documents with one clause of a provincial notice edited, and a city notice of its
    province that did not stand on it (only the check can find that one)."""
    from dataclasses import replace

    notices = [d for d in documents if d.level == "province" and d.issued]
    notice, city = next((n, c) for n in notices for c in documents
                        if link_mod._is_city(c) and c.province == n.province and (c.issued or "") >= n.issued
                        and n.id not in first.state.documents[c.id].stood_on | first.state.implemented.get(c.id, set()))
    k = next(k for k, c in enumerate(notice.clauses) if link_mod._linkable(c) and len(c.text) > 40)
    if edit == "restates a city clause":
        words = next(c.text for c in city.clauses if link_mod._linkable(c) and len(c.text) > 40)
    else:
        text = notice.clauses[k].text
        words = text[: len(text) // 2] + "各地要按季度报送工作进展情况。" + text[len(text) // 2 :]
    clauses = notice.clauses[:k] + [replace(notice.clauses[k], text=words)] + notice.clauses[k + 1 :]
    changed = replace(notice, clauses=clauses, source=replace(notice.source, sha256="0" * 64))
    return [changed if d is notice else d for d in documents], city


@pytest.mark.parametrize("edit", ["restates a city clause", "adds a sentence"])
def test_after_a_provincial_change_an_incremental_link_is_a_full_link(synthetic_documents, edit):
    """After a provincial notice changes, every other document is checked (``_retrieval_changed``,
    over forked workers for a large corpus) and the ones the change may concern are linked
    again: the result must be a full link's, links, evidence (runner-up candidates included)
    and unresolved clauses alike, with forked workers as in one process. The index's counts are
    the whole corpus's, so an edit anywhere moves which trigrams are rarest for clauses of
    every province: a check of scores alone missed those (runner-ups, and some targets, differed)."""
    first = link(synthetic_documents, workers=1)
    documents, city = _provincial_edit(synthetic_documents, first, edit)
    full = link(documents, workers=1)
    serial = link(documents, workers=1, previous=first.state)
    forked = link(documents, workers=2, previous=first.state)
    assert serial.reuse.reused > 0 and forked.reuse.reasons == serial.reuse.reasons
    if edit == "restates a city clause":
        assert city.id in serial.reuse.reasons
    for result in (serial, forked):
        assert result.links == full.links and [l.evidence for l in result.links] == [l.evidence for l in full.links]
        assert result.unresolved == full.unresolved and result.coverage == full.coverage


def _held(saved):
    """{trigram: how many clauses hold it} of a saved index."""
    alphabet, grams, starts, _ = saved.postings
    bits = link_mod._bits(len(alphabet))
    mask = (1 << bits) - 1
    chars = [chr(c) for c in alphabet.tolist()]
    return {chars[g >> 2 * bits] + chars[(g >> bits) & mask] + chars[g & mask]: int(starts[r + 1] - starts[r])
            for r, g in enumerate(grams.tolist())}


@pytest.mark.parametrize("edit", ["restates a city clause", "adds a sentence"])
def test_the_check_passes_over_a_document_only_where_its_full_reasoning_would(synthetic_documents, monkeypatch, edit):
    """``_retrieval_changed`` ends early for a document that no changed clause may stand on
    and whose text holds none of the ``shifted`` trigrams (``_holds_trigram``). Those must be exactly the trigrams
    whose rarity class (the power of two below the number of clauses holding it) or presence
    differs between the two indexes, and the documents it marks, with the reasons, must be those
    its full reasoning marks."""
    first = link(synthetic_documents, workers=1)
    documents, _ = _provincial_edit(synthetic_documents, first, edit)
    changes, early = [], []
    real_change_of, real_holds_trigram = link_mod._change_of, link_mod._holds_trigram
    monkeypatch.setattr(link_mod, "_change_of", lambda *a: changes.append(real_change_of(*a)) or changes[-1])
    monkeypatch.setattr(link_mod, "_holds_trigram", lambda texts, codes: early.append(not real_holds_trigram(texts, codes)) or not early[-1])
    quick = link(documents, workers=1, previous=first.state)

    before, now = _held(first.state.index), _held(link(documents, workers=1).state.index)
    def rarity(n):
        return max(n, 1).bit_length() - 1
    moved = {t for t in before.keys() | now.keys() if (t in before) != (t in now) or rarity(before.get(t, 0)) != rarity(now.get(t, 0))}
    (change,) = changes
    shifted = {"".join(chr((c >> shift) & 0x1FFFFF) for shift in (42, 21, 0)) for c in change.shifted.tolist()}
    assert shifted == moved and moved  # an edit moves a few trigrams, never none here

    monkeypatch.setattr(link_mod, "_holds_trigram", lambda texts, codes: True)  # every document reasoned in full
    full = link(documents, workers=1, previous=first.state)
    if edit == "adds a sentence":
        # Every document of another province ends early. (The restated city clause's trigrams,
        # new to the index, are in the city notices' own texts: none of them ends early.)
        assert early and all(early)
    assert quick.reuse.reasons == full.reuse.reasons  # where ended early, as the full reasoning says
    assert quick.links == full.links


@pytest.mark.parametrize("edit", ["restates a city clause", "adds a sentence"])
def test_the_check_hands_may_rank_the_rarest_trigrams_rarest_would_choose(synthetic_documents, monkeypatch, edit):
    """``_retrieval_changed`` passes each query's rarest trigrams, as it chose them in code point
    order, to ``_may_rank`` as rows of the index: they must be the rows ``index.rarest`` reads."""
    first = link(synthetic_documents, workers=1)
    documents, _ = _provincial_edit(synthetic_documents, first, edit)
    handed = []
    real_may_rank = link_mod._may_rank

    def may_rank(run, doc, query, entry, share, before=None, allowed=None, span=None, rarest=None):
        handed.append((sorted(rarest.tolist()), sorted(run.index.rarest(query).tolist())))
        return real_may_rank(run, doc, query, entry, share, before, allowed, span, rarest)

    monkeypatch.setattr(link_mod, "_may_rank", may_rank)
    link(documents, workers=1, previous=first.state)
    assert handed and all(given == chosen for given, chosen in handed)
    assert any(given for given, _ in handed)


@given(st.lists(st.text(alphabet="就业补贴资金本地", max_size=12), max_size=4), st.lists(st.text(alphabet="就业补贴资金本地", min_size=3, max_size=3), max_size=4))
@settings(max_examples=200, deadline=None)
def test_holds_trigram_is_a_substring_search(texts, trigrams):
    codes = np.array(sorted({(ord(t[0]) << 42) | (ord(t[1]) << 21) | ord(t[2]) for t in trigrams}), dtype=np.int64)
    assert link_mod._holds_trigram(texts, codes) == any(t in text for t in trigrams for text in texts)


def test_an_edited_clause_matters_to_a_clause_it_did_not_rank_only_if_it_now_may(synthetic_documents):
    """``_may_rank``: a provincial clause among a city clause's candidates, but below what it
    keeps (its best candidate when unresolved, its best four when linked), concerns it after
    an edit only if its new score may reach them."""
    from dataclasses import replace

    first = link(synthetic_documents, workers=1)
    link_mod._ENTRY_CACHE.clear()
    indexed = sorted((d for d in synthetic_documents if d.level in ("province", "national")), key=link_mod._scope_key)
    index, notice_text = link_mod._build_index(indexed)
    implemented = link_mod._implemented_ids(synthetic_documents, link_mod.document_relations(synthetic_documents))
    run = link_mod._Run(synthetic_documents, index, implemented, {d.id: d for d in synthetic_documents}, notice_text)

    def below_what_it_keeps():
        # an unresolved city clause's candidate scoring below its best one, or a linked
        # clause's below its best four (with fewer kept, any candidate may enter them)
        for doc in synthetic_documents:
            if not link_mod._is_city(doc):
                continue
            share = first.state.documents[doc.id].output()
            clauses = {c.id: c for c in doc.clauses}
            kept = [(u.clause_id, {u.best_candidate_id}, [u.best_score]) for u in share.unresolved]
            kept += [(l.source_clause_id, {l.target_clause_id} | {c["clause_id"] for c in l.evidence["candidates"]},
                      [l.score] + [c["score"] for c in l.evidence["candidates"]]) for l in share.links]
            for clause_id, best, scores in kept:
                if clause_id not in {u.clause_id for u in share.unresolved} and len(scores) < 4:
                    continue
                query = link_mod._entry(clauses[clause_id], doc)
                for k in index.candidates(query, index.allowed_for_city(doc)):
                    entry = index.entries[k]
                    score = link_mod.similarity(query, entry)["combined"] + (link_mod.IMPLEMENTED_BONUS if entry.doc.id in implemented.get(doc.id, set()) else 0)
                    if entry.clause.id not in best and score < min(scores) - 0.01:
                        return doc, query, entry, share
        raise AssertionError("no candidate below what a clause keeps in the synthetic corpus")

    doc, query, entry, share = below_what_it_keeps()
    assert not link_mod._may_rank(run, doc, query, entry, share)
    # the same clause (same place in the index, same candidates), now restating the city clause
    restating = replace(entry, local=query.local, local_text=query.local_text, heading=query.heading)
    assert link_mod._may_rank(run, doc, query, restating, share)


@pytest.fixture(scope="module")
def more_synthetic_documents(tmp_path_factory):
    """300 synthetic notices, parsed: enough notices per province that a clause scores
    candidates of notices it does not stand on (80 have none)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("synthetic300")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_corpus"), "--notices", "300", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return parse_corpus(out / "corpus").documents


def test_a_clause_scored_but_not_kept_concerns_the_query_when_an_edit_lifts_it(more_synthetic_documents):
    """A city clause that scored a fifth candidate and kept four (its link and three runner-ups)
    did not stand on that fifth's notice. When the fifth is edited to restate the city clause,
    the check must still find the city notice (``_may_rank``: the new score reaches what it
    keeps), and the incremental link must be what a full link finds."""
    from dataclasses import replace

    first = link(more_synthetic_documents, workers=1)
    link_mod._ENTRY_CACHE.clear()
    indexed = sorted((d for d in more_synthetic_documents if d.level in ("province", "national")), key=link_mod._scope_key)
    index, _ = link_mod._build_index(indexed)
    implemented = link_mod._implemented_ids(more_synthetic_documents, link_mod.document_relations(more_synthetic_documents))

    def scored_not_kept():
        for doc in more_synthetic_documents:
            if not link_mod._is_city(doc):
                continue
            kept = first.state.documents[doc.id]
            named = [index.doc_range[i] for i in sorted(implemented.get(doc.id, set())) if i in index.doc_range]
            for clause in doc.clauses:
                if not link_mod._linkable(clause):
                    continue
                query = link_mod._entry(clause, doc)
                scored = link_mod._score_candidates(index, query, index.allowed_for_city(doc), named, implemented.get(doc.id, set()))
                if len(scored) > 4 and scored[0][0] >= link_mod.LINK_THRESHOLD:
                    for _, _, entry in scored[4:]:
                        if entry.doc.id not in kept.stood_on | implemented.get(doc.id, set()):
                            return doc, clause, entry
        raise AssertionError("no clause scored but not kept in the synthetic corpus")

    doc, clause, entry = scored_not_kept()
    notice = next(d for d in more_synthetic_documents if d.id == entry.doc.id)
    clauses = [replace(c, text=clause.text) if c.id == entry.clause.id else c for c in notice.clauses]
    changed = replace(notice, clauses=clauses, source=replace(notice.source, sha256="1" * 64))
    documents = [changed if d is notice else d for d in more_synthetic_documents]
    incremental, full = link(documents, workers=1, previous=first.state), link(documents, workers=1)
    assert doc.id in incremental.reuse.reasons
    assert incremental.links == full.links and [l.evidence for l in incremental.links] == [l.evidence for l in full.links]
    assert next(l for l in full.links if l.source_clause_id == clause.id).target_clause_id == entry.clause.id  # it lifted it


def test_exhaustive_and_indexed_agree_on_synthetic_notices(synthetic_documents):
    """The index prunes candidates that would not have won: all-pairs scoring of 80 notices
    finds the same links (scripts/bench measures the same at scale)."""
    indexed, brute = _pairs(link(synthetic_documents, workers=1)), _pairs(link(synthetic_documents, workers=1, exhaustive=True))
    assert len(brute) > 100
    assert len(indexed & brute) >= 0.98 * len(brute)

# The trigram index: postings and counts in numpy must be what sets of trigrams say.

_ALPHABET = "就业补贴稳岗返还失业保险我省市各县区，。、；0123456789ab\U00020000"


def _naive_postings(texts: list[str]) -> dict[str, list[int]]:
    postings: dict[str, list[int]] = {}
    for k, text in enumerate(texts):
        for gram in sorted(link_mod._trigrams(text)):
            postings.setdefault(gram, []).append(k)
    return postings


@given(st.lists(st.text(alphabet=_ALPHABET, max_size=30), max_size=12))
@settings(max_examples=200, deadline=None)
def test_index_postings_equal_sets_of_trigrams(texts):
    alphabet, grams, starts, postings = link_mod._postings(texts)
    expected = _naive_postings(texts)
    bits = link_mod._bits(len(alphabet))
    got = {}
    for row, code in enumerate(grams.tolist()):
        chars = [(code >> (2 * bits)), (code >> bits) & ((1 << bits) - 1), code & ((1 << bits) - 1)]
        gram = "".join(chr(int(alphabet[c])) for c in chars)
        got[gram] = postings[starts[row] : starts[row + 1]].tolist()
    assert got == expected
    # a query's codes, read with the index's alphabet, find exactly the trigrams it shares
    for text in texts[:3]:
        _, codes = link_mod._trigram_pairs([text + "新字"], link_mod._rank_table(alphabet), bits)
        assert set(codes.tolist()) == {c for c, g in zip(grams.tolist(), got) if g in link_mod._trigrams(text + "新字")}


@given(st.lists(st.text(alphabet=_ALPHABET, max_size=30), max_size=12))
@settings(max_examples=100, deadline=None)
def test_index_postings_without_packing_are_the_same(texts):
    # An alphabet too large to pack a trigram and its text number in one int64 takes the
    # indirect sort; forced here, it must build the same index.
    packed = link_mod._postings(texts)
    original = link_mod._PACKED_BITS
    link_mod._PACKED_BITS = 0
    try:
        unpacked = link_mod._postings(texts)
    finally:
        link_mod._PACKED_BITS = original
    for a, b in zip(packed, unpacked):
        assert a.tolist() == b.tolist()


@given(st.lists(st.text(alphabet=_ALPHABET, min_size=3, max_size=30), min_size=1, max_size=12), st.text(alphabet=_ALPHABET, max_size=30),
       st.integers(min_value=-1, max_value=2))
@settings(max_examples=300, deadline=None)
def test_index_counts_equal_shared_rare_trigrams(texts, query_text, excluded_block):
    from kb.model import Clause, Document

    # Three scopes in blocks (the nation, then two provinces, as link() adds them); the allowed
    # entries leave one block out (or none), so the counts read only some blocks' postings.
    docs = [Document(id=f"d{b}", doc_number=None, title="t", level="national" if b == 0 else "province", jurisdiction=p, province=p,
                     issued=None, issuers=[]) for b, p in enumerate((None, "甲省", "乙省"))]
    block = [k * 3 // len(texts) for k in range(len(texts))]
    index = link_mod.ClauseIndex()
    for k, text in enumerate(texts):
        doc = docs[block[k]]
        index.add(link_mod._Entry(Clause(id=f"{doc.id}:{k}", document_id=doc.id, path=str(k), label=str(k), kind="item", heading=None, text=text), doc, text, text, "", []))
    index.freeze()
    assert len(index.blocks) == len(set(block))
    query = link_mod._Entry(Clause(id="q:1", document_id="q", path="1", label="1", kind="item", heading=None, text=query_text), docs[1], query_text, query_text, "", [])
    allowed = np.array([k % 3 != 1 and block[k] != excluded_block for k in range(len(texts))])
    naive = _naive_postings(texts)
    # rarest first by the power of two below their number of clauses, then by the trigram
    shared = sorted((len(naive[g]).bit_length() - 1, g) for g in link_mod._trigrams(query_text) if g in naive)[: link_mod.QUERY_TRIGRAMS]
    expected = [sum(1 for _, g in shared if k in naive[g]) if allowed[k] else 0 for k in range(len(texts))]
    assert index.counts(query, allowed).tolist() == expected
    lo, hi = 1, max(1, len(texts) - 1)
    assert index.counts_in(query, allowed, index.rarest(query), lo, hi).tolist() == expected[lo:hi]
    # a document's queries at once (indexed ones too: a trigram only their own clause has is left out)
    queries = [query, *index.entries[:3], query]
    assert [r.tolist() for r in index.rarest_of(queries)] == [index.rarest(q).tolist() for q in queries]
    # candidates read over the span of the allowed entries only: the same candidates
    span = index.span(allowed)
    for share in (0.0, 0.5):
        assert index.candidates(query, allowed, share=share, span=span) == index.candidates(query, allowed, share=share)


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=64), st.integers(min_value=1, max_value=7))
@settings(max_examples=200, deadline=None)
def test_top_of_a_few_counts_in_python_is_numpys(counts, limit):
    # up to 64 counts are ranked in Python; padded past 64 with zeros, the same counts take numpy's path
    small = np.array(counts, dtype=np.int64)
    padded = np.concatenate([small, np.zeros(65, dtype=np.int64)])
    assert link_mod._top(small, limit, offset=3) == link_mod._top(padded, limit, offset=3)


@given(st.lists(st.text(alphabet=_ALPHABET, min_size=12, max_size=40), min_size=1, max_size=5),
       st.lists(st.text(alphabet=_ALPHABET, min_size=12, max_size=40), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_best_sentence_prunes_only_pairs_that_cannot_win(a, b):
    from rapidfuzz import fuzz, process

    def entry(sentences):
        e = link_mod._Entry(None, None, "", "", "", [])
        e.__dict__["sentences"] = sentences  # the cached property, set
        return e

    # Unpruned: the same 3 pairs by edit ratio, every one scored with its bigram overlap.
    ratios = process.cdist(a, b, scorer=fuzz.ratio).ravel()
    chosen = np.argpartition(-ratios, 2)[:3] if ratios.size > 3 else range(ratios.size)
    full = 0.0
    for flat in chosen:
        x, y = link_mod._bigrams(a[int(flat) // len(b)]), link_mod._bigrams(b[int(flat) % len(b)])
        dice = 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0
        full = max(full, (ratios[flat] / 100 + dice) / 2)
    assert link_mod.best_sentence(entry(a), entry(b)) == float(full)


def _entry_of(text: str, heading: str = "") -> link_mod._Entry:
    from kb.model import Clause

    clause = Clause(id="x:1", document_id="x", path="1", label="1", kind="item", heading=heading or None, text=text)
    return link_mod._Entry(clause, None, heading + text, text, heading, [])


_SENTENCES = st.lists(st.text(alphabet=_ALPHABET.replace("。", "").replace("；", ""), min_size=0, max_size=30), min_size=1, max_size=4).map("。".join)


@given(_SENTENCES, st.lists(st.tuples(_SENTENCES, st.sampled_from(["", "就业补贴", "就业补贴稳岗", "失业保险"])), min_size=1, max_size=5),
       st.sampled_from(["", "就业补贴", "失业保险"]))
@settings(max_examples=300, deadline=None)
def test_sentence_ratios_of_many_entries_score_as_pairs_do_and_bound_them(query_text, others, heading):
    """One cdist call for a query against several entries gives each pair's best_sentence; the
    bounds read from it are never below the scores they stand for (siblings are ruled out by them)."""
    query = _entry_of(query_text, heading)
    entries = [_entry_of(text, h) for text, h in others]
    ratios = link_mod._SentenceRatios(query, entries)
    for k, entry in enumerate(entries):
        assert ratios.best(k) == link_mod.best_sentence(query, entry)
        assert ratios.bound(k) >= ratios.best(k)
        assert link_mod.similarity(query, entry, ratios, k) == link_mod.similarity(query, entry)
        assert link_mod._similarity_bound(query, entry, ratios, k) >= link_mod.similarity(query, entry)["combined"] - 5e-4


def test_siblings_ruled_out_by_their_bound_change_nothing(corpus, monkeypatch):
    """The bound only skips siblings that could not be chosen: with every sibling scored, the
    result is the same (the seeds' Fushun 责任分工表 row stands on 五's target through it)."""
    pruned = link(corpus.documents, workers=1)
    assert any("via" in l.evidence for l in pruned.links)
    monkeypatch.setattr(link_mod, "_similarity_bound", lambda *args: 1.0)
    scored = link(corpus.documents, workers=1)
    assert [(l.source_clause_id, l.target_clause_id, l.relation, l.score, dict(l.evidence)) for l in pruned.links] == [
        (l.source_clause_id, l.target_clause_id, l.relation, l.score, dict(l.evidence)) for l in scored.links
    ]
    assert pruned.unresolved == scored.unresolved


def test_links_hand_over_their_evidence_as_json_text(result):
    """A large run keeps each link's evidence as one string (kb.model.Evidence), read as a dict."""
    import json
    import pickle

    from kb.model import Evidence

    assert result.links and all(isinstance(k.evidence, Evidence) for k in result.links)
    for k in result.links:
        as_dict = json.loads(k.evidence.text)
        assert dict(k.evidence) == as_dict == k.evidence.to_dict()
        assert k.evidence["why"] == as_dict["why"] and k.evidence.get("scores") == as_dict["scores"]
        assert k.evidence == as_dict and k.evidence != {**as_dict, "why": as_dict["why"] + "!"}
        assert pickle.loads(pickle.dumps(k.evidence)) == k.evidence
    assert Evidence.of({"why": "w", "scores": {"ratio": 0.5}}) == {"why": "w", "scores": {"ratio": 0.5}}


def test_evidence_is_true_exactly_when_its_dict_is():
    """bool(Evidence) is read from its text without decoding it, and agrees with the dict's."""
    from kb.model import Evidence

    for value in ({}, {"why": ""}, {"diff": []}, {"a": {}}):
        assert bool(Evidence.of(value)) is bool(value)
    for text in ("{}", " { } ", '{"a": 1}', ' {\n "b": {}}'):
        assert bool(Evidence(text)) is bool(Evidence(text).to_dict())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="就业补贴岗位。，（）a1 ", max_size=40), st.text(alphabet="就业补贴岗位。，（）a1 ", max_size=80), st.data())
def test_novel_keeps_what_no_four_characters_of_the_notice_cover(inserted, notice, data):
    """_novel (a sweep over 4-grams looked up in a set) keeps, punctuation aside, the characters
    of the inserted span that no 4-character substring of the provincial notice covers."""
    if notice and data.draw(st.booleans()):  # a part of the notice inside the span
        a = data.draw(st.integers(0, len(notice) - 1))
        inserted = inserted[:5] + notice[a : a + data.draw(st.integers(1, 12))] + inserted[5:]
    covered = set()
    for i in range(len(inserted) - 3):
        if inserted[i : i + 4] in notice:
            covered.update(range(i, i + 4))
    expected = "".join(ch for i, ch in enumerate(inserted) if i not in covered and not link_mod._PUNCT.match(ch))
    assert "".join(link_mod._PUNCT.sub("", p) for p in link_mod._novel(inserted, notice)) == expected


# --- Every level to the levels above it (issue 26), on the real laws in /work/shared/realworld ---

REALWORLD = Path(__file__).resolve().parent.parent / "corpus"
GD, CQ, NATION = "广东省失业保险条例", "重庆市失业保险条例", "失业保险条例"


@pytest.fixture(scope="module")
def laws():
    """The sixteen real laws, parsed and linked once: provinces above nothing but the nation."""
    documents = []
    for path in sorted(p for p in REALWORLD.glob("*.md") if p.name != "SOURCES.md"):
        documents += parse_file(path).documents
    return {d.id: d for d in documents}, link(documents)


def _targets(result, clause_id):
    return [(l.target_clause_id, l.relation) for l in result.links if l.source_clause_id == clause_id and l.relation != "succeeds"]


def test_a_province_stands_on_the_nation_article_by_article(laws):
    _, result = laws
    assert (f"{NATION}:第五条", "implements") in _targets(result, f"{GD}:第七条")  # 失业保险基金由下列各项构成
    assert (f"{NATION}:第十条", "implements") in _targets(result, f"{CQ}:第十四条")  # 失业保险基金用于下列支出


def test_short_items_link_through_their_articles(laws):
    """（一）失业保险费； is under 8 characters: aligned within 第七条 → 第五条, not skipped."""
    _, result = laws
    assert _targets(result, f"{GD}:第七条/（一）") == [(f"{NATION}:第五条/（一）", "implements")]
    assert _targets(result, f"{GD}:第七条/（四）") == [(f"{NATION}:第五条/（三）", "implements")]  # 财政补贴
    # 滞纳金 has no counterpart: reported, with its best candidate, not dropped.
    (missing,) = [u for u in result.unresolved if u.clause_id == f"{GD}:第七条/（三）"]
    assert missing.best_candidate_id and missing.best_candidate_id.startswith(f"{NATION}:第五条/")


def test_every_linkable_clause_is_linked_or_reported(laws):
    documents, result = laws
    accounted = {l.source_clause_id for l in result.links} | {u.clause_id for u in result.unresolved}
    for doc_id in (GD, CQ):
        kinds = {"article", "paragraph", "item"}
        silent = [c.id for c in documents[doc_id].clauses if c.kind in kinds and (c.text or "").strip() and c.id not in accounted]
        assert silent == []


def test_an_explicit_reference_outranks_similarity(laws):
    _, result = laws
    (found,) = [l for l in result.links if l.source_clause_id == "浙江省劳动保障监察条例:第十二条" and "reference" in l.evidence]
    assert found.target_clause_id == "劳动保障监察条例:第十一条"
    assert found.evidence["reference"]["words"] == "《劳动保障监察条例》第十一条"
    assert found.evidence["rank"] == 1 and found.score == 1.0


def test_purpose_articles_and_boilerplate_make_no_link(laws):
    documents, result = laws
    for doc_id in (GD, CQ, "山东省劳动和社会保障监察条例", "浙江省劳动保障监察条例"):
        assert _targets(result, f"{doc_id}:第一条") == []  # 为了…制定本条例: a document-level relation
    linked = {l.source_clause_id for l in result.links}
    for doc in documents.values():
        for clause in doc.clauses:
            if clause.id in linked and clause.text and "构成犯罪的，依法追究刑事责任" in clause.text:
                assert len(clause.text) > len("构成犯罪的，依法追究刑事责任。") + 4, clause.id


def test_no_link_to_a_law_of_another_subject(laws):
    documents, result = laws
    for l in result.links:
        source, target = l.source_clause_id.split(":")[0], l.target_clause_id.split(":")[0]
        if source == GD:
            assert target == NATION, l


def test_succeeds_only_within_one_subject(laws):
    """The 49 false succeeds of issue 26 joined different laws through boilerplate."""
    documents, result = laws
    from kb.relations import same_subject_titles

    succeeds = [l for l in result.links if l.relation == "succeeds"]
    for l in succeeds:
        a, b = documents[l.source_clause_id.split(":")[0]], documents[l.target_clause_id.split(":")[0]]
        assert a.id == b.id or same_subject_titles(a.title, b.title, a.jurisdiction, b.jurisdiction), l


def test_no_false_overrides_on_the_tier_table_of_chongqing(laws):
    _, result = laws
    assert all(relation != "overrides" for _, relation in _targets(result, f"{CQ}:第二十四条"))


# --- A city notice the linker has not seen: departures named in both languages ---

_PROVINCIAL_NOTICE = """辽人社发〔2023〕1号

辽宁省人力资源和社会保障厅关于做好失业保险金申领工作的通知

各市人力资源社会保障局：
为做好失业保险工作，现就有关事项通知如下：
一、失业人员失业前用人单位和本人累计缴费满1年的，可以按规定申领失业保险金。
二、用人单位逾期不缴纳失业保险费的，按日加收千分之二的滞纳金。
三、领取失业保险金期间，失业人员可以按规定领取一次性生活补助金，期限最长为24个月。
辽宁省人力资源和社会保障厅
2023年1月1日
"""
_CITY_NOTICE = """大人社发〔2023〕2号

大连市人力资源和社会保障局关于做好失业保险金申领工作的通知

各区市县人力资源社会保障局：
按照《关于做好失业保险金申领工作的通知》（辽人社发〔2023〕1号）要求，现就有关事项通知如下：
一、失业人员失业前用人单位和本人累计缴费满6个月的，可以按规定申领失业保险金。
二、用人单位逾期不缴纳失业保险费的，按日加收万分之五的滞纳金。
三、领取失业保险金期间，失业人员可以按规定领取一次性生活补助金，补助金按一个月失业保险金标准发放。
大连市人力资源和社会保障局
2023年3月1日
"""


@pytest.fixture(scope="module")
def unseen():
    docs = parse_bytes(_PROVINCIAL_NOTICE.encode(), "p.txt").documents + parse_bytes(_CITY_NOTICE.encode(), "c.txt").documents
    result = link(docs)
    return {l.source_clause_id.rsplit(":", 1)[1]: l for l in result.links if l.relation != "succeeds"}


def test_lowering_a_minimum_threshold_overrides(unseen):
    found = unseen["一"]
    assert found.relation == "overrides"
    assert "上级规定「满1年」，本市规定「满6个月」" in found.evidence["why_zh"]


def test_a_late_fee_per_ten_thousand_against_per_mille_overrides(unseen):
    found = unseen["二"]
    assert found.relation == "overrides"
    assert "上级规定「千分之二」，本市规定「万分之五」（滞纳金）" in found.evidence["why_zh"]
    assert found.evidence["parameters_compared"][0]["dimension"] == "rate/day"


def test_a_different_benefit_is_no_override(unseen):
    assert unseen["三"].relation != "overrides"
    assert unseen["三"].evidence["parameters_compared"] == []


def test_a_law_implements_the_law_of_its_subject_above_it(laws):
    """广东's 第一条 names only the 社会保险法: the document-level lineage comes from its subject."""
    from kb.graph import build_graph, document_lineage

    documents, result = laws
    assert any(r.source_document_id == GD and r.target_document_id == NATION and r.relation == "implements" for r in result.relations)
    graph = build_graph(list(documents.values()), result)
    assert (NATION, "implements", 1) in document_lineage(graph, GD)
    assert all(r.target_document_id != "广东省人力资源市场条例" for r in result.relations if r.source_document_id == GD)
