"""Relation semantics: what a lower text does with the higher text it stands on, as pure functions.

The linker (``kb.link``) finds which higher clause a clause restates; this module says what
that means, in terms a lawyer would sign:

- *hierarchy* (``stands_above``): which documents a document may stand on -- a city on its
  province and the nation, a province (直辖市 included) on the nation, a lower force on a
  higher one of its own jurisdiction (a ministry's notice on a law or State Council regulation);
- *explicit references* (``references``, ``citation_path``): 根据《失业保险条例》第十条,
  依照本条例第十七条 -- read, so the linker can resolve them before it scores anything;
- *parameters of one subject* (``parameter_findings``): two numbers are compared only when
  they measure the same thing in the same dimension (a late fee per day against a late fee
  per day, months against years converted to months, 千分之 against 万分之 as rates); the
  dates a text was enacted, article numbers and different benefits never are;
- *obligations contradicted* (``contradictions``): 应当 X in the higher text, 不得 X in the lower;
- *delegations* (``delegations``): 由省、自治区、直辖市人民政府规定, 具体办法由…制定, 由各市自行确定;
- *boilerplate* (``learn_boilerplate``, ``strip_boilerplate``): sentences recurring across
  unrelated documents (构成犯罪的，依法追究刑事责任; 本法自…起施行) carry no lineage;
- *succession* (``same_subject``): two documents of one jurisdiction succeed one another only
  when their titles share a subject.

What it deliberately does not do: score similarity, search candidates or read files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from .model import Document, Parameter
from .params import words
from .text import cn_to_int

# ---------------------------------------------------------------------------------------------
# Hierarchy.

LEVEL_RANK = {"national": 3, "province": 2, "city": 1, "county": 0}

# 效力级别 within one jurisdiction, highest first: a lower force carries out a higher one.
FORCE_RANK = {"法律": 6, "行政法规": 5, "部门规章": 4, "地方性法规": 3, "地方政府规章": 2, "规范性文件": 1}


def tier(doc: Document) -> tuple[int, int]:
    """Where a document stands: its level first, its force within the level (0 when unknown)."""
    return LEVEL_RANK.get(doc.level or "", -1), FORCE_RANK.get(getattr(doc, "force", None) or "", 0)


def stands_above(higher: Document, lower: Document) -> bool:
    """May ``lower`` stand on ``higher``: is ``higher`` above it in its own chain?

    A level above (the nation above everyone; a province above its own cities and counties),
    or the same jurisdiction with a higher force when both forces are known (a ministry's rules
    on a law; a provincial government's rules on the province's regulation). Documents of one
    level and jurisdiction whose force is unknown (the seed notices) do not stand on each
    other: they can only succeed one another.
    """
    if higher.id == lower.id:
        return False
    (hl, hf), (ll, lf) = tier(higher), tier(lower)
    if hl < 0 or ll < 0:
        return False
    if hl > ll:
        return higher.level == "national" or bool(higher.province and higher.province == lower.province)
    if hl == ll and higher.jurisdiction == lower.jurisdiction:
        return hf > lf > 0
    return False


# ---------------------------------------------------------------------------------------------
# Explicit references.

_CN_NUM = "零〇一二两三四五六七八九十百千"

REFERENCE_RE = re.compile(
    rf"""
    (?P<verb>根据|依据|依照|按照|参照|适用|违反|符合|执行)?     # the governing verb, when there is one
    (?:
        《(?P<title>[^《》\n]{{2,80}})》                         # a cited title: 《失业保险条例》
        (?:[（(](?P<docno>[^（）()]{{2,30}}?号)[）)])?           # its 文号 in brackets: （国发〔2015〕23号）
      | (?P<own>本(?:条例|法|办法|规定|细则|决定|规则))          # the text itself: 本条例, 本法
    )
    (?P<article>第[{_CN_NUM}\d]+条(?:之[{_CN_NUM}]+)?)?          # 第十条, 第十条之一
    (?P<paragraph>第[{_CN_NUM}\d]+款)?                           # 第二款
    (?P<item>第[{_CN_NUM}\d]+项)?                                # 第三项
    """,
    re.VERBOSE,
)

# The cited document's title in the form titles are compared in: 中华人民共和国 dropped.
_NATION_PREFIX = "中华人民共和国"


@dataclass(frozen=True)
class Reference:
    """A reference in a clause's text to a document (or to its own), and the part it cites."""

    title: str | None  # as cited, None for 本条例 / 本法
    doc_number: str | None
    own: bool  # 本条例, 本法: the citing document itself
    citation: str  # 第十条第二款第三项 ("" for the whole document)
    words: str  # the reference as printed
    start: int
    end: int


