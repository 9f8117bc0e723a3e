"""Each logical line classified once into a token: numbering of each kind, history, heading, text.

A genre's grammar (``kb.parse.grammar_tree``) reads these tokens and never looks at the raw
line again; what a line *is* is decided here, once, by the documented patterns below. Where a
line is in the document (front matter, body) is not decided here: a history line met inside an
article is the grammar's business, and it reads it as text.

What this module does not do: decide whether a number continues a sequence (numbering
continuity needs the tree, see ``kb.parse.grammar_tree``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..text import cn_to_int
from .grammar import DATE_RE
from .lines import Line

_CN = "一二三四五六七八九十百千零〇两"
_SPACE = "[ \u3000\u00a0]"

# Statute numbering, outermost first: each alternative names its kind.
STATUTE_NUMBERING_RE = re.compile(
    rf"""
    ^(?:
        第{_SPACE}*(?P<book>[{_CN}\d]+){_SPACE}*编(?![{_CN}])             # 第一编 (民法典)
      | 第{_SPACE}*(?P<subbook>[{_CN}\d]+){_SPACE}*分编                  # 第一分编 (民法典)
      | 第{_SPACE}*(?P<chapter>[{_CN}\d]+){_SPACE}*章                     # 第一章 总则
      | 第{_SPACE}*(?P<section>[{_CN}\d]+){_SPACE}*节                     # 第一节 一般规定
      | 第{_SPACE}*(?P<article>[{_CN}\d]+){_SPACE}*条                     # 第十条 (之一 below)
        (?:之(?P<article_sub>[{_CN}]+))?                                 # 第一百二十条之一
      | [（(]{_SPACE}*(?P<item>[{_CN}]+){_SPACE}*[)）]                    # （一） 项, also (一)
      | (?P<point>\d{{1,3}}){_SPACE}*[.．、](?![\d.．])                    # 1. / 1、 目, not 1.5
      | [（(]{_SPACE}*(?P<subpoint>\d{{1,3}}){_SPACE}*[)）]               # （1）
      | (?P<circled>[\u2460-\u2473])                                      # ① … ⑳
      | (?P<cn>[{_CN}]+){_SPACE}*[、．.]                                  # 一、 a decision's items
    )
    {_SPACE}*
    """,
    re.VERBOSE,
)

# How each kind's label is printed once normalised.
_LABEL = {
    "book": "第{value}编",
    "subbook": "第{value}分编",
    "chapter": "第{value}章",
    "section": "第{value}节",
    "article": "第{value}条",
    "item": "（{value}）",
    "point": "{number}",
    "subpoint": "（{number}）",
    "circled": "{value}",
    "cn": "{value}",
}

# What a statute's history is made of: the acts a legislature or government performs.
ACT_RE = re.compile(
    r"""
    (?P<act>通过|批准|公布|发布|修正|修订|施行)    # the act
    (?=[\s\u3000）)。，,；;根自\d]|$)             # ends the phrase: not 通过率, 公布的 ("…公布自2020年…" is)
    """,
    re.VERBOSE,
)

# A history line: it opens with a date (maybe inside brackets) and names an act.
HISTORY_RE = re.compile(
    rf"""
    ^[（(]?{_SPACE}*                  # （2007年8月30日…通过　根据…修正）
    (?:根据{_SPACE}*)?                # 根据2015年4月24日…
    {DATE_RE.pattern}                 # the date the act happened
    """,
    re.VERBOSE,
)

# 国务院令第700号, 中华人民共和国主席令第二十四号, 广东省人民政府令第290号, 郑州市人民代表大会常务
# 委员会公告第5号: how a text was promulgated.
ORDER_RE = re.compile(
    rf"""
    (?:中华人民共和国)?                                   # 中华人民共和国国务院令: the prefix is dropped
    (?P<order>
        (?:国务院|主席|[\u4e00-\u9fff]{{2,12}}?人民政府|[\u4e00-\u9fff]{{2,12}}?(?:部|委员会|总局|署))
        (?:令|公告){_SPACE}*                                # 令, or a people's congress's 公告
        (?:[（(]?第{_SPACE}*[{_CN}\d]+{_SPACE}*号[)）]?)    # 第700号
    )
    """,
    re.VERBOSE,
)

# An attachment after the articles: "附件：人力资源服务许可证样式", "附件2", "附表 收费标准".
ATTACHMENT_RE = re.compile(
    rf"""
    ^附{_SPACE}*(?P<word>件|表)                     # 附件 / 附表
    {_SPACE}*(?P<number>\d{{1,2}}|[{_CN}]{{1,3}})?  # 附件2 / 附件二
    {_SPACE}*[:：]?{_SPACE}*                       # 附件：
    (?P<title>[^。；]{{0,80}})$                     # its title, if on the line (no sentence)
    """,
    re.VERBOSE,
)

# "目录" on a line of its own: the chapters listed after it are a table of contents.
CONTENTS_RE = re.compile(rf"^目{_SPACE}*录$")
# A markdown or HTML comment line, such as LawRefBook's "<!-- INFO END -->".
COMMENT_RE = re.compile(r"^<!--.*-->$")


@dataclass(frozen=True)
class Token:
    """One line, classified: its kind, its number as printed and as a value, and its words."""

    kind: str  # book | chapter | section | article | item | point | subpoint | circled | cn | attachment | heading | history | contents | comment | row | text
    label: str | None  # normalised: 第一章 / 第十条 / 第十条之一 / （一） / 1 / （1） / ① / 一
    number: int  # value of the number (0 for unnumbered lines)
    text: str  # the words after the numbering, verbatim
    start: int  # the whole line, in the source text
    end: int
    text_start: int  # where ``text`` starts
    line: int  # 1-based line number
    sub: int = 0  # 之一 -> 1
    line_text: str = ""  # the whole line, numbering included (what a number not taken reads as)


def classify(line: Line) -> Token:
    """The token a line is; numbering wins over history, history over text."""
    text = line.text
    if line.cells is not None:
        return Token("row", None, 0, text, line.start, line.end, line.start, line.number, 0, text)
    m = STATUTE_NUMBERING_RE.match(text)
    if m:
        kind = next(k for k in _LABEL if m.group(k))
        value = m.group(kind)
        number = ord(value) - 0x2460 + 1 if kind == "circled" else cn_to_int(value)
        sub = (cn_to_int(m["article_sub"]) or 0) if kind == "article" and m["article_sub"] else 0
        rest = text[m.end() :]
        if number and (rest.strip() or kind in ("book", "subbook", "chapter", "section", "article")):
            label = _LABEL[kind].format(value=value.replace(" ", "").replace("\u3000", ""), number=number)
            if sub:
                label += f"之{m['article_sub']}"
            return Token(kind, label, number, rest, line.start, line.end, line.start + m.end(), line.number, sub, text)
    if (m := ATTACHMENT_RE.match(text)) and (m["number"] or not m["title"] or text[m.end("word") : m.start("title")].strip()):
        number = cn_to_int(m["number"]) if m["number"] else 0
        label = f"附{m['word']}{number or ''}"
        return Token("attachment", label, number or 0, m["title"], line.start, line.end, line.start + m.start("title"), line.number, 0, text)
    if HISTORY_RE.match(text) and ACT_RE.search(text):
        return Token("history", None, 0, text, line.start, line.end, line.start, line.number, 0, text)
    if CONTENTS_RE.match(text):
        return Token("contents", None, 0, text, line.start, line.end, line.start, line.number, 0, text)
    if COMMENT_RE.match(text):
        return Token("comment", None, 0, text, line.start, line.end, line.start, line.number, 0, text)
    return Token("text", None, 0, text, line.start, line.end, line.start, line.number, 0, text)


# A line that is only a heading: short, no punctuation at all (山东's "监察管辖与职责" between articles).
_BARE_HEADING_RE = re.compile(r"^[^，。；：、,.;:！？!?“”《》（）()\d]{2,25}$")

# Items run into one line, as a copy that lost its line breaks prints them:
# "…处分： （一）不依法作出行政许可决定； （二）在办理…". Cut before each such item.
_INLINE_ITEM_RE = re.compile(
    rf"""
    (?<=[：；。:;])                     # after the end of a lead-in or of an item
    {_SPACE}+                           # the space that stood for a line break
    (?=[（(][{_CN}]+[)）])              # before the next item's number
    """,
    re.VERBOSE,
)
_ITEM_AT_START_RE = re.compile(rf"^[（(][{_CN}]+[)）]")
_FIRST_ITEM_RE = re.compile(r"^[（(]一[)）]")


def split_inline_items(lines: list[Line]) -> list[Line]:
    """Lines whose items run on cut into one line per item, offsets exact. Only where the
    items are a list's own: the cut opens （一）, or the line is itself an item."""
    out: list[Line] = []
    for line in lines:
        if line.cells is not None:
            out.append(line)
            continue
        cuts = []
        listing = bool(_ITEM_AT_START_RE.match(line.text))  # the line is itself an item
        for m in _INLINE_ITEM_RE.finditer(line.text):
            listing = listing or bool(_FIRST_ITEM_RE.match(line.text[m.end() :]))  # the list starts here
            if listing:
                cuts.append(m.end())
        if not cuts:
            out.append(line)
            continue
        bounds = [0, *cuts, len(line.text)]
        for a, b in itertools.pairwise(bounds):
            piece = line.text[a:b].rstrip(" \u3000")
            if piece:
                out.append(Line(piece, line.start + a, line.start + a + len(piece), line.number, spans=[(line.start + a, line.start + a + len(piece))]))
    return out


def tokenize(lines: list[Line]) -> list[Token]:
    """Classify each line; a bare heading is told by the article that follows it."""
    tokens = [classify(line) for line in lines]
    for k, token in enumerate(tokens[:-1]):
        if token.kind == "text" and tokens[k + 1].kind == "article" and _BARE_HEADING_RE.match(token.text.replace(" ", "")):
            tokens[k] = Token("heading", token.text.strip(), 0, token.text, token.start, token.end, token.start, token.line, 0, token.line_text)
    return tokens
