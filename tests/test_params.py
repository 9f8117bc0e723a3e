"""kb.params on sentences copied from the seed corpus (corpus/*.txt), normalised as the parser
leaves them. Where a sentence is varied (Chinese numerals, an out-of-bound city value), the
test says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.params import compare_parameters, extract_parameters, within_bound, words
from kb.text import normalize_paragraphs

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# 辽人社发〔2021〕7号 （一）, body text.
PROVINCIAL_1 = (
    "在我省参加失业保险的企业、社会团体、基金会、社会服务机构、律师事务所、会计师事务所、以单位形式参保的"
    "个体经济组织（以下简称“参保单位”），上年度未裁员或裁员率不高于6%（上年度全国城镇调查失业率控制目标）的，"
    "30人（含）以下的参保单位裁员率不高于参保职工总数20%的，可在2021年12月31日前申请失业保险稳岗返还。"
    "大型企业按不超过企业及其职工上年度实际缴纳失业保险费的30%返还，中小微企业及其他可申请失业保险稳岗返还的"
    "参保单位按不超过单位及其职工上年度实际缴纳失业保险费的60%返还，具体缴费金额可依据征缴机构提供的上年度缴费"
    "记录确定。扩大失业保险稳岗返还“免申即享”覆盖范围，各统筹地区可采取内部信息比对方式，对2020年末参保人数在"
    "200人（含）以下，且符合享受稳岗返还条件的参保单位，免申领直接拨付返还资金。各统筹地区应在本通知下发之日起"
    "4个月内，实现本地区“免申即享”政策覆盖单位应享尽享，返还资金足额拨付到位。实施上述稳岗返还政策的统筹地区，"
    "上年度失业保险基金滚存结余备付期限应在1年以上。"
)

# 抚人社发〔2021〕20号 一.
FUSHUN_1 = (
    "失业保险稳岗返还，大型企业按企业及其职工上年度实际缴纳失业保险费的30%返还，中小微企业及其他可申请失业保险"
    "稳岗返还的参保单位按单位及其职工上年度实际缴纳失业保险费的60%返还，具体缴费金额可依据征缴机构提供的上年度"
    "缴费记录确定。按照省有关文件，符合条件的企业（除“免申即享”外）可于2021年12月31日前申请2020年度失业保险稳岗返还。"
)

# 辽人社发〔2021〕7号 （十六）, first sentence, and 抚人社发〔2021〕20号 五.
PROVINCIAL_16 = "各地要于本通知发布之日起30日内出台本地实施细则，抓紧梳理调整本地区就业政策清单，及时公开发布。"
FUSHUN_5 = (
    "各县（区）政府落实属地责任，各部门按照分工做好责任落实，市就业人才服务中心、市社会保险事业服务中心负责梳理"
    "调整相关政策清单和办事指南，自本细则发布起15日内报市人社局备案后公开发布，并做好政策落实。"
)

# 辽政办发〔2020〕25号 （七） and 大人社发〔2020〕391号 四 (the city dropped 最多).
PROVINCIAL_7_2020 = "高校毕业生在享受灵活就业社会保险补贴期满后，仍从事灵活就业的，享受期限最多可延长6个月，具体期限由各市根据实际确定。"
DALIAN_4 = "高校毕业生在享受灵活就业社会保险补贴期满后，仍从事灵活就业的，享受期限可延长6个月。"


def one(text: str, kind: str | None = None):
    params = [p for p in extract_parameters("c", text) if kind is None or p.kind == kind]
    assert len(params) == 1, params
    return params[0]


def summary(text: str) -> list[tuple]:
    return [(p.kind, p.value, p.unit, p.bound, p.text) for p in extract_parameters("c", text)]


# --- rates ------------------------------------------------------------------------------------


def test_detached_bound_word_makes_a_ceiling_and_subjects_name_who_gets_what():
    params = [p for p in extract_parameters("辽人社发〔2021〕7号:一/（一）", PROVINCIAL_1) if p.kind == "rate"]
    assert [(p.value, p.bound, p.text) for p in params] == [
        (6.0, "max", "不高于6%"),
        (20.0, "max", "20%"),
        (30.0, "max", "30%"),
        (60.0, "max", "60%"),
    ]
    assert params[0].subject == "裁员率"
    assert params[2].subject == "大型企业 返还"
    assert params[3].subject == "中小微企业 返还"
    assert {p.clause_id for p in params} == {"辽人社发〔2021〕7号:一/（一）"}


def test_city_rate_without_bound_word_is_exact():
    rates = [p for p in extract_parameters("c", FUSHUN_1) if p.kind == "rate"]
    assert [(p.value, p.bound, p.subject) for p in rates] == [
        (30.0, "exact", "大型企业 返还"),
        (60.0, "exact", "中小微企业 返还"),
    ]


def test_fractions_are_percentages():
    # 辽人社〔2022〕22号 十一 and 辽人社发〔2021〕7号 （五）
    p = one("对就业困难人员、离校2年内未就业高校毕业生从事非全日制等工作的，给予最高不超过其实际缴费三分之二的社会保险补贴", "rate")
    assert (p.value, p.unit, p.bound, p.text, p.subject) == (66.67, "%", "max", "三分之二", "社会保险补贴")
    p = one("对距见习协议确定的见习期不足1/3时见习人员实现稳定就业", "rate")
    assert (p.value, p.bound, p.text) == (33.33, "max", "不足1/3")


def test_multiple_of_a_standard_is_a_ratio():
    p = one("脱贫人口补贴标准为当地农村最低生活保障标准的1.5倍，就业困难人员补贴标准为当地城市最低生活保障标准。")
    assert (p.kind, p.value, p.unit, p.bound, p.subject) == ("ratio", 1.5, "倍", "exact", "脱贫人口补贴标准")


def test_最低_inside_a_noun_is_not_a_bound():
    # 辽政办发〔2020〕25号 （六）: 最低工资标准 names the base, the 50% is fixed.
    p = one("招用就业困难人员签订劳动合同并缴纳社会保险费的单位，按当地最低工资标准的50%顶额给予吸纳就业岗位补贴", "rate")
    assert (p.value, p.bound) == (50.0, "exact")


def test_prepaid_share_names_the_verb_and_the_subsidy():
    p = one("在阶段性减免社会保险费期限内的符合条件企业，可预拨不超过50%的一次性吸纳就业补贴，余下部分在企业恢复缴纳社会保险费后拨付。", "rate")
    assert (p.value, p.bound, p.text, p.subject) == (50.0, "max", "不超过50%", "预拨 一次性吸纳就业补贴")


# --- periods ----------------------------------------------------------------------------------


def test_extension_period_with_separated_bound_word():
    p = one(PROVINCIAL_7_2020)
    assert (p.kind, p.value, p.unit, p.bound) == ("months", 6.0, "个月", "max")
    assert p.text == "最多可延长6个月"
    assert p.subject == "享受期限 延长"


def test_workdays_subject_is_what_must_be_done():
    # 辽人社〔2022〕22号 九
    p = one("各地公共就业服务机构采用线上渠道与线下渠道相结合方式受理劳动者失业登记，在7个工作日内办结失业登记，以适当方式主动反馈办理结果")
    assert (p.kind, p.value, p.unit, p.bound, p.text) == ("workdays", 7.0, "工作日", "max", "7个工作日内")
    assert p.subject == "办结失业登记"


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("按规定相应给予不超过24个月的创业场地补贴。", ("months", 24.0, "个月", "max", "不超过24个月")),
        ("签订1年以上劳动合同并缴纳社会保险的，按规定给予一次性吸纳就业补贴。", ("years", 1.0, "年", "min", "1年以上")),
        ("3.登记失业人员中距法定退休年龄5年以内的人员。", ("years", 5.0, "年", "max", "5年以内")),
        ("各统筹地区应在本通知下发之日起4个月内，实现本地区“免申即享”政策覆盖单位应享尽享", ("months", 4.0, "个月", "max", "4个月内")),
        ("培训结束验收合格并经公示无异议后，5个工作日内拨付剩余补贴资金", ("workdays", 5.0, "工作日", "max", "5个工作日内")),
        ("失业保险支持技能提升“展翅行动”补贴申领条件继续放宽至企业在职职工参加失业保险累计缴费满1年及以上。", ("years", 1.0, "年", "min", "满1年及以上")),
        ("离校2年内未就业高校毕业生补贴期限最长不超过24个月。", ("months", 24.0, "个月", "max", "最长不超过24个月")),
        ("企业吸纳登记失业半年以上人员和高校毕业生就业", ("years", 0.5, "年", "min", "半年以上")),
        ("年满16周岁且未达到法定退休年龄的，可自愿在注册地办理企业职工基本养老保险参保手续", ("age", 16.0, "周岁", "min", "年满16周岁")),
    ],
)
def test_periods(sentence, expected):
    params = summary(sentence)
    assert expected in params


def test_two_periods_in_one_sentence_keep_their_own_words():
    got = summary("就业困难人员补贴期限为除对距法定退休年龄不足5年的可延长至退休外，其余人员最长不超过36个月；")
    assert got == [
        ("years", 5.0, "年", "max", "不足5年"),
        ("months", 36.0, "个月", "max", "最长不超过36个月"),
    ]


def test_chinese_numerals_are_read():
    # PROVINCIAL_7_2020 and 辽人社〔2022〕22号 十一 with the numbers written in Chinese.
    p = one("享受期限最多可延长六个月，具体期限由各市根据实际确定。")
    assert (p.kind, p.value, p.bound) == ("months", 6.0, "max")
    p = one("对就业困难人员、离校两年内未就业高校毕业生从事非全日制等工作的", "years")
    assert (p.value, p.bound, p.text) == (2.0, "max", "两年内")


# --- headcounts, amounts, counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("对2020年末参保人数在200人（含）以下，且符合享受稳岗返还条件的参保单位", ("headcount", 200.0, "人", "max", "200人（含）以下")),
        ("30人（含）以下的参保单位裁员率不高于参保职工总数20%的", ("headcount", 30.0, "人", "max", "30人（含）以下")),
        ("同时存在2名（含）以上在法定劳动年龄内、有劳动能力和就业要求、处于无业状态", ("headcount", 2.0, "人", "min", "2名（含）以上")),
        ("按规定对符合条件的10人以下参保企业，免申领直接拨付返还资金。", ("headcount", 10.0, "人", "max", "10人以下")),
        ("新申请最高不超过10万元的创业担保贷款", ("amount", 10.0, "万元", "max", "最高不超过10万元")),
        ("培训期间生活费补贴标准为每人每月300元。", ("amount", 300.0, "元", "exact", "300元")),
        ("上述人员每年累计参加不超过3次的免费职业培训", ("times", 3.0, "次", "max", "不超过3次")),
    ],
)
def test_counts_and_amounts(sentence, expected):
    assert expected in summary(sentence)


def test_parallel_amounts_keep_their_qualifiers():
    params = extract_parameters("c", "获批国家级、省级称号的地区，分别按标准给予国家级500万元、省级300万元的一次性奖补；")
    assert [(p.value, p.unit, p.subject) for p in params] == [(500.0, "万元", "国家级"), (300.0, "万元", "省级 一次性奖补")]


# --- dates and deadlines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("可在2021年12月31日前申请失业保险稳岗返还。", ("deadline", 20211231.0, "max", "2021年12月31日前")),
        ("政策受理期限截至2021年12月31日。", ("deadline", 20211231.0, "max", "截至2021年12月31日")),
        ("中以工代训补贴政策实施期限延长至2021年12月31日。", ("deadline", 20211231.0, "max", "延长至2021年12月31日")),
        ("相关税收优惠政策执行期限延续至2025年12月31日。", ("deadline", 20251231.0, "max", "延续至2025年12月31日")),
        ("2020年12月31日（含）之前发生的，按各市政策执行口径", ("deadline", 20201231.0, "max", "2020年12月31日（含）之前")),
        ("2021年1月1日（含）之后新发生的，申领受理时间截至2021年12月31日", ("date", 20210101.0, "min", "2021年1月1日（含）之后")),
        ("2022年缴纳养老保险费有困难的，可自愿暂缓缴费至2023年底前补缴。", ("deadline", 20231231.0, "max", "至2023年底前")),
    ],
)
def test_dates(sentence, expected):
    got = [(p.kind, p.value, p.bound, p.text) for p in extract_parameters("c", sentence)]
    assert expected in got
    assert all(p.unit == "date" for p in extract_parameters("c", sentence) if p.kind in ("date", "deadline"))


def test_year_range_is_a_first_and_a_last_day():
    # 辽政办发〔2020〕25号 （十一）
    got = summary("2020年至2021年，对组织新招用高校毕业生或在职青年职工等开展1年以上企业新型学徒制培训的企业")
    assert got == [
        ("date", 20200101.0, "date", "min", "2020年"),
        ("deadline", 20211231.0, "date", "max", "至2021年"),
        ("years", 1.0, "年", "min", "1年以上"),
    ]


def test_a_year_on_its_own_is_not_a_parameter():
    got = summary("按照省有关文件，符合条件的企业（除“免申即享”外）可于2021年12月31日前申请2020年度失业保险稳岗返还。")
    assert got == [("deadline", 20211231.0, "date", "max", "2021年12月31日前")]
    assert summary("继续面向2022届毕业生学年高校毕业生开发院校类见习岗位") == []
    assert summary("2022年缴纳养老保险费有困难的") == []


# --- what is not a parameter -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "按照《关于延续实施部分减负稳岗扩就业政策措施的通知》（辽人社发〔2021〕7号）要求，结合我市实际情况",
        "相应将我省出台的《关于进一步扶持退役士兵和重点群体创业就业有关税收优惠政策的通知》（辽财税〔2019〕145号）",
        "家庭成员指民法典第1045条规定的“配偶、父母、子女和其他共同生活的近亲属为家庭成员”",
        "畅通劳动保障监察网上举报投诉平台、12333热线等举报投诉渠道",
        "地址:沈阳市皇姑区北陵大街45-9号 邮编:110032",
        "含教育部门实施“学历证书+若干职业技能等级证书”（1+X证书）中的X证书",
        "各市符合二次安置条件人员的安置方案，按规定报省人力资源社会保障厅、省财政厅备案。",
        "按规定给予一次性吸纳就业补贴。",
        "推行“政策打包试点”“一网通办”“一证通办”“最多跑一次”和“不见面办理”",
        "附件：1.调整后辽宁省毕业生享受一次性求职创业补贴人员范围",
        "全日制岗位补贴不超过当地月最低工资标准",
    ],
)
def test_no_parameters(sentence):
    assert extract_parameters("c", sentence) == []


def test_once_only_is_a_count():
    p = one("失业补助金只能申领享受一次。")
    assert (p.kind, p.value, p.text) == ("times", 1.0, "一次")


# --- offsets, over the whole corpus and arbitrary text ------------------------------------------


def _corpus_paragraphs() -> list[str]:
    paras = []
    for path in sorted(CORPUS.glob("*.txt")):
        paras += normalize_paragraphs(path.read_text(encoding="utf-8")).split("\n")
    return paras


def test_offsets_point_at_the_words_everywhere_in_the_corpus():
    count = 0
    for para in _corpus_paragraphs():
        for p in extract_parameters("c", para):
            count += 1
            assert 0 <= p.start < p.end <= len(para)
            assert para[p.start : p.end] == p.text
            assert p.bound in ("max", "min", "exact")
            if p.kind == "years":
                assert p.value < 100, p  # never a calendar year
    assert count > 100


@given(st.text(alphabet="0123456789一二两三十半年月日个工作人名元万次倍%／/分之以上下内不超过最多满（含）前至截〔〕号第，。的“”", max_size=60))
def test_never_crashes_and_offsets_hold(text):
    for p in extract_parameters("c", text):
        assert text[p.start : p.end] == p.text


# --- comparing a city clause with its provincial clause ----------------------------------------


def test_compare_fushun_item_1_with_provincial_item_1():
    changes = compare_parameters(extract_parameters("p", PROVINCIAL_1), extract_parameters("c", FUSHUN_1))
    big = [c for c in changes if c["kind"] == "rate" and c["provincial_value"] == 30.0]
    assert big == [
        {
            "what": "大型企业 返还",
            "kind": "rate",
            "unit": "%",
            "provincial": "不超过30%",
            "city": "30%",
            "provincial_value": 30.0,
            "city_value": 30.0,
            "provincial_bound": "max",
            "city_bound": "exact",
            "within_bound": True,
        }
    ]
    small = [c for c in changes if c["provincial_value"] == 60.0]
    assert len(small) == 1 and small[0]["within_bound"] is True and small[0]["what"] == "中小微企业 返还"
    # The same deadline in both is not a change.
    assert not [c for c in changes if c["kind"] == "deadline"]
    # What the city left out of its item: the eligibility rates and headcounts, the 4-month target.
    dropped = {c["provincial"] for c in changes if c["city"] is None}
    assert {"不高于6%", "不超过20%", "30人（含）以下", "200人（含）以下", "4个月内", "1年以上"} <= dropped
    assert all(c["within_bound"] is None for c in changes if c["city"] is None)


def test_compare_implementing_deadline_tightened_within_bound():
    changes = compare_parameters(extract_parameters("p", PROVINCIAL_16), extract_parameters("c", FUSHUN_5))
    assert [(c["kind"], c["provincial"], c["city"], c["provincial_bound"], c["city_bound"], c["within_bound"]) for c in changes] == [
        ("days", "30日内", "15日内", "max", "max", True)
    ]


def test_compare_city_dropping_the_bound_word_is_reported_and_within():
    changes = compare_parameters(extract_parameters("p", PROVINCIAL_7_2020), extract_parameters("c", DALIAN_4))
    assert len(changes) == 1
    c = changes[0]
    assert (c["provincial"], c["city"], c["provincial_bound"], c["city_bound"], c["within_bound"]) == (
        "最多可延长6个月", "6个月", "max", "exact", True
    )
    assert c["what"] == "享受期限 延长"


def test_compare_identical_clauses_report_nothing():
    assert compare_parameters(extract_parameters("p", FUSHUN_1), extract_parameters("c", FUSHUN_1)) == []


def test_compare_city_exceeding_the_ceiling_is_out_of_bound():
    # Dalian 八, with the city's share varied to exceed the province's 最多50%.
    provincial = extract_parameters("p", "对组织符合条件人员参加就业见习的单位，可预拨最多50%的见习补贴。")
    city = extract_parameters("c", "对组织符合条件人员参加就业见习的单位，可预拨最多60%就业见习补贴。")
    (c,) = compare_parameters(provincial, city)
    assert (c["provincial"], c["city"], c["within_bound"]) == ("最多50%", "最多60%", False)


def test_compare_city_adding_a_number():
    city = extract_parameters("c", "可继续延长享受期限，最多延长6个月。")
    (c,) = compare_parameters([], city)
    assert (c["provincial"], c["city"], c["city_bound"], c["within_bound"]) == (None, "最多延长6个月", "max", None)


@pytest.mark.parametrize(
    "prov, city, expected",
    [
        ("不超过30%", "30%", True),
        ("不超过30%", "不超过20%", True),
        ("不超过30%", "40%", False),
        ("不超过30%", "不低于10%", False),
        ("满1年及以上", "2年以上", True),
        ("满1年及以上", "半年以上", False),
        ("上浮20%", "上浮20%", True),
        ("上浮20%", "最多上浮20%", False),
        ("2021年12月31日前", "截至2021年6月30日", True),
        ("2021年12月31日前", "2022年6月30日前", False),
    ],
)
def test_within_bound(prov, city, expected):
    assert within_bound(one(prov), one(city)) is expected


def test_words_put_a_detached_bound_in_front():
    p = [x for x in extract_parameters("p", PROVINCIAL_1) if x.value == 30.0 and x.kind == "rate"][0]
    assert p.text == "30%" and words(p) == "不超过30%"
    assert words(one("不超过24个月的创业场地补贴")) == "不超过24个月"


# Every pattern that opens with a lookahead for the characters its matches can start with, and
# the words its alternatives are made of: the texts below are drawn from those words (and digits
# and a few other characters), so that each alternative is met at the start of a match.
def _lookahead_patterns():
    from kb import params

    patterns = [
        params._DATE_RE, params._YEAR_RANGE_RE, params._BARE_YEAR_RE, params._FRACTION_RE, params._QUANTITY_RE,
        params._HEAD_STOP_RE, params._TRAILING_RE, params._NEAR_STOP_RE, params._VERB_BEFORE_RE, params._QUALIFIER_RE,
        params._AFTER_STOP_RE,
    ]
    out = []
    for pattern in patterns:
        bare, stripped = re.subn(r"^\s*\(\?=\[[^\]]*\]\)", "", pattern.pattern, count=1)
        assert stripped == 1, pattern.pattern[:40]
        out.append((pattern, re.compile(bare, pattern.flags)))
    return out


_LOOKAHEADS = _lookahead_patterns()
_PATTERN_WORDS = sorted({w for p, _ in _LOOKAHEADS for w in re.findall(r"[\u4e00-\u9fff（）》、“”]+", p.pattern)})
_PIECES = _PATTERN_WORDS + list("0123456789.%/，。的人员岗位就业补贴") + ["2021", "12", "30", "二〇二一"]


_NUMBERS = ["2021年12月31日", "12月31日", "2023年底", "二〇二一年十二月三十一日", "2020年至2021年", "2020年度", "30%", "6个月", "三分之二", "1/3", "15日内", ""]


def _same_matches(text: str) -> None:
    for pattern, bare in _LOOKAHEADS:
        assert [(m.span(), m.groupdict()) for m in pattern.finditer(text)] == [(m.span(), m.groupdict()) for m in bare.finditer(text)], (pattern.pattern[:30], text)


def test_a_lookahead_opening_a_number_pattern_changes_no_match_after_any_of_its_words():
    # every word of every pattern, before every kind of number and at the end of a phrase
    for word in _PATTERN_WORDS:
        for number in _NUMBERS:
            _same_matches("就业" + word + number + "的补贴")
            _same_matches(word + number)


@given(st.lists(st.sampled_from(_PIECES + _NUMBERS), max_size=12))
def test_a_lookahead_opening_a_number_pattern_changes_no_match(pieces):
    _same_matches("".join(pieces))


# --- The canned query "A parameter compared across cities" (metadata.yml; issue 28 #3) ---


async def _across(ds, kind: str, topic: str = "") -> list[dict]:
    from urllib.parse import quote

    r = await ds.client.get(f"/kb/parameter_across_cities.json?_shape=array&kind={quote(kind)}&topic={quote(topic)}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_canned_query_pairs_only_parameters_of_one_subject(ds):
    rows = await _across(ds, "rate")
    assert rows
    # 裁员率 不高于6% is never set beside 返还 30%: only the pairs the linker compared are listed.
    assert not any("6%" in r["provincial_value"] and "30%" in r["city_value"] for r in rows)
    assert not any("裁员率" in (r["provincial_subject"] or "") and "返还" in (r["city_subject"] or "") for r in rows)
    for r in rows:
        assert r["why_zh"].startswith("上级规定「"), r
        assert r["within_bound"] in ("within", "outside")


async def test_the_canned_query_accepts_chinese_kind_names(ds):
    assert await _across(ds, "比例") == await _across(ds, "rate")
    assert await _across(ds, "月") == await _across(ds, "months")
