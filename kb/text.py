"""Chinese text normalisation: make what is the same look the same, never touch what differs.

- full-width ASCII letters and digits -> half-width (１０ -> 10);
- half-width punctuation inside Chinese text -> full-width ( "(一)" -> "（一）", "创业,灵活" -> "创业，灵活");
- every 文号 bracket form -> 〔〕 ("辽财税(2019)145号" -> "辽财税〔2019〕145号");
- spaces and tabs that a PDF or web page left inside a sentence are dropped ("不超过 24 个月"
  -> "不超过24个月"); a space between two Latin words is kept.

Quotation marks, 〔〕 used as ordinary brackets in prose, and every character of the words
themselves are left as printed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import cn2an

# A CJK ideograph or full-width punctuation: the characters around which spaces mean nothing.
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’…—"

_FULLWIDTH_ALNUM = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in list(range(0xFF10, 0xFF1A)) + list(range(0xFF21, 0xFF3B)) + list(range(0xFF41, 0xFF5B))}
)
_SPACES = str.maketrans({"\u3000": " ", "\u00a0": " ", "\t": " ", "\u2002": " ", "\u2003": " ", "\u200b": ""})
# str.translate looks every character up in a dict, slow on Chinese text where the tables
# rarely apply; a character-class search says in C whether a table has anything to do.
_HAS_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_HAS_SPACES = re.compile("[\u3000\u00a0\t\u2002\u2003\u200b]")

_HALF_TO_FULL_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}

_PUNCT_NEAR_CJK = re.compile(
    rf"""
    (?<=[{_CJK}])\s*([,;:?!])        # half-width punctuation right after a CJK character (digits may follow: "人员,2022年")
    |
    ([,;:?!])\s*(?=[{_CJK}])          # ... or right before one
    """,
    re.X,
)
_HAS_HALF_PUNCT = re.compile(r"[,;:?!]")  # what _PUNCT_NEAR_CJK needs to have anything to do
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_SPACE_RUN = re.compile(r"[ ]{2,}")

_PAREN_GROUP = re.compile(
    r"""
    \(                 # half-width opening parenthesis
    ([^()\n]{0,200})   # its content, no nesting
    \)                 # half-width closing parenthesis
    """,
    re.X,
)

_SPACE_NEAR_CJK = re.compile(
    rf"""
    (?<=[{_CJK}])[ ]+            # spaces after a CJK character or full-width punctuation
    |
    [ ]+(?=[{_CJK}])             # spaces before one
    |
    (?<=[\d.%])[ ]+(?=[\d%])     # spaces inside a number: "1 000", "50 %"
    """,
    re.X,
)

# 文号: issuer abbreviation, year in brackets of any form, serial number, 号.
DOCNO_RE = re.compile(
    r"""
    (?P<prefix>[\u4e00-\u9fff]{1,12})   # issuer abbreviation: 辽政办发, 人社部发, 财税, 公告 (trimmed below)
    [ ]*
    [〔\[［(（【]                        # opening bracket: 〔 [ ［ ( （ 【 all occur in print
    [ ]*(?P<year>(?:19|20)\d{2})[ ]*    # four-digit year
    [〕\]］)）】]                        # closing bracket
    [ ]*(?P<number>\d{1,5})[ ]*          # serial number, sometimes spaced: "378 号"
    号
    """,
    re.X,
)

# What every 文号 contains: a bracketed year. Searching for it first is much cheaper than
# DOCNO_RE, which tries up to 12 prefix characters at every position of a text.
_DOCNO_CORE = re.compile(r"[〔\[［(（【][ ]*(?:19|20)\d{2}[ ]*[〕\]］)）】]")


def may_hold_docno(text: str) -> bool:
    """Could DOCNO_RE match in text? Cheap, and false for most texts."""
    return "号" in text and _DOCNO_CORE.search(text) is not None


# Words that lead into a 文号 in running text but are not part of the issuer abbreviation.
# Verbs of two characters are cut wherever they occur; one-character words only at the very
# start, since they also occur inside abbreviations (辽经信发: 经).
_DOCNO_LEAD_IN = re.compile(
    r"""
    ^.*(?:按照|根据|依据|依照|贯彻|落实|执行|印发|转发|参照|结合|对照|关于|现将|并将|以及|同时)
    """,
    re.X,
)
_DOCNO_LEAD_CHAR = re.compile(r"^[见和及与或将在于的为以由经即等]")  # "和国办发…" -> "国办发…"

TITLE_RE = re.compile(
    r"""
    《(?P<title>[^《》\n]{2,150})》     # a cited title; nested titles use 〈〉 inside
    """,
    re.X,
)

CN_DIGITS = "零〇一二三四五六七八九十百"


def docno_prefix(prefix: str) -> str:
    """The issuer abbreviation of a 文号, without the words that led into it."""
    trimmed = _DOCNO_LEAD_CHAR.sub("", _DOCNO_LEAD_IN.sub("", prefix))
    if not trimmed:
        trimmed = prefix[-1:]
    return trimmed[-8:]


def normalize_docno(text: str) -> str | None:
    """'辽人社发 [2021] 7 号' -> '辽人社发〔2021〕7号'; None if text holds no 文号."""
    text = text.replace("\u3000", " ")
    m = DOCNO_RE.search(text) if may_hold_docno(text) else None
    if not m:
        return None
    return f"{docno_prefix(m['prefix'])}〔{m['year']}〕{int(m['number'])}号"


def find_docnos(text: str) -> list[tuple[str, int, int]]:
    """Every 文号 in text, normalised, with its (start, end) in text."""
    found = []
    if not may_hold_docno(text):
        return found
    for m in DOCNO_RE.finditer(text):
        prefix = docno_prefix(m["prefix"])
        start = m.end("prefix") - len(prefix)
        found.append((f"{prefix}〔{m['year']}〕{int(m['number'])}号", start, m.end()))
    return found


def _normalize_docnos_in(text: str) -> str:
    if not may_hold_docno(text):
        return text

    def repl(m: re.Match) -> str:
        prefix = docno_prefix(m["prefix"])
        lead = m["prefix"][: len(m["prefix"]) - len(prefix)]
        return f"{lead}{prefix}〔{m['year']}〕{int(m['number'])}号"

    return DOCNO_RE.sub(repl, text)


def _paren(m: re.Match) -> str:
    inner = m.group(1)
    if _CJK_CHAR.search(inner) or inner.strip() == "":
        return f"（{inner.strip()}）"
    return m.group(0)


def _full_punct(m: re.Match) -> str:
    return _HALF_TO_FULL_PUNCT[m.group(1) or m.group(2)]


def _normalize_once(s: str) -> str:
    # Each step is skipped when the text lacks the character it acts on (most Chinese
    # paragraphs have no half-width bracket or punctuation): same result, a fraction of the time.
    s = _normalize_docnos_in(s)
    if "(" in s:
        s = _PAREN_GROUP.sub(_paren, s)
    if _HAS_HALF_PUNCT.search(s):
        s = _PUNCT_NEAR_CJK.sub(_full_punct, s)
    if " " in s:
        s = _SPACE_NEAR_CJK.sub("", s)
        if "  " in s:
            s = _SPACE_RUN.sub(" ", s)
    return s.strip()


def normalize_text(text: str) -> str:
    """Normalise one paragraph (no newlines are added or removed except inside it)."""
    s = text.translate(_SPACES) if _HAS_SPACES.search(text) else text
    if _HAS_FULLWIDTH_ALNUM.search(s):
        s = s.translate(_FULLWIDTH_ALNUM)
    if "\r" in s:
        s = s.replace("\r", "")
    # Repeat until nothing changes: one step can make work for another (a space dropped
    # inside a 文号, "财税(2 019)22号"; nested brackets; a run of marks, "::“"), and
    # normalising twice must give what normalising once gives. Every step only turns
    # half-width into full-width or drops spaces, so this ends.
    while (again := _normalize_once(s)) != s:
        s = again
    return s


def normalize_paragraphs(text: str) -> str:
    """Normalise each paragraph, keep one newline between paragraphs, drop empty ones."""
    paras = (normalize_text(p) for p in text.split("\n"))
    return "\n".join(p for p in paras if p)


def compact(text: str) -> str:
    """The comparison form: normalised, with no whitespace at all.

    Normalised again once the whitespace is gone, so that where a line or paragraph broke
    makes no difference ("公告(2021)\n18号" and "公告(2021)18号" compact alike) and
    ``compact(compact(x)) == compact(x)``.
    """
    once = _WHITESPACE.sub("", normalize_text(text))
    return _WHITESPACE.sub("", normalize_text(once))


_WHITESPACE = re.compile(r"\s+")


def normalize_label(label: str) -> str:
    """'(五)' -> '（五）', '1.' -> '1', '一、' -> '一', '附件 2' -> '附件2'."""
    s = label.strip().translate(_FULLWIDTH_ALNUM).replace(" ", "")
    s = s.replace("(", "（").replace(")", "）")
    s = s.rstrip("、.．:：")
    return s


@lru_cache(maxsize=4096)  # numbering and dates repeat the same few numerals; cn2an is slow
def cn_to_int(numeral: str) -> int | None:
    """'十四' -> 14, '二十一' -> 21, '7' -> 7; None when it is not a number."""
    s = numeral.strip().translate(_FULLWIDTH_ALNUM)
    if s.isdigit():
        return int(s)
    if not s or any(ch not in CN_DIGITS + "两" for ch in s):
        return None
    try:
        return int(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError):
        return None


# A clause id as a person may type it: "<document id>:<path>", the document id a 文号 in any
# bracket form, the colon full-width after the 号 ("辽人社发[2021]7号：一/(一)").
_DOCNO_CLAUSE_ID = re.compile(
    r"""
    ^(?P<document>.*?号)   # the document id: up to the first 号 (a 文号 ends with it)
    \s*[:：]\s*            # the separator, ASCII or full-width, spaces around it dropped
    (?P<path>.+)$          # the clause's path: 一/（一）, 第十条/第二款/（三）, 附件2
    """,
    re.X | re.S,
)


def normalize_document_id(text: str) -> str:
    """A document id or 文号 as typed -> the form ids are stored in.

    '辽人社发[2021]7号', '辽人社发(2021)7号', '辽人社发 〔２０２１〕 7 号' -> '辽人社发〔2021〕7号';
    a title (statutes' ids) is normalised as text ('广东省 失业保险条例' -> '广东省失业保险条例');
    a version suffix '@2' (full-width '＠２' too) is kept. One function behind every route,
    command and canned query (``kb_norm`` in SQL), so a 文号 that works in one place works in all.
    """
    s = (text or "").strip().translate(_FULLWIDTH_ALNUM).replace("＠", "@")
    s, at, version = s.partition("@")
    s = (normalize_docno(s) or s) if _whole_docno(s) else normalize_text(s)
    return s + (at + version.strip() if at else "")


def _whole_docno(text: str) -> bool:
    """Is text one 文号 and nothing else (spaces and bracket forms aside)?"""
    m = DOCNO_RE.search(text.replace("\u3000", " ").strip())
    return m is not None and m.start() == 0 and m.end() == len(text.replace("\u3000", " ").strip())


def normalize_clause_path(path: str) -> str:
    """'一/(一)' -> '一/（一）', '附件 2' -> '附件2', '第十条 / 第二款' -> '第十条/第二款'."""
    return "/".join(normalize_label(part) for part in path.split("/"))


def normalize_id(text: str) -> str:
    """A document or clause id as typed -> the stored form (see ``normalize_document_id``).

    A clause id is '<document id>:<path>'; the path's labels are normalised as labels are
    ('(一)' -> '（一）'). Text without a separator is a document id.
    """
    s = (text or "").strip()
    m = _DOCNO_CLAUSE_ID.match(s)
    if m is None and ":" in s:
        document, _, path = s.partition(":")
    elif m is not None:
        document, path = m["document"], m["path"]
    else:
        return normalize_document_id(s)
    return f"{normalize_document_id(document)}:{normalize_clause_path(path.strip())}"
