"""Which genre a file holds, from its title and first lines: notice, statute or decision.

Declared as data: an ordered list of (genre, pattern over the title), first match wins, and a
statute must also show its first article or chapter (第一条 / 第一章) at the start of a line, so
a notice whose title happens to end in 办法 or 细则 (a 印发 cover, 抚顺's 实施细则) stays a
notice unless it is built as a statute. Anything not recognised is a notice, the genre the
reader has always read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
            re.VERBOSE,
        ),
    ),
    (
        "notice",
        re.compile(
            r"""
            (?:通知|意见|通报|批复|复函|函|公告|通告)$   # a notice by its last word
          | 印发|转发                                   # a 印发 cover, whatever it issues
            """,
            re.VERBOSE,
        ),
    ),
    (
        "statute",
        re.compile(
            r"""
            (?:法|法典|条例|规定|办法|细则|规则|实施办法|实施细则)$   # 法/法典/条例/规定/办法/细则
            """,
            re.VERBOSE,
        ),
    ),
)

# A bracketed note after a title: （试行）, （2018年修正）, （草案）.
_TRAILING_NOTE_RE = re.compile(r"[（(][^（）()]{1,12}[)）]$")

# The first article or chapter of a statute, at the start of a line.
_STATUTE_START = re.compile(r"^第[ \u3000]*[一1][ \u3000]*[条章编]")
_MAX_TITLE = 80


@dataclass(frozen=True)
class Guess:
    """What a file is, and where its title is: the index of the title line in the lines, or
    None when the title is the page's own (``Source.meta``) or there is none."""

    genre: str
    title_line: int | None = None


_MAX_HEAD = 15  # lines before the body a title may sit after (a 国务院令 block comes first)


def _title_like(line: Line) -> str | None:
    text = normalize_text(line.text)
    if not text or len(text) > _MAX_TITLE or text[-1] in "。；：，" or line.cells is not None:
        return None
    return text


def detect_genre(lines: list[Line], meta: dict | None = None) -> Guess:
    """notice | statute | decision, from the page's own title or the first title-like line
    before the body that a rule names; a statute needs its 第一条 / 第一章 too."""
    starts = [k for k, line in enumerate(lines) if _STATUTE_START.match(line.text)]
    body = starts[0] if starts else min(len(lines), _MAX_HEAD)
    page_title = (meta or {}).get("h1") or (meta or {}).get("title")
    candidates: list[tuple[str, int | None]] = [(normalize_text(str(page_title)), None)] if page_title else []
    for k in range(min(body, _MAX_HEAD)):
        title = _title_like(lines[k])
        if title:
            candidates.append((title, k))
    for title, at in candidates:
        bare = _TRAILING_NOTE_RE.sub("", title)  # XX办法（试行）, XX法（2018年修正）
        genre = next((g for g, pattern in GENRE_BY_TITLE if pattern.search(title) or pattern.search(bare)), None)
        if genre is None:
            continue
        if genre == "statute" and not starts:
            return Guess("notice")
        return Guess(genre, at)
    return Guess("notice")
