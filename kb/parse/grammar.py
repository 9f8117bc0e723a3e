"""Line-level patterns of a Chinese government notice: numbering, header, signature, attachments.

Every pattern is compiled once, verbose, with a comment per line. The notice reader
(``kb.parse.notice``) combines them; nothing here looks at more than one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import DOCNO_RE, cn_to_int, normalize_text

_CN_NUM = "一二三四五六七八九十百零〇两"

# Clause numbering, outermost first. Each alternative names its level ("type").
MARKER_RE = re.compile(
    rf"""
    ^(?:
        第(?P<chapter>[{_CN_NUM}\d]+)章[ \u3000]*                 # 第一章
      | 第(?P<article>[{_CN_NUM}\d]+)条[ \u3000]*                 # 第一条
      | (?P<cn>[{_CN_NUM}]+)[ \u3000]*[、．.][ \u3000]*            # 一、   (also 一. in sloppy copies)
      | [（(][ \u3000]*(?P<pcn>[{_CN_NUM}]+)[ \u3000]*[)）][ \u3000]*   # （一） / (一)
      | (?P<arabic>\d{{1,3}})[ \u3000]*[.．、](?![\d.．])[ \u3000]*   # 1. / 1、 / 1． but not 1.5
      | [（(][ \u3000]*(?P<parabic>\d{{1,3}})[ \u3000]*[)）][ \u3000]*   # （1） / (1)
      | (?P<circled>[\u2460-\u2473])[ \u3000]*                    # ① … ⑳
    )
    """,
    re.X,
)

# The order in which numbering levels nest when nothing else tells.
MARKER_TYPES = ("chapter", "article", "cn", "pcn", "arabic", "parabic", "circled")


@dataclass(frozen=True)
class Marker:
    type: str
    number: int
    label: str  # normalised: 一 / （一） / 1 / （1） / ① / 第一条
    length: int  # characters of the line the marker takes, spaces after it included


_LABEL = {
    "chapter": "第{value}章",
    "article": "第{value}条",
    "cn": "{value}",
    "pcn": "（{value}）",
    "arabic": "{number}",
    "parabic": "（{number}）",
    "circled": "{value}",
}


def parse_marker(line: str) -> Marker | None:
    m = MARKER_RE.match(line)
    if not m:
        return None
    kind = m.lastgroup  # each alternative has one named group, and only one alternative matches
    value = m.group(kind)
    number = ord(value) - 0x2460 + 1 if kind == "circled" else cn_to_int(value)
    if number is None or number == 0:
        return None
    if kind in ("arabic", "parabic") and not line[m.end() :].strip():
        return None  # a bare number is a page number, not an item
    return Marker(kind, number, _LABEL[kind].format(value=value, number=number), m.end())


# A line that is only a 文号 (possibly with 签发人 on the same line).
DOCNO_LINE_RE = re.compile(
    rf"""
    ^[ \u3000]*
    (?:{DOCNO_RE.pattern})
    [ \u3000]*
    (?:签发人[:：].*)?$               # 签发人：某某 sometimes shares the line
    """,
    re.X,
)

# "文件" header: alone, or after the issuers on one line.
FILE_HEADER_RE = re.compile(
    r"""
    ^(?P<issuers>.*?)                 # issuers, space-separated, may be empty
    [ \u3000]*文[ \u3000]*件$         # 文件 (sometimes spaced out: 文 件)
    """,
    re.X,
)

DATE_RE = re.compile(
    r"""
    (?P<year>(?:19|20)\d{2}|[二〇零一三四五六七八九]{4})[ ]*年[ ]*
    (?P<month>\d{1,2}|[一二三四五六七八九十]{1,2})[ ]*月[ ]*
    (?P<day>\d{1,2}|[一二三四五六七八九十]{1,3})[ ]*日
    """,
    re.X,
)
DATE_LINE_RE = re.compile(rf"^[ \u3000]*(?:{DATE_RE.pattern})[ \u3000]*$", re.X)

PUBNOTE_RE = re.compile(r"^[（(][ ]*此件[^）)]{1,20}[)）]$")  # (此件公开发布) / （此件主动公开）
CONTACT_RE = re.compile(r"^[（(][ ]*联系(?:单位|人|电话|方式)[^）)]*[)）]$")  # (联系单位:…)
ATTACH_LIST_RE = re.compile(r"^附[ \u3000]*件[ \u3000]*[:：][ \u3000]*(?P<rest>.*)$")  # 附件：1. …
ATTACH_HEADER_RE = re.compile(
    r"""
    ^附[ \u3000]*件[ \u3000]*
    (?P<n>\d{1,2}|[一二三四五六七八九十]{1,3})?     # 附件1 / 附件 2 / 附件一 / 附件
    [ \u3000]*[:：]?[ \u3000]*
    (?P<title>[^。]{0,80})$                           # optional title on the same line
    """,
    re.X,
)
ATTACH_ENTRY_RE = re.compile(
    r"""
    ^(?P<n>\d{1,2})[ \u3000]*[.．、]?[ \u3000]*    # 1. / 2、 / 2
    (?P<title>.+)$
    """,
    re.X,
)

# Words an issuing body's name ends with.
ORG_SUFFIX_RE = re.compile(
    r"""
    (?:人民政府|政府|办公厅|办公室|委员会|领导小组|总局|税务局|分局|局|厅|委|部|署|院|办|中心
      |银行|分行|支行|总行|公司|协会|联合会|工会|团委|妇联|残联|党委|党组|学会|研究会|管委会|总工会)$
    """,
    re.X,
)
TERMINAL = "。！？；：”’）)」』…"
TITLE_SUFFIX_RE = re.compile(
    r"""
    (?:通知|意见|办法|细则|措施|举措|方案|规定|决定|通报|批复|函|公告|通告|规划|纲要|条例|要点
      |清单|范围|分工表|一览表|表|目录|指南|说明|政策|计划|安排|标准|规则|制度)$
    """,
    re.X,
)
RECIPIENTS_HINT_RE = re.compile(r"^各|人民政府|厅|局|委|单位|部门|中心|政府|银行|机构")

BASIS_RE = re.compile(
    r"""
    (?:为(?:深入|全面|进一步|认真)?贯彻落实|贯彻落实|按照|根据|依据|依照|落实)   # words that state a basis
    """,
    re.X,
)
ISSUING_RE = re.compile(r"印发给你们|现将.{0,80}印发|现予印发|转发给你们|现将.{0,80}转发")
CLOSING_START_RE = re.compile(
    r"""
    ^(?:本(?:通知|意见|办法|细则|措施|举措|方案|规定|决定|政策)        # 本通知自印发之日起实施
      | 以往(?:规定|文件|政策)                                         # 以往规定与本通知不一致的
      | 此前 | 以上政策 | 上述政策
      | 各地(?:要|在)?贯彻落实 | 各(?:市|地|县|区|单位)[^，。]{0,10}贯彻落实本
      | 请(?:各|认真)
    )
    """,
    re.X,
)


_NOT_IN_ORG = re.compile("[。，；：、,;:“”《》（）()]")  # punctuation no body's name has


def is_org(line: str) -> bool:
    """A line that is the name of an issuing body (signature or header)."""
    s = line.strip().replace("\u3000", "")
    if not 3 <= len(s) <= 40 or _NOT_IN_ORG.search(s):
        return False
    if " " in s:
        return all(is_org(part) for part in s.split())
    return bool(ORG_SUFFIX_RE.search(s))


def orgs_in(line: str) -> list[str]:
    s = line.strip().replace("\u3000", " ")
    return [p for p in s.split() if p]


def parse_date(text: str) -> str | None:
    m = DATE_RE.search(text)
    if not m:
        return None
    year = cn_to_int(m["year"]) if not m["year"].isdigit() else int(m["year"])
    month, day = cn_to_int(m["month"]), cn_to_int(m["day"])
    if not year or not month or not day or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def ends_sentence(text: str) -> bool:
    s = text.rstrip()
    return bool(s) and s[-1] in TERMINAL


def is_title_like(text: str) -> bool:
    s = normalize_text(text)
    if not s or len(s) > 80 or s[-1] in "。；：，、" or parse_marker(s):
        return False
    return bool(TITLE_SUFFIX_RE.search(s.rstrip("》"))) or s.startswith("关于")


def is_recipients(text: str) -> bool:
    s = normalize_text(text)
    return (
        s.endswith("：")
        and "。" not in s
        and len(s) <= 160
        and bool(RECIPIENTS_HINT_RE.search(s))
        and not parse_marker(s)
    )
