"""Align the articles of two versions of a law, so that a revision reads as what it did.

A revision renumbers, moves articles between chapters, splits, merges and rewords them. Matching
article numbers, or taking the best pair first, pairs the wrong articles as soon as a few are
inserted; so the pairing is one global assignment:

1. every article's whole text (its own words and everything under it: 款, 项, 目) is compacted
   (normalised, no whitespace) and every old article is scored against every new one: the
   cosine of their character-bigram TF-IDF vectors (one sparse matrix product). Edit ratios
   (rapidfuzz) punish an article that gained a paragraph as much as one that was replaced;
   bigram cosine does not, and IDF discounts the words every article of the law uses;
2. a small order prior breaks ties between equally similar candidates, so a repeated formula
   goes to the article at the expected place: expected from anchors (near-identical pairs in
   increasing order), not from the relative place in the whole law (see ``_order_prior``);
3. ``scipy.optimize.linear_sum_assignment`` picks the one-to-one pairing of largest total score;
   a pair below ``PAIR_MIN`` is no pair;
4. then splits and merges: an article left over on one side whose text stands, largely whole,
   inside a paired article on the other side (at least ``PART_MIN`` of its weighted bigrams occur
   there) joins that pair's group: one old and several new is a split, several old and one new a merge;
   a left-over new article that is close to one paragraph (or item) of a paired old article
   (cosine at least ``PIECE_MIN``) is that paragraph split off into an article of its own.

Each article ends in exactly one ``Group``; a group's category is one of ``CATEGORIES``. The
structural headings (编/章/节) are compared on their own, as headings (``align_headings``).

It does not read files, nor the database: ``kb.diff`` builds the units from clauses and renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from .model import Clause
from .text import compact

CATEGORIES = ("unchanged", "renumbered", "moved", "changed", "split", "merged", "added", "removed")

PAIR_MIN = 0.25  # one-to-one pairs below this similarity are not the same article
ORDER_WEIGHT = 0.1  # the order prior's largest bonus: enough to break a tie, not to outvote the words
ORDER_SPAN = 20.0  # articles: how far from its expected place a counterpart still gets some of the bonus
ANCHOR_MIN = 0.85  # a pair this similar, each the other's best, anchors the expected places
PART_MIN = 0.7  # a left-over article stands inside a paired one at least this well: a split or merge part
PIECE_MIN = 0.6  # a left-over article this similar to one paragraph of a paired article: that paragraph split off
PART_MIN_CHARS = 12  # shorter texts ("本法自公布之日起施行。") are found inside anything: never a part

# The labels of the structural levels and of an article, as the statute parser prints them.
_LABEL_KIND = re.compile(
    r"""
    ^第[〇零一二三四五六七八九十百千两\d]+   # 第 and a numeral
    (?P<unit>[编章节条])$                     # the unit: 编 book, 章 chapter, 节 section, 条 article
    """,
    re.VERBOSE,
)
_UNIT_KIND = {"编": "book", "章": "chapter", "节": "section", "条": "article"}
STRUCTURE_KINDS = ("book", "chapter", "section")


def clause_kind(clause: Clause) -> str:
    """The clause's kind; for rows read back from the database (kind not kept) it is told by the label."""
    if clause.kind in _UNIT_KIND.values():
        return clause.kind
    m = _LABEL_KIND.match(clause.label or "")
    return _UNIT_KIND[m.group("unit")] if m else clause.kind


@dataclass
class Unit:
    """One article of one version: its label, where it stands, and its whole text."""

    label: str  # 第十条
    path: str  # its clause path
    place: str  # the headings above it, numbers left out: "法律/立法权限" ("" in a law without chapters)
    place_label: str  # the same with numbers: "第二章/第一节"
    text: str  # the whole article as a reader sees it, paragraphs joined by newlines
    clause_id: str = ""
    index: int = 0  # position among the articles of its version

    @property
    def words(self) -> str:
        return compact(self.text)


@dataclass
class Heading:
    """A 编/章/节 heading: compared as a heading, never as inserted text."""

    kind: str
    label: str  # 第二章
    title: str  # 法律
    path: str


