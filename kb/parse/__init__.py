"""Parse stage: corpus files -> Documents. The only stage that opens source files.

``parse_file(path)`` reads one file into one or more documents (a notice can carry another
as its attachment). ``parse_corpus(dir)`` reads every file under a directory, applies
``manifest.toml`` for what a text cannot say about itself, and never stops at a bad file:
failures come back as ``Problem`` records with path, line and reason.

``parse_corpus`` can spread the files over worker processes and keep each parsed file in a
cache directory keyed by ``cache_key``; neither changes the result. It does not prune the
cache: entries for files that changed stay until the directory is removed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from ..errors import KbError, ParseError
from ..model import PARSER_VERSION, Document, Source
from ..text import compact
from .decode import read_source
from .document import build_documents
from .lines import html_visible_text, split_lines
from .notice import NoticeReader

__all__ = [
    "MANIFEST_NAME",
    "CorpusParse",
    "ParsedFile",
    "Problem",
    "cache_key",
    "parse_bytes",
    "parse_corpus",
    "parse_file",
    "span_text",
]

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
    parsed_paths: list[str] = field(default_factory=list)  # files read by the parser this run, failures included
    cached_paths: list[str] = field(default_factory=list)  # files served from the parse cache

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


def parse_corpus(
    corpus: str | Path,
    on_file: Callable[[str], object] | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
) -> CorpusParse:
    """Parse every file under corpus; a file that fails is a Problem, the rest go on.

    workers: processes to parse with; None picks one per core, but stays in this process for a
    corpus too small to repay starting them; 1 is always in-process. cache_dir: keep each parsed
    file there under ``cache_key`` and read it back instead of parsing when the key matches. The
    result is the same whatever the workers and cache: files, problems and ``on_file`` calls come
    in sorted path order. Only point cache_dir at a directory this build owns: entries are pickles.
    """
    corpus = Path(corpus)
    manifest = load_manifest(corpus)
    if cache_dir is not None and Path(cache_dir).resolve().is_relative_to(corpus.resolve()):
        # corpus_files would read the entries as notices (it skips dot-files, not dot-directories)
        raise KbError(f"{cache_dir}: the parse cache is inside the corpus {corpus}; put it outside, next to the database")
    cache = _Cache(Path(cache_dir)) if cache_dir is not None else None
    jobs = [_Job(path, path.relative_to(corpus).as_posix()) for path in corpus_files(corpus)]
    for job in jobs:
        job.entry = manifest.get(job.rel)
        if cache:
            cache.look_up(job)
    to_parse = [job for job in jobs if not job.cached]

    out = CorpusParse([], [])
    with _outcomes(to_parse, workers) as parsed:
        for job in jobs:
            outcome = cache.load(job) if job.cached else None
            if outcome is not None:
                out.cached_paths.append(job.rel)
            else:
                # an entry that will not load is parsed here and overwritten: rare, never an error
                outcome = _parse_job(job.task()) if job.cached else next(parsed)
                out.parsed_paths.append(job.rel)
            if isinstance(outcome, Problem):
                out.problems.append(outcome)
            else:
                out.files.append(outcome)
                out.problems.extend(outcome.warnings)
            if on_file:
                on_file(job.rel)
    return out


def cache_key(raw: bytes, rel: str, manifest_entry: dict | None) -> str:
    """What a parse depends on, hashed: the bytes, the path shown in Source, the manifest entry
    and the parser (PARSER_VERSION and its own source code, so editing the parser invalidates
    entries even when nobody remembers to bump the version)."""
    h = hashlib.sha256()
    for part in (
        hashlib.sha256(raw).hexdigest(),
        rel,
        json.dumps(manifest_entry or {}, sort_keys=True, ensure_ascii=False, default=str),
        PARSER_VERSION,
        _parser_fingerprint(),
    ):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()


# Measured on the 2-core dev machine: a file parses in ~8 ms; a pool of forked workers starts
# in ~15 ms, a spawned one (each worker imports lxml, charset-normalizer, the gazetteer) in
# ~0.5 s. Two forked workers win from 20 files on an idle machine (0.16 -> 0.11 s; 60 files
# 0.49 -> 0.29 s; 1,000 files 7.6 -> 4.6 s) but lose a little when another process holds a
# core, so a worker is only started for this many files or more.
_MIN_FILES_FORKED = 25
_MIN_FILES_SPAWNED = 100
_CHUNKS_PER_WORKER = 4  # a few chunks each: cheap on IPC, and a slow chunk does not idle the rest


def _worker_count(workers: int | None, files: int) -> int:
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, got {workers}")
        return min(workers, max(files, 1))
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:
        cores = os.cpu_count() or 1
    # allow_none: asking must not fix the start method for the caller; the first listed is the default
    method = multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
    per_worker = _MIN_FILES_FORKED if method == "fork" else _MIN_FILES_SPAWNED
    return max(1, min(cores, files // per_worker))


@contextmanager
def _outcomes(jobs: list[_Job], workers: int | None) -> Iterator[Iterator[ParsedFile | Problem]]:
    """Outcomes of jobs, in order: parsed in this process, or by a pool of worker processes.

    The pool is handed every job before the first outcome is read, so the workers parse while
    this process loads cache entries; leaving early cancels what has not started.
    """
    count = _worker_count(workers, len(jobs))
    tasks = [job.task() for job in jobs]
    if count == 1:
        yield map(_parse_job, tasks)
        return
    pool = ProcessPoolExecutor(max_workers=count)
    try:
        yield pool.map(_parse_job, tasks, chunksize=max(1, len(tasks) // (count * _CHUNKS_PER_WORKER)))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _parse_job(task: tuple) -> ParsedFile | Problem:
    """Parse one file (in a worker or here); a ParseError comes back as a Problem.

    ParseError is turned into a Problem before it leaves the worker: its constructor takes more
    than the one argument pickle would give it back.
    """
    path, rel, entry, raw, cache_file = task
    try:
        if raw is None:
            parsed = parse_file(path, entry, display_path=rel)
        else:
            parsed = parse_bytes(raw, rel, entry)
    except ParseError as e:
        return Problem(e.path, e.line, e.message)
    except Exception as e:
        e.add_note(f"while parsing {rel}")  # a parser bug: name the file that found it
        raise
    if cache_file is not None:
        _write_atomic(cache_file, pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
    return parsed


@dataclass
class _Job:
    """One corpus file on its way through parse_corpus."""

    path: Path
    rel: str
    entry: dict | None = None
    raw: bytes | None = None  # read once to compute the cache key, then handed to the parser
    cache_file: Path | None = None
    cached: bool = False  # an entry exists under the key; it may still fail to load

    def task(self) -> tuple:
        return (self.path, self.rel, self.entry, self.raw, self.cache_file)


class _Cache:
    """Parsed files pickled under ``<dir>/<cache_key>.pickle``. Only files that parsed are kept,
    so a bad file is re-read, and re-reported, on every run."""

    def __init__(self, directory: Path):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise KbError(f"{directory}: cannot use as the parse cache: {e.strerror}; pass a writable directory") from e
        self.directory = directory

    def look_up(self, job: _Job) -> None:
        try:
            job.raw = job.path.read_bytes()
        except OSError:
            return  # no key without the bytes; the parser reports the file as unreadable
        job.cache_file = self.directory / f"{cache_key(job.raw, job.rel, job.entry)}.pickle"
        job.cached = job.cache_file.is_file()

    def load(self, job: _Job) -> ParsedFile | None:
        """The cached parse, or None when the entry is unreadable or not what its key promises."""
        try:
            parsed = pickle.loads(job.cache_file.read_bytes())
        except Exception:  # noqa: BLE001 - truncated, garbage, or classes that moved: unpickling raises anything
            return None
        if not isinstance(parsed, ParsedFile) or parsed.source.path != job.rel or parsed.source.raw != job.raw:
            return None
        return parsed


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file and os.replace, so a killed build leaves a whole entry or none.
    A cache that cannot be written only costs time, so a failure here is not an error."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem[:16]}-", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _parser_fingerprint() -> str:
    """Hash of the code and data a parse depends on."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted([*package.joinpath("parse").glob("*.py"), *(package / name for name in _PARSER_DEPENDS)]):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


# Modules and data outside kb/parse that the parser imports or reads.
_PARSER_DEPENDS = ("model.py", "text.py", "places.py", "errors.py", "data/divisions.tsv")


def span_text(source: Source, spans: list[tuple[int, int]]) -> str:
    """The visible text of a clause's source spans, for checking offsets against clause text."""
    return compact("".join(html_visible_text(source.text[a:b]) for a, b in spans))
