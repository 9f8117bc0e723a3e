"""A statute's history lines -> events; events -> issuer, version date, effective date, force.

A history line says when which body did what to the text: ``2015年3月15日 第十二届全国人民代表
大会第三次会议《关于修改〈中华人民共和国立法法〉的决定》第一次修正``. One line may hold several
events (``（2007年8月30日…通过　根据2015年4月24日…修正）``): it is cut at each date.

What this module does not do: find the history lines (``kb.parse.tokens``) or place a body in
the gazetteer (``kb.places``).
"""

from __future__ import annotations

import re

from ..model import Event
from ..text import normalize_text
from .grammar import DATE_RE, parse_date
from .tokens import ACT_RE, ORDER_RE

_CN = "一二三四五六七八九十百零〇两"

# The body in a session of a legislature: "山东省第九届人民代表大会常务委员会第十七次会议".
_CONGRESS_RE = re.compile(
    rf"""
    (?P<place>[\u4e00-\u9fff]*?)                   # 山东省 (empty for the national congress)
    第[{_CN}\d]+届                                  # 第九届: the term
    (?P<body>[\u4e00-\u9fff]*?人民代表大会(?:常务委员会)?)   # 全国人民代表大会常务委员会
    第[{_CN}\d]+次(?:全体)?会议                       # 第十七次会议
    """,
    re.VERBOSE,
)
# A government's executive meeting: "国务院第11次常务会议", "广东省人民政府第十三届123次常务会议".
_EXECUTIVE_RE = re.compile(
    rf"""
    (?P<body>国务院|政务院|[\u4e00-\u9fff]{{2,12}}?人民政府)     # who met
    (?:第[{_CN}\d]+届)?                                         # 第十三届 (some provinces)
    第?[{_CN}\d]+次(?:常务|全体)?会议                              # 第11次常务会议
    """,
    re.VERBOSE,
)
# The body named in the decision an event cites: "《国务院关于修改〈…〉的决定》".
_DECISION_BODY_RE = re.compile(r"《(?P<body>[\u4e00-\u9fff]{2,30}?)关于")
# A body named just before the act: "政务院发布", "国务院批准".
_BODY_BEFORE_ACT_RE = re.compile(
    r"""
    (?P<body>[\u4e00-\u9fff]{2,30}?(?:院|人民政府|委员会|常务委员会|人民代表大会|部|总局|署))   # 政务院
    [\s\u3000]*(?:通过|批准|公布|发布|修正|修订)$                                            # …发布
    """,
    re.VERBOSE,
)
_BRACKETED = re.compile(r"《[^》]*》|〈[^〉]*〉|<[^>]*>")  # cited titles: their words are not acts

VERSION_ACTS = ("修正", "修订", "公布", "发布")


def parse_history(text: str) -> list[Event]:
    """Every event a history line holds, in the order printed."""
    line = normalize_text(text).strip("（）() ")
    dates = list(DATE_RE.finditer(line))
    events = []
    for k, m in enumerate(dates):
        segment = line[m.start() : dates[k + 1].start() if k + 1 < len(dates) else len(line)]
        segment = re.sub(r"[\s，,；;]*根据[\s]*$", "", segment).strip(" ，,；;）)")
        words = _BRACKETED.sub("", segment)
        acts = list(ACT_RE.finditer(words))
        if not acts:
            continue
        act = acts[-1]["act"]
        order = ORDER_RE.search(DATE_RE.sub(" ", segment, count=1))  # the date's 日 is no part of a name
        identifier = re.sub(r"\s", "", order["order"]) if order else None
        events.append(Event(parse_date(segment), _body(segment, identifier), act, segment, identifier))
    return events


def _body(segment: str, identifier: str | None) -> str | None:
    """Who acted: the congress or government in session, the order's issuer, the decision's."""
    rest = DATE_RE.sub("", segment, count=1).strip()
    if m := _CONGRESS_RE.search(rest):
        return m["place"] + m["body"]
    if m := _EXECUTIVE_RE.search(rest):
        return m["body"]
    if identifier:
        issuer = re.split("令|公告", identifier)[0]
        return "中华人民共和国主席" if issuer == "主席" else issuer
    if m := _DECISION_BODY_RE.search(rest):
        return m["body"]
    if m := _BODY_BEFORE_ACT_RE.search(_BRACKETED.sub("", rest)):
        return m["body"]
    return None


def version_event(events: list[Event]) -> Event | None:
    """The event that made this version: the last 修正/修订/公布/发布, else the last 通过/批准."""
    dated = [e for e in events if e.date]
    for acts in (VERSION_ACTS, ("通过", "批准")):
        chosen = [e for e in dated if e.act in acts]
        if chosen:
            return max(chosen, key=lambda e: e.date or "")
    return None


# "本条例自2018年10月1日起施行" / "本法自公布之日起施行" in the text of an article.
EFFECTIVE_RE = re.compile(
    rf"""
    本(?:法|条例|规定|办法|细则|实施细则|实施办法|决定|规则|准则)    # the document itself
    自[\s]*
    (?:
        (?P<date>{DATE_RE.pattern})                                  # 自2018年10月1日
      | (?P<on_publication>公布之日|发布之日|印发之日)                   # 自公布之日
    )
    起(?:施行|实施|生效)
    """,
    re.VERBOSE,
)


def effective_date(events: list[Event], texts: list[str]) -> str | None:
    """A 施行 event's date; else a date the text gives (本条例自…起施行); else, for a text never
    amended that takes effect on publication, its publication date. An amended text that says
    自公布之日起施行 means its first publication, which its history may not date: None."""
    for e in events:
        if e.act == "施行" and e.date:
            return e.date
    for text in texts:
        for m in EFFECTIVE_RE.finditer(text):
            if m["date"]:
                return parse_date(m["date"])
            if m["on_publication"] and not any(e.act in ("修正", "修订") for e in events):
                published = [e.date for e in events if e.act in ("公布", "发布") and e.date]
                if published:
                    return max(published)
    return None


# Who made a text decides its force (效力级别), read from the issuing body's name.
_FORCE_BY_BODY = (
    (re.compile(r"^(?:中华人民共和国主席|全国人民代表大会(?:常务委员会)?)$"), "法律"),
    (re.compile(r"^(?:国务院|政务院)$"), "行政法规"),
    (re.compile(r"人民代表大会(?:常务委员会)?$"), "地方性法规"),
    (re.compile(r"人民政府$"), "地方政府规章"),
    (re.compile(r"(?:部|委员会|总局|署|局|行)$"), "部门规章"),
)


def force_of(genre: str, issuer: str | None) -> str | None:
    """效力级别: a notice is a 规范性文件; a statute or decision has the force of its maker's acts."""
    if genre == "notice":
        return "规范性文件"
    if not issuer:
        return None
    for pattern, force in _FORCE_BY_BODY:
        if pattern.search(issuer):
            return force
    return None
