"""Link stage: which provincial clause each city clause implements, extends or overrides.

For every city clause (body items and table rows) the linker

1. *finds candidates* through a character-trigram inverted index over the provincial and
   national clauses (only the rarest trigrams of the query are looked up, so the cost grows
   with the number of clauses, not with its square), plus an index of headings; candidates
   must come from the city's own province (or the nation) and be issued on or before it;
2. *scores* each candidate on text that has been *localised* on both sides (我省/我市 -> 本地,
   各市/各县区 -> 各地, 省…厅/市…局 -> 本级…): whole-text similarity, the best alignment of the
   shorter text inside the longer (a city item often restates one sentence of a provincial
   item), and heading similarity; the notice the city says it implements gets a small bonus;
3. *classifies* the best pair:
   - ``overrides`` when a number the province bounded lies outside that bound in the city text;
   - ``implements`` when the city restates, localises, or fills a discretion the province
     delegated (由各市自行确定, 各市可…, 有条件的市可…) within the bound;
   - ``extends`` when the city adds substantive words found nowhere in the provincial notice,
     a deadline of its own, or references to local notices — without filling a delegation.
4. leaves a city clause *unresolved* rather than guessing when no candidate scores high
   enough, naming the notice its counterpart most likely sits in (the implemented notice,
   when that notice's own text is incomplete).

Later provincial clauses that restate earlier provincial rules are linked with ``succeeds``
to the nearest earlier restatement, so a rule's history is a chain across generations.
Evidence on every link says why: scores, localisation applied, the char-level diff
(diff-match-patch with semantic clean-up), parameter changes, novel additions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import operator
import os
import pickle
import re
import struct
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from . import params as params_mod
from . import relations as rel
from .cache import collector_paused
from .chardiff import char_spans
from .model import (
    Clause,
    Coverage,
    DocRelation,
    Document,
    Evidence,
    Link,
    LinkResult,
    Parameter,
    Unresolved,
)
from .text import compact

LINK_THRESHOLD = 0.6  # below this a city clause stays unlinked
STATUTE_LINK_THRESHOLD = 0.5  # statute paraphrase scores lower than a notice's restatement (calibrated on tests/gold/links)
MAX_TARGETS = 3  # a clause restating several higher clauses links to each, best first
STATUTE_COSINE = 0.15  # a statute article's TF-IDF cosine with the article it stands on (calibrated on tests/gold/links)
STATUTE_SECOND_COSINE = 0.3  # ... with a second article it also restates
POSITION_WEIGHT = 0.2  # a law follows the order of the law it carries out: ranking only, never the threshold
ALIGN_THRESHOLD = 0.6  # a 款 or 项 restating one of the 款 and 项 of the article its article stands on
SUCCEEDS_THRESHOLD = 0.55  # sentence score; unrelated provincial clauses of the seeds stay below 0.47
SIBLING_THRESHOLD = 0.6  # a clause restating a linked clause of its own notice
IMPLEMENTED_BONUS = 0.05
NOVEL_SHARE_FOR_PARAPHRASE = 0.4  # of a statute article's words, its own ones that make it extend (calibrated on tests/gold/links)
NOVEL_CHARS_FOR_EXTENDS = 20  # words of the city's own, absent from the whole provincial notice
QUERY_TRIGRAMS = 48  # rarest trigrams of a clause looked up in the index
MAX_CANDIDATES = 6
CANDIDATE_SHARE = 0.5  # of the best candidate's shared trigrams, below which a candidate is not scored
NAMED_CANDIDATES = 2  # best candidates of the notice a city names, scored first

LINKABLE_KINDS = {"item", "point", "row", "part", "article", "chapter", "paragraph"}
_HEADINGS = {"book", "chapter", "section"}  # a statute's 编, 章, 节: titles over articles

# Localisation: words that differ between a provincial text and a city's restatement of it
# without changing the rule. Applied to both sides before comparing. Each rule: its name, its
# pattern, and a substring without which it cannot match ("" for none): a regex search tries a
# pattern that opens with a lookbehind at every character, a substring test rules most texts out.
_LOCALISE = [
    ("我省/我市", re.compile(r"[我本](?:省|市|县|区)"), ""),  # 我省 -> 本地, 我市 -> 本地
    ("全省/全市", re.compile(r"全(?:省|市|县|区)(?!级)"), ""),  # 全省 -> 全地
    ("各市/各县区", re.compile(r"各(?:市|县（区）|县\(区\)|县区|区县|县|区|地市|地)(?![场长民])"), ""),  # 各市 -> 各地
    ("省/市 bodies", re.compile(r"(?<![各全我本])(?:省|市)(?=[\u4e00-\u9fff]{1,10}?(?:厅|局|委|办|中心|政府))"), ""),  # 省财政厅 -> 本级财政厅
    ("厅/局", re.compile(r"(?<=本级)([\u4e00-\u9fff]{1,10}?)厅"), "本级"),  # 本级财政厅 -> 本级财政局 (after the rule above)
]
_LOCAL_TOKEN = {"我省/我市": "本地", "全省/全市": "全地", "各市/各县区": "各地", "省/市 bodies": "本级", "厅/局": r"\1局"}

# A provincial clause that leaves a choice to the cities.
DELEGATION_RE = re.compile(
    r"""
    由各(?:市|地)[^。；]{0,20}?(?:自行)?确定      # 由各市自行确定 / 由各地根据…确定
    | 各(?:市|地)可[^。；]{0,12}?(?:自行)?确定?   # 各市可自行确定 / 各市可根据实际确定
    | 具体(?:标准|期限|办法|数额)由各(?:市|地)      # 具体标准由各市确定
    | 有条件的(?:市|地区|地方)可                   # 有条件的市可…
    | 由各(?:市|地)根据                             # 由各地根据本地…
    | 各(?:市|地)(?:要)?结合(?:本地)?实际
    """,
    re.X,
)
_NEGATION = re.compile(r"不得|不予|禁止|不再|取消|不享受|不纳入")
_PUNCT = re.compile(r"[，。、；：“”‘’（）《》〈〉〔〕【】！？\s]")
_LOCAL_REF_RE = re.compile(r"《[^《》]{2,80}》|[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号")


def localise(text: str) -> tuple[str, list[dict]]:
    """Replace localisation words by neutral tokens; return the text and what was replaced.

    The text is already normalised (clause text is); only whitespace is dropped here.
    """
    applied = []
    s = "".join(text.split())  # str.split's whitespace is re's \s (tested); a quarter of re.sub's time
    for name, pattern, needed in _LOCALISE:
        if needed not in s or pattern.search(s) is None:  # the common case, cheaper than finditer
            continue
        found = [m.group(0) for m in pattern.finditer(s)]
        if found:
            applied.append({"rule": name, "found": sorted(set(found))})
            s = pattern.sub(_LOCAL_TOKEN[name], s)
    return s, applied


_localise_heading = functools.lru_cache(maxsize=65536)(localise)  # headings recur across notices


def _trigrams(s: str) -> set[str]:
    return {s[i : i + 3] for i in range(len(s) - 2)}


_SENTENCE_END = re.compile(r"[。；]")


def _sentences(s: str) -> list[str]:
    return [x for x in _SENTENCE_END.split(s) if len(x) >= 12]


@functools.lru_cache(maxsize=1 << 15)  # provincial sentences are compared again and again
def _bigrams(s: str) -> frozenset[str]:
    return frozenset(map(operator.add, s, s[1:]))  # each character and the next, paired in C


def best_sentence(a: _Entry, b: _Entry, top: int = 3) -> float:
    """The best sentence score over sentence pairs: edit ratio averaged with bigram overlap
    (robust to reordered phrases). All pairs are edit-scored at once in C; the bigram overlap
    is computed for the `top` pairs by edit ratio only, best first, and not at all for a pair
    whose edit ratio leaves it no chance (an overlap of 1 would not beat the best so far)."""
    sa, sb = a.sentences, b.sentences
    if not sa or not sb:
        return 0.0
    return _best_pair(process.cdist(sa, sb, scorer=fuzz.ratio).ravel().tolist(), sa, sb, top)


def _best_pair(values: list[float], sa: list[str], sb: list[str], top: int = 3) -> float:
    """best_sentence from the edit ratios of sentences sa by sb (row by row; a dozen pairs:
    ranked in Python, cheaper than numpy's calls)."""
    by_ratio = sorted(range(len(values)), key=values.__getitem__, reverse=True)
    if len(values) > top and values[by_ratio[top - 1]] == values[by_ratio[top]]:
        # a tie at the cut: the pairs argpartition picks, as they always were
        ratios = np.array(values, dtype=np.float32)
        by_ratio = sorted(np.argpartition(-ratios, top - 1)[:top].tolist(), key=lambda f: -values[f])
    best = 0.0
    for flat in by_ratio[:top]:
        edit = _f32(values[flat] / 100)
        if _f32(edit + 1) / 2 <= best:
            break
        i, j = divmod(flat, len(sb))
        x, y = _bigrams(sa[i]), _bigrams(sb[j])
        dice = 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0
        best = max(best, _f32(edit + _f32(dice)) / 2)
    return best


_FLOAT32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """x rounded to single precision. Sentence scores have always been float32 arithmetic on
    cdist's float32 ratios; one operation in double rounded to float32 is the float32 result."""
    return _FLOAT32.unpack(_FLOAT32.pack(x))[0]


class _SentenceRatios:
    """The edit ratios of a query's sentences against several entries' sentences, from one
    cdist call. ``best(k)`` is ``best_sentence(query, entries[k])``; ``bound(k)`` an upper bound
    of it, read from the ratios alone (its best pair with a bigram overlap of 1), for ruling out
    at a fraction of the cost the many entries that cannot reach a threshold."""

    __slots__ = ("query_sentences", "entry_sentences", "columns", "rows")

    def __init__(self, query: _Entry, entries: list[_Entry]):
        self.query_sentences, self.entry_sentences = query.sentences, [e.sentences for e in entries]
        self.columns = [0]
        for sentences in self.entry_sentences:
            self.columns.append(self.columns[-1] + len(sentences))
        flat = [s for sentences in self.entry_sentences for s in sentences]
        self.rows = process.cdist(self.query_sentences, flat, scorer=fuzz.ratio).tolist() if self.query_sentences and flat else []

    def _values(self, k: int) -> list[float]:
        lo, hi = self.columns[k], self.columns[k + 1]
        return [v for row in self.rows for v in row[lo:hi]] if lo < hi else []

    def bound(self, k: int) -> float:
        values = self._values(k)
        return _f32(_f32(max(values) / 100) + 1) / 2 if values else 0.0

    def best(self, k: int, top: int = 3) -> float:
        values = self._values(k)
        return _best_pair(values, self.query_sentences, self.entry_sentences[k], top) if values else 0.0


@dataclass
class _Entry:
    clause: Clause
    doc: Document
    local: str  # localised compact heading + text
    local_text: str
    heading: str
    localisation: list[dict]
    whole: str | None = None  # a statute article's whole text (its 款 and 项 too), when compared as a whole

    @property
    def text(self) -> str:
        """The words relations are read from: the article's whole text, or the clause's own."""
        return self.clause.text if self.whole is None else self.whole

    @cached_property
    def sentences(self) -> list[str]:
        return _sentences(self.local_text or self.local)


_NO_GRAMS = np.zeros(0, dtype=np.int64)


def _trigram_codes(s: str) -> np.ndarray:
    """The distinct trigrams of s as sorted int64 codes: three code points (21 bits each) side
    by side, so numeric order is the order of the trigram strings."""
    if len(s) < 3:
        return _NO_GRAMS
    points = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    codes = _codes(points)
    codes.sort()
    return _distinct(codes)


def _rank_table(alphabet: np.ndarray) -> np.ndarray:
    """Each code point's rank in alphabet (-1 when absent), so that a text's characters are
    ranked by one gather in C rather than a ``searchsorted`` per text."""
    table = np.full(0x110000, -1, dtype=np.int32)
    table[alphabet] = np.arange(len(alphabet), dtype=np.int32)
    return table


def _trigram_pairs(texts: list[str], ranks: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(owner, code) of every distinct trigram of each text whose characters all have a rank
    (``_rank_table``), ordered by owner, then code. A code is the three ranks side by side
    (``bits`` each): numeric order is the order of the trigram strings, so a tie broken by code
    is broken as by the trigram. Trigrams with a character outside the table are dropped (the
    index cannot have them). The texts are joined with a NUL (never ranked), so no trigram
    crosses a joint."""
    if not texts:
        return _NO_GRAMS, _NO_GRAMS
    points = ranks[np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32)].astype(np.int64)
    if len(points) < 3:
        return _NO_GRAMS, _NO_GRAMS
    real = (points[:-2] >= 0) & (points[1:-1] >= 0) & (points[2:] >= 0)
    sizes = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    owners = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)[: len(points) - 2][real]
    codes = _codes(points, bits)[real]
    owner_bits = _bits(len(texts))
    if 3 * bits + owner_bits <= _PACKED_BITS:
        pairs = _distinct(np.sort((owners << (3 * bits)) | codes))
        return pairs >> (3 * bits), pairs & ((1 << (3 * bits)) - 1)
    order = np.lexsort((codes, owners))
    owners, codes = owners[order], codes[order]
    fresh = np.concatenate(([True], (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])))
    return owners[fresh], codes[fresh]


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _bits(n: int) -> int:
    return max(1, (n - 1).bit_length())


def _codes(points: np.ndarray, bits: int = 21) -> np.ndarray:
    return (points[:-2] << (2 * bits)) | (points[1:-1] << bits) | points[2:]


_PACKED_BITS = 63  # a trigram and its text number packed in one int64 must fit


def _postings(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(alphabet, sorted distinct trigram codes, where each one's postings start, postings).

    All texts at once, in C: joined with a NUL (a trigram across a joint has one and is
    dropped); characters numbered by rank in the alphabet of the texts, so that a trigram
    and the text number fit in one int64 and a plain ``np.sort`` of those (several times
    faster than an ``argsort``) orders the postings, each list in text order; duplicates
    within a text dropped."""
    if not texts:
        return np.zeros(0, dtype=np.int64), _NO_GRAMS, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    points = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    present = np.zeros(0x110000, dtype=bool)
    present[points] = True
    present[0] = False  # the joint
    alphabet = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    bits, owner_bits = _bits(len(alphabet)), _bits(len(texts))
    points = np.where(points == 0, -1, rank[points])
    sizes = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    owners = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)[: max(len(points) - 2, 0)]
    if len(points) < 3:
        return alphabet, _NO_GRAMS, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    real = (points[:-2] >= 0) & (points[1:-1] >= 0) & (points[2:] >= 0)
    codes, owners = _codes(points, bits)[real], owners[real]
    if 3 * bits + owner_bits <= _PACKED_BITS:
        pairs = _distinct(np.sort((codes << owner_bits) | owners))
        codes, owners = pairs >> owner_bits, (pairs & ((1 << owner_bits) - 1))
    else:  # an alphabet too large to pack: the slower indirect sort
        order = np.lexsort((owners, codes))
        codes, owners = codes[order], owners[order]
        fresh = np.concatenate(([True], (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])))[: len(codes)]
        codes, owners = codes[fresh], owners[fresh]
    first = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1]))[: len(codes)])
    return alphabet, codes[first], np.append(first, len(codes)).astype(np.int64), owners.astype(np.int32)


