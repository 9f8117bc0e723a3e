"""Declared grammars: what each genre's clause tree is made of, and the builder that follows them.

A grammar is data (``Grammar``): which clause kinds may sit in which (``parents``), which
token kind opens which clause kind, which kinds are numbered through the whole document rather
than within their parent, and what a plain paragraph becomes. The builder (``build_tree``) is
the same for every genre; the one rule it keeps as code is numbering continuity: a numbered
line opens a clause only when its number is the next of its kind (n+1, or 1 to start), so a
line that merely begins with "第十条规定的…" or "1." stays text.

What this module does not do: classify lines (``kb.parse.tokens``) or read metadata
(``kb.parse.statute``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..text import normalize_text
from .grammar import ends_sentence
from .notice import Piece
from .tokens import Token

ROOT = "root"


@dataclass(frozen=True)
class Grammar:
    """What a genre's tree is made of."""

    name: str
    opens: Mapping[str, str]  # token kind -> the clause kind it opens
    parents: Mapping[str, frozenset[str]]  # clause kind -> the kinds it may sit in (ROOT: the top)
    numbered_through: frozenset[str] = frozenset()  # numbered through the whole text (articles)
    headed: frozenset[str] = frozenset()  # the words on the numbering line are a heading (第一章 总则)
    paragraph: str | None = None  # a new paragraph under one of ``paragraph_of`` opens this kind
    paragraph_of: frozenset[str] = frozenset()  # whose first paragraph is the clause's own text
    preamble: str = "序言"  # label of the text before the first clause
    closing_re: re.Pattern | None = None  # a paragraph after the clauses that starts the closing


def _parents(**table: str) -> dict[str, frozenset[str]]:
    return {kind: frozenset(allowed.split()) for kind, allowed in table.items()}


# 编/章/节/条/款/项/目: articles are numbered through the law, 款 are paragraphs of an article.
STATUTE = Grammar(
    name="statute",
    opens={
        "book": "book", "subbook": "subbook", "chapter": "chapter", "section": "section", "article": "article",
        "item": "item", "point": "point", "subpoint": "subpoint", "circled": "subpoint",
        "heading": "chapter",  # a heading line without 第N章 (山东's "监察程序")
        "attachment": "attachment",  # 附件：… after the articles
    },
    parents=_parents(
        book="root",
        subbook="book",
        chapter="root book subbook",
        section="chapter",
        article="root book subbook chapter section",
        paragraph="article",
        item="article paragraph",
        point="item",
        subpoint="point",
        attachment="root",
    ),
    numbered_through=frozenset({"article"}),
    headed=frozenset({"book", "subbook", "chapter", "section", "attachment"}),
    paragraph="paragraph",
    paragraph_of=frozenset({"article"}),
)

# 关于修改《…》的决定: a preamble, amendments 一、二、…, and closing words (施行, 重新公布).
DECISION = Grammar(
    name="decision",
    opens={"cn": "item", "item": "subitem", "point": "point", "attachment": "attachment"},
    parents=_parents(item="root", subitem="item", point="item subitem", closing="root", attachment="root"),
    headed=frozenset({"attachment"}),
    closing_re=re.compile(
        r"""
        ^(?:此外                      # 此外，对条文顺序和个别文字作相应调整
          | 本决定                    # 本决定自…起施行
          | 《[^》]+》根据本决定       # 《…》根据本决定作相应修改，重新公布
        )
        """,
        re.VERBOSE,
    ),
)


@dataclass(eq=False)
class Node:
    """A clause being built."""

    kind: str
    label: str
    number: int = 0
    sub: int = 0
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    heading: Piece | None = None
    start: int = 0
    end: int = 0
    line: int = 0
    paragraphs: int = 1  # for an article: 款 so far (its own text is the first)

    def add(self, piece: Piece) -> None:
        self.pieces.append(piece)
        self.end = max(self.end, piece.end)

    def walk(self):
        for child in self.children:
            yield child
            yield from child.walk()


@dataclass
class Tree:
    root: Node
    gaps: list[str] = field(default_factory=list)  # numbering that was taken as text, and why


def build_tree(tokens: list[Token], grammar: Grammar) -> Tree:
    """The clause tree the tokens make under the grammar (tokens of the body only)."""
    root = Node(ROOT, "")
    stack: list[Node] = [root]
    last_through: dict[str, tuple[int, int]] = {}
    tree = Tree(root)
    for token in tokens:
        kind = grammar.opens.get(token.kind)
        if kind is not None and _open(stack, token, kind, grammar, last_through, tree.gaps):
            continue
        _text(stack, token, grammar)
    return tree


