"""Plain records passed between the pipeline stages.

parse -> Document (with Clause tree, Citation list), link -> Link, Parameter.
Provenance fields (source path, offsets, hashes) are kept on every record but left
out of equality, so that the same clause read from two files compares equal.

Offsets are *character* offsets into the decoded text of the source file
(``Source.text``); ``Source.char_to_byte`` turns them into byte offsets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .text import compact

PARSER_VERSION = "parse/1"

LEVELS = ("national", "province", "city", "county")


@dataclass(frozen=True)
class Discarded:
    """A span of the source that is not part of any document's text, and why."""

    start: int
    end: int
    reason: str  # "boilerplate", "markdown", "preview-link", "table-header", ...
    text: str = field(compare=False)


@dataclass
class Source:
    """One file of the corpus, decoded."""

    path: str  # as given (relative to the corpus root when built from a corpus)
    sha256: str
    encoding: str
    size: int  # bytes
    text: str = field(compare=False, repr=False)
    raw: bytes = field(compare=False, repr=False, default=b"")
    discarded: list[Discarded] = field(default_factory=list, compare=False, repr=False)
    manifest: dict = field(default_factory=dict, compare=False, repr=False)

    def char_to_byte(self, offset: int) -> int:
        """Byte offset in the raw file of a character offset in ``text``.

        Encoding the prefix with the file's own codec counts its byte-order mark too
        (utf-8-sig and utf-16 write one), so the figure points into the raw bytes.
        """
        return len(self.text[:offset].encode(self.encoding))

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return self.text.count("\n", 0, offset) + 1


def _pickled_as_arguments(cls):
    """Pickle a slotted dataclass as its class and its fields' values, in order: unpickled by a
    call of the class. Python's own pickle of an object with slots is a dict of slot names, set
    one by one, and the records below are pickled by the hundred thousand (parse cache, the
    parse workers' results, the linker's shares): this is about 40% faster both ways."""
    names = [f.name for f in dataclasses.fields(cls)]
    assert len(names) > 1, "attrgetter of one name gives the value, not a tuple of values"
    values = operator.attrgetter(*names)

    def __reduce__(self):
        return (cls, values(self))

    cls.__reduce__ = __reduce__
    return cls


# slots=True on the records a large corpus has hundreds of thousands of: no __dict__ each.
@_pickled_as_arguments
@dataclass(slots=True)
class Clause:
    """One numbered item, part, table row, preamble or attachment of a document."""

    id: str  # f"{document_id}:{path}"
    document_id: str
    path: str  # labels from the root joined by "/": "一/（五）", "附件2/（十一）"
    label: str  # own number as printed, normalised: "一", "（五）", "1", "（1）", "附件2", "序言"
    kind: str  # part | item | subitem | point | row | preamble | cover | closing | attachment
    heading: str | None
    text: str  # body text, normalised, heading and responsible units removed
    parent_id: str | None = None
    position: int = 0  # order within the document, 0-based, document order
    depth: int = 1
    responsible: list[str] = field(default_factory=list)  # 责任单位
    lead: list[str] = field(default_factory=list)  # 责任主体单位 / 牵头单位
    responsible_note: str | None = None  # "以下均需各市政府落实，不再列出"
    attached_document_id: str | None = None  # an attachment that is a notice of its own
    # provenance
    start: int = field(default=0, compare=False)  # whole clause, label included
    end: int = field(default=0, compare=False)
    text_spans: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)
    heading_span: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    source_path: str = field(default="", compare=False, repr=False)
    source_sha256: str = field(default="", compare=False, repr=False)

    @property
    def full_text(self) -> str:
        """Heading and body, as a reader sees them."""
        if self.heading and self.text:
            return f"{self.heading}。{self.text}" if not self.heading.endswith(("。", "：")) else self.heading + self.text
        return self.heading or self.text


