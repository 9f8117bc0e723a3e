"""Dates a person types: every common written form read, or refused with a message saying why.

A question "as of" a date is answered for the date the person meant, or not at all: the forms
people write (``2021-08-01``, ``2021/08/01``, ``20210801``, ``2021-8-1``, ``2021.8.1``,
``2021年8月1日``, ``二〇二一年八月一日``, full-width digits) are read to one ISO date; anything
else (``2021-13-01``, ``2021-02-30``, ``21-8-1``, ``2021-08``, ``garbage``) raises ``DateError``
naming what was given, what was expected and why it was refused. An empty date means today, and
the ``AsOf`` answer says so (``implicit``), so a page can write "as of today (2026-12-08)".

Deliberately not a general date parser (dateparser, dateutil): those guess at what they cannot
read (``dateutil.parser.parse("2021-13-01")`` tries day 13 of month 1, "21" may be a day or a
year) and a wrong guess is exactly the silent misreading this module exists to prevent. The
forms are declared below, one regex, and the calendar check is ``datetime.date``'s own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .errors import KbError
from .text import cn_to_int

# Full-width digits and separators (２０２１／８／１) read as their ASCII forms.
_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．　", "0123456789-/. ")

# A year written digit by digit in Chinese numerals: 二〇二一 (年).
_CN_YEAR_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")

_DATE_RE = re.compile(
    r"""
    ^(?:
        (?P<compact>(?P<cy>\d{4})(?P<cm>\d{2})(?P<cd>\d{2}))       # 20210801: eight digits, no separator
      |
        (?P<y>\d{4})                                               # year: four digits
        (?P<sep>[-/.])                                             # separator: - / or .
        (?P<m>\d{1,2})                                             # month: one or two digits
        (?P=sep)                                                   # the same separator again (2021-8/1 is refused)
        (?P<d>\d{1,2})                                             # day: one or two digits
      |
        (?P<zy>\d{4}|[〇零一二三四五六七八九]{4})年                 # 2021年 or 二〇二一年
        (?P<zm>\d{1,2}|[一二三四五六七八九十]{1,3})月               # 8月 or 八月 / 十二月
        (?P<zd>\d{1,2}|[一二三四五六七八九十]{1,3})[日号]           # 1日 or 一日 / 三十一日 (号 in speech)
    )$
    """,
    re.VERBOSE,
)

EXAMPLE = "2021-08-01 (or 2021/08/01, 20210801, 2021-8-1, 2021.8.1, 2021年8月1日)"


class DateError(KbError):
    """A date that cannot be read, with what was given and what was expected."""


@dataclass(frozen=True)
class AsOf:
    """The date a question is asked about: ISO ``date``, and whether it was left empty (today)."""

    date: str
    given: str
    implicit: bool

    def describe(self) -> str:
        """'2021-08-01', or 'today (2026-12-08)' when no date was given."""
        return f"today ({self.date})" if self.implicit else self.date

    def to_dict(self) -> dict:
        return {"date": self.date, "given": self.given, "implicit": self.implicit, "meaning": self.describe()}


def parse_date(text: str, what: str = "date") -> date:
    """One written date -> ``datetime.date``; ``DateError`` naming ``what`` and why otherwise."""
    given = text
    s = (text or "").translate(_FULLWIDTH).strip()
    s = re.sub(r"\s+", "", s)
    if not s:
        raise DateError(f"{what}: empty, expected a date such as {EXAMPLE}")
    m = _DATE_RE.match(s)
    if m is None and re.match(r"^\d{2}[-/.]\d", s):
        raise DateError(f"{what} {given!r}: write the year in full (20xx or 19xx), e.g. {EXAMPLE}")
    if m is None:
        raise DateError(f"{what} {given!r}: not a date, expected a date such as {EXAMPLE}")
    if m["compact"]:
        year, month, day = int(m["cy"]), int(m["cm"]), int(m["cd"])
    elif m["y"]:
        year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    else:
        year = int(m["zy"].translate(_CN_YEAR_DIGITS))
        month_n, day_n = cn_to_int(m["zm"]), cn_to_int(m["zd"])
        if month_n is None or day_n is None:
            raise DateError(f"{what} {given!r}: cannot read the month or day, expected a date such as {EXAMPLE}")
        month, day = month_n, day_n
    if not 1 <= month <= 12:
        raise DateError(f"{what} {given!r}: there is no month {month}, expected a date such as {EXAMPLE}")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"{what} {given!r}: {year}-{month:02d} has no day {day}") from None


def as_of(text: str | None, what: str = "as_of", today: date | None = None) -> AsOf:
    """The date a question is about: the given one read by ``parse_date``, or today when empty."""
    given = (text or "").strip()
    if not given:
        return AsOf((today or date.today()).isoformat(), "", True)
    return AsOf(parse_date(given, what).isoformat(), given, False)