def is_statute(clauses: list[Clause]) -> bool:
    return any(clause_kind(c) == "article" for c in clauses)


def _title_of(clause: Clause) -> str:
    return compact(clause.heading or clause.text or "")


def statute_units(clauses: list[Clause]) -> tuple[list[Unit], list[Heading]]:
    """Articles (with their subtrees' text) and headings, in document order.

    An article's place is found by walking the clauses in order: the last book, chapter and
    section heading seen above it. That holds whether the article's path names its chapter
    (``第一章/第一条``) or not (``第一条``, its parent_id the chapter).
    """
    ordered = sorted(clauses, key=lambda c: c.position)
    headings: list[Heading] = []
    open_levels: dict[str, Clause] = {}
    units: list[Unit] = []
    current: Unit | None = None
    for c in ordered:
        kind = clause_kind(c)
        if kind in STRUCTURE_KINDS:
            headings.append(Heading(kind, c.label, _title_of(c), c.path))
            level = STRUCTURE_KINDS.index(kind)
            open_levels = {k: v for k, v in open_levels.items() if STRUCTURE_KINDS.index(k) < level}
            open_levels[kind] = c
            current = None
        elif kind == "article":
            levels = [open_levels[k] for k in STRUCTURE_KINDS if k in open_levels]
            current = Unit(
                label=c.label,
                path=c.path,
                place="/".join(_title_of(h) for h in levels),
                place_label="/".join(h.label for h in levels),
                text=c.full_text,
                clause_id=c.id,
                index=len(units),
            )
            units.append(current)
        elif current is not None and c.path.startswith(current.path + "/"):
            current.text += "\n" + c.full_text
    return units, headings


@dataclass
class Group:
    """Old and new articles that are one another's counterparts, and what happened to them."""

    category: str  # one of CATEGORIES
    old: list[Unit] = field(default_factory=list)
    new: list[Unit] = field(default_factory=list)
    similarity: float | None = None
    renumbered: bool = False  # for "changed": its number changed too
    moved: bool = False  # for "changed": it stands under another heading too


