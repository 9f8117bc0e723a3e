"""The parse stage on the four seed notices, against expectations read by hand from the texts.

Each ``tests/data/parse/<case>.expected.json`` names its source file in ``corpus/`` (the
sources stay there, parsed with ``corpus/manifest.toml`` as ``kb build`` parses them) and
holds, per document, the metadata, every clause path in order with its kind, heading and
responsible units, and the citations. The expectations were written from the texts, not
from the parser's output: where the two disagree, one of them is wrong.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kb.model import Clause, Document
from kb.parse import parse_corpus, span_text
from kb.text import compact

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "seeds"  # corpus/ also holds the real laws; this is its four seed notices (symlinks)
DATA = Path(__file__).resolve().parent / "data" / "parse"
CASES = sorted(DATA.glob("*.expected.json"))

F25 = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"
F391 = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
F20 = "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"
F22 = "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"

# Words that belong to portals, markdown, previews and HTML, never to a notice's text.
BOILERPLATE = ("#", "---", "http", "www.", "预览已结束", "二维码", "版权所有", "ICP", "公网安备", "网站标识码", "微信公众号",
               "政务微博", "附件下载", "<p", "</p>", "style=", "政府公报", "办刊宗旨", "主办单位", "联系邮箱")


@pytest.fixture(scope="module")
def corpus():
    return parse_corpus(CORPUS)


@pytest.fixture(scope="module")
def docs(corpus) -> dict[str, Document]:
    return {d.id: d for d in corpus.documents}


def _file(corpus, name):
    return next(f for f in corpus.files if f.source.path == name)


def _case_name(path: Path) -> str:
    return path.name.removesuffix(".expected.json")


def _clause_row(c: Clause) -> dict:
    row = {"path": c.path, "kind": c.kind, "heading": c.heading, "responsible": c.responsible}
    if c.lead:
        row["lead"] = c.lead
    if c.responsible_note:
        row["note"] = c.responsible_note
    if c.attached_document_id:
        row["attached_document"] = c.attached_document_id
    return row


def _citation_row(doc: Document, cit) -> dict:
    clause_path = cit.clause_id.removeprefix(f"{doc.id}:") if cit.clause_id else None
    return {"doc_number": cit.doc_number, "title": cit.title, "role": cit.role, "clause": clause_path}


def _expected_row(row: dict) -> dict:
    """Expected clause row in the shape of _clause_row (optional keys only when set)."""
    return {k: v for k, v in row.items() if k in ("path", "kind", "heading", "responsible") or v}


# -- the hand-read expectations ---------------------------------------------------------


def test_every_seed_has_expectations():
    sources = sorted(p.name for p in CORPUS.glob("*.txt"))
    expected = sorted(json.loads(p.read_text(encoding="utf-8"))["source"] for p in CASES)
    assert sources == expected
    assert [_case_name(p) + ".txt" for p in CASES] == expected


def test_corpus_parses_without_errors(corpus):
    assert [p for p in corpus.problems if p.severity == "error"] == []
    assert sorted(f.source.path for f in corpus.files) == sorted([F25, F391, F20, F22])
    # the two incomplete notices are reported as warnings, nothing else is
    warned = sorted({p.path for p in corpus.problems})
    assert warned == sorted([F25, F391])


@pytest.mark.parametrize("case", CASES, ids=_case_name)
def test_documents(corpus, case):
    expected = json.loads(case.read_text(encoding="utf-8"))
    parsed = _file(corpus, expected["source"])
    assert [d.id for d in parsed.documents] == [d["id"] for d in expected["documents"]]
    for doc, exp in zip(parsed.documents, expected["documents"]):
        meta = {
            "id": doc.id,
            "doc_number": doc.doc_number,
            "doc_number_from": doc.metadata_sources.get("doc_number"),
            "title": doc.title,
            "kind": doc.kind,
            "measures_title": doc.measures_title,
            "level": doc.level,
            "jurisdiction": doc.jurisdiction,
            "issued": doc.issued,
            "issuers": doc.issuers,
            "recipients": doc.recipients,
            "publication_note": doc.publication_note,
            "complete": doc.complete,
            "implements": doc.implements,
            "attached_to": doc.attached_to,
            "attachment_label": doc.attachment_label,
            "attachments_listed": doc.attachments_listed,
        }
        if "contact_note" in exp:
            meta["contact_note"] = doc.contact_note
        assert meta == {k: exp[k] for k in meta}, doc.id
        # each incomplete reason, by a key phrase, in order
        assert len(doc.incomplete_reasons) == len(exp["incomplete"]), doc.incomplete_reasons
        for reason, phrase in zip(doc.incomplete_reasons, exp["incomplete"]):
            assert phrase in reason
        assert [_clause_row(c) for c in doc.clauses] == [_expected_row(r) for r in exp["clauses"]], doc.id
        assert [_citation_row(doc, c) for c in doc.citations] == exp["citations"], doc.id


@pytest.mark.parametrize("case", CASES, ids=_case_name)
def test_discarded_reasons(corpus, case):
    expected = json.loads(case.read_text(encoding="utf-8"))
    parsed = _file(corpus, expected["source"])
    assert sorted({d.reason for d in parsed.source.discarded}) == sorted(expected["discarded"])


# -- clause tree shape ------------------------------------------------------------------


def test_tree_shape(docs):
    for doc in docs.values():
        by_id = {c.id: c for c in doc.clauses}
        assert len(by_id) == len(doc.clauses), f"{doc.id}: duplicate clause ids"
        assert [c.position for c in doc.clauses] == list(range(len(doc.clauses)))
        for c in doc.clauses:
            assert c.document_id == doc.id
            assert c.path.split("/")[-1] == c.label
            assert c.depth == c.path.count("/") + 1
            if "/" in c.path:
                parent = by_id[c.parent_id]
                assert parent.path == c.path.rsplit("/", 1)[0]
                assert parent.position < c.position
            else:
                assert c.parent_id is None


def test_labels_are_full_width_normalised(docs):
    labels = {c.label for d in docs.values() for c in d.clauses}
    assert {"一", "十八", "（五）", "（十一）", "1", "10", "附件1", "附件2"} <= labels
    assert not any("(" in lab or ")" in lab or "、" in lab or "." in lab for lab in labels)
    assert docs["抚人社发〔2021〕20号"].clause("附件2/（十一）").label == "（十一）"
    assert docs["辽政办发〔2020〕25号"].clause("二/（五）").heading == "加大援企稳岗力度"
    assert docs["辽人社发〔2021〕7号"].clause("一/（五）").heading == "优化就业见习补贴政策"


# -- the metadata the issue states -------------------------------------------------------


def test_stated_facts(docs):
    d25 = docs["辽政办发〔2020〕25号"]
    assert (d25.issuers, d25.issued, d25.complete) == (["辽宁省人民政府办公厅"], "2020-11-01", False)
    assert d25.metadata_sources["doc_number"] == "manifest"
    assert d25.clauses[-1].path == "四/（十一）"

    d391 = docs["大人社发〔2020〕391号"]
    assert d391.issuers == ["大连市人力资源和社会保障局", "大连市财政局"]
    assert d391.issued == "2020-11-24"
    assert d391.implements == ["辽政办发〔2020〕25号"]
    assert not d391.complete and any("十四" in r for r in d391.incomplete_reasons)

    d20 = docs["抚人社发〔2021〕20号"]
    assert len(d20.issuers) == 7 and all("抚顺" in i for i in d20.issuers)
    assert (d20.issued, d20.implements) == ("2021-07-29", ["辽人社发〔2021〕7号"])
    rows = [c for c in d20.clauses if c.kind == "row"]
    assert [c.path for c in rows] == [f"附件2/（{n}）" for n in "一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六 十七 十八".split()]
    assert all(c.responsible for c in rows)
    assert all(c.text for c in rows)

    d7 = docs["辽人社发〔2021〕7号"]
    assert len(d7.issuers) == 7 and all("辽宁" in i for i in d7.issuers)
    assert d7.issued == "2021-06-30"
    assert (d7.attached_to, d7.attachment_label) == ("抚人社发〔2021〕20号", "附件1")
    assert d20.clause("附件1").attached_document_id == d7.id
    assert [c.path for c in d7.clauses if c.kind == "attachment"] == ["附件1", "附件2"]

    d22 = docs["辽人社〔2022〕22号"]
    assert len(d22.issuers) == 4 and d22.issued == "2022-07-05" and d22.kind == "issuing"
    assert [c.path for c in d22.clauses if c.kind == "item"][-1] == "十八"


# -- repairs ------------------------------------------------------------------------------


def test_page_break_repairs(docs):
    d25 = docs["辽政办发〔2020〕25号"]
    assert "给予社会保险补贴" in d25.clause("三/（七）").text
    assert "享受期限最多可延长6个月" in d25.clause("三/（七）").text
    assert "不超过10万元的创业担保贷款" in d25.clause("三/（九）").text
    assert "开展1年以上企业新型学" in d25.clause("四/（十一）").text

    d391 = docs["大人社发〔2020〕391号"]
    assert "预计补贴资金总额的50%。" in d391.clause("五").text
    assert "税费政策，实施企业稳岗扩岗专项支持计划" in d391.clause("二").text
    assert "根据实际工作时间等因素合理确定岗位补贴" in d391.clause("九").text
    assert "集中攻坚稳就业精准服务保民生" in d391.clause("十三").text
    assert d391.clause("十四").text.endswith("防范化解风险的各项工")

    d20 = docs["抚人社发〔2021〕20号"]
    assert "60%返还，具体缴费金额" in d20.clause("一").text

    d7 = docs["辽人社发〔2021〕7号"]
    assert "（人社部发〔2019〕124号）等有关规定" in d7.clause("四/（十四）").text
    assert "当地农村最低生活保障标准的1.5倍" in d7.clause("一/（三）").text
    assert "失业补助金只能申领享受一次。" in d7.clause("一/（六）").text
    assert "于本通知发布之日起30日内" in d7.clause("五/（十六）").text
    assert "重点帮扶县农村低保对象" in d7.clause("附件2/一/10").text

    # text stays in paragraphs: nothing is left with a stray break or space inside a sentence
    for doc in docs.values():
        for c in doc.clauses:
            for para in c.text.split("\n"):
                assert para == para.strip() and "  " not in para, c.id


def test_titles_lose_stray_spaces(docs):
    assert docs["大人社发〔2020〕391号"].title == "全力做好当前促进和扩大就业有关工作的通知"
    assert docs["抚人社发〔2021〕20号"].title == "抚顺市关于延续实施和优化完善减负稳岗扩就业政策实施细则"
    assert docs["辽人社发〔2021〕7号"].title == "关于延续实施和优化完善减负稳岗扩就业政策措施的通知"
    assert docs["辽人社发〔2021〕7号"].clause("附件1").heading == "调整后辽宁省毕业生享受一次性求职创业补贴人员范围"
    assert docs["辽人社发〔2021〕7号"].clause("附件2").heading == "调整后辽宁省就业困难人员及参照享受相关政策人员范围"
    for doc in docs.values():
        assert " " not in doc.title


def test_responsible_units_are_not_clause_text(docs):
    assert "责任" not in docs["辽政办发〔2020〕25号"].clause("一/（一）").text
    assert docs["辽政办发〔2020〕25号"].clause("一/（一）").text.endswith("项目建设。")
    row = docs["抚人社发〔2021〕20号"].clause("附件2/（一）")
    assert "市人社局" not in row.text and row.text.endswith("期限应在1年以上。")


def test_mixed_punctuation_is_normalised(docs):
    d22 = docs["辽人社〔2022〕22号"]
    assert d22.clause("十").text.count(",") == 0
    assert "个体工商户和各类灵活就业人员，2022年缴纳养老保险费有困难的" in d22.clause("十").text
    assert "出国（境）留学回国人员" in d22.clause("二").text
    assert d22.recipients.endswith("营业管理部") and ":" not in d22.recipients


# -- boilerplate --------------------------------------------------------------------------


def test_boilerplate_is_gone(docs):
    for doc in docs.values():
        fields = [doc.title, doc.recipients or "", doc.publication_note or "", doc.measures_title or ""]
        fields += [f for c in doc.clauses for f in (c.text, c.heading or "", *c.responsible, *c.lead)]
        for text in fields:
            for word in BOILERPLATE:
                assert word not in text, f"{doc.id}: {word!r} in {text[:40]!r}"


def test_discarded_spans_are_recorded_with_reasons(corpus):
    def discarded(name):
        return _file(corpus, name).source.discarded

    for f in corpus.files:
        for d in f.source.discarded:
            assert d.reason
            if d.end > d.start:  # a span of the source: its text is the source's text there
                assert f.source.text[d.start : d.end].strip().startswith(d.text.strip()[:20])

    cut = [d for d in discarded(F25) if d.reason == "preview-cut-off"]
    assert len(cut) == 1 and cut[0].text.startswith("预览已结束") and "https://www.yunbaogao.cn" in cut[0].text

    md = [d.text for d in discarded(F391) if d.reason == "markdown"]
    assert "---" in md and any(t.startswith("#") for t in md) and any(t.startswith("##") for t in md)

    gazette = discarded(F22)
    front = [d.text for d in gazette if d.reason == "front-matter"]
    assert front[0] == "政府公报" and any("办刊宗旨" in t for t in front)
    assert [d.text for d in gazette if d.reason == "boilerplate"] == ["【附件下载】"]
    [footer] = [d.text for d in gazette if d.reason == "portal-footer"]
    for word in ("版权所有", "ICP", "公网安备", "微信公众号", "政务微博"):
        assert word in footer

    headers = [d for d in discarded(F20) if d.reason == "table-header"]
    assert len(headers) == 5 and all("具体内容" in d.text and "责任单位" in d.text for d in headers)


# -- citations ------------------------------------------------------------------------------


def test_cited_title_and_own_title_are_both_available(docs):
    d20, d7 = docs["抚人社发〔2021〕20号"], docs["辽人社发〔2021〕7号"]
    [cit] = [c for c in d20.citations if c.doc_number == "辽人社发〔2021〕7号"]
    assert cit.title == "关于延续实施部分减负稳岗扩就业政策措施的通知"
    assert cit.role == "implements" and cit.basis
    assert d7.title == "关于延续实施和优化完善减负稳岗扩就业政策措施的通知"
    assert cit.title != d7.title


def test_dalian_citation_roles(docs):
    roles = {c.doc_number: c.role for c in docs["大人社发〔2020〕391号"].citations}
    assert roles["国办发〔2020〕27号"] == "cites"
    assert roles["辽政办发〔2020〕25号"] == "implements"


def test_docno_brackets_are_normalised_in_citations_and_text(docs):
    row = docs["抚人社发〔2021〕20号"].clause("附件2/（七）")
    cited = [c.doc_number for c in docs["抚人社发〔2021〕20号"].citations if c.clause_id == row.id]
    assert cited == ["公告〔2021〕18号", "财税〔2019〕22号", "辽财税〔2019〕145号"]
    assert "（公告〔2021〕18号）" in row.text and "（辽财税〔2019〕145号）" in row.text
    assert "(" not in row.text
    cited_7 = {c.doc_number for c in docs["辽人社发〔2021〕7号"].citations}
    assert "人社部发〔2019〕124号" in cited_7
    for doc in docs.values():
        for c in doc.citations:
            if c.doc_number:
                assert "〔" in c.doc_number and "(" not in c.doc_number and " " not in c.doc_number


def test_citation_offsets_point_into_clause_text(docs):
    for doc in docs.values():
        by_id = {c.id: c for c in doc.clauses}
        for cit in doc.citations:
            clause = by_id[cit.clause_id]
            where = clause.text if clause.text[cit.start : cit.end] else clause.heading or ""
            cited = where[cit.start : cit.end]
            if cit.title:
                assert cited.startswith(f"《{cit.title}》")
            if cit.doc_number:
                assert cited.endswith(cit.doc_number) or cited.endswith(cit.doc_number + "）")


# -- provenance ----------------------------------------------------------------------------


def test_provenance(corpus):
    for f in corpus.files:
        source = f.source
        raw = (CORPUS / source.path).read_bytes()
        assert source.sha256 == hashlib.sha256(raw).hexdigest()
        assert source.size == len(raw) and source.encoding == "utf-8"
        for doc in f.documents:
            assert doc.source is source
            assert 0 <= doc.start < doc.end <= len(source.text)
            for c in doc.clauses:
                assert c.source_path == source.path
                assert c.source_sha256 == source.sha256
                assert span_text(source, c.text_spans) == compact(c.text), c.id
                if c.heading_span is not None:
                    assert span_text(source, [c.heading_span]) == compact(c.heading), c.id
                for a, b in c.text_spans:
                    assert c.start <= a <= b <= c.end, c.id
                if c.text:
                    assert c.text_spans, c.id


def test_headings_from_the_text_have_spans(docs):
    """A heading printed at the clause has a span; only an attachment named in the 附件 list may not."""
    for doc in docs.values():
        for c in doc.clauses:
            if c.heading and c.kind != "attachment":
                assert c.heading_span is not None, c.id


def test_ids_are_stable_across_runs(corpus):
    again = parse_corpus(CORPUS)
    first = [(c.id, c.path) for d in corpus.documents for c in d.clauses]
    second = [(c.id, c.path) for d in again.documents for c in d.clauses]
    assert first == second
    for d in again.documents:
        for c in d.clauses:
            assert c.id == f"{d.id}:{c.path}"
    assert [d for d in corpus.documents] == [d for d in again.documents]