@_pickled_as_arguments
@dataclass(slots=True)
class Citation:
    """A notice mentioned by a document: 《title》（文号）, a bare 文号, or a bare 《title》."""

    doc_number: str | None  # normalised 〔〕 form
    title: str | None  # as cited
    role: str  # "implements" | "cites"
    clause_id: str | None  # where it is cited (None: in the header)
    basis: bool = False  # named in the document's statement of basis (按照/根据/贯彻落实…)
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Event:
    """One line of a statute's history: 2015年3月15日 第十二届全国人民代表大会第三次会议…修正."""

    date: str | None  # ISO
    body: str | None  # 全国人民代表大会常务委员会, 国务院, 广东省人民代表大会常务委员会
    act: str  # 通过 | 批准 | 公布 | 发布 | 修正 | 修订 | 施行
    text: str  # the words as printed, normalised
    identifier: str | None = None  # 国务院令第700号, 主席令第二十四号


GENRES = ("notice", "statute", "decision", "table")
FORCES = ("法律", "行政法规", "部门规章", "地方性法规", "地方政府规章", "规范性文件")


@dataclass
class Document:
    id: str
    doc_number: str | None
    title: str
    level: str | None  # national | province | city | county
    jurisdiction: str | None  # 辽宁省, 大连市, 中华人民共和国
    province: str | None  # province the jurisdiction belongs to (辽宁省 for 大连市)
    issued: str | None  # ISO date of signature
    issuers: list[str]
    recipients: str | None = None
    publication_note: str | None = None  # 此件公开发布
    contact_note: str | None = None
    kind: str = "notice"  # notice | issuing (印发 cover + measures)
    measures_title: str | None = None  # the measures a 印发 notice issues
    complete: bool = True
    incomplete_reasons: list[str] = field(default_factory=list)
    implements: list[str] = field(default_factory=list)  # doc numbers, primary first
    attached_to: str | None = None  # id of the document this one is an attachment of
    attachment_label: str | None = None  # "附件1" within that document
    attachments_listed: list[str] = field(default_factory=list)  # 附件：1.… 2.…
    clauses: list[Clause] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    metadata_sources: dict[str, str] = field(default_factory=dict)  # field -> "text" | "manifest" | "inferred"
    version: int = 1
    genre: str = "notice"  # one of GENRES
    force: str | None = None  # 效力级别, one of FORCES
    events: list[Event] = field(default_factory=list)  # history, in the order printed
    version_date: str | None = None  # ISO: the last 修正/修订/公布/发布 event (a notice: its date)
    effective: str | None = None  # ISO: 施行 event, or 本条例自…起施行 in the text
    identifiers: list[str] = field(default_factory=list)  # 国务院令第700号 …
    amends: list[str] = field(default_factory=list)  # titles a decision amends
    # provenance
    source: Source | None = field(default=None, compare=False, repr=False)
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    parser_version: str = field(default=PARSER_VERSION, compare=False)

    def clause(self, path: str) -> Clause:
        for c in self.clauses:
            if c.path == path:
                return c
        raise KeyError(f"{self.id} has no clause {path!r}")


@_pickled_as_arguments
@dataclass(slots=True)
class Parameter:
    """A number a clause sets: a rate, period, amount, headcount, date or deadline."""

    clause_id: str
    kind: str  # rate | months | years | days | workdays | headcount | amount | date | deadline | times | ratio
    value: float | None
    unit: str  # %, 个月, 年, 日, 工作日, 人, 元, 万元, date
    bound: str | None  # max | min | exact | None  (不超过 -> max, 以上 -> min)
    subject: str | None  # what the number is about: "大型企业 返还比例"
    text: str  # the words as printed: "不超过30%"
    start: int = 0  # char offset within the clause text
    end: int = 0


@_pickled_as_arguments
@dataclass(slots=True)
class Link:
    """A clause-to-clause relation made by the linker."""

    source_clause_id: str  # the later / lower clause (city, or later provincial)
    target_clause_id: str  # the provincial / earlier clause it stands on
    relation: str  # implements | extends | overrides | succeeds
    score: float
    evidence: Mapping  # a dict where it is made; an Evidence once the linker hands it over