def _bigram_matrix(texts: list[str]) -> sparse.csr_matrix:
    """Counts of each text's character bigrams (Chinese has no spaces: a bigram is the usual word unit)."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for row, text in enumerate(texts):
        for k in range(max(len(text) - 1, 1)):
            rows.append(row)
            cols.append(vocabulary.setdefault(text[k : k + 2], len(vocabulary)))
    counts = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(texts), max(len(vocabulary), 1)))
    counts.sum_duplicates()
    return counts


def _weights(old: list[Unit], new: list[Unit]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """TF-IDF rows of the old and the new articles, over both versions' bigrams.

    IDF lets a law's own vocabulary (行政复议, 申请人: in every article) count for little and the
    words that tell one article from another count for much.
    """
    counts = _bigram_matrix([u.words for u in old] + [u.words for u in new])
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1 + counts.shape[0]) / (1 + df)) + 1.0
    weighted = sparse.csr_matrix(counts.multiply(idf[None, :]))
    return weighted[: len(old)], weighted[len(old) :]


def _cosine(a: sparse.csr_matrix, b: sparse.csr_matrix) -> np.ndarray:
    def unit(m: sparse.csr_matrix) -> sparse.csr_matrix:
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ m)

    return np.asarray((unit(a) @ unit(b).T).todense())


def _containment(part: sparse.csr_matrix, whole: sparse.csr_matrix) -> np.ndarray:
    """[p, w]: the share of part p's weighted bigrams that occur in whole w (1.0: all of them)."""
    present = sparse.csr_matrix((whole > 0).astype(np.float64))
    totals = np.asarray(part.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    return np.asarray((part @ present.T).todense()) / totals[:, None]


def _order_prior(similarity: np.ndarray) -> np.ndarray:
    """1 where a new article stands where the old one is expected to be, falling to 0 ORDER_SPAN away.

    Where it is expected comes from anchors: the pairs that are each other's best match and
    nearly identical (``ANCHOR_MIN``), kept in increasing order on both sides (a longest
    increasing run); between anchors the expected place is interpolated. A revision that inserts
    fifteen articles shifts the rest by fifteen: a prior from the relative place in the whole
    document would pull towards the wrong neighbour, a prior from the anchors does not.
    """
    n, m = similarity.shape
    best_new = similarity.argmax(axis=1)
    best_old = similarity.argmax(axis=0)
    candidates = [(i, int(best_new[i])) for i in range(n) if similarity[i, best_new[i]] >= ANCHOR_MIN and best_old[best_new[i]] == i]
    anchors = _increasing_run(candidates)
    if len(anchors) >= 2:
        expected = np.interp(np.arange(n), [i for i, _ in anchors], [j for _, j in anchors])
    else:  # no anchors: the same relative place
        expected = (np.arange(n) + 0.5) * m / max(n, 1) - 0.5
    distance = np.abs(np.arange(m)[None, :] - expected[:, None])
    return np.clip(1.0 - distance / ORDER_SPAN, 0.0, 1.0)


def _increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of (i, j) pairs increasing in both i and j (pairs come sorted by i)."""
    if not pairs:
        return []
    length = [1] * len(pairs)
    before = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        for q in range(k):
            if pairs[q][1] < j and length[q] + 1 > length[k]:
                length[k], before[k] = length[q] + 1, q
    k = max(range(len(pairs)), key=length.__getitem__)
    run = []
    while k >= 0:
        run.append(pairs[k])
        k = before[k]
    return run[::-1]


def align_units(old: list[Unit], new: list[Unit]) -> list[Group]:
    """Every old and every new article in exactly one group (see the module docstring)."""
    if not old or not new:
        return [Group("removed", [u]) for u in old] + [Group("added", [], [u]) for u in new]
    old_weights, new_weights = _weights(old, new)
    similarity = _cosine(old_weights, new_weights)
    score = similarity + ORDER_WEIGHT * _order_prior(similarity)
    score[similarity < PAIR_MIN] = 0.0
    rows, cols = linear_sum_assignment(score, maximize=True)
    partner_of_old: dict[int, int] = {}
    for i, j in zip(rows.tolist(), cols.tolist()):
        if similarity[i, j] >= PAIR_MIN:
            partner_of_old[i] = j
    paired_new = set(partner_of_old.values())
    old_groups: dict[int, list[int]] = {i: [i] for i in partner_of_old}  # key: the paired old article
    new_parts: dict[int, list[int]] = {i: [j] for i, j in partner_of_old.items()}
    # splits: a left-over new article that stands inside a paired old article
    left_new = [j for j in range(len(new)) if j not in paired_new and len(new[j].words) >= PART_MIN_CHARS]
    if left_new and partner_of_old:
        keys = list(partner_of_old)
        inside = _containment(new_weights[left_new], old_weights[keys])
        # a paragraph of a paired old article that became an article of its own
        pieces = [(k, line) for k, i in enumerate(keys) for line in old[i].text.split("\n") if len(compact(line)) >= PART_MIN_CHARS]
        piece_units = [Unit("", "", "", "", line) for _, line in pieces]
        piece_weights, left_weights = _weights(piece_units, [new[j] for j in left_new])
        by_piece = _cosine(left_weights, piece_weights) if pieces else np.zeros((len(left_new), 0))
        for row, j in enumerate(left_new):
            best = int(np.argmax(inside[row]))
            if inside[row, best] >= PART_MIN and len(new[j].words) < len(old[keys[best]].words):
                new_parts[keys[best]].append(j)
            elif by_piece.shape[1]:
                p = int(np.argmax(by_piece[row]))
                owner = keys[pieces[p][0]]
                if by_piece[row, p] >= PIECE_MIN and len(new[j].words) < len(old[owner].words):  # a part, not a copy
                    new_parts[owner].append(j)
    taken_new = {j for parts in new_parts.values() for j in parts}
    # merges: a left-over old article that stands inside the new article of a pair not already split
    left_old = [i for i in range(len(old)) if i not in partner_of_old and len(old[i].words) >= PART_MIN_CHARS]
    unsplit = [i for i in partner_of_old if len(new_parts[i]) == 1]
    if left_old and unsplit:
        targets = [partner_of_old[i] for i in unsplit]
        inside = _containment(old_weights[left_old], new_weights[targets])
        for row, i in enumerate(left_old):
            best = int(np.argmax(inside[row]))
            if inside[row, best] >= PART_MIN and len(old[i].words) < len(new[targets[best]].words):
                old_groups[unsplit[best]].append(i)
    taken_old = {i for members in old_groups.values() for i in members}

    groups: list[Group] = []
    for key, j in partner_of_old.items():
        olds = [old[i] for i in sorted(old_groups[key])]
        news = [new[k] for k in sorted(new_parts[key])]
        sim = float(similarity[key, j])
        if len(olds) > 1:
            groups.append(Group("merged", olds, news, round(sim, 3)))
        elif len(news) > 1:
            groups.append(Group("split", olds, news, round(sim, 3)))
        else:
            groups.append(_pair(olds[0], news[0], sim))
    groups += [Group("removed", [old[i]]) for i in range(len(old)) if i not in taken_old]
    groups += [Group("added", [], [new[j]]) for j in range(len(new)) if j not in taken_new]
    groups.sort(key=_group_order)
    return groups


def _pair(o: Unit, n: Unit, sim: float) -> Group:
    renumbered = o.label != n.label
    moved = o.place != n.place
    if o.words == n.words:
        category = "moved" if moved else "renumbered" if renumbered else "unchanged"
        return Group(category, [o], [n], 1.0, renumbered, moved)
    return Group("changed", [o], [n], round(sim, 3), renumbered, moved)


def _group_order(g: Group) -> tuple:
    """New document order; a removed article right after the new article its predecessor became."""
    if g.new:
        return (g.new[0].index, 0, 0)
    return (-1, 1, g.old[0].index)


def pairs(groups: list[Group]) -> set[tuple[str, str]]:
    """(old label, new label) of every aligned pair: what precision and recall are counted on."""
    return {(o.label, n.label) for g in groups for o in g.old for n in g.new}


def summary(groups: list[Group], old_count: int, new_count: int) -> dict:
    """Counts per category, and per side: each article counted once, they add up to the side."""
    counts = {c: 0 for c in CATEGORIES}
    old_side = {c: 0 for c in CATEGORIES}
    new_side = {c: 0 for c in CATEGORIES}
    for g in groups:
        counts[g.category] += 1
        old_side[g.category] += len(g.old)
        new_side[g.category] += len(g.new)
    assert sum(old_side.values()) == old_count and sum(new_side.values()) == new_count, "an article lost or counted twice"
    return {
        "groups": counts,
        "old_articles": old_count,
        "new_articles": new_count,
        "old_side": old_side,
        "new_side": new_side,
    }


@dataclass
class HeadingChange:
    status: str  # unchanged | renumbered | retitled | added | removed
    old: Heading | None
    new: Heading | None


def align_headings(old: list[Heading], new: list[Heading]) -> list[HeadingChange]:
    """Headings paired by kind and title, then by kind and number (a retitled chapter)."""
    changes: list[HeadingChange] = []
    used_new: set[int] = set()
    paired_old: set[int] = set()
    for i, h in enumerate(old):
        for j, k in enumerate(new):
            if j not in used_new and h.kind == k.kind and h.title == k.title:
                changes.append(HeadingChange("unchanged" if h.label == k.label else "renumbered", h, k))
                used_new.add(j)
                paired_old.add(i)
                break
    for i, h in enumerate(old):
        if i in paired_old:
            continue
        for j, k in enumerate(new):
            if j not in used_new and h.kind == k.kind and h.label == k.label:
                changes.append(HeadingChange("retitled", h, k))
                used_new.add(j)
                paired_old.add(i)
                break
    changes += [HeadingChange("removed", h, None) for i, h in enumerate(old) if i not in paired_old]
    changes += [HeadingChange("added", None, k) for j, k in enumerate(new) if j not in used_new]
    return changes