def references(text: str) -> list[Reference]:
    """Every reference in ``text`` to a document or one of its articles, in text order.

    A bare 《title》 without an article counts (it names a document); 本条例 counts only with an
    article (本条例 alone names nothing to link).
    """
    out = []
    for m in REFERENCE_RE.finditer(text):
        citation = "".join(m[g] or "" for g in ("article", "paragraph", "item"))
        if m["own"] and not m["article"]:
            continue
        start = m.start("title") - 1 if m["title"] else m.start("own")
        out.append(Reference(m["title"], m["docno"], bool(m["own"]), citation, text[start : m.end()], start, m.end()))
    return out


def title_key(title: str) -> str:
    """A title as titles are matched: no whitespace, 中华人民共和国 dropped, （…修订）/（试行）notes kept."""
    return "".join(title.split()).removeprefix(_NATION_PREFIX)


def _numeral(label: str) -> str:
    """第十条 -> 十; the numeral as printed inside 第…条/款/项."""
    return label[1:-1]


def citation_path(citation: str) -> str | None:
    """The clause path a citation resolves to, by the shared contract:

    第十条 -> 第十条; 第十条第二款 -> 第十条/第二款; 第十条第二款第三项 -> 第十条/第二款/（三）;
    第十条第一款第三项 -> 第十条/（三） (an article's first paragraph is the article itself);
    第十条第三项 -> 第十条/（三）. None when there is no article.
    """
    m = re.fullmatch(rf"(第[{_CN_NUM}\d]+条(?:之[{_CN_NUM}]+)?)(第[{_CN_NUM}\d]+款)?(第[{_CN_NUM}\d]+项)?", citation)
    if not m or not m[1]:
        return None
    parts = [m[1]]
    if m[2] and cn_to_int(_numeral(m[2])) != 1:
        parts.append(m[2])
    if m[3]:
        parts.append(f"（{_numeral(m[3])}）")
    return "/".join(parts)


# ---------------------------------------------------------------------------------------------
# Delegations: a higher text leaving a choice to the level below.

DELEGATION_RE = re.compile(
    r"""
    由各(?:市|地)[^。；]{0,20}?(?:自行)?确定                          # 由各市自行确定 / 由各地根据…确定
    | 各(?:市|地)可[^。；]{0,12}?(?:自行)?确定?                       # 各市可自行确定 / 各市可根据实际确定
    | 具体(?:标准|期限|办法|数额|比例|范围)由[^。；]{1,30}?(?:确定|规定|制定)  # 具体办法由国务院劳动保障行政部门制定
    | 有条件的(?:市|地区|地方)可                                       # 有条件的市可…
    | 由各(?:市|地)根据                                                 # 由各地根据本地…
    | 各(?:市|地)(?:要)?结合(?:本地)?实际                              # 各地结合实际
    | 由省、自治区、直辖市人民政府[^。；]{0,12}?(?:规定|确定|制定)      # 由省、自治区、直辖市人民政府规定
    | 省、自治区、直辖市人民政府[^。；]{0,16}?(?:可以|可)[^。；]{0,12}?(?:规定|确定|调整)  # …人民政府可以根据…规定
    | 由设区的市[^。；]{0,12}?(?:规定|确定|制定)                        # 由设区的市人民政府规定
    | 由国务院[^。；]{0,20}?(?:规定|制定)                               # 由国务院劳动保障行政部门规定 (to a ministry)
    """,
    re.VERBOSE,
)


def delegations(text: str) -> list[str]:
    """The phrases by which ``text`` leaves a rule to a lower body, in text order, once each."""
    return list(dict.fromkeys(m.group(0) for m in DELEGATION_RE.finditer(text)))


# ---------------------------------------------------------------------------------------------
# Obligations: 应当 X against 不得 X.

_NEGATION_WORDS = ("不得", "不予", "禁止", "不再", "不应", "无须", "不必")
_DUTY_WORDS = ("应当", "必须", "应", "须")


