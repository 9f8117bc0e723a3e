"""kb.text: make what is the same look the same, never touch what differs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.text import cn_to_int, compact, find_docnos, normalize_docno, normalize_label, normalize_paragraphs, normalize_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        # half-width brackets around Chinese -> full-width
        ("(一)", "（一）"),
        ("(此件公开发布)", "（此件公开发布）"),
        ("出国(境)留学回国人员", "出国（境）留学回国人员"),
        ("(1+X证书)", "（1+X证书）"),
        ("(含“学历证书”(1+X证书)中的X证书)", "（含“学历证书”（1+X证书）中的X证书）"),  # nested: inner first
        ("（ 一 ）", "（一）"),
        # half-width punctuation in Chinese text -> full-width
        ("创业,灵活", "创业，灵活"),
        ("政府出版物,坚持", "政府出版物，坚持"),
        ("营业管理部:", "营业管理部："),
        ("(联系单位:辽宁省人力资源和社会保障厅就业促进处)", "（联系单位：辽宁省人力资源和社会保障厅就业促进处）"),
        ("“小店经济”,“夜经济”", "“小店经济”，“夜经济”"),
        # ... also when a number follows (辽人社〔2022〕22号 item 十: "人员,2022年缴纳")
        ("各类灵活就业人员,2022年缴纳养老保险费", "各类灵活就业人员，2022年缴纳养老保险费"),
        ("邮编:110032", "邮编：110032"),
        # full-width letters and digits -> half-width
        ("１０个月", "10个月"),
        ("ＡＰＰ", "APP"),
        # stray spaces a PDF or web page left inside a sentence
        ("不超过 24 个月", "不超过24个月"),
        ("预计补贴资金总额的 50%。", "预计补贴资金总额的50%。"),
        ("50 %", "50%"),
        ("1 000 元", "1000元"),
        ("2020 年至 2021 年", "2020年至2021年"),
        ("X 证书", "X证书"),
        ("中\u3000文", "中文"),
        ("全力做好当前促进和扩大就业 有关工作的通知", "全力做好当前促进和扩大就业有关工作的通知"),
        ("ab\u200bcd", "abcd"),
        ("  两端空白  ", "两端空白"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1.5倍",  # a decimal point is not a clause number
        "1,000",  # thousands separator between digits
        "第1,2项",
        "10:30",
        "(a)",  # Latin in brackets is not Chinese text
        "Hello world",  # a space between two Latin words is kept
        "Hello, world",
        "“免申即享”",  # quotation marks are left as printed
        # 〔〕 used as ordinary brackets in prose (Fushun table row （八）) are not a 文号
        "〔含教育部门实施“学历证书+若干职业技能等级证书”（1+X证书）中的X证书，以下非特指均统称证书的〕",
        "见附件1",
        "1/3",
        "12333热线",
    ],
)
def test_normalize_text_leaves_what_differs(text):
    assert normalize_text(text) == text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("辽财税(2019)145号", "辽财税〔2019〕145号"),  # half-width brackets (Fushun 责任分工表)
        ("公告(2021)18号", "公告〔2021〕18号"),
        ("财税(2019)22号", "财税〔2019〕22号"),
        ("辽人社发 [2021] 7 号", "辽人社发〔2021〕7号"),
        ("国办发［2020］27号", "国办发〔2020〕27号"),
        ("人社部发【2019】124号", "人社部发〔2019〕124号"),
        ("辽政办发（2020）25号", "辽政办发〔2020〕25号"),
        ("大人社发〔2019〕378 号", "大人社发〔2019〕378号"),
        ("辽人社〔2022〕22号", "辽人社〔2022〕22号"),
        ("辽人社发〔2021〕07号", "辽人社发〔2021〕7号"),
        ("根据辽政办发〔2020〕25号", "辽政办发〔2020〕25号"),  # lead-in words are not the issuer
        ("按照辽人社发〔2021〕7号", "辽人社发〔2021〕7号"),
        ("和辽人社发〔2021〕7号", "辽人社发〔2021〕7号"),
        ("辽人社发〔\u30002021\u3000〕\u30007号", "辽人社发〔2021〕7号"),  # ideographic spaces count as spaces
    ],
)
def test_normalize_docno(raw, expected):
    assert normalize_docno(raw) == expected


@pytest.mark.parametrize("text", ["", "辽人社发", "2021年7号", "附件1", "第〔2021〕号", "国发〔21〕7号"])
def test_normalize_docno_none(text):
    assert normalize_docno(text) is None


def test_docnos_in_running_text_are_normalised_in_place():
    raw = "《关于进一步扶持退役士兵和重点群体创业就业有关税收政策的通知》（辽财税(2019)145号）相关税收优惠政策"
    assert normalize_text(raw) == "《关于进一步扶持退役士兵和重点群体创业就业有关税收政策的通知》（辽财税〔2019〕145号）相关税收优惠政策"
    raw = "按照《通知》(辽人社发 [2021] 7 号)要求"
    assert normalize_text(raw) == "按照《通知》（辽人社发〔2021〕7号）要求"


def test_find_docnos_offsets():
    text = "落实《通知》（人社部发〔2019〕124号）和《意见》（国办发〔2020〕27号）等有关规定"
    found = find_docnos(text)
    assert [d for d, _, _ in found] == ["人社部发〔2019〕124号", "国办发〔2020〕27号"]
    for docno, start, end in found:
        assert text[start:end] == docno
    # a bracket form is found at its place in the unnormalised text
    text = "执行期限的公告》（公告(2021)18号）关于将"
    [(docno, start, end)] = find_docnos(text)
    assert docno == "公告〔2021〕18号"
    assert text[start:end] == "公告(2021)18号"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("(五)", "（五）"),
        ("（五）", "（五）"),
        ("( 十一 )", "（十一）"),
        ("1.", "1"),
        ("1．", "1"),
        ("（１）", "（1）"),
        ("一、", "一"),
        ("十四、", "十四"),
        ("附件 2", "附件2"),
        ("附件２", "附件2"),
    ],
)
def test_normalize_label(raw, expected):
    assert normalize_label(raw) == expected


@pytest.mark.parametrize(
    "numeral, value",
    [("一", 1), ("十", 10), ("十四", 14), ("十八", 18), ("二十一", 21), ("7", 7), ("１８", 18), ("两", 2)],
)
def test_cn_to_int(numeral, value):
    assert cn_to_int(numeral) == value


@pytest.mark.parametrize("numeral", ["", "abc", "第一", "一二三x"])
def test_cn_to_int_not_a_number(numeral):
    assert cn_to_int(numeral) is None


def test_normalize_paragraphs_keeps_one_newline_between_paragraphs():
    assert normalize_paragraphs("第一段 ,内容\n\n\n  第二段\n") == "第一段，内容\n第二段"


def test_compact_drops_all_whitespace():
    assert compact("给予社会\n\n保险补贴") == "给予社会保险补贴"
    assert compact(" 不超过\n\n10 万元 ") == "不超过10万元"
    assert compact("Hello world") == "Helloworld"


def test_compact_does_not_depend_on_where_lines_broke():
    # a page break inside a 文号 or a bracket group: the comparison form is the same
    assert compact("（公告(2021)\n\n18号）") == compact("（公告(2021)18号）") == "（公告〔2021〕18号）"
    assert compact("(责任单位：\n省人社厅)") == "（责任单位：省人社厅）"
    assert compact("(\n)") == compact("()") == "（）"


def test_space_inside_a_docno_year():
    # a stray space a PDF left inside the year still normalises the brackets, in one pass
    assert normalize_text("（财税(2 019)22号）") == "（财税〔2019〕22号）"


# Text the normaliser must reach a fixed point on: Chinese, digits, Latin, the brackets and
# punctuation of notices, and the spaces web pages leave.
_notice_chars = st.sampled_from(
    list("一二三十百零〇两年月日号辽人社发政办财税局厅省市的和关于通知补贴就业")
    + list("0123456789abcXYZ%.+/")
    + list("（）()〔〕[]［］【】《》〈〉“”，,；;：:。？?！!、 \u3000\t\u00a0")
)


@settings(max_examples=300, deadline=None)
@given(st.text(_notice_chars, max_size=40))
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("就业补贴创业辽宁省人社厅abcXYZ0123456789")), max_size=30))
def test_normalize_text_never_touches_words(text):
    # no spaces, brackets or punctuation: nothing to normalise
    assert normalize_text(text) == text
    assert compact(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(_notice_chars, st.just("\n")), max_size=40))
def test_compact_is_idempotent(text):
    once = compact(text)
    assert compact(once) == once
    assert not any(ch.isspace() for ch in once)


def test_docno_keeps_one_character_words_inside_the_abbreviation():
    from kb.text import normalize_docno

    assert normalize_docno("辽经信发〔2020〕12号") == "辽经信发〔2020〕12号"
    assert normalize_docno("和国办发〔2020〕27号") == "国办发〔2020〕27号"
    assert normalize_docno("现将国办发[2020]27号") == "国办发〔2020〕27号"