_EVIDENCE_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


class Evidence(Mapping):
    """A link's evidence as its JSON text: read like the dict it was, decoded on each read.

    A run over 10,000 notices hands over 250,000 links, each with a tree of small dicts and
    lists (scores, spans of the diff, parameter changes, candidates): as objects, a third of
    the build's memory; as one string each, a third of that. Only publish reads it all (once);
    ``why``, which the graph reads for every link, is kept apart and read without decoding.
    """

    __slots__ = ("text", "why")

    def __init__(self, text: str, why: str | None = None):
        self.text = text
        self.why = why

    @classmethod
    def of(cls, value: Mapping) -> Evidence:
        if isinstance(value, Evidence):
            return value
        return cls(_EVIDENCE_ENCODER.encode(dict(value)), value.get("why"))

    def to_dict(self) -> dict:
        return json.loads(self.text)

    def __getitem__(self, key: str):
        if key == "why" and self.why is not None:
            return self.why
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def __bool__(self) -> bool:
        # Without it, truth is len(): the whole text decoded to tell "{}" from the rest.
        return self.text.lstrip()[1:].lstrip()[:1] != "}"

    def __eq__(self, other) -> bool:
        if isinstance(other, Evidence):
            return self.to_dict() == other.to_dict()
        return isinstance(other, Mapping) and self.to_dict() == dict(other)

    __hash__ = None  # type: ignore[assignment]  # as a dict's

    def __repr__(self) -> str:
        return f"Evidence({self.text})"

    def __reduce__(self):
        return (Evidence, (self.text, self.why))


def document_id(doc_number: str | None, title: str, jurisdiction: str | None = None) -> str:
    """Stable id: the 文号 when known; else the normalised title, prefixed with its jurisdiction
    when that is below national and the title does not already start with it (失业保险条例,
    广东省失业保险条例, 郑州市…); a hash only when there is no title either."""
    if doc_number:
        return doc_number
    name = compact(title)
    if name and name != "（无标题）":
        if jurisdiction and jurisdiction != "中华人民共和国" and not name.startswith(jurisdiction):
            return jurisdiction + name
        return name
    digest = hashlib.sha1(f"{jurisdiction or ''}|{title}".encode()).hexdigest()[:10]
    return f"无文号-{digest}"


def clause_id(doc_id: str, path: str) -> str:
    return f"{doc_id}:{path}"


@_pickled_as_arguments
@dataclass(slots=True)
class DocRelation:
    """A document-level edge: implements / cites / attaches (target may not be in the corpus)."""

    source_document_id: str
    target_doc_number: str | None
    target_document_id: str | None  # None: the cited notice is not in the corpus (a placeholder)
    relation: str  # implements | cites | attaches
    cited_title: str | None = None
    title_mismatch: str | None = None  # the target's own title when the cited one differs


@_pickled_as_arguments
@dataclass(slots=True)
class Unresolved:
    """A city clause the linker would not link, and where its counterpart most likely is."""

    clause_id: str
    reason: str  # "counterpart-missing" (the provincial text lacks it) | "local" (a purely local measure)
    likely_document: str | None  # doc number of the notice it most likely belongs to
    best_candidate_id: str | None = None  # best-scoring provincial clause, rejected
    best_score: float = 0.0
    explanation: str = ""


@_pickled_as_arguments
@dataclass(slots=True)
class Coverage:
    """Whether a city notice restated one clause of the provincial notice it implements."""

    city_document_id: str
    provincial_document_id: str
    provincial_clause_id: str
    restated: bool
    by_clause_ids: list[str] = field(default_factory=list)


@dataclass
class LinkResult:
    links: list[Link] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    relations: list[DocRelation] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    state: object = field(default=None, compare=False, repr=False)  # kb.link.LinkState: what an incremental run of the linker reuses
    reuse: object = field(default=None, compare=False, repr=False)  # kb.link.Reuse: which documents this run recomputed, and why
