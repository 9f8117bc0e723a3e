"""When a clause starts and stops applying, read from its own words.

- ``expires``: 执行期限…至2021年12月31日, 延长至/延续至/截至/到2021年12月31日, 2021年12月31日前,
  自本文印发之日起12个月 (counted from the notice's date), 2020年至2021年 (to the end of 2021);
- ``effective``: 自印发之日起实施 (the notice's date), 自2021年1月1日起施行;
- ``prevails``: 以往规定与本通知不一致的，以本通知为准 — this notice displaces earlier rules.

A clause whose words set several limits expires with the last of them: one part of it still
applies until then. Dates that describe events (2020年12月31日（含）之前发生的) are not limits.

Most clauses name no date: every pattern but the year span needs a full date, 之日起 or 以往 in
the text, so a clause without them is not scanned by it (EXPIRY_RE's lazy lead-in makes a scan
that finds nothing the costliest part of publishing the time limits).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from .text import cn_to_int

_DATE = r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日"  # year, month, day (unnamed: used twice)

EXPIRY_RE = re.compile(
    rf"""
    (?:执行期限|实施期限|期限|有效期)?[^。；，]{{0,12}}?
    (?:延长至|延续至|延续执行至|执行至|截至|截止到?|至|到)\s*{_DATE}   # …延长至2021年12月31日
    (?!（含）之前发生|之前发生|前发生)
    | {_DATE}(?:（含）)?(?:前|之前|以前)(?!发生)(?!（含）)              # 2021年12月31日前申请
    """,
    re.X,
)
RELATIVE_RE = re.compile(
    r"""
    (?:执行期限|实施期限|有效期)?\s*自本(?:文|通知|意见|办法|细则|措施)?(?:印发|发布|施行|实施)之日起
    (?P<n>\d{1,3}|[一二三四五六七八九十两]{1,3})个?(?P<unit>月|年)   # 自本文印发之日起12个月
    (?!内)
    """,
    re.X,
)
YEAR_SPAN_RE = re.compile(r"(?P<y1>(?:19|20)\d{2})\s*年\s*至\s*(?P<y2>(?:19|20)\d{2})\s*年(?![\d]{0,2}月)")  # 2020年至2021年
EFFECTIVE_RE = re.compile(
    rf"""
    自(?:本(?:通知|意见|办法|细则|措施|举措|规定|文))?(?:印发|发布)之日起(?:施行|实施|执行)   # 自印发之日起实施
    | 自{_DATE}起(?:施行|实施|执行)                                                          # 自2021年1月1日起施行
    """,
    re.X,
)
DATE_RE = re.compile(_DATE)  # what EXPIRY_RE and the dated EFFECTIVE_RE need somewhere in the text
PREVAILS_RE = re.compile(r"以往(?:规定|文件|政策)[^。]{0,12}不一致的[，,]?以本(?:通知|意见|办法|细则|措施)为准")


@dataclass(frozen=True)
class TimeLimit:
    kind: str  # expires | effective | prevails
    date: str | None  # ISO
    words: str
    start: int
    end: int


def _iso(y: int, m: int, d: int) -> str | None:
    if not (1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def add_months(iso: str, months: int) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    total = y * 12 + (m - 1) + months
    y2, m2 = divmod(total, 12)
    m2 += 1
    return f"{y2:04d}-{m2:02d}-{min(d, calendar.monthrange(y2, m2)[1]):02d}"


def extract_time_limits(text: str, issued: str | None) -> list[TimeLimit]:
    found: list[TimeLimit] = []
    dated = DATE_RE.search(text) is not None  # EXPIRY_RE, and EFFECTIVE_RE's second form
    from_issue = "之日起" in text  # RELATIVE_RE, and EFFECTIVE_RE's first form
    if dated:
        found += _expiries(text)
    if from_issue:
        found += _relative_expiries(text, issued)
    for m in YEAR_SPAN_RE.finditer(text):
        if int(m["y2"]) >= int(m["y1"]):
            found.append(TimeLimit("expires", f"{int(m['y2']):04d}-12-31", m.group(0), m.start(), m.end()))
    if dated or from_issue:
        for m in EFFECTIVE_RE.finditer(text):
            groups = [g for g in m.groups() if g]
            date = _iso(*(int(g) for g in groups[:3])) if len(groups) >= 3 else issued
            found.append(TimeLimit("effective", date, m.group(0), m.start(), m.end()))
    if "以往" in text:
        for m in PREVAILS_RE.finditer(text):
            found.append(TimeLimit("prevails", issued, m.group(0), m.start(), m.end()))
    return found


def _expiries(text: str) -> list[TimeLimit]:
    found = []
    for m in EXPIRY_RE.finditer(text):
        y, mo, d = _date_groups(m)
        date = _iso(int(y), int(mo), int(d))
        if date:
            found.append(TimeLimit("expires", date, m.group(0).strip("，"), m.start(), m.end()))
    return found


def _relative_expiries(text: str, issued: str | None) -> list[TimeLimit]:
    found = []
    for m in RELATIVE_RE.finditer(text):
        n = cn_to_int(m["n"])
        if issued and n:
            months = n * 12 if m["unit"] == "年" else n
            found.append(TimeLimit("expires", add_months(issued, months), m.group(0), m.start(), m.end()))
    return found


def _date_groups(m: re.Match) -> tuple[str, str, str]:
    """The (year, month, day) of whichever alternative of EXPIRY_RE matched."""
    values = [g for g in m.groups() if g is not None]
    return values[0], values[1], values[2]


def expiry(limits: list[TimeLimit]) -> TimeLimit | None:
    """The limit that ends the clause: the last of its expiry dates."""
    ends = [t for t in limits if t.kind == "expires" and t.date]
    return max(ends, key=lambda t: t.date) if ends else None