def _acts(text: str) -> dict[str, set[str]]:
    """For each act written right after a duty or a prohibition: "duty" and/or "forbidden"."""
    found: dict[str, set[str]] = defaultdict(set)
    for word in _NEGATION_WORDS + _DUTY_WORDS:
        for m in re.finditer(word, text):
            act = text[m.end() : m.end() + 2]
            if len(act) == 2 and all("\u4e00" <= ch <= "\u9fff" for ch in act):
                found[act].add("forbidden" if word in _NEGATION_WORDS else "duty")
    return found


def contradictions(higher: str, lower: str) -> list[str]:
    """Acts the higher text makes a duty and the lower forbids, or the reverse.

    Only an act with one polarity in each text counts: 不得侵占、截留 on both sides, or one side
    adding words around a prohibition it shares, is no contradiction.
    """
    h, lo = _acts(higher), _acts(lower)
    out = []
    for act in sorted(set(h) & set(lo)):
        if len(h[act]) == 1 and len(lo[act]) == 1 and h[act] != lo[act]:
            out.append(f"上级{'应当' if 'duty' in h[act] else '不得'}{act}，下级{'应当' if 'duty' in lo[act] else '不得'}{act}")
    return out


# ---------------------------------------------------------------------------------------------
# Parameters of one subject.

# What a parameter measures, as the comparable dimension and the factor to its base unit.
_DIMENSION = {
    ("years", "年"): ("duration", 12.0),  # in months
    ("months", "个月"): ("duration", 1.0),
    ("days", "日"): ("days", 1.0),
    ("workdays", "工作日"): ("workdays", 1.0),
    ("rate", "%"): ("rate", 1.0),
    ("ratio", "倍"): ("ratio", 1.0),
    ("amount", "元"): ("amount", 1.0),
    ("amount", "万元"): ("amount", 10_000.0),
    ("amount", "亿元"): ("amount", 100_000_000.0),
    ("headcount", "人"): ("headcount", 1.0),
    ("headcount", "人次"): ("headcount-times", 1.0),
    ("age", "周岁"): ("age", 1.0),
    ("times", "次"): ("times", 1.0),
}

# A rate or amount per period: read from the words just before the number.
_PER_RE = re.compile(
    r"""
    (?P<day>按日|每日|每天|日加收|逐日)      # per day: 按日加收千分之二
    | (?P<month>按月|每月|每人每月|月均)      # per month
    | (?P<year>按年|每年|年度|每人每年)       # per year
    """,
    re.VERBOSE,
)

# The things a number is about that must be the same on both sides: benefits, fees, penalties,
# rates. Two numbers naming different ones (补助金 against 失业保险金) are never compared.
_THING_RE = re.compile(
    r"""
    (?:丧葬|医疗|一次性生活|生活|职业培训|职业介绍|技能提升|稳岗|社会保险|岗位|创业)?  # which benefit
    (?:失业保险金|保险金|补助金|补贴|抚恤金|滞纳金|罚款|保险费|缴费|工资|          # benefits, fees
       裁员率|费率|返还|补助|奖励|赔偿金|经济补偿|违法所得)                        # rates, refunds
    """,
    re.VERBOSE,
)

