"""Which genre a file holds, from its title and first lines: notice, statute or decision.

Declared as data: an ordered list of (genre, pattern over the title), first match wins, and a
statute must also show its first article or chapter (第一条 / 第一章) at the start of a line, so
a notice whose title happens to end in 办法 or 细则 (a 印发 cover, 抚顺's 实施细则) stays a
notice unless it is built as a statute. Anything not recognised is a notice, the genre the
reader has always read.
"""

from __future__ import annotations

import re

from ..text import normalize_text
from .lines import Line

# The title's last words decide, in this order.
GENRE_BY_TITLE: tuple[tuple[str, re.Pattern], ...] = (
    (
        "decision",
        re.compile(
            r"""
            关于修改.*《.+》.*的决定$          # 国务院关于修改《全国年节及纪念日放假办法》的决定
          | 修正案(?:[（(][一二三四五六七八九十]+[)）])?$   # 中华人民共和国刑法修正案（十二）
            """,
            re.X,
        ),
    ),
    (
        "notice",
        re.compile(
            r"""
            (?:通知|意见|通报|批复|复函|函|公告|通告)$   # a notice by its last word
          | 印发|转发                                   # a 印发 cover, whatever it issues
            """,
            re.X,
        ),
    ),
    (
        "statute",
        re.compile(
            r"""
            (?:法|条例|规定|办法|细则|规则|实施办法|实施细则)$   # 法/条例/规定/办法/细则
            """,
            re.X,
        ),
    ),
)

# The first article or chapter of a statute, at the start of a line.
_STATUTE_START = re.compile(r"^第[ \u3000]*[一1][ \u3000]*[条章编]")
_MAX_TITLE = 80


def title_candidate(lines: list[Line], meta: dict | None = None) -> str | None:
    """The page's own title (HTML <h1>/<title>), else the first line when it can be a title."""
    meta = meta or {}
    if meta.get("h1") or meta.get("title"):
        return normalize_text(meta.get("h1") or meta.get("title"))
    if not lines:
        return None
    first = normalize_text(lines[0].text)
    if len(first) > _MAX_TITLE or first[-1:] in "。；：，" or lines[0].cells is not None:
        return None
    return first


def detect_genre(lines: list[Line], meta: dict | None = None) -> str:
    """notice | statute | decision."""
    title = title_candidate(lines, meta)
    if title is None:
        return "notice"
    genre = next((g for g, pattern in GENRE_BY_TITLE if pattern.search(title)), "notice")
    if genre == "statute" and not any(_STATUTE_START.match(line.text) for line in lines):
        return "notice"
    return genre
