"""Parse stage: corpus files -> Documents. The only stage that opens source files.

``parse_file(path)`` reads one file into one or more documents (a notice can carry another
as its attachment). ``parse_corpus(dir)`` reads every file under a directory, applies
``manifest.toml`` for what a text cannot say about itself, and never stops at a bad file:
failures come back as ``Problem`` records with path, line and reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ..errors import ParseError
from ..model import Document, Source
from ..text import compact
from .decode import read_source
from .document import build_documents
from .lines import html_visible_text, split_lines
from .notice import NoticeReader

__all__ = ["parse_file", "parse_bytes", "parse_corpus", "CorpusParse", "Problem", "span_text", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.toml"
_SKIP = {MANIFEST_NAME, "README.md", "README", ".gitkeep"}


@dataclass
class Problem:
    path: str
    line: int | None
    message: str
    severity: str = "error"  # error: the file was not parsed; warning: parsed, but look here

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class ParsedFile:
    source: Source
    documents: list[Document]
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class CorpusParse:
    files: list[ParsedFile]
    problems: list[Problem]

    @property
    def documents(self) -> list[Document]:
        return [d for f in self.files for d in f.documents]

    @property
    def sources(self) -> list[Source]:
        return [f.source for f in self.files]


def parse_bytes(raw: bytes, path: str, manifest: dict | None = None) -> ParsedFile:
    """Parse the bytes of one file; raise ParseError if no notice can be read from them."""
    source = read_source(raw, path, manifest)
    split = split_lines(source.text)
    source.discarded = list(split.discarded)
    if not split.lines:
        raise ParseError(path, "no text left after removing boilerplate: expected the text of a notice", line=1)
    read = NoticeReader(split.lines).read()
    source.discarded += read.discarded
    if not read.docs:
        first = split.lines[0]
        raise ParseError(
            path,
            "no recognisable notice structure: expected a 文号 (辽人社发〔2021〕7号), a '…文件' header, "
            f"a recipients line ending in '：' or numbered items (一、 / （一）); found {first.text[:30]!r}",
            line=first.number,
        )
    documents = build_documents(read.docs, source, manifest or {})
    if not documents or not any(d.clauses for d in documents):
        first = split.lines[0]
        raise ParseError(path, "a header but no clauses: expected numbered items or paragraphs after it", line=first.number)
    warnings = []
    if split.preview_cut:
        last = max(documents, key=lambda d: d.start)
        last.complete = False
        last.incomplete_reasons.insert(0, f"preview cut off at line {split.preview_cut_line}: '{split.preview_cut}'")
    for d in documents:
        for reason in d.incomplete_reasons:
            warnings.append(Problem(path, None, f"{d.id} incomplete: {reason}", "warning"))
    for disc in source.discarded:
        if disc.reason == "after-signature":
            warnings.append(Problem(path, source.line_of(disc.start), f"text after the signature kept out of the clauses: {disc.text[:40]!r}", "warning"))
    return ParsedFile(source, documents, warnings)


def parse_file(path: str | Path, manifest: dict | None = None, display_path: str | None = None) -> ParsedFile:
    path = Path(path)
    shown = display_path or str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ParseError(shown, f"cannot read file: {e.strerror}") from e
    return parse_bytes(raw, shown, manifest)


def load_manifest(corpus: Path) -> dict[str, dict]:
    path = corpus / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ParseError(str(path), f"invalid TOML: {e}") from e
    return {k: {f: _plain(x) for f, x in v.items()} for k, v in data.get("files", {}).items() if isinstance(v, dict)}


def _plain(value):
    """TOML dates become ISO strings: the manifest is stored as JSON and compared as text."""
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.name not in _SKIP and not p.name.startswith("."))


def parse_corpus(corpus: str | Path, on_file=None) -> CorpusParse:
    """Parse every file under corpus; a file that fails is a Problem, the rest go on."""
    corpus = Path(corpus)
    manifest = load_manifest(corpus)
    files: list[ParsedFile] = []
    problems: list[Problem] = []
    for path in corpus_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        try:
            parsed = parse_file(path, manifest.get(rel), display_path=rel)
        except ParseError as e:
            problems.append(Problem(e.path, e.line, e.message))
        else:
            files.append(parsed)
            problems.extend(parsed.warnings)
        if on_file:
            on_file(rel)
    return CorpusParse(files, problems)


def span_text(source: Source, spans: list[tuple[int, int]]) -> str:
    """The visible text of a clause's source spans, for checking offsets against clause text."""
    return compact("".join(html_visible_text(source.text[a:b]) for a, b in spans))