# What is measured of a benefit: its period, its length of contributions.
_MEASURE_RE = re.compile(
    r"""
    期限|年限|时间|标准    # 领取失业保险金的期限, 累计缴费时间, 补助金标准
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Finding:
    """Two parameters of one subject, one from each text, and what the lower does with the higher's."""

    higher: Parameter
    lower: Parameter
    dimension: str  # duration, rate/日, amount/月 …
    within: bool | None  # None: a value is unknown
    why: str  # English, for the evidence
    why_zh: str  # 上级规定「千分之二」，本市规定「万分之五」…

    @property
    def changed(self) -> bool:
        """Did the lower text set another number or bound (not the same words again)?"""
        h, lo = self.higher, self.lower
        return (h.value, h.unit, h.bound) != (lo.value, lo.unit, lo.bound)


def dimension(p: Parameter, text: str) -> tuple[str, float] | None:
    """The parameter's dimension and the factor to its base unit, or None for what is never
    compared (dates of enactment and deadlines as calendar dates)."""
    base = _DIMENSION.get((p.kind, p.unit))
    if base is None:
        return None
    name, factor = base
    if name in ("rate", "amount"):
        per = _PER_RE.search(text[max(0, p.start - 8) : p.start])
        if per:
            name += "/" + next(k for k, v in per.groupdict().items() if v)
    return name, factor


def _lead(p: Parameter, text: str) -> str:
    """The words of the comma-segment before the number: what the number is about."""
    seg = max(text.rfind(ch, 0, p.start) for ch in "，。；：")
    return text[seg + 1 : p.start]


def thing(p: Parameter, text: str) -> str | None:
    """The benefit, fee or rate the number measures, and what of it (its 期限, 标准…): the last
    benefit named before it in its comma-segment, else the first after it, joined to the last
    measure before it (领取失业保险金的期限最长为24个月 -> 失业保险金·期限; 补助金按一个月… -> 补助金;
    按日加收千分之二的滞纳金 -> 滞纳金). Two numbers of different things are never compared."""
    lead = _lead(p, text)
    before = [m.group(0) for m in _THING_RE.finditer(lead)]
    benefit = before[-1] if before else None
    if benefit is None:
        seg_end = min([i for i in (text.find(ch, p.end) for ch in "，。；") if i >= 0] or [len(text)])
        after = _THING_RE.search(text, p.end, seg_end)
        benefit = after.group(0) if after else None
    measures = _MEASURE_RE.findall(lead)
    parts = [x for x in (benefit, measures[-1] if measures else None) if x]
    return "·".join(parts) or None


def _context(p: Parameter, text: str) -> tuple[str, str]:
    """The words right around a number (its bound words excluded): 8 characters before, 6 after."""
    return text[max(0, p.start - 8) : p.start], text[p.end : p.end + 6]


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1) if all("\u4e00" <= ch <= "\u9fff" for ch in s[i : i + 2])}


def same_subject(p: Parameter, p_text: str, q: Parameter, q_text: str) -> float:
    """How surely two parameters measure the same thing: 0 when they cannot (other dimension,
    different benefits), else the likeness of their subjects and lead words (0..1)."""
    dp, dq = dimension(p, p_text), dimension(q, q_text)
    if dp is None or dq is None or dp[0] != dq[0]:
        return 0.0
    if p.bound != q.bound and not (q.bound == "exact" and p.unit == q.unit):
        return 0.0  # 不足5年 against 满五年: the two ends of different tiers, not one bound
    if _context(p, p_text) == _context(q, q_text):
        return 1.0  # the same words around the number: 但最多不超过6个月，建立… against …9个月，建立…
    tp, tq = thing(p, p_text), thing(q, q_text)
    if tp and tq and tp != tq:
        return 0.0  # 补助金 against 失业保险金的期限: different benefits
    lp, lq = _bigrams(_lead(p, p_text)), _bigrams(_lead(q, q_text))
    lead = len(lp & lq) / max(1, min(len(lp), len(lq))) if lp and lq else 0.0
    subject = SequenceMatcher(None, p.subject or "", q.subject or "").ratio() if p.subject and q.subject else 0.0
    shared = 0.5 if tp and tp == tq else 0.0
    return max(lead, subject, shared)


SAME_SUBJECT = 0.5  # below this two parameters are about different things


def _quote(p: Parameter) -> str:
    return f"「{words(p)}」"


_BREACH_ZH = {"max": "超出上级规定的上限", "min": "低于上级规定的下限，比上级宽松"}


def _verdict(higher: Parameter, lower: Parameter, factor_h: float, factor_l: float) -> bool | None:
    """Does the lower value keep within the higher's bound (values in one base unit)?"""
    if higher.value is None or lower.value is None:
        return None
    hv, lv = higher.value * factor_h, lower.value * factor_l
    if higher.bound == "max":
        return lv <= hv and lower.bound in ("max", "exact")
    if higher.bound == "min":
        return lv >= hv and lower.bound in ("min", "exact")
    return abs(lv - hv) < 1e-9 and lower.bound in ("exact", None)


