"""The pages' two languages: Chinese first, English one click away (``?lang=en``).

What is declared here: the language a request asks for (``lang_of``, a bad value is an error
the page answers with HTTP 400), the Chinese and English names of relations, clause kinds,
levels and states (``name``), and the link evidence as sentences (``evidence_sentences``)
instead of a dump of its JSON. The labels of a page are written in its template as pairs,
``tr("检索条款", "Search clauses")``, so a reader of the template sees both.

Relation names, chosen for a Chinese legal reader (the linker's English codes stay the data):

- implements -> 实施: a lower rule that restates a higher one or fills the room it left is an
  implementing rule (实施性规定, the term of 立法法 for rules made 为执行上位法); a filled
  delegation is said as 细化 in the evidence sentence, not in the badge.
- extends -> 补充: it adds provisions the higher rule lacks (补充性规定).
- overrides -> 突破: it goes beyond the higher rule's bound. 变通 is not used: in Chinese law it
  names a power only autonomous areas and special economic zones hold (变通规定), and a city
  notice that exceeds a provincial bound holds no such power; 突破上级规定 is how such a
  notice is described.
- succeeds -> 承继: a later rule of the same level restating an earlier one; whether it also
  取代 (replaces) it is the status's question, not the link's.
"""

from __future__ import annotations

import re
from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


class BadLanguage(ValueError):
    """A ``lang`` parameter that names no language of the pages."""


def lang_of(args: Any) -> str:
    """The language a request's query arguments ask for: ``zh`` (no ``lang``) or ``en``."""
    value = (args.get("lang") or "").strip().lower()
    if value in ("", "zh", "zh-cn", "zh-hans"):
        return "zh"
    if value == "en":
        return "en"
    raise BadLanguage(
        f"lang={value!r}: the pages are in Chinese (no lang, or lang=zh) or English (lang=en)"
    )


# name(kind, code, lang): the names of codes stored in the database.
_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "relation": {
        "implements": ("实施", "implements"),
        "extends": ("补充", "extends"),
        "overrides": ("突破", "overrides"),
        "succeeds": ("承继", "succeeds"),
        "succeeded by": ("被承继", "succeeded by"),
        "cites": ("引用", "cites"),
        "attaches": ("附件", "attaches"),
    },
    # document relations read "this notice <relation> that one"
    "doc_relation": {
        "implements": ("贯彻落实", "implements"),
        "cites": ("引用", "cites"),
        "attaches": ("附有", "attaches"),
    },
    "level": {
        "national": ("国家", "national"),
        "province": ("省级", "province"),
        "city": ("市级", "city"),
        "county": ("县级", "county"),
    },
    "kind": {
        "part": ("部分", "part"),
        "item": ("项", "item"),
        "subitem": ("子项", "subitem"),
        "point": ("目", "point"),
        "row": ("表格行", "row"),
        "preamble": ("序言", "preamble"),
        "cover": ("印发通知", "cover"),
        "closing": ("结尾", "closing"),
        "attachment": ("附件", "attachment"),
        "book": ("编", "book"),
        "chapter": ("章", "chapter"),
        "section": ("节", "section"),
        "article": ("条", "article"),
        "paragraph": ("款", "paragraph"),
        "notice": ("通知", "notice"),
        "issuing": ("印发通知", "issuing notice"),
        "statute": ("法规", "statute"),
        "decision": ("修改决定", "amendment decision"),
    },
    "status": {
        "in force": ("现行有效", "in force"),
        "not yet in force": ("尚未施行", "not yet in force"),
        "expired": ("已失效", "expired"),
        "superseded": ("已被取代", "superseded"),
        "incomplete": ("文本不全", "incomplete"),
        "unknown": ("时效不明", "status unknown"),
    },
    "parameter": {
        "rate": ("比例", "rate"),
        "months": ("月数", "months"),
        "years": ("年数", "years"),
        "age": ("年龄", "age"),
        "days": ("天数", "days"),
        "workdays": ("工作日", "workdays"),
        "headcount": ("人数", "headcount"),
        "amount": ("金额", "amount"),
        "date": ("日期", "date"),
        "deadline": ("期限", "deadline"),
        "times": ("倍数", "times"),
        "ratio": ("比率", "ratio"),
    },
    "metadata_source": {
        "text": ("正文", "text"),
        "manifest": ("语料清单", "manifest"),
        "inferred": ("推断", "inferred"),
        "cited": ("他文引用", "cited"),
    },
    "reason": {
        "counterpart-missing": ("上级文本缺失对应内容", "counterpart missing"),
        "local": ("本地措施", "local measure"),
    },
    "role": {
        "implements": ("贯彻落实", "implements"),
        "cites": ("引用", "cites"),
    },
    "genre": {
        "notice": ("通知", "notice"),
        "statute": ("法规", "statute"),
        "decision": ("决定", "decision"),
        "table": ("表格", "table"),
    },
}


def name(kind: str, code: Any, lang: str) -> str:
    """The name of a stored code in lang (the code itself when it has none)."""
    if code is None or code == "":
        return ""
    pair = _NAMES.get(kind, {}).get(str(code))
    if pair is None:
        return str(code)
    return pair[0] if lang == "zh" else pair[1]


RELATIONS = ("implements", "extends", "overrides", "succeeds")

# Chinese name -> code, for the kinds a canned query's parameter takes.
_CODES = {
    zh: code
    for kind in ("parameter", "relation", "level")
    for code, (zh, _) in _NAMES[kind].items()
}

# kb.governs says why a provincial rule reaches a city in words; in Chinese, the same.
_INHERITED = re.compile(
    r"""
    ^inherited:\s           # kb.governs: "inherited: <place> has no clause restating it"
    (?P<place>.+?)           # the city or county
    \s has\ no\ clause\ restating\ it$
    """,
    re.VERBOSE,
)