def _open(stack: list[Node], token: Token, kind: str, grammar: Grammar, last_through: dict, gaps: list[str]) -> bool:
    """Open a clause for a numbered token if the grammar and the numbering allow it.

    An article numbered through the law may also jump ahead (pages lost), but only where it
    looks like one: the text before it ends a sentence and a space follows its number, so
    "第二十条规定的…" starting a paragraph stays text. The jump is recorded in ``gaps``."""
    allowed = grammar.parents.get(kind, frozenset())
    for depth in range(len(stack) - 1, -1, -1):
        parent = stack[depth]
        if parent.kind not in allowed:
            continue
        if kind in grammar.numbered_through:
            previous = last_through.get(kind, (0, 0))
        else:
            siblings = [c for c in parent.children if c.kind == kind]
            previous = (siblings[-1].number, siblings[-1].sub) if siblings else (0, 0)
        if token.number and not _continues(previous, token):  # a bare heading has no number to check
            if not (kind in grammar.numbered_through and _jumps(previous, token, stack[-1])):
                return False
            gaps.append(f"{token.label} follows {_label_of(kind, previous, stack)}: numbering jumps (pages missing?)")
        if kind in grammar.numbered_through:
            last_through[kind] = (token.number, token.sub)
        del stack[depth + 1 :]
        node = Node(kind, token.label or "", token.number, token.sub, parent, start=token.start, end=token.end, line=token.line)
        parent.children.append(node)
        stack.append(node)
        words = token.text.strip()
        if words:
            lead = len(token.text) - len(token.text.lstrip())
            piece = Piece(words, token.text_start + lead, token.text_start + lead + len(words))
            if kind in grammar.headed:
                node.heading = piece
            else:
                node.add(piece)
        return True
    return False


def _jumps(previous: tuple[int, int], token: Token, current: Node) -> bool:
    """A later number standing where a new clause can start: after a sentence, a space after it."""
    spaced = token.text_start > token.start and token.line_text[token.text_start - token.start - 1] in " \u3000"
    return not token.sub and token.number > previous[0] + 1 and spaced and _ended(current)


def _label_of(kind: str, previous: tuple[int, int], stack: list[Node]) -> str:
    last = next((n for n in reversed([*stack[0].walk()]) if n.kind == kind), None)
    return last.label if last is not None else "the start"


def _continues(previous: tuple[int, int], token: Token) -> bool:
    """n+1 of its kind; or 之一 after n (第一百二十条之一 follows 第一百二十条)."""
    number, sub = previous
    if token.sub:
        return token.number == number and token.sub == sub + 1
    return token.number == number + 1


def _text(stack: list[Node], token: Token, grammar: Grammar) -> None:
    """A plain line: it runs on, opens a paragraph (款), or goes to the preamble or closing."""
    words = token.line_text  # a number not taken is text, numbering and all
    piece = Piece(words, token.start, token.start + len(words))
    if not piece.text:
        return
    current = stack[-1]
    root = stack[0]
    if grammar.closing_re is not None and current is not root and grammar.closing_re.match(piece.text) and _ended(current):
        closing = next((c for c in root.children if c.kind == "closing"), None)
        if closing is None:
            closing = Node("closing", "结语", parent=root, start=piece.start, end=piece.end, line=token.line)
            root.children.append(closing)
        del stack[1:]
        stack.append(closing)
        closing.add(piece)
        return
    if current is root:
        preamble = next((c for c in root.children if c.kind == "preamble"), None)
        if preamble is None:
            preamble = Node("preamble", grammar.preamble, parent=root, start=piece.start, end=piece.end, line=token.line)
            root.children.append(preamble)
        stack.append(preamble)
        preamble.add(piece)
        return
    if not _ended(current) or grammar.paragraph is None:
        current.add(piece)  # a line broken mid-sentence runs on (page-break repair)
        return
    owner_at = next((k for k in range(len(stack) - 1, 0, -1) if stack[k].kind in grammar.paragraph_of), None)
    if owner_at is None:
        current.add(piece)
        return
    owner = stack[owner_at]
    if not owner.pieces and not owner.children:
        owner.add(piece)  # "第三条" alone on its line: the first paragraph is its text
        del stack[owner_at + 1 :]
        return
    owner.paragraphs += 1
    label = f"第{_CN_ORDINALS[owner.paragraphs] if owner.paragraphs < len(_CN_ORDINALS) else owner.paragraphs}款"
    node = Node(grammar.paragraph, label, owner.paragraphs, parent=owner, start=token.start, end=piece.end, line=token.line)
    owner.children.append(node)
    node.add(piece)
    del stack[owner_at + 1 :]
    stack.append(node)


def _ended(node: Node) -> bool:
    """Does the node's text so far end a sentence (so a new line is a new paragraph)?"""
    if node.pieces:
        return ends_sentence(normalize_text(node.pieces[-1].text))  # "…下列事项:" ends like "…：" 
    return node.heading is not None or bool(node.children) or node.kind != "article"


_CN_ORDINALS = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
                "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十"]
