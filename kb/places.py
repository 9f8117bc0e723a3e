"""Places: who issued a notice and where it applies, from issuer names and 文号.

The gazetteer is data, ``kb/data/divisions.tsv`` (tab-separated, header line): every
province-level division of mainland China, every prefecture-level division, and the
county-level divisions of 辽宁省. Columns: ``name`` (辽宁省, 大连市, 抚顺市顺城区 is written
顺城区 with ``parent`` 抚顺市), ``short`` (辽宁, 大连; empty where the short form would be one
character), ``abbr`` (the province's 简称: 辽), ``level`` (province | city | county),
``parent``, ``province``, ``docno_abbr`` (how the place's 文号 begin: 辽 for 辽人社发, 大 for
大人社发, 内 for 内政发; empty where not known for certain — 辽阳 is one).

Levels and jurisdictions follow ``kb.model.LEVELS``: national bodies are
("national", "中华人民共和国", None). A county's jurisdiction is written with its city,
"抚顺市顺城区", because district names repeat (铁西区 is in 沈阳 and in 鞍山).

This module reads names; it does not know which body issued what. It never guesses from a
single character of a name: 沈阳 in 中国人民银行沈阳分行 names a regional branch's seat, not
the city of 沈阳 (see ``classify_issuer``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .text import DOCNO_RE, docno_prefix

NATIONAL = "中华人民共和国"

Classification = tuple[str, str, str | None]  # (level, jurisdiction, province)


@dataclass(frozen=True)
class Division:
    name: str
    short: str
    abbr: str
    level: str  # province | city | county
    parent: str
    province: str
    docno_abbr: str

    @property
    def jurisdiction(self) -> str:
        """The name as a jurisdiction: counties carry their city (抚顺市顺城区)."""
        return self.parent + self.name if self.level == "county" else self.name


@lru_cache(maxsize=1)
def divisions() -> tuple[Division, ...]:
    """The gazetteer, read once from the package data."""
    text = resources.files("kb").joinpath("data/divisions.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(Division(**{k: (v or "").strip() for k, v in row.items()}) for row in rows)


@lru_cache(maxsize=1)
def _index() -> dict[str, list[Division]]:
    """Every full name, county jurisdiction and short name -> the divisions it may mean."""
    index: dict[str, list[Division]] = {}
    for d in divisions():
        for key in {d.name, d.jurisdiction, d.short}:
            if key:
                index.setdefault(key, []).append(d)
    return index


# Bodies of the central government: what an issuer name starts with, or is.
_NATIONAL_RE = re.compile(
    r"""
    ^(?:
        国务院|中共中央|中央|全国|中华人民共和国|国家|中国           # 国务院办公厅, 国家税务总局, 中国人民银行
      | 政务院                                                    # the State Council's name until 1954
      | (?![省市县区])[\u4e00-\u9fff]{1,12}部$                      # 财政部, 人力资源社会保障部 (not 市委组织部)
      | (?:海关总署|审计署|国家[\u4e00-\u9fff]+)$                    # 海关总署, 国家发展改革委
    )
    """,
    re.X,
)

# A national body's regional office named after its seat, not a jurisdiction of ours:
# 中国人民银行沈阳分行 served three provinces; 沈阳海关 is not the city's customs.
_REGIONAL_OFFICE_RE = re.compile(
    r"""
    (?:分行|分局|中心支行|支行|营业管理部|海关|特派员办事处|特派办|监管局|分公司)$
    """,
    re.X,
)

# 文号 prefixes of central bodies, longest first when matched.
_NATIONAL_DOCNO = (
    "国发", "国办发", "国办函", "国函", "国令", "中发", "中办发", "厅字",
    "人社部发", "人社部函", "人社部规", "人社部明电", "人社厅发", "人社厅函", "人社厅明电",
    "财税", "财社", "财办", "财预", "财农", "财政部令",
    "发改", "教职成", "教发", "税总发", "税总函", "国税发", "国税函", "银发", "民发",
)


@lru_cache(maxsize=8192)  # issuer names repeat across a corpus; the answer is a tuple, safe to share
def classify_issuer(name: str) -> Classification | None:
    """(level, jurisdiction, province) of one issuing body, or None when it cannot be placed.

    Rules, in order:
    1. A full place name in the issuer decides, the most specific one winning:
       "国家税务总局抚顺市税务局" -> city 抚顺市; "大连市金州区…" -> county 大连市金州区;
       "辽宁省人民政府办公厅" -> province. A province's short name (辽宁, 内蒙古) counts as
       full; a city's does not (沈阳 alone is too often the seat of a regional office).
       A county-level name counts only after its city ("抚顺市顺城区") or, for a county or
       county-level city named once in the gazetteer, at the start of the issuer's name
       ("海城市人民政府"); a bare district (…区) never does. A district of a municipality
       not in the gazetteer (天津市和平区) gives the municipality, a province-level division.
    2. Without a place: a regional office of a national body ("中国人民银行沈阳分行",
       "沈阳海关") -> None. Its area is not one of our jurisdictions, and guessing the city
       from its seat would file provincial-level instruments as municipal ones.
    3. Otherwise a central body (国务院…, 国家…, 中国…, …部) -> national.
    """
    name = re.sub(r"\s+", "", name)
    if not name:
        return None
    found = _places_in(name)
    if found:
        return found
    if _REGIONAL_OFFICE_RE.search(name):
        return None
    if _NATIONAL_RE.search(name):
        return ("national", NATIONAL, None)
    return None


def classify_issuers(names: list[str]) -> Classification | None:
    """The lead (first) issuer that can be placed decides; None when none can."""
    for name in names:
        found = classify_issuer(name)
        if found:
            return found
    return None


@lru_cache(maxsize=8192)
def classify_docno(doc_number: str) -> Classification | None:
    """(level, jurisdiction, province) read from a 文号's issuer abbreviation, or None.

    辽政办发/辽人社发/辽财税 -> 辽宁省; 大人社发 -> 大连市; 抚人社函 -> 抚顺市;
    国办发/人社部发/财税 -> national. Central prefixes are tried first, then the Liaoning
    cities' abbreviations, then the provinces' (辽 is the province, so a city abbreviation
    must be matched before it). 公告〔2021〕18号 and unknown prefixes give None. Other
    provinces' cities have no abbreviation in the gazetteer, so their 文号 give None — or,
    where a city shares its province's character (苏州's 苏府), the province.
    """
    m = DOCNO_RE.search(doc_number)
    prefix = docno_prefix(m["prefix"]) if m else re.sub(r"\s+", "", doc_number)
    if not prefix:
        return None
    if any(prefix.startswith(p) for p in _NATIONAL_DOCNO):
        return ("national", NATIONAL, None)
    by_level = {"city": [], "province": []}
    for d in divisions():
        if d.docno_abbr and d.level in by_level and prefix.startswith(d.docno_abbr) and len(prefix) > len(d.docno_abbr):
            by_level[d.level].append(d)
    for level in ("city", "province"):
        if by_level[level]:
            d = max(by_level[level], key=lambda d: len(d.docno_abbr))
            return (d.level, d.jurisdiction, d.province)
    return None


def city_names(province: str) -> list[str]:
    """The prefecture-level divisions of a province, in gazetteer order (辽宁省 -> 沈阳市 …)."""
    province = resolve_place(province) or province
    return [d.name for d in divisions() if d.level == "city" and d.province == province]


def province_of(jurisdiction: str) -> str | None:
    """The province a jurisdiction belongs to: 大连市 -> 辽宁省, 辽宁省 -> 辽宁省, national -> None."""
    if jurisdiction == NATIONAL:
        return None
    candidates = _index().get(jurisdiction, [])
    provinces = {d.province for d in candidates if d.name == jurisdiction or d.jurisdiction == jurisdiction}
    return provinces.pop() if len(provinces) == 1 else None


def resolve_place(text: str) -> str | None:
    """A user's place name -> the jurisdiction it means: 抚顺 / 抚顺市 -> 抚顺市.

    Exact names first, then short names; where a short name is shared, the higher level wins
    (吉林 -> 吉林省, 抚顺 -> 抚顺市 not 抚顺县). "全国"/"中国"/"国家" -> 中华人民共和国.
    Failing an exact match, the most specific full name contained in the text is used
    ("抚顺市的政策" -> 抚顺市). Ambiguous county names (铁西区) give None.
    """
    text = re.sub(r"\s+", "", text or "")
    if not text:
        return None
    if text in (NATIONAL, "全国", "中国", "国家", "中央"):
        return NATIONAL
    candidates = _index().get(text)
    if candidates:
        exact = [d for d in candidates if text in (d.name, d.jurisdiction)]
        pool = exact or candidates
        rank = {"province": 0, "city": 1, "county": 2}
        best = min(rank[d.level] for d in pool)
        top = {d.jurisdiction for d in pool if rank[d.level] == best}
        return top.pop() if len(top) == 1 else None
    found = _places_in(text)
    return found[1] if found and found[0] != "national" else None


def _places_in(name: str) -> Classification | None:
    """The most specific division named in full inside ``name``."""
    provinces = [d for d in divisions() if d.level == "province" and (d.name in name or d.short in name)]
    cities = [d for d in divisions() if d.level == "city" and d.name in name]
    # Province and city must agree when both are named (吉林省吉林市); a city of another
    # province named inside a provincial body's name is still that city.
    if provinces and cities:
        agreeing = [c for c in cities if c.province in {p.name for p in provinces}]
        cities = agreeing or cities
    county = _county_in(name, cities, provinces)
    if county:
        return ("county", county.jurisdiction, county.province)
    if cities:
        city = max(cities, key=lambda d: (len(d.name), -name.index(d.name)))
        return ("city", city.name, city.province)
    if provinces:
        province = min(provinces, key=lambda d: name.index(d.name if d.name in name else d.short))
        return ("province", province.name, province.name)
    return None


def _county_in(name: str, cities: list[Division], provinces: list[Division]) -> Division | None:
    counties = [d for d in divisions() if d.level == "county" and d.name in name]
    for county in counties:
        if any(c.name == county.parent for c in cities) and county.parent + county.name in name:
            return county
    if cities or provinces:
        return None  # a county name under another city or province is not ours (天津市和平区)
    # A bare county-level name: only a county or county-level city (…县, …市; district names
    # repeat across the country), named once in the gazetteer, opening the issuer's name.
    unique = [c for c in counties if c.name.endswith(("县", "市")) and len(_index()[c.name]) == 1 and name.startswith(c.name)]
    return unique[0] if len(unique) == 1 else None