def _extremes(params: list[Parameter], text: str) -> list[Parameter]:
    """A table of tiers of periods (满1年不足5年…12个月; 满5年不足10年…18个月) bounds its subject by its
    extremes: of several lower bounds of one thing only the lowest (the eligibility floor), of
    several upper bounds only the highest (the cap). Each tier's own figures are not bounds."""
    groups: dict[tuple, list[Parameter]] = defaultdict(list)
    for p in params:
        d = dimension(p, text)
        if d is not None and d[0] == "duration" and p.bound in ("min", "max"):  # tiers are of periods
            groups[(d[0], thing(p, text), p.bound)].append(p)
    dropped = set()
    for (_, _, bound), members in groups.items():
        if len(members) > 1:
            factor = {id(p): dimension(p, text)[1] for p in members}  # type: ignore[index]
            keep = (min if bound == "min" else max)(members, key=lambda p: (p.value or 0) * factor[id(p)])
            dropped |= {id(p) for p in members if p is not keep}
    return [p for p in params if id(p) not in dropped]


def parameter_findings(
    higher: list[Parameter], higher_text: str, lower: list[Parameter], lower_text: str, lower_level: str = "下级"
) -> list[Finding]:
    """Pair each lower parameter with the higher parameter of the same subject (best first, each
    used once) and say whether it keeps within the higher bound. Unpaired numbers are not
    findings: a number the higher text does not set bounds nothing."""
    higher, lower = _extremes(higher, higher_text), _extremes(lower, lower_text)
    scored = []
    for i, h in enumerate(higher):
        for j, lo in enumerate(lower):
            s = same_subject(h, higher_text, lo, lower_text)
            if s >= SAME_SUBJECT:
                scored.append((s + (0.1 if h.value == lo.value and h.unit == lo.unit else 0.0), i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_h: set[int] = set()
    used_l: set[int] = set()
    out = []
    for _, i, j in scored:
        if i in used_h or j in used_l:
            continue
        used_h.add(i)
        used_l.add(j)
        h, lo = higher[i], lower[j]
        (dim, fh), (_, fl) = dimension(h, higher_text), dimension(lo, lower_text)  # type: ignore[misc]
        within = _verdict(h, lo, fh, fl)
        what = thing(h, higher_text) or h.subject or lo.subject or dim
        if within is False:
            why = f"{what}: higher {words(h)}, lower {words(lo)} — outside the higher {h.bound} bound ({dim})"
            why_zh = f"上级规定{_quote(h)}，{lower_level}规定{_quote(lo)}（{what}）：" + _BREACH_ZH.get(h.bound or "", "与上级规定不一致")
        else:
            why = f"{what}: higher {words(h)}, lower {words(lo)} — within the higher bound ({dim})"
            why_zh = f"上级规定{_quote(h)}，{lower_level}规定{_quote(lo)}（{what}）：在上级规定范围内"
        out.append(Finding(h, lo, dim, within, why, why_zh))
    out.sort(key=lambda f: f.lower.start)
    return out


# ---------------------------------------------------------------------------------------------
# Boilerplate: sentences that carry no lineage.

# Formulas every law uses; the corpus teaches the rest (``learn_boilerplate``).
BOILERPLATE_RE = re.compile(
    r"""
    ^(?:本(?:法|条例|办法|规定|细则|决定|规则|通知|措施)自.{0,30}?(?:起施行|施行)   # 本法自…起施行
      | 构成犯罪的，?依法追究刑事责任                                         # penalty formula
      | (?:法律、)?(?:行政)?法规(?:、规章)?规定的其他(?:情形|情况|单位和人员|人员|事项)  # catch-all item
      | 法律、行政法规另有规定的，?从其规定                                     # deference formula
    )[。；]?$
    """,
    re.VERBOSE,
)

_SENTENCE_RE = re.compile(r"[^。；]+[。；]?")
_NUMBERS_RE = re.compile(rf"[\d{_CN_NUM}]+(?=[年月日号条款项])")
_BOILERPLATE_PUNCT = re.compile(r"[，。；、：\s]")

MAX_BOILERPLATE_CHARS = 40  # a formula is short; a longer shared sentence is a restated rule
BOILERPLATE_FAMILIES = 3  # documents of distinct subjects a sentence must recur in


def sentence_key(sentence: str) -> str:
    """The form sentences are counted in: punctuation dropped, dates and numbers as #."""
    return _BOILERPLATE_PUNCT.sub("", _NUMBERS_RE.sub("#", sentence))


def sentences(text: str) -> list[str]:
    return [m.group(0) for m in _SENTENCE_RE.finditer(text) if m.group(0).strip("。； ")]


_TITLE_NOISE = re.compile(
    r"""
    ^中华人民共和国|^[\u4e00-\u9fff]{2,6}?(?:省|自治区)(?=[\u4e00-\u9fff]{2})   # the nation, a province (a city: by name, below)
    | 关于|印发|若干|措施|举措|条例|办法|规定|细则|通知|决定|意见|暂行|实施|进一步|工作|有关|的   # genre words
    | 〈|〉|《|》|（[^）]*）                                                       # marks and notes
    """,
    re.VERBOSE,
)


def subject_of(title: str, jurisdiction: str | None = None) -> str:
    """The subject words of a title: jurisdiction, genre words and notes removed
    (广东省失业保险条例 -> 失业保险; 重庆市失业保险条例 with its jurisdiction 重庆市 -> 失业保险).
    A city is removed only by its name: 人力资源市场 is no 市."""
    title = title or ""
    if jurisdiction and jurisdiction != "中华人民共和国" and title.startswith(jurisdiction):
        title = title[len(jurisdiction) :]
    words = _TITLE_NOISE.sub("", title)
    return words[:-1] if len(words) > 3 and words.endswith("法") else words  # 就业促进法 -> 就业促进


def same_subject_titles(a: str, b: str, jurisdiction_a: str | None = None, jurisdiction_b: str | None = None) -> bool:
    """Do two titles share a subject (a two-character word of their subject words)?"""
    return bool(_bigrams(subject_of(a, jurisdiction_a)) & _bigrams(subject_of(b, jurisdiction_b)))


def basis_titles(doc: Document) -> list[str]:
    """The titles a law names as its basis in its purpose article (为了…，根据《中华人民共和国就业促进法》
    和有关法律，制定本条例): the laws it carries out, as a whole."""
    for clause in doc.clauses:
        if clause.kind == "article":
            text = "".join(c.text or "" for c in doc.clauses if c.id == clause.id or c.parent_id == clause.id)
            if is_purpose_clause(text):
                return [r.title for r in references(text) if r.title]
            return []
    return []


def learn_boilerplate(documents: Iterable[Document]) -> frozenset[str]:
    """Keys (``sentence_key``) of short sentences recurring in documents of at least
    ``BOILERPLATE_FAMILIES`` distinct subjects: formulas, not restated rules (a rule restated
    by a city shares its province's subject)."""
    families: dict[str, set[str]] = defaultdict(set)
    for doc in documents:
        family = subject_of(doc.title, doc.jurisdiction) or doc.id
        for clause in doc.clauses:
            for s in sentences(clause.text or ""):
                key = sentence_key(s)
                if 4 <= len(key) <= MAX_BOILERPLATE_CHARS:
                    families[key].add(family)
    return frozenset(k for k, f in families.items() if len(f) >= BOILERPLATE_FAMILIES)


# An article stating a law's purpose and basis (为了…，根据…，制定本条例): a relation between
# documents, never between articles (tests/gold/links/README.md, rule 3).
PURPOSE_RE = re.compile(
    r"""
    ^为了?[^。]{2,200}?                         # 为了保障失业人员的基本生活…
    制定本(?:条例|法|办法|规定|细则|实施办法)   # …制定本条例
    。?$
    """,
    re.VERBOSE,
)


def is_purpose_clause(text: str) -> bool:
    return bool(PURPOSE_RE.match("".join(text.split())))


def is_boilerplate(sentence: str, learnt: frozenset[str]) -> bool:
    s = sentence.strip()
    return bool(BOILERPLATE_RE.match(s)) or sentence_key(s) in learnt


def strip_boilerplate(text: str, learnt: frozenset[str]) -> tuple[str, list[str]]:
    """The text without its boilerplate sentences, and those sentences."""
    kept: list[str] = []
    dropped: list[str] = []
    for s in sentences(text):
        (dropped if is_boilerplate(s, learnt) else kept).append(s)
    return ("".join(kept), dropped) if dropped else (text, [])


# ---------------------------------------------------------------------------------------------
# The relation.

LEVEL_WORD = {"national": "国家", "province": "本省", "city": "本市", "county": "本县"}


def level_word(doc: Document) -> str:
    """How a lower text names itself in a Chinese evidence sentence: 本省, 本市 (a 直辖市 too), 本自治区."""
    for suffix in ("自治区", "自治州", "省", "市", "县", "区"):
        if (doc.jurisdiction or "").endswith(suffix) and doc.level != "national":
            return "本" + suffix
    return LEVEL_WORD.get(doc.level or "", "下级")