def governs_why(why: str | None, lang: str) -> str | None:
    """A governs answer's reason in lang (kb.governs writes it in English)."""
    if not why or lang == "en":
        return why
    found = _INHERITED.match(why)
    if found:
        return f"继承：{found.group('place')}没有重述此条的条款"
    return why


def code_of(value: Any) -> Any:
    """The stored code a Chinese name stands for (比例 -> rate, 实施 -> implements); anything
    else unchanged. Canned queries call it (``kb_code(:kind)``) so a Chinese word finds rows."""
    if not isinstance(value, str):
        return value
    return _CODES.get(value.strip(), value.strip())


def tr(lang: str):
    """The ``tr(zh, en)`` of a page in lang."""
    return lambda zh, en: zh if lang == "zh" else en


# ---------------------------------------------------------------------------------------------
# Evidence as sentences.

_LOWER = {
    "zh": {"city": "本市", "county": "本县", "province": "本省", "national": "本规定"}
}


def _lower_name(level: str | None, relation: str) -> tuple[str, str]:
    """What the two sides are called in zh: (higher, lower)."""
    if relation == "succeeds":
        return "原规定", "新规定"
    return "上级规定", _LOWER["zh"].get(level or "", "本级") + "规定"


def _bound_zh(change: dict) -> str:
    within = change.get("within_bound")
    if within is True:
        return "在上级幅度内"
    if within is False:
        return "超出上级幅度"
    return "与上级不同"


def evidence_sentences(
    evidence: dict, relation: str, lang: str, lower_level: str | None = None
) -> list[str]:
    """The evidence of one link (kb.link's JSON) as sentences a reader can check.

    Quoted words are the texts' own (parameters as printed, novel words as the city wrote
    them); dates are never shown as numbers. Parts of the evidence without a sentence (scores,
    rejected candidates, the diff) are shown elsewhere on the page."""
    out: list[str] = []
    changes = [
        c for c in evidence.get("parameter_changes") or [] if isinstance(c, dict)
    ]
    higher, lower = _lower_name(lower_level, relation)
    for c in changes:
        p, k = c.get("provincial"), c.get("city")
        what = c.get("what") or ""
        if lang == "zh":
            if p and k:
                out.append(f"{higher}「{p}」，{lower}「{k}」，{_bound_zh(c)}")
            elif p:
                out.append(f"{higher}「{p}」，{lower}未重述这一数值")
            elif k:
                out.append(f"{lower}「{k}」，{higher}未设这一数值")
        else:
            side = (
                ("the earlier rule", "the later rule")
                if relation == "succeeds"
                else ("the higher rule", "this rule")
            )
            within = c.get("within_bound")
            bound = (
                "within the higher bound"
                if within is True
                else "outside the higher bound"
                if within is False
                else "different"
            )
            subject = f" ({what})" if what else ""
            if p and k:
                out.append(f"{side[0]} says “{p}”, {side[1]} “{k}”{subject}: {bound}")
            elif p:
                out.append(
                    f"{side[0]} says “{p}”{subject}; {side[1]} does not restate the number"
                )
            elif k:
                out.append(
                    f"{side[1]} sets “{k}”{subject}; {side[0]} sets no such number"
                )
    delegation = [d for d in evidence.get("delegation") or [] if isinstance(d, str)]
    why = evidence.get("why") or ""
    if (
        delegation
        and relation == "implements"
        and ("discretion" in why or "delegated" in why)
    ):
        joined = "」「".join(delegation)
        out.append(
            f"上级授权「{joined}」，{lower}作了细化"
            if lang == "zh"
            else f"the higher rule delegates (“{'”, “'.join(delegation)}”) and this rule fills it in"
        )
    novel = [
        n for n in evidence.get("novel") or [] if isinstance(n, str) and len(n) >= 2
    ]
    if novel and relation in ("extends", "overrides"):
        total = sum(len(n) for n in novel)
        quoted = "「" + "」「".join(novel[:4]) + "」" + ("等" if len(novel) > 4 else "")
        if lang == "zh":
            out.append(f"{lower}新增上级文件中没有的内容{quoted}（约{total}字）")
        else:
            out.append(
                f"this rule adds words found nowhere in the higher notice: {quoted} (about {total} characters)"
            )
    refs = [r for r in evidence.get("local_references") or [] if isinstance(r, str)]
    if refs:
        out.append(
            ("引用本地文件" + "、".join(refs[:4]))
            if lang == "zh"
            else "cites local notices: " + ", ".join(refs[:4])
        )
    if (
        relation == "overrides"
        and not any(c.get("within_bound") is False for c in changes)
        and "reversed" in why
    ):
        reversed_words = why.split(":", 1)[-1].strip()
        out.append(
            f"条件与上级相反：{reversed_words}"
            if lang == "zh"
            else f"a condition is reversed: {reversed_words}"
        )
    if not out:
        localised = [
            x
            for rule in (evidence.get("localisation") or {}).get("city") or []
            for x in rule.get("found") or []
        ]
        if relation == "succeeds":
            out.append(
                "新规定重述原规定"
                if lang == "zh"
                else "the later rule restates the earlier one"
            )
        elif lang == "zh":
            out.append(
                f"{lower}重述上级规定"
                + (
                    f"，仅作属地化表述调整（{'、'.join(localised)}）"
                    if localised
                    else ""
                )
            )
        else:
            out.append(
                "restates the higher rule"
                + (
                    f", with local wording ({', '.join(localised)})"
                    if localised
                    else ""
                )
            )
    return out
