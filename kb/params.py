"""Parameters: the numbers a clause sets (rates, periods, headcounts, amounts, dates), as data.

``extract_parameters(clause_id, text)`` reads one clause's normalised text and returns a
``Parameter`` per number, with its kind, value, unit, bound (max / min / exact), a best-effort
subject and the character span of its words. ``compare_parameters(provincial, city)`` pairs the
parameters of a provincial clause with those of a city clause and reports what the city changed.

What is deliberately *not* a parameter: a number without a unit (list numbering, phone numbers
such as 12333, addresses, 第1045条), the year and serial of a 文号 (辽人社发〔2021〕7号), anything
inside 《titles》 or “quoted slogans” (“1+X证书”, “两后生”, “最多跑一次”), and a year standing
alone (2020年度, 2022年缴纳…) — a year is a date only when a month and day or 年底 come with it.

Reading order matters and is fixed: excluded spans first, then dates, then fractions, then
plain quantities, so that "12月31日" is never read as 31 days nor "2021年" as 2021 years.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher

from .model import Parameter
from .text import DOCNO_RE, TITLE_RE, cn_to_int, may_hold_docno

# Chinese numerals allowed in a quantity. 万 is left out so that 十万元 reads as 十 + 万元.
_CN = "零〇一二两三四五六七八九十百千"

# ---------------------------------------------------------------------------------------------
# Spans that hold digits but no parameter.

_QUOTED_RE = re.compile(
    r"""
    “[^“”\n]{1,40}”      # a quoted name or slogan: “1+X证书”, “两目录一系统”, “最多跑一次”
    """,
    re.X,
)

_ORDINAL_RE = re.compile(
    rf"""
    第[\d{_CN}]+         # 第1045条, 第一批, 第三季度: an ordinal, not an amount
    """,
    re.X,
)

# ---------------------------------------------------------------------------------------------
# Dates. Each match is one date; the bound words around it say whether it is a deadline.
#
# The patterns that look for a number begin with a lookahead for the characters a
# match can start with. It matches nothing new; it lets the regular expression engine skip
# every other position at once (a text's dates are found four times faster, its quantities twice).

_DATE_RE = re.compile(
    r"""
    (?=[截延执至到自从\d〇零一二三四五六七八九])   # what a match can start with (see above)
    (?P<prefix>截至|截止(?:到|至)?|延长(?:至|到)|延续(?:至|到)|延至|执行至|至|到|自|从)?  # 截至2021年12月31日
    (?:
        (?P<y>(?:19|20)\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日         # 2021年12月31日
      | (?P<cy>[〇零一二三四五六七八九]{4})年                            # 二〇二一年十二月三十一日
        (?P<cm>[一二三四五六七八九十]{1,2})月(?P<cd>[一二三四五六七八九十]{1,3})日
      | (?P<ye>(?:19|20)\d{2})年(?P<edge>底|末)                          # 2023年底, 2020年末
      | (?<![\d年])(?P<om>\d{1,2})月(?P<od>\d{1,2})日                    # 12月31日 (no year: value unknown)
    )
    (?P<suffix>(?:（含）)?(?:之前|以前|前|之后|以后|后|起)|（含）)?       # …前, …（含）之后, …起
    """,
    re.X,
)

_YEAR_RANGE_RE = re.compile(
    r"""
    (?=[12])
    (?P<y1>(?:19|20)\d{2})年?     # 2020年 (年 sometimes left out: 2020—2021年)
    (?:至|到|—|–|-|~)             # range word or dash
    (?P<y2>(?:19|20)\d{2})年      # 2021年
    (?!\d{0,2}月)                 # but not the start of a full date: 2020年至2021年6月30日
    """,
    re.X,
)

_BARE_YEAR_RE = re.compile(
    r"""
    (?=[12])
    (?<!\d)(?:19|20)\d{2}         # a four-digit year...
    (?:年度?|届)                  # ...as 2020年, 2020年度, 2022届: masked, never a parameter
    """,
    re.X,
)

# ---------------------------------------------------------------------------------------------
# Rates written as fractions.

_FRACTION_RE = re.compile(
    rf"""
    (?=[百千万{_CN}\d])
    (?P<den>百|千|万|[{_CN}]+|\d+)分之(?P<num>[{_CN}]+|\d+(?:\.\d+)?)   # 三分之二, 百分之五十, 千分之二, 万分之五
    |
    (?<![\d./])(?P<snum>\d{{1,2}})/(?P<sden>\d{{1,3}})(?![\d/])   # 1/3 (but not 2021/12/31)
    """,
    re.X,
)

# ---------------------------------------------------------------------------------------------
# A number with its unit, and the bound words that may stand right before or after it.

# Bound words right after a number.
_SUFFIX = r"""
    (?:（含）)?(?:及以上|及以下|以上|以下|以内|之内|内(?![容部外设涵]))   # （含）以下, 以内, 内 (not 内容)
  | （含）                                                             # inclusive, no direction
"""

_QUANTITY_RE = re.compile(
    rf"""
    (?=[\d半{_CN}])
    (?<![\d.])                                    # not the tail of a longer number
    (?P<num>\d+(?:\.\d+)?|半|[{_CN}]{{1,4}})      # 30, 1.5, 六, 二十四, 半 (半年)
    (?P<unit>
        %|％                                      # rate
      | 倍                                        # multiple of a standard
      | 个月                                      # months
      | 个工作日|工作日                           # working days
      | 周岁                                      # age
      | 年(?!级)                                  # years (not 一年级)
      | 日|天                                     # days
      | 人次|人(?!员|民|才)|名                    # headcount (not 人员, 人民, 人才)
      | 亿元|万元|元                              # amounts
      | 次                                        # number of times
    )
    (?P<suffix>{_SUFFIX})?                        # 200人（含）以下, 15日内, 1年以上
    """,
    re.X,
)

_SUFFIX_RE = re.compile(_SUFFIX, re.X)

# Bound words that may stand right before a number ("不超过30%", "年满16周岁").
_ADJACENT_BOUND_RE = re.compile(
    r"""
    (?P<word>
        最高不超过|最长不超过|最多不超过|不超过|不高于|不多于|不大于   # at most
      | 最多|最高|最长|最大|不足|少于|低于|未满                       # at most (不足: strictly)
      | 不低于|不少于|不小于|至少|最少|最低|最短|超过|高于|年满|满    # at least
    )
    (?:可以?)?(?:延长至?|延长到|至)?                                   # 最多可延长6个月, 最长可至…
    $
    """,
    re.X,
)

# The same words, when a phrase separates them from the number: "按不超过…缴费的30%".
# Only unambiguous words qualify: 最低 is left out because 最低工资标准的50% is exact.
_DETACHED_BOUND_RE = re.compile(
    r"""
    最高不超过|最长不超过|最多不超过|不超过|不高于|不低于|不少于|最多|最高|最长|至少
    """,
    re.X,
)

_MAX_WORDS = ("最高不超过", "最长不超过", "最多不超过", "不超过", "不高于", "不多于", "不大于", "最多", "最高", "最长", "最大", "不足", "少于", "低于", "未满")
_MIN_WORDS = ("不低于", "不少于", "不小于", "至少", "最少", "最低", "最短", "超过", "高于", "年满", "满")

# Clause-internal boundaries: a subject never reaches across these.
_SEGMENT_RE = re.compile(
    r"""
    [，；。：！？\n]    # comma, semicolon, full stop, colon, marks, paragraph break
    """,
    re.X,
)

_DIGIT_RE = re.compile(r"\d")
_DECIMAL_RE = re.compile(r"\d+(?:\.\d+)?")
_LIST_LABEL_RE = re.compile(r"[一二三四五六七八九十]+")

_UNITS = {
    "%": ("rate", "%"),
    "％": ("rate", "%"),
    "倍": ("ratio", "倍"),
    "个月": ("months", "个月"),
    "个工作日": ("workdays", "工作日"),
    "工作日": ("workdays", "工作日"),
    "周岁": ("age", "周岁"),
    "年": ("years", "年"),
    "日": ("days", "日"),
    "天": ("days", "日"),
    "人": ("headcount", "人"),
    "名": ("headcount", "人"),
    "人次": ("headcount", "人次"),
    "元": ("amount", "元"),
    "万元": ("amount", "万元"),
    "亿元": ("amount", "亿元"),
    "次": ("times", "次"),
}

# Units after which a Chinese numeral is always a number (个 cannot follow 统一, 同一 …).
_STRONG_UNITS = ("个月", "个工作日", "周岁", "倍", "%", "％")

# Characters that, right before a Chinese numeral, make a word of it: 统一, 同一, 唯一, 第一 …
_CN_COMPOUND_BEFORE = set("统同唯第单万之专逐划归合不初星周每某")


@dataclass
class _Found:
    kind: str
    value: float | None
    unit: str
    bound: str | None
    start: int  # span of the words, bound words included when they touch the number
    end: int
    lead: int  # where the phrase governing the number begins (a detached bound word)
    core: int  # where the number itself begins
    context: tuple[int, int] | None = None  # span the subject is read around, if not (start, end)


# Every parameter is a match of one of these (the other patterns only mask).
_NUMBER_PATTERNS = (_QUANTITY_RE, _FRACTION_RE, _DATE_RE, _YEAR_RANGE_RE)

# Where a pattern cannot match in a text, it is not run: every match holds these words
# (DOCNO_RE alone costs more than the rest together on a text without a 文号).
def _holds_any(*words: str) -> Callable[[str], bool]:
    return lambda text: any(word in text for word in words)


_MAY_MATCH: dict[re.Pattern, Callable[[str], bool]] = {
    DOCNO_RE: may_hold_docno,
    _DATE_RE: lambda text: ("月" in text and "日" in text) or "年底" in text or "年末" in text,  # 12月31日, 2023年底
    _YEAR_RANGE_RE: _holds_any("年"),
    _BARE_YEAR_RE: _holds_any("年", "届"),
    _FRACTION_RE: _holds_any("分之", "/"),
}


def _matches(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    may_match = _MAY_MATCH.get(pattern)
    return pattern.finditer(text) if may_match is None or may_match(text) else iter(())


def extract_parameters(clause_id: str, text: str) -> list[Parameter]:
    """Every number ``text`` sets, in text order.

    Bound: the words right before or after the number decide (不超过/最多/以内/内/前 -> max,
    以上/不低于/满/之后 -> min, （含）以下 -> max); failing those, the nearest unambiguous bound
    word earlier in the same comma-segment with no other number in between (大型企业按不超过
    企业及其职工…的30%返还 -> max); failing that, exact. Dates bounded above are deadlines.

    Subject (best effort, deterministic), built from the comma-segment holding the number:
    the segment's leading noun phrase up to the first preposition or modal (按, 可, 在, 应 …),
    a short qualifier or verb right before the number (国家级, 延长, 预拨), and the verb or noun
    phrase right after it (返还, 办结失业登记). See ``_subject``.
    """
    if not any(next(_matches(pattern, text), None) for pattern in _NUMBER_PATTERNS):
        return []  # nothing below can match: a quick answer for the many clauses without numbers
    masked = [False] * len(text)
    found: list[_Found] = []

    def free(start: int, end: int) -> bool:
        return not any(masked[start:end])

    def mask(start: int, end: int) -> None:
        for i in range(start, end):
            masked[i] = True

    for pattern in (DOCNO_RE, TITLE_RE, _QUOTED_RE, _ORDINAL_RE):
        for m in _matches(pattern, text):
            mask(*m.span())

    for m in _matches(_YEAR_RANGE_RE, text):
        if free(*m.span()):
            y1_end = m.end("y1") + (1 if text[m.end("y1") : m.end("y1") + 1] == "年" else 0)
            # One range, two parameters: its first day (min) and its last day (max).
            whole = m.span()
            found.append(_Found("date", float(f"{m['y1']}0101"), "date", "min", m.start(), y1_end, m.start(), m.start(), whole))
            found.append(_Found("deadline", float(f"{m['y2']}1231"), "date", "max", y1_end, m.end(), m.start(), m.start("y2"), whole))
            mask(*m.span())

    for m in _matches(_DATE_RE, text):
        if not free(*m.span()):
            continue
        bound = _date_bound(m["prefix"], m["suffix"])
        value = _date_value(m)
        kind = "deadline" if bound == "max" else "date"
        core = m.start(next(g for g in ("y", "cy", "ye", "om") if m[g]))
        found.append(_Found(kind, value, "date", bound, m.start(), m.end(), m.start(), core))
        mask(*m.span())

    for m in _matches(_BARE_YEAR_RE, text):
        mask(*m.span())

    for m in _matches(_FRACTION_RE, text):
        if not free(*m.span()):
            continue
        value = _fraction_value(m)
        if value is None:
            continue
        suffix = _SUFFIX_RE.match(text, m.end())
        end = suffix.end() if suffix else m.end()
        found.append(_bounded(text, masked, "rate", value, "%", m.start(), end, suffix and suffix.group(0)))
        mask(m.start(), end)

    for m in _matches(_QUANTITY_RE, text):
        start, end = m.span()
        if not free(start, end):
            continue
        value = _number(m["num"])
        if value is None or not _plausible(text, m, value):
            continue
        kind, unit = _UNITS[m["unit"]]
        found.append(_bounded(text, masked, kind, value, unit, start, end, m["suffix"]))
        mask(start, end)

    found.sort(key=lambda f: f.start)
    ends = sorted(f.end for f in found)
    return [
        Parameter(
            clause_id=clause_id,
            kind=f.kind,
            value=f.value,
            unit=f.unit,
            bound=f.bound,
            subject=_subject(text, f, max((e for e in ends if e <= f.start), default=0)),
            text=text[f.start : f.end],
            start=f.start,
            end=f.end,
        )
        for f in found
    ]


def _number(numeral: str) -> float | None:
    if numeral == "半":
        return 0.5
    if _DECIMAL_RE.fullmatch(numeral):
        return float(numeral)
    value = cn_to_int(numeral)
    return None if value is None else float(value)


def _plausible(text: str, m: re.Match, value: float) -> bool:
    """Reject numbers that are really words or dates: 一次性, 二次安置, 统一年度, 按半年缴费."""
    unit, num = m["unit"], m["num"]
    if unit == "年" and value >= 1900:
        return False  # a year the date patterns did not claim
    if num[0].isdigit():
        return True
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end() : m.end() + 1]
    if num == "半":
        return bool(m["suffix"]) and unit in ("年", "个月")
    if before in _CN_COMPOUND_BEFORE:
        return False
    if unit == "次":
        # 享受一次。 is a limit; 一次性, 二次安置, 一次办 are words.
        return not after or not _is_cjk(after)
    if unit in _STRONG_UNITS or m["suffix"]:
        return True
    if _ADJACENT_BOUND_RE.search(text[max(0, m.start() - 8) : m.start()]):
        return True
    return not before or not _is_cjk(before)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _bounded(
    text: str, masked: list[bool], kind: str, value: float, unit: str, start: int, end: int, suffix: str | None
) -> _Found:
    """Attach the bound: suffix words first, then adjacent prefix words, then a detached one."""
    core = start
    lead = start
    bound = None
    if suffix:
        if "上" in suffix:
            bound = "min"
        elif "下" in suffix or "内" in suffix:
            bound = "max"
    seg_start = _segment_start(text, start)
    adjacent = _ADJACENT_BOUND_RE.search(text[max(seg_start, start - 10) : start])
    if adjacent:
        word = adjacent["word"]
        bound = bound or ("max" if word in _MAX_WORDS else "min")
        start = lead = start - len(adjacent.group(0))
    else:
        before = text[seg_start:start]
        detached = None
        for d in _DETACHED_BOUND_RE.finditer(before):
            detached = d
        if detached and not _DIGIT_RE.search(before[detached.end() :]) and not any(
            masked[seg_start + detached.start() : seg_start + detached.end()]
        ):
            bound = bound or ("max" if detached.group(0) in _MAX_WORDS else "min")
            lead = seg_start + detached.start()
    return _Found(kind, round(value, 2), unit, bound or "exact", start, end, lead, core)


_POWERS_OF_TEN = {"千": 1000.0, "万": 10000.0}


def _fraction_value(m: re.Match) -> float | None:
    if m["snum"]:
        num, den = float(m["snum"]), float(m["sden"])
    elif m["den"] == "百":
        return _number(m["num"])
    elif m["den"] in _POWERS_OF_TEN:  # 千分之二, 万分之五: cn_to_int reads no bare 千 or 万
        num, den = _number(m["num"]), _POWERS_OF_TEN[m["den"]]
    else:
        num, den = _number(m["num"]), _number(m["den"])
    if not num or not den or num > den:
        return None
    return round(num / den * 100, 4)  # 万分之五 is 0.05%


def _date_bound(prefix: str | None, suffix: str | None) -> str:
    if suffix and ("前" in suffix):
        return "max"
    if suffix and ("后" in suffix or "起" in suffix):
        return "min"
    if prefix in ("自", "从"):
        return "min"
    if prefix:
        return "max"
    return "exact"


def _date_value(m: re.Match) -> float | None:
    if m["y"]:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    elif m["cy"]:
        y = int("".join(str("〇一二三四五六七八九".index(c) if c != "零" else 0) for c in m["cy"]))
        mo, d = cn_to_int(m["cm"]) or 0, cn_to_int(m["cd"]) or 0
    elif m["ye"]:
        y, mo, d = int(m["ye"]), 12, 31
    else:
        return None  # 12月31日: no year, so no comparable value
    return float(y * 10000 + mo * 100 + d)


@functools.lru_cache(maxsize=8)  # asked again and again for the text being read
def _segment_marks(text: str) -> list[int]:
    return [m.start() for m in _SEGMENT_RE.finditer(text)]


def _segment_start(text: str, pos: int) -> int:
    """Where the comma-segment holding pos starts: after the last mark before pos."""
    marks = _segment_marks(text)
    before = bisect_left(marks, pos)
    return marks[before - 1] + 1 if before else 0


def _segment_end(text: str, pos: int) -> int:
    """Where the comma-segment from pos ends: at the first mark at or after pos."""
    marks = _segment_marks(text)
    at = bisect_left(marks, pos)
    return marks[at] if at < len(marks) else len(text)


# ---------------------------------------------------------------------------------------------
# Subjects.

# Where a segment's leading noun phrase ends: prepositions, modals, list joints, bound words.
# Single characters are guarded against the words they are part of (关于, 相应, 自主 …).
_HEAD_STOP = r"""
    按照|按|依据|根据|可以|(?<!许)可                       # prepositions of manner, modal 可
  | 应当|(?<![相供对])应(?!届)|(?<![主需重只])要(?!求)     # modals (not 相应, 应届, 主要, 要求)
  | 须|需(?!要)|将|(?<![存所现正实])在(?!职)             # (not 需要, 所在, 在职)
  | (?<![关对属由等低高])于|由(?!于)|从(?!事|业)           # (not 关于, 由于, 从事, 从业)
  | (?<![各来])自(?!主|愿|行|治|身)                      # (not 自主, 自愿, 各自)
  | (?<![针相面])对(?!接|象)|(?<![导方倾])向             # (not 针对, 对接, 导向)
  | (?<![作行认成])为(?!主|止)|给予|分别|但|其中|只能       # (not 作为, 为止)
  | 相应|继续|同时|进一步|按规定                           # adverbs that open a predicate
  | 及其他|及其|(?<![以涉普])及(?!时)|和|(?<!参)与|（         # joints inside one noun phrase
  | (?P<joint>或|、)                                         # joints between alternatives
  | 不超过|不高于|不低于|最多|最高|最长|至少|不足|截至      # bound words
"""
# The characters each of these patterns' matches can start with: a lookahead for them, first,
# lets the engine skip every other position at once (as _DATE_RE's does).
_HEAD_STOP_FIRST = "按依根可应要须需将在于由从自对向为给分但其只相继同进及和与（或、不最至截"
_VERBS_FIRST = "延返预拨承上下增减提降调放申发"

_HEAD_STOP_RE = re.compile(f"(?=[{_HEAD_STOP_FIRST}])(?:{_HEAD_STOP})", re.X)

# Verbs that govern a number: 返还 30%, 延长 6个月, 预拨 50%, 办结 within 7 days.
_VERBS = r"""
    延长|延续|返还|预拨|拨付|承担|上浮|下浮|增加到|减少到|提高到|降低到|调整为|放宽至|申领|发放
"""

# Words a noun phrase never ends with: trailing prepositions, modals and governing verbs.
_TRAILING_RE = re.compile(
    f"(?=[在为于的按至到达可只能享{_VERBS_FIRST}])" + r"(?:(?<![存所现正实])在|为|于|的|按|至|到|达|可|只能|能|享受|" + _VERBS + r")+$", re.X
)

# Where the noun phrase nearest before a number begins: a head stop, 的, a closing bracket,
# 起 (…之日起30日内: what precedes 起 is the starting event), or a governing verb.
_NEAR_STOP_RE = re.compile(f"(?=[{_HEAD_STOP_FIRST}的》）起{_VERBS_FIRST}])(?:" + _HEAD_STOP + r"| 的 | 》 | ） | 起 | " + _VERBS + ")", re.X)

# A governing verb standing right before the number, bound words and 至 allowed in between.
_VERB_BEFORE_RE = re.compile(
    rf"""
    (?=[{_VERBS_FIRST}享])
    (?P<verb>{_VERBS}|享受)
    (?:执行)?(?:至|到)?(?:不超过|不高于|最多|最高|最长)?$    # …延长至 / 延续执行至 / 预拨不超过
    """,
    re.X,
)

# A short qualifier right before the number: 给予国家级500万元, 为每人每月300元, 由现行25%.
_QUALIFIER_RE = re.compile(
    r"""
    (?=[、给按为由])
    (?:、|给予|按|为|由)(?P<q>[\u4e00-\u9fff]{1,4})$
    """,
    re.X,
)

# Where the phrase after a number stops.
_AFTER_STOP_RE = re.compile(
    r"""
    (?=[、（\d并且和及或后时可应在不的])
    (?:
    [、（\d]|并|且|和|及|或|后|时|可|应|在|不超过|不高于|不低于   # joints, modals, another number
  | 的(?=[\u4e00-\u9fff]{0,2}$)                              # a trailing 的 and its last char
    )
    """,
    re.X,
)


def _subject(text: str, f: _Found, floor: int = 0) -> str | None:
    """What the number is about, from the words around it in its comma-segment.

    noun: the segment's leading noun phrase (up to the first preposition, modal or adverb) —
      unless it stopped at a joint between alternatives (或, 、) or ran into the number, when
      the noun phrase nearest before the number (after the last 的, 按, 》, verb …, and after
      any earlier number) is closer to the point; a phrase followed by 的 right before the
      number is the base of a rate (…缴纳失业保险费的60%), used only when there is no head;
    qualifier: ≤4 characters right after 、/给予/按/为/由 (国家级, 每人每月);
    verb: a governing verb right before the number (延长, 预拨, 承担);
    after: the verb or noun phrase right after the number (返还, 办结失业登记), ≤12 characters.
    Only when all of these are empty does the noun phrase ending the previous comma-segment
    stand in. Parts are joined with spaces; a part contained in another is dropped.
    ``floor`` is the end of the previous parameter: no phrase reaches back past it.
    """
    start, end = f.context or (f.start, f.end)
    lead = min(f.lead, start)
    seg_start = _segment_start(text, start)
    seg_end = _segment_end(text, end)
    before = text[seg_start:lead]

    stop = _HEAD_STOP_RE.search(before)
    head = before[: stop.start()] if stop else ""
    if _DIGIT_RE.search(head) or _LIST_LABEL_RE.fullmatch(head):
        head = ""  # a list label (二、) or a number is not a subject
    nearby = text[max(seg_start, floor) : lead]
    near = _tail_phrase(nearby)
    if nearby.endswith("的") or not near:
        noun = head or near  # "…缴纳失业保险费的60%": the phrase before 的 is the base, a last resort
    else:
        noun = near if not head or stop["joint"] else head

    middle = text[seg_start : f.core]
    verb_m = _VERB_BEFORE_RE.search(middle)
    verb = verb_m["verb"] if verb_m else ""
    qual_m = _QUALIFIER_RE.search(text[max(seg_start, floor) : lead])
    qualifier = qual_m["q"] if qual_m and not _VERB_BEFORE_RE.search(qual_m["q"]) else ""

    after_text = text[end:seg_end]
    if after_text.startswith("的"):
        after_text = after_text[1:]
    stop = _AFTER_STOP_RE.search(after_text)
    after = (after_text[: stop.start()] if stop else after_text)[:12]

    if not (noun or qualifier or verb or after) and seg_start > 0 and text[seg_start - 1] == "，":
        noun = _tail_phrase(text[max(_segment_start(text, seg_start - 1), floor) : seg_start - 1])
    parts = [p for p in (noun[-14:], qualifier, verb, after) if p]
    kept = [p for i, p in enumerate(parts) if not any(p in q and (p != q or j < i) for j, q in enumerate(parts) if j != i)]
    return " ".join(kept) or None


def _tail_phrase(words: str) -> str:
    """The noun phrase ``words`` end with: after the last preposition, modal, verb or 的,
    once trailing prepositions and verbs are dropped ("…参保人数在" -> "参保人数")."""
    words = _TRAILING_RE.sub("", words)
    tail = words
    for m in _NEAR_STOP_RE.finditer(words):
        tail = words[m.end() :]
    return "" if _DIGIT_RE.search(tail) else tail[-14:]


# ---------------------------------------------------------------------------------------------
# Comparing a city clause with the provincial clause it implements.

_HAS_BOUND_WORD_RE = re.compile(
    r"""
    不超过|不高于|不多于|不大于|最多|最高|最长|最大|不足|少于|低于|未满   # max words
  | 不低于|不少于|不小于|至少|最少|最低|最短|超过|高于|满                 # min words
  | 以上|以下|以内|之内|内|前|后|起|截至|截止|至|到                       # suffixes and date words
    """,
    re.X,
)


def words(p: Parameter) -> str:
    """The parameter as a reader would quote it: the printed words, with a bound word put in
    front when the text had it far from the number ("不超过…的30%" reads "不超过30%")."""
    if p.bound in ("max", "min") and not _HAS_BOUND_WORD_RE.search(p.text):
        return ("不超过" if p.bound == "max" else "不低于") + p.text
    return p.text


def within_bound(provincial: Parameter, city: Parameter) -> bool | None:
    """Does the city's number respect the province's? None when either value is unknown.

    Province max: the city may set the same or a lower ceiling, or a fixed value under it.
    Province min: the mirror image. Province exact: the city must keep the value and not
    loosen it into a bound.
    """
    pv, cv = provincial.value, city.value
    if pv is None or cv is None:
        return None
    if provincial.bound == "max":
        return cv <= pv and city.bound in ("max", "exact")
    if provincial.bound == "min":
        return cv >= pv and city.bound in ("min", "exact")
    return cv == pv and city.bound in ("exact", None)


def compare_parameters(provincial: list[Parameter], city: list[Parameter]) -> list[dict]:
    """What a city clause changed in the numbers of the provincial clause it implements.

    Parameters pair only within the same kind and unit (dates and deadlines pair with each
    other). Within a group, pairs are chosen greedily by score: subject similarity (0..1),
    plus 0.3 for an equal value, plus up to 0.2 for a similar position in the group. Every
    parameter is paired at most once; leftovers are reported as added (provincial None) or
    dropped (city None). Pairs with equal value and bound are not reported.
    """
    changes: list[dict] = []
    for key in dict.fromkeys(_group(p) for p in provincial + city):
        ps = [p for p in provincial if _group(p) == key]
        cs = [c for c in city if _group(c) == key]
        scored = sorted(
            ((_pair_score(p, i, len(ps), c, j, len(cs)), i, j) for i, p in enumerate(ps) for j, c in enumerate(cs)),
            key=lambda t: (-t[0], t[1], t[2]),
        )
        used_p: set[int] = set()
        used_c: set[int] = set()
        pairs: list[tuple[int | None, int | None]] = []
        for _, i, j in scored:
            if i not in used_p and j not in used_c:
                used_p.add(i)
                used_c.add(j)
                pairs.append((i, j))
        pairs += [(i, None) for i in range(len(ps)) if i not in used_p]
        pairs += [(None, j) for j in range(len(cs)) if j not in used_c]
        pairs.sort(key=lambda ij: (ps[ij[0]].start if ij[0] is not None else 10**9, cs[ij[1]].start if ij[1] is not None else 0))
        for i, j in pairs:
            p = ps[i] if i is not None else None
            c = cs[j] if j is not None else None
            if p and c and p.value == c.value and p.bound == c.bound:
                continue
            changes.append(_change(p, c))
    return changes


def _group(p: Parameter) -> tuple[str, ...]:
    return ("date",) if p.unit == "date" else (p.kind, p.unit)


@functools.lru_cache(maxsize=1 << 14)  # the same subjects meet again and again
def _subject_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _pair_score(p: Parameter, i: int, n: int, c: Parameter, j: int, m: int) -> float:
    similarity = _subject_similarity(p.subject or "", c.subject or "")
    same_value = 0.3 if p.value == c.value else 0.0
    position = 0.2 * (1 - abs(i / max(n, 1) - j / max(m, 1)))
    return similarity + same_value + position


def _change(p: Parameter | None, c: Parameter | None) -> dict:
    either = p or c
    assert either is not None
    return {
        "what": (p and p.subject) or (c and c.subject) or either.kind,
        "kind": either.kind,
        "unit": either.unit,
        "provincial": words(p) if p else None,
        "city": words(c) if c else None,
        "provincial_value": p.value if p else None,
        "city_value": c.value if c else None,
        "provincial_bound": p.bound if p else None,
        "city_bound": c.bound if c else None,
        "within_bound": within_bound(p, c) if p and c else None,
    }