@dataclass
class ClauseIndex:
    """Character-trigram inverted index over the provincial and national clauses.

    Trigrams are int64 codes of ranks in the index's alphabet (``_trigram_pairs``); once frozen, the index is three arrays --
    the sorted distinct codes, where each one's postings start, and the postings (entry
    numbers) -- so looking a query up is a ``searchsorted`` and counting the trigrams it
    shares with every clause one ``bincount``, all in C: no Python loop over posting lists
    whose length grows with the corpus. Clauses of one document are contiguous
    (``doc_range``), so the notice a city names is a slice of the same counts.
    """

    entries: list[_Entry] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # clause id -> entry index
    alphabet: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # code points of the indexed texts
    grams: np.ndarray = field(default_factory=lambda: _NO_GRAMS)  # sorted distinct trigram codes (_trigram_pairs)
    starts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # postings of grams[i]: starts[i]:starts[i+1]
    postings: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    headings: dict[str, list[int] | np.ndarray] = field(default_factory=lambda: defaultdict(list))
    doc_range: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> [lo, hi)
    issued: np.ndarray | None = None  # per entry: ordinal of the notice's date, 0 when unknown
    scope: np.ndarray | None = None  # per entry: code of the notice's province (0 national/unknown)
    scopes: dict[str, int] = field(default_factory=dict)  # _scope_key -> code ("": the nation, or no province)
    jurisdiction: np.ndarray | None = None  # per entry: code of (level, jurisdiction)
    jurisdictions: dict[tuple, int] = field(default_factory=dict)
    level_rank: np.ndarray | None = None  # per entry: relations.tier's level (national 3 … county 0)
    force_rank: np.ndarray | None = None  # per entry: relations.tier's force (0 unknown)
    _by_range: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)  # counts_in's cache
    _marked: np.ndarray | None = field(default=None, repr=False)  # counts_in's scratch: one flag per gram, all False between calls
    blocks: list[tuple[int, int]] = field(default_factory=list)  # [lo, hi) of each scope's entries, when each is contiguous
    _block_starts: np.ndarray | None = field(default=None, repr=False)  # [gram row, block j]: where block j's postings of that gram start
    _ranks: np.ndarray | None = field(default=None, repr=False)  # _rank_table(alphabet)

    def add(self, entry: _Entry) -> None:
        k = len(self.entries)
        self.entries.append(entry)
        self.positions[entry.clause.id] = k
        lo, _ = self.doc_range.get(entry.doc.id, (k, k))
        self.doc_range[entry.doc.id] = (lo, k + 1)
        if entry.heading:
            self.headings[entry.heading].append(k)

    def freeze(self, postings: tuple | None = None) -> ClauseIndex:
        """Postings to arrays (or ``postings``, as an earlier freeze of the same entries made
        them), and the per-entry date and province used by ``allowed``."""
        self.alphabet, self.grams, self.starts, self.postings = postings or _postings([e.local for e in self.entries])
        self._ranks = _rank_table(self.alphabet)
        self.headings = {h: np.array(ks, dtype=np.int64) for h, ks in self.headings.items()}
        self.scopes = {"": 0}
        for e in self.entries:
            self.scopes.setdefault(_scope_key(e.doc), len(self.scopes))
        self.issued = np.array([_ordinal(e.doc.issued) for e in self.entries], dtype=np.int32)
        self.scope = np.array([self.scopes[_scope_key(e.doc)] for e in self.entries], dtype=np.int32)
        for e in self.entries:
            self.jurisdictions.setdefault((e.doc.level, e.doc.jurisdiction), len(self.jurisdictions))
        self.jurisdiction = np.array([self.jurisdictions[(e.doc.level, e.doc.jurisdiction)] for e in self.entries], dtype=np.int32)
        tiers = np.array([rel.tier(e.doc) for e in self.entries], dtype=np.int32).reshape(-1, 2)
        self.level_rank, self.force_rank = tiers[:, 0].copy(), tiers[:, 1].copy()
        self.blocks = _runs(self.scope)
        if len(self.blocks) > 1:
            # Postings are sorted by (gram, entry): where each block starts in each gram's
            # list, found for all grams at once on (row << bits | entry) keys.
            bits = _bits(len(self.entries) + 1)
            rows = np.arange(len(self.grams), dtype=np.int64)
            keys = (np.repeat(rows, np.diff(self.starts)) << bits) | self.postings
            edges = [lo for lo, _ in self.blocks] + [len(self.entries)]
            self._block_starts = np.stack([np.searchsorted(keys, (rows << bits) | edge) for edge in edges], axis=1)
        return self

    def allowed_for_city(self, doc: Document) -> np.ndarray:
        """Entries a document may stand on (``relations.stands_above``, vectorised): a level above
        in its own chain (its province, or the nation; a city without a known province: any
        province), or its own jurisdiction at a higher force; issued on or before it."""
        level, force = rel.tier(doc)
        above = self.level_rank > level
        if doc.province or level >= rel.LEVEL_RANK["province"]:
            above &= (self.level_rank == rel.LEVEL_RANK["national"]) | (self.scope == self.scopes.get(doc.province or "", -1))
        if force > 0:
            same = self.jurisdiction == self.jurisdictions.get((doc.level, doc.jurisdiction), -1)
            above |= same & (self.force_rank > force)
        mask = above
        if doc.issued:
            mask &= self.issued <= _ordinal(doc.issued)
        self._exclude_own(mask, doc)
        return mask

    def allowed_for_successor(self, doc: Document) -> np.ndarray:
        """Entries a provincial clause may succeed: same level and jurisdiction, issued earlier."""
        code = self.jurisdictions.get((doc.level, doc.jurisdiction), -1)
        mask = (self.jurisdiction == code) & (self.issued > 0) & (self.issued < _ordinal(doc.issued))
        self._exclude_own(mask, doc)
        return mask

    def _exclude_own(self, mask: np.ndarray, doc: Document) -> None:
        if doc.id in self.doc_range:
            lo, hi = self.doc_range[doc.id]
            mask[lo:hi] = False

    def rarest(self, query: _Entry) -> np.ndarray:
        """Rows (in ``grams``) of the query's rarest indexed trigrams, at most QUERY_TRIGRAMS."""
        return self.rarest_of([query])[0]

    def rarest_of(self, queries: list[_Entry]) -> list[np.ndarray]:
        """``rarest`` of each query, in the same order: a document's clauses at once, so the
        numpy calls are a dozen per document, not a dozen per clause (at 10,000 notices, each
        clause's own calls cost more than the work they did).

        Rarest first, by ``_rarity``; ties by the trigram (its code), so the choice does not
        depend on the order of a set (which differs between runs with Python's hash
        randomisation). A trigram only the query's own clause has says nothing about the others:
        it is left out."""
        if not len(self.grams) or not queries:
            return [_NO_GRAMS for _ in queries]
        owners, codes = _trigram_pairs([q.local for q in queries], self._ranks, _bits(len(self.alphabet)))
        rows, found = _found(self.grams, codes)
        owners, codes, rows = owners[found], codes[found], rows[found]
        lengths = self.starts[rows + 1] - self.starts[rows]
        own = np.array([self.positions.get(q.clause.id, -1) for q in queries], dtype=np.int64)
        usable = ~((lengths == 1) & (self.postings[self.starts[rows]] == own[owners]))
        order, rank = _by_rarity(owners, codes, lengths, usable)
        order = order[(usable & (rank < QUERY_TRIGRAMS))[order]]
        bounds = np.searchsorted(owners[order], np.arange(len(queries) + 1)).tolist()
        chosen = rows[order]
        return [chosen[lo:hi] for lo, hi in zip(bounds, bounds[1:])]

    def hits(self, rarest: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """The postings of those trigrams, concatenated: an entry appears once for every one
        of them it has. With ``allowed``, only those in the scopes (``blocks``) holding an
        allowed entry: a city notice stands on its own province, a provincial rule succeeds
        one of its own, and the postings of a common trigram run through every province.
        The slices are joined by one ``concatenate``: building an index array of them (repeat,
        arange, gather) took four passes over tens of thousands of postings, for every query."""
        chosen = None
        if allowed is not None and self._block_starts is not None:
            chosen = [j for j, (lo, hi) in enumerate(self.blocks) if allowed[lo:hi].any()]
        if not len(rarest) or chosen == []:
            return np.zeros(0, dtype=np.int32)
        postings = self.postings
        if chosen is None or len(chosen) == len(self.blocks):
            starts = self.starts
            return np.concatenate([postings[starts[r] : starts[r + 1]] for r in rarest.tolist()])
        table = self._block_starts[rarest]
        return np.concatenate(
            [postings[left:right] for j in chosen for left, right in zip(table[:, j].tolist(), table[:, j + 1].tolist())]
        )

    def counts(self, query: _Entry, allowed: np.ndarray, rarest: np.ndarray | None = None) -> np.ndarray:
        """How many of the query's rarest indexed trigrams each allowed entry shares (0 for
        the others: one ``bincount`` over the index, then a product with allowed)."""
        if rarest is None:
            rarest = self.rarest(query)
        counts = np.bincount(self.hits(rarest, allowed), minlength=len(self.entries))
        np.multiply(counts, allowed, out=counts)
        own = self.positions.get(query.clause.id)
        if own is not None:
            counts[own] = 0
        return counts

    @staticmethod
    def span(allowed: np.ndarray) -> tuple[int, int]:
        """[lo, hi) from the first allowed entry to the last."""
        at = np.flatnonzero(allowed)
        return (int(at[0]), int(at[-1]) + 1) if len(at) else (0, 0)

    def counts_in(self, query: _Entry, allowed: np.ndarray, rarest: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """``counts`` for the entries [lo, hi) only (one notice), from their own trigrams: the
        postings of a common trigram run through the whole index, a notice has a few dozen clauses.
        The query's trigrams are marked in a scratch array over ``grams`` (set, read, cleared):
        a few thousand lookups in C, where a set intersection (``np.isin``) sorts both sides."""
        rows, owners = self._range_rows(lo, hi)
        if self._marked is None:
            self._marked = np.zeros(len(self.grams), dtype=bool)
        self._marked[rarest] = True
        try:
            counts = np.bincount(owners[self._marked[rows]], minlength=hi - lo)
        finally:
            self._marked[rarest] = False
        np.multiply(counts, allowed[lo:hi], out=counts)
        own = self.positions.get(query.clause.id)
        if own is not None and lo <= own < hi:
            counts[own - lo] = 0
        return counts

    def _range_rows(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """The trigrams of entries [lo, hi) as rows in ``grams``, and whose each is (numbered
        from lo); kept for the run."""
        found = self._by_range.get((lo, hi))
        if found is None:
            owners, codes = _trigram_pairs([self.entries[k].local for k in range(lo, hi)], self._ranks, _bits(len(self.alphabet)))
            rows, there = _found(self.grams, codes)  # every one is there: these are indexed texts
            found = self._by_range[(lo, hi)] = (rows[there], owners[there])
        return found

    def candidates(
        self,
        query: _Entry,
        allowed: np.ndarray,
        limit: int = MAX_CANDIDATES,
        counts: np.ndarray | None = None,
        share: float = CANDIDATE_SHARE,
        span: tuple[int, int] | None = None,
    ) -> list[int]:
        """The allowed entries sharing most rare trigrams with the query, then equal headings.
        ``span``: the ``span`` of allowed, outside which every count is 0."""
        if counts is None:
            counts = self.counts(query, allowed)
        found = _top(counts, limit) if span is None else _top(counts[span[0] : span[1]], limit, offset=span[0])
        # A candidate sharing less than `share` of the trigrams the best one shares is not the
        # restatement (on the synthetic truth the true target always shares the most).
        floor = share * counts[found[0]] if found else 0
        found = [k for k in found if counts[k] >= floor]
        same = self.headings.get(query.heading) if query.heading else None
        if same is not None and len(same):
            same = same[allowed[same] & (counts[same] >= floor)]
            own = self.positions.get(query.clause.id)
            taken = set(found)
            found += [k for k in same.tolist() if k not in taken and k != own]
        return found


def _rarity(lengths: np.ndarray) -> np.ndarray:
    """How rare a trigram held by ``lengths`` clauses (at least 1) is, for choosing a query's
    rarest: the power of two below the count (1, 2-3, 4-7, ...). Counted exactly, a clause
    edited anywhere moved the choice for a third of all clauses (a posting list one longer
    overtakes its neighbour), and an exact incremental run had to link them all again; by
    powers of two, a list one longer seldom changes class. At 10,000 notices: recall 0.9998
    (was 1.0: 31 of 184,183 true links missed), precision 0.9964 (0.997), the same share of the
    brute-force links found (99.94%)."""
    return np.frexp(lengths.astype(np.float64))[1].astype(np.int64) - 1


def _by_rarity(owners: np.ndarray, codes: np.ndarray, lengths: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order ``rarest`` ranks many queries' trigrams in (``owners``, sorted: whose each is;
    ``lengths``: how many clauses hold it): by query, usable ones first, rarest first by
    ``_rarity``, ties by code; and each trigram's rank within its query. A query's rarest are
    its usable trigrams ranked below QUERY_TRIGRAMS."""
    order = np.lexsort((codes, np.where(usable, _rarity(np.maximum(lengths, 1)), np.iinfo(np.int64).max), owners))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.searchsorted(owners[order], owners[order])
    return order, rank


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) of each run of equal values, when no value has two runs; else the whole."""
    if not len(values):
        return []
    edges = np.flatnonzero(values[1:] != values[:-1]) + 1
    lo = np.concatenate(([0], edges))
    hi = np.append(edges, len(values))
    if len(np.unique(values[lo])) < len(lo):
        return [(0, len(values))]
    return list(zip(lo.tolist(), hi.tolist()))


def _top(counts: np.ndarray, limit: int, offset: int = 0) -> list[int]:
    """Indices of the `limit` largest non-zero counts, largest first, ties by index."""
    if len(counts) <= 64:  # a notice's clauses: fewer calls in Python than in numpy
        values = counts.tolist()
        return [k + offset for k in sorted((k for k, v in enumerate(values) if v > 0), key=lambda k: -values[k])[:limit]]
    hit = np.flatnonzero(counts > 0)  # on booleans: six times faster than on the counts themselves
    if len(hit) > limit:
        # Counts are small (at most QUERY_TRIGRAMS): the limit-th largest is read from a
        # tally of them, cheaper than a partition of thousands of hits.
        values = counts[hit]
        at_least = np.cumsum(np.bincount(values)[::-1])[::-1]  # at_least[v]: hits counting >= v
        hit = hit[values >= np.flatnonzero(at_least >= limit)[-1]]
    order = hit[np.lexsort((hit, -counts[hit]))][:limit]
    return (order + offset).tolist()


def _ordinal(iso: str | None) -> int:
    if not iso:
        return 0
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0


_ENTRY_CACHE: dict[int, _Entry] = {}


def _entry(clause: Clause, doc: Document) -> _Entry:
    """The localised form of a clause, computed once per clause object within a run."""
    cached = _ENTRY_CACHE.get(id(clause))
    if cached is not None and cached.clause is clause:
        return cached
    entry = _make_entry(clause, doc)
    _ENTRY_CACHE[id(clause)] = entry
    return entry


_BOILERPLATE: frozenset[str] = frozenset()  # sentence keys learnt from this run's corpus (relations.learn_boilerplate)


def _lineage_text(clause: Clause) -> str:
    """The clause's text without its boilerplate sentences: what lineage is judged on."""
    return rel.strip_boilerplate(clause.text or "", _BOILERPLATE)[0]


def _indexable(clause: Clause) -> bool:
    """A clause others may stand on: linkable, and more than boilerplate."""
    if not _linkable(clause) or (clause.kind in _HEADINGS and not (clause.text or "").strip()):
        return False  # a chapter's title is no rule to stand on
    return bool(clause.heading) or bool(_lineage_text(clause).strip())


def _make_entry(clause: Clause, doc: Document) -> _Entry:
    whole = _whole_article(clause, doc)
    text = _lineage_text(clause) if whole is None else rel.strip_boilerplate(whole, _BOILERPLATE)[0]
    local_text, applied = localise(text)
    local_heading, applied_h = _localise_heading(clause.heading or "")
    return _Entry(clause, doc, local_heading + local_text, local_text, local_heading, applied + applied_h, whole)


_WHOLE: dict[int, dict[str, str]] = {}  # id(document) (versions share ids) -> article clause id -> its whole text, within a run


def _whole_article(clause: Clause, doc: Document) -> str | None:
    """A statute article's whole text (its own paragraph, then its 款, 项 and 目 in order), or
    None for any other clause: an article is restated as a whole, its first paragraph alone is
    often only 失业保险基金由下列各项构成："""
    if clause.kind != "article":
        return None
    wholes = _WHOLE.get(id(doc))
    if wholes is None:
        kids = _children(doc)
        wholes = _WHOLE[id(doc)] = {}
        for article in doc.clauses:
            if article.kind != "article":
                continue
            parts, stack = [article.text or ""], list(reversed(kids.get(article.id, [])))
            while stack:
                kid = stack.pop()
                parts.append(kid.text or "")
                stack.extend(reversed(kids.get(kid.id, [])))
            wholes[article.id] = "".join(parts)
    return wholes.get(clause.id)


def similarity(a: _Entry, b: _Entry, ratios: _SentenceRatios | None = None, k: int = 0) -> dict:
    """Similarity figures of two localised clauses, each in [0, 1].

    ``partial`` (the best alignment of the shorter text inside the longer) is the costly one;
    it is computed only when it could decide something: its upper bound, read from the longest
    common subsequence, must beat the other text scores and reach the link threshold (or, with
    an equal heading, the 0.3 that lets the heading count). Otherwise it is None. Likewise
    ``sentence`` is None when the whole-text ratio is 0.9 or more (0.9 x sentence cannot beat it).
    ``ratios``: a's sentence ratios against several entries, b the ``k``-th of them.
    """
    x, y = a.local_text or a.local, b.local_text or b.local
    common = LCSseq.similarity(x, y) if x and y else 0
    ratio = 2 * common / (len(x) + len(y)) if x and y else 0.0  # = fuzz.ratio / 100
    shorter, longer = min(len(x), len(y)), max(len(x), len(y))
    # 0.9 x the sentence score cannot beat a whole-text ratio of 0.9 or more: not computed then.
    sentence = (best_sentence(a, b) if ratios is None else ratios.best(k)) if ratio < 0.9 else None
    heading = fuzz.ratio(a.heading, b.heading) / 100 if a.heading and b.heading else None
    text_score = ratio if sentence is None else max(ratio, 0.9 * sentence)
    partial = None
    weight = _partial_weight(shorter, longer, ratio)
    if weight is not None:
        # No window of the longer text can share more than `common` characters with the shorter.
        bound = 2 * common / (shorter + common) * weight
        needed = 0.3 if heading is not None and heading >= 0.85 else LINK_THRESHOLD
        if bound > text_score and bound >= needed:
            partial = fuzz.partial_ratio(x, y) / 100 * weight
            text_score = max(text_score, partial)
    combined = _lifted(text_score, heading)
    return {
        "ratio": round(ratio, 3),
        "partial": None if partial is None else round(partial, 3),
        "sentence": None if sentence is None else round(sentence, 3),
        "heading": None if heading is None else round(heading, 3),
        "combined": round(combined, 3),
    }


def _partial_weight(shorter: int, longer: int, ratio: float) -> float | None:
    """What partial alignment counts for, or None where it is not computed: aligning the
    shorter text inside the longer only matters when one contains much more."""
    if shorter >= 12 and (longer > 1.3 * shorter or ratio < 0.6):
        return 0.6 + 0.4 * min(1.0, shorter / 60)
    return None


def _lifted(text_score: float, heading: float | None) -> float:
    """An equal heading lifts a text that is at least somewhat alike (a provincial text cut off
    mid-item); on its own it proves nothing."""
    if heading is not None and heading >= 0.85 and text_score >= 0.3:
        return max(text_score, 0.45 * heading + 0.55 * max(text_score, 0.5))
    return text_score


def _similarity_bound(a: _Entry, b: _Entry, ratios: _SentenceRatios, k: int) -> float:
    """At least ``similarity(a, b)["combined"]``, without its costly parts: the sentence score
    read from the edit ratios alone (``ratios.bound``), partial alignment from its LCS bound."""
    x, y = a.local_text or a.local, b.local_text or b.local
    common = LCSseq.similarity(x, y) if x and y else 0
    ratio = 2 * common / (len(x) + len(y)) if x and y else 0.0
    text_score = ratio if ratio >= 0.9 else max(ratio, 0.9 * ratios.bound(k))
    shorter = min(len(x), len(y))
    weight = _partial_weight(shorter, max(len(x), len(y)), ratio)
    if weight is not None:
        text_score = max(text_score, 2 * common / (shorter + common) * weight)
    return _lifted(text_score, fuzz.ratio(a.heading, b.heading) / 100 if a.heading and b.heading else None)


def restatement_score(a: _Entry, b: _Entry) -> float:
    """Does a restate a sentence of b? The better of sentence score and whole-text ratio."""
    x, y = a.local_text or a.local, b.local_text or b.local
    ratio = fuzz.ratio(x, y) / 100 if x and y else 0.0
    return round(max(best_sentence(a, b), ratio), 3)


def char_diff(provincial: str, city: str) -> list[dict]:
    """Inserted and deleted spans turning the provincial text into the city's."""
    return char_spans(provincial, city, keys=("provincial_at", "city_at"))


@functools.lru_cache(maxsize=64)  # a provincial notice is the target of many city notices (about 1 MB each)
def _four_grams(text: str) -> frozenset[str]:
    """Every 4-character substring of text: ``s in text`` for a 4-character s, without the search."""
    return frozenset(text[i : i + 4] for i in range(len(text) - 3))


def _novel(inserted: str, provincial_text: str, as_written: str | None = None) -> list[str]:
    """Pieces of an inserted span not covered by any 4-gram of the provincial notice.

    inserted is localised (全市 -> 全地) to be compared; each piece is quoted from as_written,
    the span as the city wrote it, when localising kept its length (it does, but for dropped
    spaces), and pieces are kept apart: glued together they quoted words in neither text
    (完善全地三所高校的办公室…). Punctuation at a piece's ends is dropped; its length without
    punctuation is what counts (``_novel_chars``)."""
    grams = _four_grams(provincial_text)
    shown = as_written if as_written is not None and len(as_written) == len(inserted) else inserted
    kept, end = [], 0  # end: where the 4-grams found so far stop covering
    for i in range(len(inserted) - 3):
        if inserted[i : i + 4] in grams:
            if i > end:
                kept.append(shown[end:i])
            end = i + 4
    kept.append(shown[end:])
    return [piece for piece in (_strip_punct(k) for k in kept) if _PUNCT.sub("", piece)]


def _strip_punct(piece: str) -> str:
    while piece and _PUNCT.match(piece[0]):
        piece = piece[1:]
    while piece and _PUNCT.match(piece[-1]):
        piece = piece[:-1]
    return piece


def _novel_chars(pieces: list[str]) -> int:
    """Characters of the novel pieces, punctuation aside (what NOVEL_CHARS_FOR_EXTENDS counts)."""
    return sum(len(_PUNCT.sub("", p)) for p in pieces)


def _shares_trigram(phrase: str, deleted: str) -> bool:
    """Did the city delete (replace) words of the province's delegation phrase?"""
    grams = _trigrams(compact(phrase)) | _trigrams(localise(phrase)[0])
    return bool(grams & _trigrams(deleted))


_ABOVE_WORD = {"national": "national", "province": "provincial", "city": "city"}


def classify(
    city: _Entry,
    prov: _Entry,
    city_params: list[Parameter],
    prov_params: list[Parameter],
    provincial_text: str,
    level: str = "下级",
    paraphrase: bool = False,
) -> tuple[str, dict]:
    """Relation of a lower clause to the higher clause it restates, and the evidence.

    The rules are ``kb.relations``': ``overrides`` only when a parameter of the same subject
    lies outside the higher bound, or an obligation is contradicted; ``implements`` when the
    lower text fills a delegation, keeps within the bounds or restates; ``extends`` when it
    adds provisions of its own. Every reason is given in English (``why``) and in Chinese
    (``why_zh``), naming both parameters. ``level``: how the lower text names itself (本市).
    """
    above = _ABOVE_WORD.get(prov.doc.level or "", "higher")  # "restates the provincial rule"
    changes = params_mod.compare_parameters(prov_params, city_params)
    findings = rel.parameter_findings(prov_params, prov.text, city_params, city.text, level)
    diff = char_diff(prov.text, city.text)
    # Novelty and deletions are judged on localised words (我市 is not an addition).
    inserted = [localise(d["text"])[0] for d in diff if d["op"] == "insert"]
    deleted = [localise(d["text"])[0] for d in diff if d["op"] == "delete"]
    written = ["".join(d["text"].split()) for d in diff if d["op"] == "insert"]
    novel = [piece for t, w in zip(inserted, written) for piece in _novel(t, provincial_text, w)]
    novel_chars = _novel_chars(novel)
    # A statute paraphrases: words of its own are new provisions only when they are much of it.
    novel_floor = max(NOVEL_CHARS_FOR_EXTENDS, NOVEL_SHARE_FOR_PARAPHRASE * len(city.local_text)) if paraphrase else NOVEL_CHARS_FOR_EXTENDS
    delegation = rel.delegations(prov.text)
    deleted_any = deleted + [compact(d["text"]) for d in diff if d["op"] == "delete"]
    delegation_filled = [d for d in delegation if any(_shares_trigram(d, x) for x in deleted_any if len(x) >= 3)]
    local_refs = [r for t in inserted for r in _LOCAL_REF_RE.findall(t) if r not in prov.text]
    out_of_bound = [f for f in findings if f.within is False]
    within = [f for f in findings if f.within and f.changed]  # a number kept as it was is a restatement
    # A deadline of its own (30日内 -> 15日内) needs no proof of one subject: it only makes an extension.
    own_deadlines = [
        c for c in changes if c.get("provincial") and c.get("city") and c.get("kind") in ("days", "workdays", "deadline") and c.get("within_bound")
    ]
    new_numbers = [c for c in changes if not c.get("provincial") and c.get("city") and c.get("unit") != "date"]
    contradicted = rel.contradictions(prov.text, city.text)
    # A higher text that is incomplete (pages missing, a preview cut off) may hold what the lower
    # one seems to add: novelty and numbers it "did not set" are then no evidence of extends.
    unjudged = None if prov.doc.complete else "; ".join(prov.doc.incomplete_reasons) or "the provincial copy is incomplete"
    if unjudged:
        novel_chars, new_numbers = 0, []
    why: list[str] = []
    why_zh: list[str] = []
    if out_of_bound:
        relation = "overrides"
        why += [f.why for f in out_of_bound]
        why_zh += [f.why_zh for f in out_of_bound]
    elif contradicted:
        relation = "overrides"
        why.append("an obligation is contradicted: " + "；".join(contradicted))
        why_zh.append("与上级义务性规定相反：" + "；".join(contradicted))
    elif delegation_filled:
        relation = "implements"
        why.append(f"fills a discretion the {above} text delegated ({'；'.join(delegation_filled)})")
        why_zh.append(f"落实上级授权（{'；'.join(delegation_filled)}）")
        if within:
            why.append(f"numbers within the {above} bound: " + "；".join(f"{params_mod.words(f.higher)} → {params_mod.words(f.lower)}" for f in within))
            why_zh += [f.why_zh for f in within]
    elif novel_chars >= novel_floor or local_refs or own_deadlines or (new_numbers and novel_chars >= 4 and not paraphrase):
        relation = "extends"
        if own_deadlines:
            why.append("a deadline of its own: " + "；".join(f"{c['provincial']} → {c['city']}" for c in own_deadlines))
            why_zh.append("自定期限：" + "；".join(f"上级「{c['provincial']}」，{level}「{c['city']}」" for c in own_deadlines))
        if local_refs:
            why.append("references to local notices: " + "、".join(local_refs[:4]))
            why_zh.append("引用本地文件：" + "、".join(local_refs[:4]))
        if new_numbers:
            why.append(f"numbers the {above} text did not set: " + "、".join(c["city"] for c in new_numbers))
            why_zh.append("上级未规定的数值：" + "、".join(c["city"] for c in new_numbers))
        if novel_chars >= novel_floor:
            why.append(f"{novel_chars} characters of provisions found nowhere in the {above} text: " + "…".join(novel[:3])[:120])
            why_zh.append(f"增加上级文件没有的规定（{novel_chars}字）：" + "…".join(novel[:3])[:120])
    else:
        relation = "implements"
        if within:
            why.append(f"exercises the {above} bound: " + "；".join(f"{params_mod.words(f.higher)} → {params_mod.words(f.lower)}" for f in within))
            why_zh += [f.why_zh for f in within]
        else:
            why.append(f"restates the {above} rule" + (" with localisation" if city.localisation or prov.localisation else ""))
            why_zh.append("重申上级规定" + ("（地名、机关名本地化）" if city.localisation or prov.localisation else ""))
    if unjudged and sum(len(n) for n in novel) >= NOVEL_CHARS_FOR_EXTENDS:
        why.append(f"{sum(len(n) for n in novel)} characters not in the higher text not counted as additions: its copy is incomplete")
    evidence = {
        "localisation": {"city": city.localisation, "provincial": prov.localisation},
        "diff": diff,
        "parameter_changes": changes,
        "parameters_compared": [
            {"higher": f.higher.text, "lower": f.lower.text, "dimension": f.dimension, "within_bound": f.within, "why_zh": f.why_zh}
            for f in findings
        ],
        "novel": novel,
        "delegation": delegation,
        "local_references": local_refs,
        "novel_not_judged": unjudged,
        "contradictions": contradicted,
        "why": "; ".join(why),
        "why_zh": "；".join(why_zh),
    }
    return relation, evidence


def _eligible(city_doc: Document, prov_doc: Document) -> bool:
    if prov_doc.id == city_doc.id or prov_doc.level not in ("province", "national"):
        return False
    if prov_doc.level == "province" and city_doc.province and prov_doc.province and prov_doc.province != city_doc.province:
        return False
    if city_doc.issued and prov_doc.issued and prov_doc.issued > city_doc.issued:
        return False
    return True


def _is_city(doc: Document) -> bool:
    return doc.level in ("city", "county")


def _linkable(clause: Clause) -> bool:
    return clause.kind in LINKABLE_KINDS and len(clause.text or "") + len(clause.heading or "") >= 8


def document_relations(documents: list[Document]) -> list[DocRelation]:
    """implements / cites / attaches edges between documents; unknown targets stay by 文号."""
    title_key = functools.lru_cache(maxsize=None)(compact)  # titles recur: normalise each once
    by_number = {d.doc_number: d for d in documents if d.doc_number}
    by_title = {title_key(t): d for d in documents for t in (d.title, d.measures_title) if t}
    relations: list[DocRelation] = []
    for doc in documents:
        seen = set()
        for c in doc.citations:
            target = by_number.get(c.doc_number) if c.doc_number else None
            if target is None and c.title:
                target = by_title.get(title_key(c.title))
            key = (c.doc_number or (target.id if target else c.title), c.role)
            if key in seen or (target is not None and target.id == doc.id):
                continue
            seen.add(key)
            mismatch = None
            if target is not None and c.title and title_key(c.title) not in {title_key(target.title), title_key(target.measures_title or "")}:
                mismatch = target.title
            relations.append(
                DocRelation(doc.id, c.doc_number or (target.doc_number if target else None), target.id if target else None, c.role, c.title, mismatch)
            )
        if doc.attached_to:
            relations.append(DocRelation(doc.attached_to, doc.doc_number, doc.id, "attaches", doc.title, None))
    return relations


@dataclass
class _Run:
    """What every document's linking needs, built once per run (and shared with forked workers)."""

    documents: list[Document]
    index: ClauseIndex
    implemented: dict[str, set[str]]
    docs_by_id: dict[str, Document]
    notice_text: dict[str, str]  # provincial doc id -> its localised text, for novelty (a _NoticeTexts)
    params: dict[str, list[Parameter]] = field(default_factory=dict)  # clause id -> parameters (a cache)
    exhaustive: bool = False  # score every allowed entry, not the index's candidates (link's brute force)
    params_by_text: dict[str, list[Parameter]] = field(default_factory=dict)  # text -> parameters of its first clause
    by_title: dict[str, Document] = field(default_factory=dict)  # relations.title_key(title) -> document (explicit references)
    by_number: dict[str, Document] = field(default_factory=dict)  # 文号 -> document

    def parameters(self, clause: Clause) -> list[Parameter]:
        """The clause's parameters. They depend on its text alone, and restated texts recur
        (two in five clause texts at 10,000 notices): a text read once is copied, not re-read."""
        found = self.params.get(clause.id)
        if found is None:
            same = self.params_by_text.get(clause.text)
            if same is None:
                found = self.params_by_text[clause.text] = params_mod.extract_parameters(clause.id, clause.text)
            else:
                found = [replace(p, clause_id=clause.id) for p in same]
            self.params[clause.id] = found
        return found


@dataclass
class _DocLinks:
    """One document's share of the result, merged in document order."""

    parameters: list[Parameter] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    sibling_links: list[Link] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    succession: list[Link] = field(default_factory=list)


@dataclass(slots=True)
class Kept:
    """One document's share of a run as the next run needs it: the fingerprint of its input,
    the notices it stood on (all ``_touched`` reads of it), and the share itself, pickled once
    when it was made. A run that reuses the share keeps the bytes as they are: re-pickling the
    whole state (300k links with their evidence at 10,000 notices) cost more than the rest of
    an incremental build. The pickle is compressed (zlib, fastest level): a fifth of the size,
    held in memory beside the unpickled shares until the state is written."""

    fingerprint: str
    stood_on: frozenset[str]
    blob: bytes
    clauses: frozenset[str] = frozenset()  # a provincial or national notice's clause_keys

    def output(self) -> _DocLinks:
        return pickle.loads(zlib.decompress(self.blob))


def clause_keys(doc: Document) -> frozenset[str]:
    """A key per linkable clause of a notice others stand on: what scoring reads of it (id,
    position, heading, text, the notice's date and place). After a change, only clauses with
    a new key can outscore anything; the rest score as they did."""
    if doc.level not in ("province", "national"):
        return frozenset()
    return frozenset(_clause_key(c, doc) for c in doc.clauses if _linkable(c))


def _clause_key(clause: Clause, doc: Document) -> str:
    what = [clause.id, clause.position, clause.heading, clause.text, doc.issued, doc.level, doc.province, doc.jurisdiction]
    return hashlib.blake2b(json.dumps(what, ensure_ascii=False).encode(), digest_size=12).hexdigest()


@dataclass
class LinkState:
    """What a run leaves for the next one: per document, a fingerprint of its input and its
    share of the result, so an incremental run recomputes only documents a change touches."""

    code: str  # fingerprint of the code that made it: other code, no reuse
    documents: dict[str, Kept] = field(default_factory=dict)  # doc id -> its share
    implemented: dict[str, set[str]] = field(default_factory=dict)
    index: SavedIndex | None = None


@dataclass
class Reuse:
    """How much of an incremental run was recomputed, and why."""

    recomputed: list[str] = field(default_factory=list)  # doc ids
    reused: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # doc id -> why it was recomputed
    partial: bool = False  # the result's lists hold the recomputed documents' shares only


def document_fingerprint(doc: Document) -> str:
    """The linker's input from one document: its source bytes, place in them, version and manifest."""
    source = doc.source
    key = [doc.id, doc.version, doc.start, doc.end, doc.level, doc.issued, doc.province, doc.jurisdiction]
    if source is not None:
        key += [source.path, source.sha256, source.manifest]
    else:  # documents made in memory (tests): their clauses are the input
        key += [(c.id, c.heading, c.text) for c in doc.clauses]
    return hashlib.sha256(json.dumps(key, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


_RUN: _Run | None = None  # set for the length of one link() call; read by forked workers
PARALLEL_MIN_CLAUSES = 2_000  # below this, forking workers costs more than it saves (a second or two of work)


def link(
    documents: list[Document],
    workers: int | None = None,
    previous: LinkState | None = None,
    code: str = "",
    exhaustive: bool = False,
    complete: bool = True,
) -> LinkResult:
    """Run the link stage over parsed documents.

    Each document is linked on its own against the shared index (a city notice: its clauses;
    a provincial one: its succession and parameters), so the work is spread over `workers`
    forked processes (default: the CPU count when the corpus is large enough, else 1) and
    merged in document order; the result does not depend on the number of workers.

    With `previous` (the state of an earlier run by the same `code`), only documents a change
    touches are recomputed (see ``_touched``); the others keep their earlier share. The new
    state is ``result.state``; what was recomputed is ``result.reuse``. With ``complete``
    false, an incremental run's lists (links, parameters, unresolved, coverage) hold the
    recomputed documents' shares only, which is all an incremental publish writes: unpickling
    every share costs more than the rest of a one-file rebuild. ``complete_result`` fills them.

    ``exhaustive``: the brute force the index is measured against (scripts/bench) -- every
    clause is scored against every provincial clause it may stand on, not only the index's
    candidates; all else (bonus, thresholds, relations, siblings, succession) is the same.
    Always a full run, and its state is never reused by a run that is not exhaustive.
    """
    # The run's objects (millions of links, evidence dicts and parameters, unpickled from
    # workers or the last state) hold no cycles: no collection walks them, or the documents.
    with collector_paused():
        if exhaustive:
            return _link(documents, workers, None, code + ":exhaustive", exhaustive=True)
        return _link(documents, workers, previous, code, complete=complete)


def _link(
    documents: list[Document], workers: int | None, previous: LinkState | None, code: str, exhaustive: bool = False, complete: bool = True
) -> LinkResult:
    global _RUN, _BOILERPLATE
    result = LinkResult()
    _ENTRY_CACHE.clear()
    _WHOLE.clear()
    # Boilerplate is learnt from the whole corpus: when it changes, nothing of the last run is reused.
    # Learnt from statutes only: notices restate one another by design (a city's items are its
    # province's words), so a sentence shared by notices of several subjects may still be lineage.
    _BOILERPLATE = rel.learn_boilerplate(d for d in documents if _is_statute(d))
    code = "boilerplate-" + hashlib.sha256("\n".join(sorted(_BOILERPLATE)).encode()).hexdigest()[:16] + ":" + code
    result.relations = document_relations(documents)
    implemented = _implemented_ids(documents, result.relations)

    fingerprints = [document_fingerprint(d) for d in documents]
    # Scope by scope (the nation, then each province; document order within each), so that
    # each scope's clauses are one block of the index (ClauseIndex.hits).
    indexed = [(d, fp) for d, fp in sorted(zip(documents, fingerprints), key=lambda t: _scope_key(t[0])) if d.level in ("province", "national")]
    key = hashlib.sha256("\n".join(fp for _, fp in indexed).encode()).hexdigest()
    saved = previous.index if previous is not None and previous.code == code and not exhaustive else None
    unpacked = saved.texts() if saved is not None else None  # read once: the index and the check both need it
    if saved is not None and saved.key == key:
        index, notice_text = saved.restore([d for d, _ in indexed], unpacked)
    else:
        index, notice_text = _build_index([d for d, _ in indexed], saved, [fp for _, fp in indexed], unpacked)
        saved = None
    _RUN = run = _Run(documents, index, implemented, {d.id: d for d in documents}, notice_text, exhaustive=exhaustive)
    for d in documents:  # the latest version last: a reference names the version in force
        run.by_title[rel.title_key(d.title)] = d
        if d.doc_number:
            run.by_number[d.doc_number] = d
    # A law carries out the laws above it on its subject even where its text names none
    # (广东省失业保险条例 names the 社会保险法): the document-level lineage its articles stand on.
    for d in documents:
        if _is_statute(d) and d.level in rel.LEVEL_RANK:
            for parent in _parents(run, d, index.allowed_for_city(d)):
                if parent.id not in implemented.get(d.id, set()):
                    implemented[d.id].add(parent.id)
                    result.relations.append(DocRelation(d.id, parent.doc_number, parent.id, "implements", parent.title, None))

    def how_many(indices: list[int]) -> int:
        """Workers for documents ``indices``: the CPU count if they have enough clauses, or as asked."""
        if workers is not None:
            return workers
        return (os.cpu_count() or 1) if sum(len(documents[i].clauses) for i in indices) >= PARALLEL_MIN_CLAUSES else 1

    try:
        if previous is not None and previous.code == code:
            result.reuse = _touched(run, fingerprints, previous, how_many(list(range(len(documents)))), unpacked)
            todo = [i for i, d in enumerate(documents) if d.id in result.reuse.reasons]
        else:
            result.reuse = Reuse(reasons={d.id: "full run" for d in documents})
            todo = list(range(len(documents)))
        unpacked = None  # not needed by the workers that link next
        # A fresh index is saved for the next run here, while the workers link.
        save = None if saved is not None or exhaustive else lambda: SavedIndex.of(key, index, indexed)
        processes = how_many(todo)
        if workers is None and save is not None and len(todo) > 1:
            # Too few to fork for, but saving the index takes seconds: a worker links beside it.
            processes = max(processes, min(2, os.cpu_count() or 1))
        shares, made = _map(_link_document_kept, todo, processes, meanwhile=save)
        done = dict(zip(todo, shares))
        saved = saved or made
    finally:
        _RUN = None
        _ENTRY_CACHE.clear()
        _WHOLE.clear()
    del run, index, notice_text  # the index's arrays and entries: room for the shares unpickled next
    kept = {
        d.id: Kept(fp, *done[i], clause_keys(d)) if i in done else previous.documents[d.id] for i, (d, fp) in enumerate(zip(documents, fingerprints))
    }
    result.reuse.recomputed = [documents[i].id for i in todo]
    result.reuse.reused = len(documents) - len(todo)
    result.state = LinkState(code, kept, implemented, saved)
    if previous is not None and not complete:
        result.reuse.partial = True
        _merge(result, documents, [documents[i].id for i in todo])
    else:
        _merge(result, documents, [d.id for d in documents])
    return result


def complete_result(result: LinkResult, documents: list[Document]) -> None:
    """Fill a partial result (``link(..., complete=False)``) with every document's share, from its state."""
    if result.reuse is not None and result.reuse.partial:
        for name in ("parameters", "links", "unresolved", "coverage"):
            getattr(result, name).clear()
        result.reuse.partial = False
        _merge(result, documents, [d.id for d in documents])


def _merge(result: LinkResult, documents: list[Document], ids: list[str]) -> None:
    """The shares of documents ``ids`` (in document order) into the result's lists, and the
    coverage of the city notices among them."""
    outputs = [result.state.documents[i].output() for i in ids]
    for part in ("parameters", "links", "sibling_links", "unresolved", "succession"):
        for out in outputs:
            getattr(result, "links" if part in ("sibling_links", "succession") else part).extend(getattr(out, part))
    docs_by_id = {d.id: d for d in documents}
    city = [docs_by_id[i] for i in ids if _is_city(docs_by_id[i]) or docs_by_id[i].id in result.state.implemented]
    result.coverage = _coverage(city, result.state.implemented, result.links, docs_by_id)


def _scope_key(doc: Document) -> str:
    return doc.province if doc.level == "province" and doc.province else ""


def _map(task: Callable[[int], object], todo: list[int], workers: int, meanwhile: Callable[[], object] | None = None) -> tuple[list, object]:
    """``task`` of each document number in todo, and what ``meanwhile`` returns: it runs in this
    process while the workers work (this process would only wait)."""
    n = len(todo)
    if workers <= 1 or n < 2:
        done = [task(i) for i in todo]
        return done, meanwhile() if meanwhile else None
    # Forked workers see the run (_RUN: documents, index) without pickling it; chunks keep the traffic small.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        pending = pool.map_async(task, todo, chunksize=max(1, min(64, n // (workers * 8))))
        made = meanwhile() if meanwhile else None
        return pending.get(), made


def _build_index(
    indexed: list[Document], saved: SavedIndex | None = None, fingerprints: list[str] | None = None, unpacked: tuple | None = None
) -> tuple[ClauseIndex, _NoticeTexts]:
    """The index of the provincial and national notices' linkable clauses (in scope order), and
    each notice's localised text (for novelty). With an earlier run's index (``saved``; its
    ``texts()`` as ``unpacked`` when already read) and the notices' ``fingerprints``, a notice
    unchanged since then takes its localised forms from it: after one notice changed, only that
    one is localised again (the trigrams are sorted afresh)."""
    forms, where = [], {}
    if saved is not None and fingerprints is not None:
        forms, _ = unpacked or saved.texts()
        at = 0
        for doc_id, fingerprint, n, *_ in saved.layout:
            where[(doc_id, fingerprint)] = at
            at += n
    index = ClauseIndex()
    notice_text = _NoticeTexts(indexed)
    for k, doc in enumerate(indexed):
        at = where.get((doc.id, fingerprints[k])) if where else None
        if at is not None:
            _restore_entries(index, doc, forms, at)
            continue
        for clause in doc.clauses:
            if _indexable(clause):
                index.add(_entry(clause, doc))
        notice_text.make(doc.id)  # here, once: forked workers inherit it
    return index.freeze(), notice_text


class _NoticeTexts(dict):
    """Each provincial or national notice's localised text (its clauses' localised forms, one a
    line), by id: what novelty is judged against (``_novel``). A notice localised in this run
    has it from the start; one restored from the last run's index (``SavedIndex``) gets it the
    first time a link to it is classified. After a one-file change that is a few notices, and
    the saved index need not hold every notice's text (37 MB of 78 at 10,000 notices)."""

    def __init__(self, indexed: list[Document]):
        super().__init__()
        self.documents = {doc.id: doc for doc in indexed}

    def make(self, doc_id: str) -> str:
        doc = self.documents[doc_id]
        text = self[doc_id] = "\n".join(_entry(clause, doc).local for clause in doc.clauses)
        return text

    __missing__ = make


def _restore_entries(index: ClauseIndex, doc: Document, forms: list[tuple], at: int) -> int:
    """Add doc's linkable clauses to the index with the localised forms saved from ``at`` on; the next unused form."""
    for clause in doc.clauses:
        if _indexable(clause):
            local_text, heading, localisation = forms[at]
            at += 1
            entry = _Entry(clause, doc, heading + local_text, local_text, heading, localisation, _whole_article(clause, doc))
            _ENTRY_CACHE[id(clause)] = entry
            index.add(entry)
    return at


@dataclass(slots=True, eq=False)  # arrays: compared field by field where needed
class SavedIndex:
    """A run's index, for the next run (``key``: the fingerprints of the notices it holds):
    every clause's localised form (pickled and compressed once), and the postings (numbers:
    stored as they are; compressing them cost a second and saved 30 MB). Rebuilding them
    (localising 80,000 clauses and sorting their trigrams) cost a third of a one-file rebuild
    at 10,000 notices. ``layout`` says which notice (id and fingerprint) each run of forms
    belongs to, so a run over other notices reuses those of the unchanged ones
    (``_build_index``). Notices' whole texts are not kept: see ``_NoticeTexts``."""

    key: str
    blob: bytes  # zlib(pickle((forms, (clause key, clause id) of each form)))
    postings: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    layout: tuple[tuple, ...]  # (doc id, fingerprint, number of forms, level, issued, province, jurisdiction) in index order

    @classmethod
    def of(cls, key: str, index: ClauseIndex, indexed: list[tuple[Document, str]]) -> SavedIndex:
        forms = [(e.local_text, e.heading, e.localisation) for e in index.entries]
        keys = [(_clause_key(e.clause, e.doc), e.clause.id) for e in index.entries]
        layout = tuple((d.id, fp, sum(1 for c in d.clauses if _indexable(c)), d.level, d.issued, d.province, d.jurisdiction) for d, fp in indexed)
        blob = zlib.compress(pickle.dumps((forms, keys), protocol=pickle.HIGHEST_PROTOCOL), 1)
        return cls(key, blob, (index.alphabet, index.grams, index.starts, index.postings), layout)

    def texts(self) -> tuple[list[tuple], list[tuple[str, str]]]:
        """Every clause's localised form (local text, heading, localisation), and every
        clause's ``_clause_key`` and id."""
        return pickle.loads(zlib.decompress(self.blob))

    def restore(self, indexed: list[Document], unpacked: tuple | None = None) -> tuple[ClauseIndex, _NoticeTexts]:
        """The index over ``indexed`` (the documents ``key`` was made from, in scope order),
        its entries bound to their clauses of this run (``unpacked``: ``texts()``, when read already)."""
        forms, _ = unpacked or self.texts()
        index = ClauseIndex()
        at = 0
        for doc in indexed:
            at = _restore_entries(index, doc, forms, at)
        return index.freeze(self.postings), _NoticeTexts(indexed)


def _link_document_kept(i: int) -> tuple[frozenset[str], bytes]:
    """What a document's share stood on, and the share pickled (and compressed) where it was
    made (a worker pickles it to send it anyway): the ``Kept`` of it but for the fingerprint."""
    out = _link_document(i)
    stood_on = _stood_on(out)
    for links in (out.links, out.sibling_links, out.succession):
        for link_ in links:
            link_.evidence = Evidence.of(link_.evidence)
    return stood_on, zlib.compress(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _stood_on(out: _DocLinks) -> frozenset[str]:
    """The notices a document's share depends on: those of its links' targets, its best
    unresolved candidates and the runner-up candidates of its links."""
    found = {_doc_of(l.target_clause_id) for l in out.links + out.sibling_links + out.succession}
    found |= {_doc_of(u.best_candidate_id) for u in out.unresolved if u.best_candidate_id}
    found |= {_doc_of(c["clause_id"]) for l in out.links for c in l.evidence.get("candidates", [])}
    return frozenset(found)


def _doc_of(clause_id: str) -> str:
    return clause_id.split(":", 1)[0]


def _touched(run: _Run, fingerprints: list[str], previous: LinkState, workers: int = 1, unpacked: tuple | None = None) -> Reuse:
    """The documents whose share of the result a change can alter, each with the reason.

    - a document that is new or changed (its fingerprint differs);
    - a city notice whose implemented notices changed, or whose links, sibling links, best
      unresolved candidate or runner-up candidates stood on a changed or removed notice, or
      that implements one (its coverage lists that notice's clauses);
    - a provincial notice whose succession stood on a changed or removed notice;
    - a document whose candidates may differ now (``_retrieval_changed``): the rarest
      trigrams of one of its clauses changed with the index, or a clause that left or joined
      it (``changed_clauses``, as ``clause_keys`` say) shares one of them or its heading.
      Checked document by document over ``workers`` forked processes (``unpacked``: the
      previous index's ``texts()``, when read already).
    """
    reuse = Reuse()
    docs = run.documents
    current = {d.id for d in docs}
    changed = {d.id for d, fp in zip(docs, fingerprints) if d.id not in previous.documents or previous.documents[d.id].fingerprint != fp}
    removed = set(previous.documents) - current
    for d in docs:
        if d.id in changed:
            reuse.reasons[d.id] = "new or changed" if d.id in previous.documents else "new"
    # Notices others may stand on: changed provincial ones, and any removed one (its level is gone with it).
    moved = {i for i in changed if run.docs_by_id[i].level in ("province", "national")} | removed
    for d in docs:
        if d.id in reuse.reasons:
            continue
        if run.implemented.get(d.id, set()) != previous.implemented.get(d.id, set()):
            reuse.reasons[d.id] = "its implemented notices changed"
            continue
        hit = previous.documents[d.id].stood_on & moved
        if hit:
            reuse.reasons[d.id] = "stood on a changed notice: " + ", ".join(sorted(hit))
            continue
        # Its coverage lists the clauses of the notices it implements.
        hit = run.implemented.get(d.id, set()) & moved
        if hit:
            reuse.reasons[d.id] = "implements a changed notice: " + ", ".join(sorted(hit))
            continue
        # A province (or a lower force) standing on the nation: few, so any change relinks them
        # (the retrieval check below reasons about city notices only).
        if moved and not _is_city(d) and run.index.allowed_for_city(d).any():
            reuse.reasons[d.id] = "stands on documents above it, and the index changed"
    if moved:
        _retrieval_changes(run, [run.docs_by_id[i] for i in sorted(moved & current)], previous, reuse, moved, workers, unpacked)
    return reuse


def changed_clauses(documents: list[Document], previous: LinkState) -> list[tuple[Clause, Document]]:
    """The linkable clauses of these notices whose ``clause_keys`` the previous run did not have."""
    out = []
    for doc in documents:
        before = previous.documents[doc.id].clauses if doc.id in previous.documents else frozenset()
        out += [(c, doc) for c in doc.clauses if _linkable(c) and _clause_key(c, doc) not in before]
    return out


def _gone_clauses(saved: SavedIndex, moved: set[str], docs_by_id: dict[str, Document], unpacked: tuple | None = None) -> list[_Entry]:
    """The previous run's index entries this run's no longer has: clauses of changed or removed
    notices whose ``clause_keys`` are gone, as they were (localised text, heading, the notice's
    date and place), each in a stand-in notice (its id plus ``"\\0before"``), the clause's
    own id as its path."""
    forms, keys = unpacked or saved.texts()
    out, at = [], 0
    for doc_id, _, n, level, issued, province, jurisdiction in saved.layout:
        if doc_id in moved:
            now = clause_keys(docs_by_id[doc_id]) if doc_id in docs_by_id else frozenset()
            before = Document(id=doc_id + "\0before", doc_number=None, title="", level=level, jurisdiction=jurisdiction, province=province, issued=issued, issuers=[])
            for k in range(at, at + n):
                key, clause_id = keys[k]
                if key not in now:
                    local_text, heading, localisation = forms[k]
                    clause = Clause(id=f"{before.id}:{k}", document_id=before.id, path=clause_id, label="", kind="item", heading=heading or None, text=local_text)
                    out.append(_Entry(clause, before, heading + local_text, local_text, heading, localisation))
        at += n
    return out


@dataclass
class _Change:
    """What an incremental run's check reads (``_retrieval_changed``): the clauses that left
    and joined the index, how many more clauses hold each trigram now, and the index's trigrams
    in code point order. Trigrams here are code point codes (``_trigram_codes``): they
    mean the same in the previous run's index and in this one's."""

    swapped: ClauseIndex  # the clauses gone (as they were) and new: who may stand on them
    grams: list[np.ndarray]  # per entry of swapped: its trigrams
    delta_codes: np.ndarray  # the trigrams whose number of clauses changed (sorted) ...
    delta: np.ndarray  # ... and by how much (now - before)
    shifted: np.ndarray  # those whose rarity class (``_rarity``) or presence moved (sorted)
    index_codes: np.ndarray  # the index's trigrams in code point order ...
    index_rows: np.ndarray  # ... and their rows in ``index.grams``
    identity: np.ndarray  # a _rank_table of code points themselves
    partner: list[int | None]  # per entry of swapped: the other version of the same clause (gone <-> new)
    kept: dict[str, Kept]  # the previous run's shares


def _change_of(index: ClauseIndex, gone: list[_Entry], new: list[_Entry], kept: dict[str, Kept]) -> _Change:
    swapped = ClauseIndex()
    for entry in gone + new:
        swapped.add(entry)
    swapped.freeze()
    grams = [_trigram_codes(e.local) for e in swapped.entries]
    codes = np.concatenate(grams + [_NO_GRAMS])
    signs = np.concatenate([np.full(len(g), -1 if k < len(gone) else 1, dtype=np.int64) for k, g in enumerate(grams)] + [_NO_GRAMS])
    order = np.argsort(codes, kind="stable")
    codes, signs = codes[order], signs[order]
    firsts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1]))) if len(codes) else _NO_GRAMS
    sums = np.add.reduceat(signs, firsts) if len(codes) else _NO_GRAMS
    bits = _bits(len(index.alphabet))
    mask = (1 << bits) - 1
    alphabet = index.alphabet.astype(np.int64)
    g = index.grams
    points = (alphabet[g >> (2 * bits)] << 42) | (alphabet[(g >> bits) & mask] << 21) | alphabet[g & mask] if len(g) else _NO_GRAMS
    by_point = np.argsort(points, kind="stable")
    identity = np.arange(0x110000, dtype=np.int32)
    identity[0] = -1  # the joint of _trigram_pairs
    was = {e.clause.path: k for k, e in enumerate(gone)}
    now = {e.clause.id: len(gone) + k for k, e in enumerate(new)}
    partner = [now.get(e.clause.path) for e in gone] + [was.get(e.clause.id) for e in new]
    delta_codes, delta = codes[firsts][sums != 0], sums[sums != 0]
    now_held = _held_now(index, points[by_point], by_point, delta_codes)
    before = now_held - delta
    moved = (_rarity(np.maximum(before, 1)) != _rarity(np.maximum(now_held, 1))) | ((before == 0) != (now_held == 0))
    return _Change(swapped, grams, delta_codes, delta, delta_codes[moved], points[by_point], by_point, identity, partner, kept)


def _held_now(index: ClauseIndex, index_codes: np.ndarray, index_rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """How many of the index's clauses hold each trigram of ``codes`` (code point codes; the
    index's own trigrams in that order are ``index_codes``, at ``index_rows`` of its ``grams``)."""
    at, found = _found(index_codes, codes)
    rows = index_rows[at] if len(index_rows) else at
    return np.where(found, index.starts[rows + 1] - index.starts[rows], 0)


_CHECK: _Change | None = None  # for _retrieval_changed in forked workers


def _retrieval_changes(
    run: _Run, fresh: list[Document], previous: LinkState, reuse: Reuse, moved: set[str], workers: int = 1, unpacked: tuple | None = None
) -> None:
    """Mark the documents whose candidates a change of the index may alter (``_retrieval_changed``),
    over ``workers`` forked processes. Without the previous run's index (its clauses as they
    were), every document is marked."""
    global _CHECK
    todo = [i for i, doc in enumerate(run.documents) if doc.id not in reuse.reasons]
    if previous.index is None:
        for i in todo:
            reuse.reasons[run.documents[i].id] = "no index of the previous run to compare with"
        return
    gone = _gone_clauses(previous.index, moved, run.docs_by_id, unpacked)
    new = [_entry(clause, doc) for clause, doc in changed_clauses(fresh, previous)]
    if not gone and not new:
        return
    _CHECK = _change_of(run.index, gone, new, previous.documents)
    try:
        whys, _ = _map(_retrieval_changed, todo, workers)
    finally:
        _CHECK = None
    for i, why in zip(todo, whys):
        if why:
            reuse.reasons[run.documents[i].id] = why


def _found(sorted_codes: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each code is in sorted_codes, and whether it is there."""
    if not len(sorted_codes):
        return np.zeros(len(codes), dtype=np.int64), np.zeros(len(codes), dtype=bool)
    at = np.searchsorted(sorted_codes, codes)
    at[at == len(sorted_codes)] = 0
    return at, sorted_codes[at] == codes


def _retrieval_changed(i: int) -> str | None:
    """Why document i's share may differ after the change ``_CHECK`` holds (or None).

    A clause's candidates are the index entries sharing its rarest trigrams (``rarest``: the
    48 held by the fewest clauses, by ``_rarity``, then by code) and the entries with its
    heading. Entries that stayed have the same trigrams, so the candidates and their scores can
    change only if
    - the rarest trigrams themselves changed: the number of clauses holding one of the query's
      trigrams changed (``delta``), moving it into or out of the 48 (all at once, any trigram
      of any notice: the counts are the whole index's); or
    - a clause that left or joined the index, and that the document may stand on (its
      province or the nation, issued before it), shares one of them or its heading.
    Otherwise every candidate keeps its count, its rank and its score, and the share is the same.
    A clause edited in place (the same id, date and place) concerns a query only if the
    query's other candidates change with its count, or its new score may rank it among what the
    query keeps (``_may_rank``).
    """
    run, change = _RUN, _CHECK
    doc = run.documents[i]
    if _is_city(doc):
        allowed = change.swapped.allowed_for_city(doc)
    elif doc.level in ("province", "national") and doc.issued:
        allowed = change.swapped.allowed_for_successor(doc)
    else:
        return None  # not linked: its share holds parameters only
    if not allowed.any() and not len(change.shifted):
        return None  # as below, without localising the document's clauses (the costly part here)
    queries = [_entry(clause, doc) for clause in doc.clauses if _linkable(clause)]
    if not queries:
        return None
    if not allowed.any() and not _holds_trigram([q.local for q in queries], change.shifted):
        # No clause that left or joined may be its candidate, and none of its trigrams moved
        # class or usability (only ``shifted`` ones can, by the reasoning below): every query
        # ranks its trigrams as it did. Most documents end here, after a substring search.
        return None
    index = run.index
    owners, codes = _trigram_pairs([q.local for q in queries], change.identity, 21)
    now = _held_now(index, change.index_codes, change.index_rows, codes)
    at, moved = _found(change.delta_codes, codes)
    before = now - np.where(moved, change.delta[at] if len(change.delta) else 0, 0)
    indexed = np.array([q.clause.id in index.positions for q in queries])[owners]

    def chosen(lengths: np.ndarray) -> np.ndarray:
        # as rarest(): indexed trigrams, less those only the query's own clause holds; the 48 rarest, ties by code
        usable = (lengths > 0) & ~(indexed & (lengths == 1))
        return usable & (_by_rarity(owners, codes, lengths, usable)[1] < QUERY_TRIGRAMS)

    rarest_now = chosen(now)
    # The choice orders trigrams by owner, usability, rarity class and code: where none of its
    # trigrams moved class or presence (``shifted``, which covers every change of usability),
    # it is the one it was (the common case: a count one higher or lower seldom crosses a power
    # of two), and is not made again.
    if _found(change.shifted, codes)[1].any():
        differs = np.flatnonzero(rarest_now != chosen(before))
        if len(differs):
            return f"the rarest trigrams of {queries[owners[differs[0]]].clause.id} changed"
    mine = set(np.flatnonzero(allowed).tolist())
    entries = change.swapped.entries
    rescore = set()  # (query, new version of a clause edited in place, the query's count of it before if the edit changed it)
    for k in sorted(mine):
        concerned = set(owners[rarest_now & _found(change.grams[k], codes)[1]].tolist())
        if entries[k].heading:
            concerned |= {j for j, q in enumerate(queries) if q.heading == entries[k].heading}
        other = change.partner[k]
        for j in sorted(concerned):
            if other is None or other not in mine:
                return f"{queries[j].clause.id} may stand on a clause that left or joined the index"
            gone, new = min(k, other), max(k, other)
            count = _count_before(change, gone, new, queries[j], codes[rarest_now & (owners == j)])
            if count == -1:
                return f"{queries[j].clause.id} may stand on a clause whose heading, date or place changed"
            rescore.add((j, new, count))
    if rescore:
        share = change.kept[doc.id].output()
        may_stand = index.allowed_for_city(doc) if _is_city(doc) else index.allowed_for_successor(doc)  # in the whole index
        span = index.span(may_stand)
        for j, k, count in sorted(rescore, key=lambda t: (t[0], t[1])):
            # the query's rarest as rows of the index: the choice made above is the one rarest() makes
            rows = change.index_rows[_found(change.index_codes, codes[rarest_now & (owners == j)])[0]]
            if _may_rank(run, doc, queries[j], entries[k], share, count, may_stand, span, rows):
                return f"{queries[j].clause.id} may rank {entries[k].clause.id} among its best"
    return None


def _holds_trigram(texts: list[str], codes: np.ndarray) -> bool:
    """Does one of the texts hold one of the trigrams ``codes`` (``_trigram_codes``' code point codes, sorted)?"""
    if not len(codes) or not texts:
        return False
    points = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return len(points) >= 3 and bool(_found(codes, _codes(points))[1].any())


def _count_before(change: _Change, gone: int, new: int, query: _Entry, rarest: np.ndarray) -> int | None:
    """The query's count of a clause edited in place, as it was, if it differs from now's (else
    None); -1 when its heading match or its notice's date and place changed (then anything may)."""
    before, now = change.swapped.entries[gone], change.swapped.entries[new]
    if (before.doc.level, before.doc.issued, before.doc.province, before.doc.jurisdiction) != (now.doc.level, now.doc.issued, now.doc.province, now.doc.jurisdiction):
        return -1
    if query.heading and (before.heading == query.heading) != (now.heading == query.heading):
        return -1
    was = np.intersect1d(rarest, change.grams[gone], assume_unique=True).size
    return None if was == np.intersect1d(rarest, change.grams[new], assume_unique=True).size else was


def _may_rank(
    run: _Run,
    doc: Document,
    query: _Entry,
    entry: _Entry,
    share: _DocLinks,
    before: int | None = None,
    allowed: np.ndarray | None = None,
    span: tuple[int, int] | None = None,
    rarest: np.ndarray | None = None,
) -> bool:
    """Could an edited clause (``entry``, now) change what the query keeps: its best candidate
    and runner-ups (city), or the clause it succeeds?

    Its old version ranked below them (else the document stood on its notice and is linked
    again anyway). With ``before`` (its count as it was, when the edit changed it), the other
    candidates must be the ones they were: the candidates are read with both counts. Then only
    a new score reaching what the query keeps matters (``_reaches``), and only if it is scored
    at all. That score is computed first: a tenth of the cost of reading the candidates, which
    are not read when it reaches nothing and the count did not change (a third of the calls
    after a provincial edit at 10,000 notices: a query keeping fewer than four reaches anything).
    (The notice a city names is not the edited one: a city implementing a changed notice is
    linked again anyway.) ``allowed``: the document's ``allowed_for_city`` (or ``_for_successor``),
    ``span`` its ``index.span`` and ``rarest`` the query's ``index.rarest`` (in any order), when
    made already."""
    city = _is_city(doc)
    reaches = _reaches(run, doc, query, entry, share, city)
    if before is None and not reaches:
        return False
    index = run.index
    k = index.positions[entry.clause.id]
    if allowed is None:
        allowed = index.allowed_for_city(doc) if city else index.allowed_for_successor(doc)
    share_of_best = CANDIDATE_SHARE if city else 0.0  # as _score_candidates and _succession read them
    if rarest is None:
        rarest = index.rarest(query)
    counts = index.counts(query, allowed, rarest)
    candidates = set(index.candidates(query, allowed, counts=counts, share=share_of_best, span=span))
    if before is not None:
        was = counts.copy()
        was[k] = before
        if candidates - {k} != set(index.candidates(query, allowed, counts=was, share=share_of_best, span=span)) - {k}:
            return True
    if not reaches:
        return False
    if city:
        for i in sorted(run.implemented.get(doc.id, set())):
            if i in index.doc_range:
                lo, hi = index.doc_range[i]
                candidates.update(_top(index.counts_in(query, allowed, rarest, lo, hi), NAMED_CANDIDATES, offset=lo))
    return k in candidates


def _reaches(run: _Run, doc: Document, query: _Entry, entry: _Entry, share: _DocLinks, city: bool) -> bool:
    """Would the edited clause's new score, were it scored, reach what the query keeps: its
    link and runner-ups (the fourth best kept, or any score when fewer are kept), or its best
    unresolved candidate (city); the threshold of succession and a notice no older than the one
    it succeeds (provincial)?"""
    if city:
        preferred = run.implemented.get(doc.id, set())
        score = min(similarity(query, entry)["combined"] + (IMPLEMENTED_BONUS if entry.doc.id in preferred else 0.0), 1.0)
        link_ = next((l for l in share.links if l.source_clause_id == query.clause.id), None)
        if link_ is not None:
            kept = [link_.score] + [c["score"] for c in link_.evidence.get("candidates", [])]
            return len(kept) < 4 or score >= min(kept) - 5e-4  # stored rounded to 3 places
        unresolved = next((u for u in share.unresolved if u.clause_id == query.clause.id), None)
        return unresolved is None or score >= unresolved.best_score - 5e-4  # else a sibling link: no scores kept
    if restatement_score(query, entry) < SUCCEEDS_THRESHOLD:
        return False
    succeeds = next((l for l in share.succession if l.source_clause_id == query.clause.id), None)
    return succeeds is None or (entry.doc.issued or "") >= (run.docs_by_id[_doc_of(succeeds.target_clause_id)].issued or "")


def _link_document(i: int) -> _DocLinks:
    run = _RUN
    assert run is not None, "_link_document runs inside link()"
    doc = run.documents[i]
    out = _DocLinks()
    out.parameters = [p for clause in doc.clauses for p in run.parameters(clause)]
    if _is_city(doc) or run.index.allowed_for_city(doc).any():
        _link_upward(run, doc, out)
    if doc.level in ("province", "national") and doc.issued:
        out.succession = _succession(run, doc)
    return out


def _threshold(doc: Document, target: Document) -> float:
    """The link threshold for a pair: statutes paraphrase, notices restate (issue 26's gold:
    right statute pairs scored 0.50-0.54)."""
    return STATUTE_LINK_THRESHOLD if _is_statute(doc) else LINK_THRESHOLD  # a notice restates, even a law


def _is_statute(doc: Document) -> bool:
    genre = getattr(doc, "genre", None)
    if genre is not None:
        return genre in ("statute", "decision")
    return any(c.kind == "article" for c in doc.clauses[:64])


def _link_upward(run: _Run, doc: Document, out: _DocLinks) -> None:
    """Link each linkable clause of ``doc`` to the clauses above it that it stands on.

    1. explicit references first (根据《失业保险条例》第十条): the cited clause, with the reference
       as evidence, outranks every score;
    2. otherwise the best scored candidate at or above the pair's threshold -- the nearest level
       first (a city clause stands on its province's clause, on the nation's only where the
       province is silent) -- and any other candidate of that level restating another sentence
       of the clause (many-to-many, best first);
    3. clauses of its own notice restating a linked sibling (``_link_via_siblings``);
    4. the 款 and 项 of two linked articles aligned (``_align_children``), so short items link
       through their parents; what stays unlinked is reported unresolved with its best candidate.
    """
    index = run.index
    implements_ids = run.implemented.get(doc.id, set())
    allowed = index.allowed_for_city(doc)
    exhaustive = run.exhaustive
    if _is_statute(doc):
        # A law carries out the laws above it on its own subject (or those it names), article by
        # article: every article of those is scored (a few hundred), no other law's.
        # A law of no subject above it and naming none as its basis stands on nothing by
        # similarity: its articles link only where they cite an article above.
        _link_statute(run, doc, out, _parents(run, doc, allowed), _above(run, allowed))
        return
    span = index.span(allowed)
    named = [index.doc_range[i] for i in sorted(implements_ids) if i in index.doc_range]
    level = rel.level_word(doc)
    queries = []
    for clause in doc.clauses:
        if not _linkable(clause) or (clause.kind in _HEADINGS and not (clause.text or "").strip()):
            continue  # a chapter's title is no rule of its own
        if not clause.heading and not _lineage_text(clause).strip():
            out.unresolved.append(
                Unresolved(clause.id, "boilerplate", None, None, 0.0, "boilerplate (a formula recurring across unrelated documents) makes no link")
            )
            continue
        queries.append(_entry(clause, doc))
    for query, rarest in zip(queries, index.rarest_of(queries) if not exhaustive and queries else [None] * len(queries)):
        clause = query.clause
        cited, outside = _cited_clauses(run, doc, clause, index.allowed_for_city(doc))
        scored = _score_candidates(index, query, allowed, named, implements_ids | {e.doc.id for e, _ in cited}, exhaustive, rarest=rarest, span=span)
        chosen = _choose_targets(query, scored, cited)
        if not chosen:
            unresolved = _unresolved(clause, doc, scored[0] if scored else None, implements_ids, run.docs_by_id)
            if outside:
                unresolved.explanation += "; cites documents outside the corpus: " + "、".join(outside)
            out.unresolved.append(unresolved)
            continue
        for rank, (score, sims, target, reference) in enumerate(chosen):
            relation, evidence = classify(
                query, target, run.parameters(clause), run.parameters(target.clause), run.notice_text[target.doc.id], level
            )
            evidence["scores"] = sims
            evidence["preferred_notice"] = target.doc.id in implements_ids
            evidence["candidates"] = [{"clause_id": e.clause.id, "score": round(s, 3)} for s, _, e in scored[:4] if e is not target][:3]
            evidence["rank"] = rank + 1
            if reference is not None:
                evidence["reference"] = reference
                evidence["why"] = f"cites {reference['words']}; " + evidence["why"]
                evidence["why_zh"] = f"明确引用{reference['words']}；" + evidence["why_zh"]
            if outside:
                evidence["references_outside_corpus"] = outside
            out.links.append(Link(clause.id, target.clause.id, relation, round(score, 3), evidence))
    if not _is_statute(doc):  # a notice's body item and its row in the 责任分工表; a law has no such rows
        _link_via_siblings(run, doc, out)
    _align_children(run, doc, out, level)


def _article_entries(doc: Document) -> list[_Entry]:
    """A statute's articles, each as one entry of its whole text (its own paragraph, its 款 and
    项 in order): a provincial article paraphrases a national one as a whole, and its 款 are
    aligned afterwards (``_align_children``)."""
    out = []
    for clause in doc.clauses:
        if clause.kind != "article":
            continue
        whole = _whole_article(clause, doc) or ""
        lineage = rel.strip_boilerplate(whole, _BOILERPLATE)[0]
        if rel.is_purpose_clause(whole):
            lineage = ""
        local_text, applied = localise(lineage)
        heading, applied_h = _localise_heading(clause.heading or "")
        out.append(_Entry(clause, doc, heading + local_text, local_text, heading, applied + applied_h, whole))
    return out


def _link_statute(run: _Run, doc: Document, out: _DocLinks, parents: list[Document], above: dict[str, Document]) -> None:
    """Link a law's articles to the articles of the laws above it that it carries out
    (``parents``), each article compared as a whole with every article of those: explicit
    references first, then the best at or above the threshold, and others restating another
    of its sentences; then their 款 and 项 aligned. Every article left over, and its 款 and 项,
    is reported unresolved with its best candidate."""
    level = rel.level_word(doc)
    higher = [e for parent in parents for e in _article_entries(parent)]
    higher = [e for e in higher if e.local_text]
    by_clause = {e.clause.id: e for e in higher}
    target_docs: dict[str, Document] = {}  # the version each target was read from
    queries = _article_entries(doc)
    cosine = _cosines([q.local_text for q in queries], [e.local_text for e in higher])
    place = [k / max(1, len(queries)) for k in range(len(queries))]
    counts: dict[int, int] = defaultdict(int)  # by id(document): versions share ids
    for e in higher:
        counts[id(e.doc)] += 1
    seen: dict[int, int] = defaultdict(int)
    higher_place = []
    for e in higher:
        higher_place.append(seen[id(e.doc)] / max(1, counts[id(e.doc)]))
        seen[id(e.doc)] += 1
    for k, query in enumerate(queries):
        clause = query.clause
        if not query.local_text:
            out.unresolved.append(
                Unresolved(clause.id, "boilerplate", None, None, 0.0, "purpose, commencement or penalty formula: a document-level relation, no article's lineage")
            )
            continue
        cited = []
        outside: list[str] = []
        for ref in rel.references(query.whole or ""):
            if ref.own:
                continue
            target = run.by_number.get(ref.doc_number) if ref.doc_number else None
            if target is None and ref.title:
                target = run.by_title.get(rel.title_key(ref.title))
            if target is None:
                outside.append(f"《{ref.title}》" if ref.title else ref.words)
                continue
            path = rel.citation_path(ref.citation) if ref.citation else None
            if path and target.id in above and f"{target.id}:{path.split('/')[0]}" not in by_clause:
                by_clause.update((e.clause.id, e) for e in _article_entries(above[target.id]) if e.local_text)
            entry = by_clause.get(f"{target.id}:{path.split('/')[0]}") if path else None
            if entry is not None:
                mismatch = target.title if ref.title and rel.title_key(ref.title) != rel.title_key(target.title) else None
                cited.append((entry, {"words": ref.words, "document_id": target.id, "clause_id": entry.clause.id, "title_mismatch": mismatch}))
        row = cosine[k]
        ranked = sorted(range(len(higher)), key=lambda j: (-(row[j] + POSITION_WEIGHT * (1 - abs(place[k] - higher_place[j]))), j))
        scored = [(float(row[j]), {**similarity(query, higher[j]), "cosine": round(float(row[j]), 3)}, higher[j]) for j in ranked[:MAX_CANDIDATES]]
        chosen = [(1.0, similarity(query, e), e, reference) for e, reference in cited]
        for t in scored:
            if len(chosen) >= MAX_TARGETS:
                break
            floor = STATUTE_COSINE if not chosen else STATUTE_SECOND_COSINE
            if t[0] >= floor and all(t[2] is not c[2] for c in chosen):
                chosen.append((*t, None))
            elif not chosen:
                break  # the best by rank does not reach the threshold: none does
        if not chosen:
            u = _unresolved(clause, doc, scored[0] if scored else None, set(), run.docs_by_id)
            if outside:
                u.explanation += "; cites documents outside the corpus: " + "、".join(dict.fromkeys(outside))
            out.unresolved.append(u)
            continue
        for rank, (score, sims, target, reference) in enumerate(chosen):
            params_lower = params_mod.extract_parameters(clause.id, query.text)
            params_higher = params_mod.extract_parameters(target.clause.id, target.text)
            relation, evidence = classify(query, target, params_lower, params_higher, run.notice_text[target.doc.id], level, paraphrase=True)
            evidence["scores"] = sims
            evidence["compared"] = "whole articles"
            evidence["candidates"] = [{"clause_id": e.clause.id, "score": round(s, 3)} for s, _, e in scored[:4] if e is not target][:3]
            evidence["rank"] = rank + 1
            if reference is not None:
                evidence["reference"] = reference
                evidence["why"] = f"cites {reference['words']}; " + evidence["why"]
                evidence["why_zh"] = f"明确引用{reference['words']}；" + evidence["why_zh"]
            if outside:
                evidence["references_outside_corpus"] = list(dict.fromkeys(outside))
            out.links.append(Link(clause.id, target.clause.id, relation, round(score, 3), evidence))
            target_docs[target.clause.id] = target.doc
    _align_children(run, doc, out, level, whole_articles=True, target_docs=target_docs)


_NON_WORD = re.compile(r"[^\u4e00-\u9fff0-9a-zA-Z]")


def _cosines(lower: list[str], higher: list[str]) -> np.ndarray:
    """Cosine of every lower text with every higher text, over TF-IDF weighted character
    bigrams (sublinear tf; idf from these texts): a paraphrase keeps the rare words of its
    subject (领取期限, 经办机构) in other order and other words, which an edit ratio misses."""
    if not lower or not higher:
        return np.zeros((len(lower), len(higher)))
    vocab: dict[str, int] = {}
    rows = []
    for text in lower + higher:
        s = _NON_WORD.sub("", text)
        grams: dict[int, int] = defaultdict(int)
        for i in range(len(s) - 1):
            grams[vocab.setdefault(s[i : i + 2], len(vocab))] += 1
        rows.append(grams)
    tf = np.zeros((len(rows), len(vocab)), dtype=np.float64)
    for r, grams in enumerate(rows):
        for g, n in grams.items():
            tf[r, g] = 1 + np.log(n)
    idf = np.log(len(rows) / np.maximum(1, (tf > 0).sum(axis=0)))
    weights = tf * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    weights /= np.where(norms == 0, 1, norms)
    return weights[: len(lower)] @ weights[len(lower) :].T


def _parents(run: _Run, doc: Document, allowed: np.ndarray) -> list[Document]:
    """The documents above ``doc`` that it carries out: those it names as its basis, and those
    of its subject (广东省失业保险条例 -> 失业保险条例, 山东省劳动和社会保障监察条例 -> 劳动保障监察条例);
    of a document in several versions, those ``allowed`` (in force when ``doc`` was made)."""
    named = run.implemented.get(doc.id, set()) | {rel.title_key(t) for t in rel.basis_titles(doc)}
    return [
        d
        for d in _above(run, allowed).values()
        if d.id in named or rel.title_key(d.title) in named or rel.same_subject_titles(doc.title, d.title, doc.jurisdiction, d.jurisdiction)
    ]


def _above(run: _Run, allowed: np.ndarray) -> dict[str, Document]:
    """The documents of the allowed entries by id (of one in several versions, the latest allowed)."""
    found: dict[str, Document] = {}
    for k in np.flatnonzero(allowed).tolist():
        found[run.index.entries[k].doc.id] = run.index.entries[k].doc
    return found


def _cited_clauses(run: _Run, doc: Document, clause: Clause, allowed: np.ndarray) -> tuple[list[tuple[_Entry, dict]], list[str]]:
    """The clauses above that ``clause`` cites by title (or 文号) and article, as index entries
    with the reference as evidence; and the titles it cites that the corpus does not hold."""
    found, outside = [], []
    for ref in rel.references(clause.text or ""):
        if ref.own:
            continue
        target = run.by_number.get(ref.doc_number) if ref.doc_number else None
        if target is None and ref.title:
            target = run.by_title.get(rel.title_key(ref.title))
        if target is None:
            outside.append(f"《{ref.title}》" if ref.title else ref.doc_number or ref.words)
            continue
        path = rel.citation_path(ref.citation) if ref.citation else None
        if path is None or target.id not in run.index.doc_range:
            continue
        lo, hi = run.index.doc_range[target.id]
        for k in range(lo, hi):
            entry = run.index.entries[k]
            if allowed[k] and (entry.clause.path == path or entry.clause.path.endswith("/" + path)):
                mismatch = None
                if ref.title and rel.title_key(ref.title) != rel.title_key(target.title):
                    mismatch = target.title
                found.append(
                    (entry, {"words": ref.words, "document_id": target.id, "clause_id": entry.clause.id, "title_mismatch": mismatch})
                )
                break
    return found, list(dict.fromkeys(outside))


def _choose_targets(query: _Entry, scored: list, cited: list[tuple[_Entry, dict]]) -> list[tuple[float, dict, _Entry, dict | None]]:
    """The clauses a clause stands on, best first: the ones it cites, then the best scored one
    at or above its threshold (of the nearest level among those close to the best), then
    others of that level that restate another of its sentences."""
    chosen: list[tuple[float, dict, _Entry, dict | None]] = []
    for entry, reference in cited:
        sims = similarity(query, entry)
        chosen.append((1.0, sims, entry, reference))
    passing = [t for t in scored if t[0] >= _threshold(query.doc, t[2].doc) and all(t[2] is not c[2] for c in chosen)]
    if not passing:
        return chosen
    if not chosen:
        nearest = min(rel.LEVEL_RANK.get(t[2].doc.level or "", 9) for t in passing if t[0] >= passing[0][0] - 0.1)
        primary = next(t for t in passing if rel.LEVEL_RANK.get(t[2].doc.level or "", 9) == nearest)
        chosen.append((*primary, None))
    # Sentences the chosen targets restate: another target must restate one of the others.
    used = set().union(*(_restated_sentences(query, c[2]) for c in chosen))
    tier = rel.tier(chosen[0][2].doc)
    for t in passing:
        if len(chosen) >= MAX_TARGETS:
            break
        if any(t[2] is c[2] for c in chosen) or rel.tier(t[2].doc) != tier:
            continue
        sims = t[1]
        if max(sims["ratio"], sims["partial"] or 0.0) < _threshold(query.doc, t[2].doc):
            continue  # one shared sentence (以上所需资金按规定…列支) is not a second rule restated
        restated = _restated_sentences(query, t[2])
        if restated and not restated & used:
            used |= restated
            chosen.append((*t, None))
    return chosen


def _restated_sentences(query: _Entry, entry: _Entry) -> set[int]:
    """Which sentences of a query of several sentences the entry restates (partial ratio ≥ 80);
    none for a one-sentence query (nothing else in it to restate)."""
    sents = query.sentences
    if len(sents) < 2:
        return set()
    other = entry.local_text or entry.local
    return {i for i, s in enumerate(sents) if (fuzz.partial_ratio(s, other) if len(s) <= len(other) else fuzz.partial_ratio(other, s)) >= 80}


def _children(doc: Document) -> dict[str, list[Clause]]:
    out: dict[str, list[Clause]] = defaultdict(list)
    for c in doc.clauses:
        if c.parent_id:
            out[c.parent_id].append(c)
    return out


def _align_children(
    run: _Run, doc: Document, out: _DocLinks, level: str, whole_articles: bool = False, target_docs: dict[str, Document] | None = None
) -> None:
    """Within two linked articles (or items), align their 款 and 项: a child not linked yet
    stands on the child of the higher article that it restates (the same label counts for
    a little, never on its own). Short items (（五）财政补贴；) link only this way. A linkable
    child left over is reported unresolved, with its best candidate; none is skipped."""
    linked = {l.source_clause_id for l in out.links + out.sibling_links}
    reported = {u.clause_id for u in out.unresolved}
    mine = _children(doc)
    higher_children: dict[int, dict[str, list[Clause]]] = {}  # by id(document): versions share ids
    pending = list(out.links)
    while pending:
        link_ = pending.pop(0)
        kids = [c for c in mine.get(link_.source_clause_id, []) if c.id not in linked]
        if not kids:
            continue
        target_doc = (target_docs or {}).get(link_.target_clause_id) or run.docs_by_id.get(_doc_of_clause(link_.target_clause_id, run))
        if target_doc is None:
            continue
        theirs = higher_children.setdefault(id(target_doc), _children(target_doc)).get(link_.target_clause_id, [])
        for kid in kids:
            best = None
            for other in theirs:
                score = _child_score(kid, other)
                if best is None or score > best[0]:
                    best = (score, other)
            if best is not None and best[0] >= ALIGN_THRESHOLD:
                score, other = best
                query, target = _entry(kid, doc), _entry(other, target_doc)
                relation, evidence = classify(
                    query, target, run.parameters(kid), run.parameters(other), run.notice_text[target_doc.id], level, paraphrase=whole_articles
                )
                evidence["scores"] = {"aligned": round(score, 3)}
                evidence["via_parent"] = {"source": link_.source_clause_id, "target": link_.target_clause_id}
                evidence["why"] = f"aligned within {link_.source_clause_id} → {link_.target_clause_id}; " + evidence["why"]
                new = Link(kid.id, other.id, relation, round(score, 3), evidence)
                out.links.append(new)
                if target_docs is not None:
                    target_docs[other.id] = target_doc
                pending.append(new)
                linked.add(kid.id)
            elif _linkable_or_short(kid) and kid.id not in reported:
                out.unresolved.append(
                    Unresolved(
                        kid.id,
                        "local",
                        None,
                        best[1].id if best else None,
                        round(best[0], 3) if best else 0.0,
                        f"its parent stands on {link_.target_clause_id}, but no 款 or 项 of it restates this one"
                        + (f" (best {best[1].id} at {round(best[0], 3)})" if best else ""),
                    )
                )
                reported.add(kid.id)
    if whole_articles:
        # The 款 and 项 of an article that stands on nothing: reported with it, not dropped.
        articles = {u.clause_id for u in out.unresolved}
        for clause in doc.clauses:
            if clause.id not in linked and clause.id not in reported and clause.parent_id and clause.kind in ("paragraph", "item", "point"):
                ancestor = clause.parent_id
                while ancestor and ancestor not in articles and ancestor not in linked:
                    ancestor = next((c.parent_id for c in doc.clauses if c.id == ancestor), None)
                if ancestor in articles:
                    out.unresolved.append(Unresolved(clause.id, "local", None, None, 0.0, f"part of {ancestor}, which stands on no article above"))
                    reported.add(clause.id)
    # Short items whose parent stood on nothing: reported, not dropped.
    for clause in doc.clauses:
        if clause.id not in linked and clause.id not in reported and _short(clause):
            out.unresolved.append(
                Unresolved(clause.id, "short", None, None, 0.0, "too short to link on its own, and its parent stands on no clause above")
            )


def _doc_of_clause(clause_id: str, run: _Run) -> str:
    k = run.index.positions.get(clause_id)
    return run.index.entries[k].doc.id if k is not None else _doc_of(clause_id)


def _child_score(a: Clause, b: Clause) -> float:
    """How well child a restates child b: the text ratio on compact text, lifted a little by an
    equal label (（五） against （五）) when the texts are at least somewhat alike."""
    x, y = compact(a.full_text or ""), compact(b.full_text or "")
    if not x or not y:
        return 0.0
    ratio = fuzz.ratio(x, y) / 100
    # A short item names what a longer one spells out (失业保险费 in 城镇企业…缴纳的失业保险费).
    if min(len(x), len(y)) >= 3:
        ratio = max(ratio, 0.9 * fuzz.partial_ratio(x, y) / 100)
    if a.label == b.label and ratio >= 0.4:
        ratio = min(1.0, ratio + 0.1)
    return ratio


def _short(clause: Clause) -> bool:
    """A numbered clause too short to score on its own (（五）财政补贴；)."""
    return clause.kind in LINKABLE_KINDS and not _linkable(clause) and bool((clause.text or "").strip() or clause.heading)


def _linkable_or_short(clause: Clause) -> bool:
    return _linkable(clause) or _short(clause)


def _link_via_siblings(run: _Run, doc: Document, out: _DocLinks) -> None:
    """An unresolved city clause that restates a linked clause of its own notice (a body item
    and its row in the 责任分工表) stands on the same provincial clause."""
    clauses = {c.id: c for c in doc.clauses}
    still: list[Unresolved] = []
    for u in out.unresolved:
        clause = clauses[u.clause_id]
        query = _entry(clause, doc)
        best = None
        siblings = [l for l in out.links if l.source_clause_id != clause.id]
        entries = [_entry(clauses[l.source_clause_id], doc) for l in siblings]
        ratios = _SentenceRatios(query, entries)
        for k, (l, entry) in enumerate(zip(siblings, entries)):
            # Most siblings restate other rules: their bound (a tenth of the cost) rules them out.
            if _similarity_bound(query, entry, ratios, k) < SIBLING_THRESHOLD - 1e-3:
                continue
            sims = similarity(query, entry, ratios, k)
            if sims["combined"] >= SIBLING_THRESHOLD and (best is None or sims["combined"] > best[0]):
                best = (sims["combined"], sims, l)
        if best is None:
            still.append(u)
            continue
        score, sims, via = best
        target = run.index.entries[run.index.positions[via.target_clause_id]]
        relation, evidence = classify(query, target, run.parameters(clause), run.parameters(target.clause), run.notice_text[target.doc.id])
        evidence["scores"] = similarity(query, target)
        evidence["via"] = {"clause_id": via.source_clause_id, "score": round(score, 3), "sibling_scores": sims}
        evidence["why"] = f"restates {via.source_clause_id} of the same notice, which stands on {via.target_clause_id}; " + evidence["why"]
        out.sibling_links.append(Link(clause.id, target.clause.id, relation, round(score * via.score, 3), evidence))
    out.unresolved = still


def _score_candidates(
    index: ClauseIndex,
    query: _Entry,
    allowed,
    named: list[tuple[int, int]],
    preferred_docs: set[str],
    exhaustive: bool = False,
    rarest: np.ndarray | None = None,
    span: tuple[int, int] | None = None,
):
    """Score the best candidates of the notice the city names, then, unless one of them is
    beyond reach of any other notice's clause, the best candidates of the whole index
    (``exhaustive``: every allowed entry instead). ``rarest``: the query's ``index.rarest``,
    and ``span`` the ``index.span`` of allowed, when they were made already."""
    scored, seen = [], set()

    def score(k: int) -> None:
        seen.add(k)
        entry = index.entries[k]
        sims = similarity(query, entry)
        scored.append((sims["combined"] + (IMPLEMENTED_BONUS if entry.doc.id in preferred_docs else 0.0), sims, entry))

    if exhaustive:
        for k in np.flatnonzero(allowed).tolist():  # allowed leaves the query's own notice out
            score(k)
    else:
        if rarest is None:
            rarest = index.rarest(query)
        for lo, hi in named:
            # counts_in: the counts of the notice's clauses, read from their own trigrams
            for k in _top(index.counts_in(query, allowed, rarest, lo, hi), NAMED_CANDIDATES, offset=lo):
                score(k)
        # A named clause scoring above 1.0 with its bonus outranks every clause of another notice
        # (they cap at 1.0): the search of the whole index could not change the answer.
        if not scored or max(s[0] for s in scored) <= 1.0:
            for k in index.candidates(query, allowed, counts=index.counts(query, allowed, rarest), span=span):
                if k not in seen:
                    score(k)
    # Ranked on the uncapped score, so the bonus still decides between two verbatim matches.
    scored.sort(key=lambda t: (-t[0], t[2].clause.position))
    return [(min(score, 1.0), sims, entry) for score, sims, entry in scored]


def _implemented_ids(documents: list[Document], relations: list[DocRelation]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in relations:
        if r.relation == "implements" and r.target_document_id:
            out[r.source_document_id].add(r.target_document_id)
    return out


def _unresolved(clause, doc, best, implements_ids, docs_by_id) -> Unresolved:
    incomplete = [docs_by_id[i] for i in sorted(implements_ids) if i in docs_by_id and not docs_by_id[i].complete]
    best_id = best[2].clause.id if best else None
    best_score = round(best[0], 3) if best else 0.0
    if incomplete:
        target = incomplete[0]
        reasons = "; ".join(target.incomplete_reasons[:1])
        return Unresolved(
            clause.id,
            "counterpart-missing",
            target.doc_number or target.id,
            best_id,
            best_score,
            f"{doc.doc_number or doc.id} implements {target.doc_number or target.id}, whose text in the corpus is incomplete "
            f"({reasons}); no clause of it restates this one (best {best_score}), so the counterpart is most likely in the missing part",
        )
    likely = next((docs_by_id[i] for i in sorted(implements_ids) if i in docs_by_id), None)
    return Unresolved(
        clause.id,
        "local",
        None,
        best_id,
        best_score,
        "no provincial or national clause in the corpus restates it (best "
        f"{best_score}); a local measure" + (f" not found in {likely.doc_number or likely.id}" if likely else ""),
    )


def _succession(run: _Run, doc: Document) -> list[Link]:
    """A later provincial clause restating an earlier provincial rule `succeeds` it."""
    index = run.index
    links: list[Link] = []
    allowed = index.allowed_for_successor(doc)
    if not allowed.any():
        return links
    span = index.span(allowed)
    queries = [_entry(clause, doc) for clause in doc.clauses if _linkable(clause)]
    for query, rarest in zip(queries, index.rarest_of(queries) if not run.exhaustive else [None] * len(queries)):
        clause = query.clause
        # The nearest earlier restatement only: the history is a chain, not a fan to every
        # earlier notice (which would grow with the square of the corpus). So candidates
        # are scored newest notice first, and the first notice with a restatement ends it.
        by_date: dict[str, list[_Entry]] = defaultdict(list)
        if run.exhaustive:
            found = np.flatnonzero(allowed).tolist()
        else:
            found = index.candidates(query, allowed, counts=index.counts(query, allowed, rarest), share=0.0, span=span)
        for k in found:
            entry = index.entries[k]
            # Successors share a subject: 构成犯罪的… shared by two unrelated laws is no succession.
            if _same_subject(doc, entry.doc):
                by_date[entry.doc.issued].append(entry)
        nearest = []
        for issued in sorted(by_date, reverse=True):
            # Succession needs a shared rule, not a shared topic: a sentence restated.
            scored = [(restatement_score(query, e), e) for e in by_date[issued]]
            scored = [t for t in scored if t[0] >= SUCCEEDS_THRESHOLD]
            if scored:
                score, entry = max(scored, key=lambda t: t[0])
                nearest = [(score, similarity(query, entry), entry)]
                break
        for score, sims, entry in nearest:
            changes = params_mod.compare_parameters(run.parameters(entry.clause), run.parameters(clause))
            evidence = {
                "scores": sims,
                "diff": char_diff(entry.clause.text, clause.text),
                "parameter_changes": changes,
                "why": f"{doc.doc_number or doc.id} ({doc.issued}) restates a rule of "
                f"{entry.doc.doc_number or entry.doc.id} ({entry.doc.issued}) at restatement score {round(score, 3)}",
            }
            links.append(Link(clause.id, entry.clause.id, "succeeds", round(score, 3), evidence))
    return links


def _same_subject(doc: Document, other: Document) -> bool:
    """Versions of one document, or two documents whose titles share a subject."""
    return doc.id == other.id or rel.same_subject_titles(doc.title, other.title, doc.jurisdiction, other.jurisdiction)


def _coverage(cities: list[Document], implemented, links, docs_by_id) -> list[Coverage]:
    """Which clauses of the documents above it that each document implements it restates
    (links: at least these documents'). Every link counts: a clause restating two higher
    clauses covers both."""
    by_city_doc: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    clause_doc = {c.id: d.id for d in cities for c in d.clauses}
    for link_ in links:
        if link_.relation == "succeeds" or link_.source_clause_id not in clause_doc:
            continue
        by_city_doc[clause_doc[link_.source_clause_id]][link_.target_clause_id].append(link_.source_clause_id)
    out = []
    for city_id in sorted(d.id for d in cities if d.id in implemented):
        city, targets = docs_by_id[city_id], implemented[city_id]
        restated = by_city_doc.get(city_id, {})
        for prov_id in sorted(targets):
            prov = docs_by_id.get(prov_id)
            if prov is None or not (_is_city(city) or rel.stands_above(prov, city)):
                continue
            for clause in prov.clauses:
                if not _linkable(clause) or clause.kind == "part" and not clause.text:
                    continue
                by = restated.get(clause.id, [])
                out.append(Coverage(city_id, prov_id, clause.id, bool(by), sorted(by)))
    return out


