"""Relation semantics (kb/relations.py) on sentences read from real laws and notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import relations as rel
from kb.model import Clause, Document
from kb.params import extract_parameters


def _findings(higher: str, lower: str, level: str = "本市"):
    return rel.parameter_findings(extract_parameters("h", higher), higher, extract_parameters("l", lower), lower, level)


def _doc(id_, level, jurisdiction, province, force=None, title="条例"):
    doc = Document(id_, None, title, level, jurisdiction, province, None, [])
    doc.force = force  # the statute genre's field (kb.parse sets it); a plain attribute on older Documents
    return doc


# --- parameters of one subject -------------------------------------------------------------


def test_a_late_fee_per_day_per_mille_against_per_ten_thousand_overrides_and_names_both():
    found = _findings("用人单位逾期不缴纳的，按日加收千分之二的滞纳金。", "逾期不缴纳的，自欠缴之日起，按日加收万分之五的滞纳金。")
    assert len(found) == 1
    (f,) = found
    assert f.within is False and f.dimension == "rate/day"
    assert f.why_zh.startswith("上级规定「千分之二」，本市规定「万分之五」（滞纳金）")


def test_lowering_a_minimum_from_one_year_to_six_months_is_looser():
    (f,) = _findings("失业人员失业前累计缴费满1年的，可以申领失业保险金。", "失业人员失业前累计缴费满6个月的，可以申领失业保险金。")
    assert f.within is False and f.dimension == "duration"  # years and months compared in months
    assert "比上级宽松" in f.why_zh


def test_tightening_within_the_bound_is_within():
    (f,) = _findings("返还比例最高不超过60%。", "返还比例为50%。")
    assert f.within is True


def test_different_benefits_are_never_compared():
    # 补助金 按一个月 against 失业保险金的期限 24个月: both in months, different things.
    assert _findings("领取失业保险金的期限最长为24个月。", "领取一次性生活补助金，补助金按一个月失业保险金标准发放。") == []


def test_an_unrelated_rate_is_not_compared():
    # issue 28 #3: 裁员率 不高于6% against 返还 30%
    assert _findings("企业裁员率不高于6%。", "返还其上年度实际缴纳失业保险费的30%。") == []


def test_dates_of_enactment_are_never_compared():
    assert _findings("本条例自1999年1月22日起施行。", "本条例自2011年1月1日起施行。") == []


def test_a_tier_table_is_bounded_by_its_extremes():
    """重庆 第二十四条 against 失业保险条例 第十七条: finer tiers inside the national ones are no departure."""
    national = (
        "失业人员失业前所在单位和本人按照规定累计缴费时间满1年不足5年的，领取失业保险金的期限最长为12个月；"
        "累计缴费时间满5年不足10年的，领取失业保险金的期限最长为18个月；累计缴费时间10年以上的，领取失业保险金的期限最长为24个月。"
    )
    city = "累计缴费时间满一年不足两年的为三个月；满两年不足三年的为六个月；满五年不足七年的为十五个月；满七年的为十六个月。"
    assert all(f.within is not False for f in _findings(national, city))


# --- obligations and delegations --------------------------------------------------------------


def test_a_duty_turned_into_a_prohibition_is_a_contradiction():
    assert rel.contradictions("用人单位应当缴纳失业保险费。", "用人单位不得缴纳失业保险费。") == ["上级应当缴纳，下级不得缴纳"]


def test_a_shared_prohibition_is_no_contradiction():
    assert rel.contradictions("不得侵占、截留、挪用失业保险基金。", "任何单位和个人不得侵占、截留、挪用失业保险基金。") == []


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("失业保险金的标准，由省、自治区、直辖市人民政府确定。", "由省、自治区、直辖市人民政府确定"),
        ("具体办法由国务院劳动保障行政部门制定。", "具体办法由国务院劳动保障行政部门制定"),
        ("补贴标准由各市自行确定。", "由各市自行确定"),
    ],
)
def test_delegations(text, phrase):
    assert rel.delegations(text) == [phrase]


# --- explicit references ----------------------------------------------------------------------


def test_references_name_document_and_article():
    text = "根据《失业保险条例》第十条和依照本条例第十七条第二款第三项，按照《关于做好就业工作的通知》（辽人社发〔2021〕7号）要求"
    found = rel.references(text)
    assert [(r.title, r.own, r.citation, r.doc_number) for r in found] == [
        ("失业保险条例", False, "第十条", None),
        (None, True, "第十七条第二款第三项", None),
        ("关于做好就业工作的通知", False, "", "辽人社发〔2021〕7号"),
    ]
    assert text[found[0].start : found[0].end] == "《失业保险条例》第十条"


@pytest.mark.parametrize(
    "citation, path",
    [
        ("第十条", "第十条"),
        ("第十条第二款", "第十条/第二款"),
        ("第十条第二款第三项", "第十条/第二款/（三）"),
        ("第十条第一款第三项", "第十条/（三）"),
        ("第十条第三项", "第十条/（三）"),
        ("第二款", None),
    ],
)
def test_citation_paths_follow_the_shared_contract(citation, path):
    assert rel.citation_path(citation) == path


def test_title_key_drops_the_nation():
    assert rel.title_key("中华人民共和国 就业促进法") == rel.title_key("就业促进法")


# --- hierarchy ---------------------------------------------------------------------------------


def test_hierarchy_chain():
    nation = _doc("失业保险条例", "national", "中华人民共和国", None, "行政法规")
    law = _doc("社会保险法", "national", "中华人民共和国", None, "法律")
    rule = _doc("部令", "national", "中华人民共和国", None, "部门规章")
    guangdong = _doc("广东省失业保险条例", "province", "广东省", "广东省", "地方性法规")
    chongqing = _doc("重庆市失业保险条例", "province", "重庆市", "重庆市", "地方性法规")
    guangzhou = _doc("广州市规定", "city", "广州市", "广东省", "地方政府规章")
    assert rel.stands_above(nation, guangdong) and rel.stands_above(nation, chongqing)
    assert rel.stands_above(guangdong, guangzhou) and rel.stands_above(nation, guangzhou)
    assert not rel.stands_above(chongqing, guangzhou)  # another province's chain
    assert not rel.stands_above(guangdong, nation)
    assert rel.stands_above(law, rule) and rel.stands_above(nation, rule) and not rel.stands_above(rule, nation)
    # Notices of one level and place without a known force: succession only.
    assert not rel.stands_above(_doc("a", "province", "辽宁省", "辽宁省"), _doc("b", "province", "辽宁省", "辽宁省"))


def test_level_words():
    assert rel.level_word(_doc("x", "province", "重庆市", "重庆市")) == "本市"  # a 直辖市
    assert rel.level_word(_doc("x", "province", "广东省", "广东省")) == "本省"


# --- boilerplate and subjects ------------------------------------------------------------------


def _law(title, *texts):
    doc = Document(title, None, title, "national", "中华人民共和国", None, None, [])
    doc.clauses = [Clause(f"{title}:第{k}条", title, f"第{k}条", f"第{k}条", "article", None, t) for k, t in enumerate(texts, 1)]
    return doc


def test_boilerplate_is_learnt_from_documents_of_other_subjects():
    formula = "违反本法规定，构成犯罪的，依法追究刑事责任。"
    laws = [
        _law("立法法", "立法应当遵循宪法的基本原则。", formula),
        _law("行政复议法", "行政复议机关履行行政复议职责。", formula),
        _law("就业促进法", "国家把扩大就业放在经济社会发展的突出位置。", formula),
    ]
    learnt = rel.learn_boilerplate(laws)
    assert rel.sentence_key(formula) in learnt
    assert rel.sentence_key("立法应当遵循宪法的基本原则。") not in learnt
    # Two versions of one law (same subject) teach nothing.
    assert rel.learn_boilerplate([laws[0], _law("中华人民共和国立法法", formula)]) == frozenset()
    text, dropped = rel.strip_boilerplate("国家建立失业保险制度。" + formula, learnt)
    assert text == "国家建立失业保险制度。" and dropped == [formula]


@pytest.mark.parametrize(
    "sentence",
    ["本条例自1999年1月22日起施行。", "构成犯罪的，依法追究刑事责任。", "法律、行政法规规定的其他情形。"],
)
def test_declared_formulas_are_boilerplate_without_learning(sentence):
    assert rel.is_boilerplate(sentence, frozenset())


def test_purpose_articles():
    assert rel.is_purpose_clause("为了保障失业人员失业期间的基本生活，促进其再就业，制定本条例。")
    assert not rel.is_purpose_clause("失业保险基金由下列各项构成：")


def test_subjects_of_titles():
    assert rel.subject_of("广东省失业保险条例") == "失业保险"
    assert rel.same_subject_titles("山东省劳动和社会保障监察条例", "劳动保障监察条例")
    assert rel.subject_of("广东省人力资源市场条例") == "人力资源市场"  # 人力资源市场 is no 市
    assert rel.subject_of("重庆市失业保险条例", "重庆市") == "失业保险"
    assert rel.subject_of("中华人民共和国就业促进法") == "就业促进"
    assert not rel.same_subject_titles("广东省失业保险条例", "广东省人力资源市场条例")
    assert not rel.same_subject_titles("中华人民共和国立法法", "中华人民共和国行政复议法")


def test_the_module_reads_no_files():
    source = Path(rel.__file__).read_text(encoding="utf-8")
    assert "open(" not in source and "read_text" not in source


def test_the_period_of_one_benefit_is_not_compared_with_the_period_of_another():
    # The same words around both, but one is 失业保险金's period, the other 职业培训补贴's.
    assert _findings("失业人员领取失业保险金的期限最长为24个月。", "失业人员领取职业培训补贴的期限最长为36个月。") == []
    (f,) = _findings("失业人员领取失业保险金的期限最长为24个月。", "失业人员领取失业保险金的期限最长为36个月。")
    assert f.within is False and "（失业保险金·期限）" in f.why_zh
