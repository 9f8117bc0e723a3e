"""Property tests for the parse stage: it never crashes, and offsets always point at the text.

Inputs are random text, random recombinations of the seed notices' own lines, and the seed
notices damaged as PDFs and web pages damage them (lines broken mid-sentence with blank
lines between, page numbers, stray spaces, extra blank lines). Whatever parses must keep
``span_text(source, clause.text_spans) == compact(clause.text)`` for every clause.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.errors import ParseError
from kb.parse import parse_bytes, span_text
from kb.text import compact

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED_DIR = Path(__file__).resolve().parent / "data" / "seeds"  # the four seed notices of corpus/
SEEDS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.txt"))}
SEED_LINES = sorted({line for text in SEEDS.values() for line in text.splitlines() if line.strip()})

# Encodings whose byte offsets Source.char_to_byte knows (the BOM is before every span).
# For others (UTF-16, a charset-normalizer guess) it does not: see test_parse_encodings.
_CODEC = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb18030"}
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(raw: bytes, path: str = "case.txt") -> None:
    """Parse; a ParseError is an answer, anything else a bug. Then check every offset."""
    try:
        parsed = parse_bytes(raw, path)
    except ParseError as e:
        assert str(e).startswith(f"{path}:")
        return
    source = parsed.source
    for doc in parsed.documents:
        assert doc.clauses or not doc.complete  # a header with nothing after it is incomplete
        seen = set()
        for c in doc.clauses:
            assert c.id == f"{doc.id}:{c.path}" and c.id not in seen
            seen.add(c.id)
            assert span_text(source, c.text_spans) == compact(c.text), (c.id, c.text_spans)
            if c.heading_span is not None:
                assert span_text(source, [c.heading_span]) == compact(c.heading or ""), c.id
            for a, b in c.text_spans + ([c.heading_span] if c.heading_span else []):
                assert 0 <= a <= b <= len(source.text)
                if source.encoding in _CODEC:
                    # the byte offsets of the span hold the same characters in the file as saved
                    lo, hi = source.char_to_byte(a), source.char_to_byte(b)
                    assert source.raw[lo:hi].decode(_CODEC[source.encoding]) == source.text[a:b]
    for d in source.discarded:
        assert 0 <= d.start <= d.end <= len(source.text)


@settings(max_examples=150, **_SETTINGS)
@given(st.text(max_size=300))
def test_random_unicode(text):
    _check(text.encode("utf-8"))


@settings(max_examples=60, **_SETTINGS)
@given(st.binary(max_size=200))
def test_random_bytes(raw):
    _check(raw)


# A line of a seed, a blank line, or page-break debris.
_debris = st.sampled_from(["", "", "", "- 3 -", "第 2 页", "12", "---", "# ", "（此件公开发布）", "附件：", "附件2"])
_line = st.one_of(st.sampled_from(SEED_LINES), _debris)


@settings(max_examples=120, **_SETTINGS)
@given(st.lists(_line, min_size=1, max_size=40), st.sampled_from(["\n", "\r\n"]))
def test_recombined_seed_lines(lines, newline):
    _check(newline.join(lines).encode("utf-8"))


@st.composite
def damaged_seed(draw, texts=SEEDS):
    """A seed notice with lines broken mid-sentence, blank lines, page numbers and stray spaces."""
    name = draw(st.sampled_from(sorted(texts)))
    lines = texts[name].split("\n")
    out = []
    for line in lines:
        action = draw(st.sampled_from(["keep"] * 6 + ["break", "blank", "page", "space", "drop"]))
        if action == "break" and len(line) > 4:
            at = draw(st.integers(1, len(line) - 1))
            out += [line[:at], "", line[at:]]
        elif action == "blank":
            out += [line, "", ""]
        elif action == "page":
            out += [line, "", f"- {draw(st.integers(1, 40))} -", ""]
        elif action == "space" and len(line) > 2:
            at = draw(st.integers(1, len(line) - 1))
            out.append(line[:at] + " " + line[at:])
        elif action == "drop":
            continue
        else:
            out.append(line)
    return name, "\n".join(out)


@settings(max_examples=100, **_SETTINGS)
@given(damaged_seed(), st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
def test_damaged_seeds(case, encoding):
    name, text = case
    _check(text.encode(encoding), name)


@settings(max_examples=40, **_SETTINGS)
@given(st.sampled_from(sorted(SEEDS)), st.integers(0, 10_000), st.integers(1, 400))
def test_seed_slices(name, start, length):
    """Any run of a seed's lines (a page, a preview) parses or fails cleanly."""
    lines = SEEDS[name].split("\n")
    start %= len(lines)
    _check("\n".join(lines[start : start + length]).encode("utf-8"), name)


# -- statutes: the real laws (LawRefBook markdown) --------------------------------------------
_LAWS = Path(__file__).resolve().parent.parent / "corpus"
STATUTES = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted([*CORPUS.glob("*.md"), *(_LAWS.glob("*.md") if _LAWS.is_dir() else [])])
    if p.name != "SOURCES.md"
}
STATUTE_LINES = sorted({line for text in STATUTES.values() for line in text.splitlines() if line.strip()})
_statute_debris = st.sampled_from(["", "", "## 第一章 总则", "第一节 一般规定", "第一条", "(一)", "1.", "- 3 -", "<!-- INFO END -->", "目录"])


@settings(max_examples=80, **_SETTINGS)
@given(st.lists(st.one_of(st.sampled_from(STATUTE_LINES), _statute_debris), min_size=1, max_size=40))
def test_recombined_statute_lines(lines):
    """A title, then real statute lines in any order: articles out of sequence, items without
    an article, history lines in the body."""
    _check("\n\n".join(["# 某某条例", *lines]).encode("utf-8"), "law.md")


@settings(max_examples=60, **_SETTINGS)
@given(damaged_seed(STATUTES), st.sampled_from(["utf-8", "gb18030"]))
def test_damaged_statutes(case, encoding):
    name, text = case
    _check(text.encode(encoding), name)


@settings(max_examples=30, **_SETTINGS)
@given(st.sampled_from(sorted(STATUTES)), st.integers(0, 10_000), st.integers(1, 200))
def test_statute_slices(name, start, length):
    """A run of a statute's lines under its title (a page of it) parses or fails cleanly."""
    lines = STATUTES[name].split("\n")
    start %= len(lines)
    _check("\n".join([lines[0], *lines[start : start + length]]).encode("utf-8"), name)
