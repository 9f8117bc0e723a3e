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

import copyreg
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import tempfile
import tomllib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from functools import lru_cache
from itertools import islice
from pathlib import Path

from ..cache import collector_paused
from ..errors import KbError, ParseError
from ..model import PARSER_VERSION, Document, Source
from ..text import compact
from .decode import read_source
from .document import build_documents
from .genre import detect_genre
from .identity import conflicting_ids
from .lines import html_visible_text, split_lines
from .notice import NoticeReader
from .statute import read_statute, resolve_citation

__all__ = [
    "MANIFEST_NAME",
    "CorpusParse",
    "ParsedFile",
    "Problem",
    "cache_key",
    "parse_bytes",
    "parse_corpus",
    "parse_file",
    "resolve_citation",
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
    guess = detect_genre(split.lines, getattr(source, "meta", None))
    if guess.genre != "notice":
        return _parse_statute(source, split, guess, manifest or {})
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


def _parse_statute(source: Source, split, guess, manifest: dict) -> ParsedFile:
    """A statute or amendment decision: one document per file."""
    genre = guess.genre
    doc, discarded = read_statute(split.lines, source, manifest, genre, guess.title_line)
    source.discarded += discarded
    if not any(c.kind == ("article" if genre == "statute" else "item") for c in doc.clauses):
        first = split.lines[0]
        expected = "第一条 …" if genre == "statute" else "amendments numbered 一、二、…"
        raise ParseError(
            source.path,
            f"a {genre} title ({doc.title!r}) but no {'articles' if genre == 'statute' else 'amendments'} after it: expected {expected}",
            line=first.number,
        )
    warnings = [Problem(source.path, None, f"{doc.id} incomplete: {reason}", "warning") for reason in doc.incomplete_reasons]
    return ParsedFile(source, [doc], warnings)


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
    """The notice files under corpus, in path order (as ``sorted`` orders Paths): dot-files and
    the manifest left out. ``os.walk``, not ``Path.rglob``, whose check against walking a path
    twice hashes every Path (2 s of an incremental build at 10,000 files)."""
    found = []
    for root, _dirs, names in os.walk(corpus, followlinks=True):
        for name in names:
            if name not in _SKIP and not name.startswith("."):
                path = Path(root, name)
                if path.is_file():
                    found.append(path)
    return sorted(found, key=lambda p: p.parts)


def parse_corpus(
    corpus: str | Path,
    on_file: Callable[[str], object] | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    files: list[Path] | None = None,
) -> CorpusParse:
    """Parse every file under corpus; a file that fails is a Problem, the rest go on.

    workers: processes to parse with; None picks one per core, but stays in this process for a
    corpus too small to repay starting them; 1 is always in-process. cache_dir: keep each parsed
    file there under ``cache_key`` and read it back instead of parsing when the key matches. The
    result is the same whatever the workers and cache: files, problems and ``on_file`` calls come
    in sorted path order. Only point cache_dir at a directory this build owns: entries are pickles.
    files: ``corpus_files(corpus)``, when the caller has just listed them.
    """
    corpus = Path(corpus)
    manifest = load_manifest(corpus)
    if cache_dir is not None and Path(cache_dir).resolve().is_relative_to(corpus.resolve()):
        # corpus_files would read the entries as notices (it skips dot-files, not dot-directories)
        raise KbError(f"{cache_dir}: the parse cache is inside the corpus {corpus}; put it outside, next to the database")
    cache = _Cache(Path(cache_dir)) if cache_dir is not None else None
    jobs = [_Job(path, path.relative_to(corpus).as_posix()) for path in (corpus_files(corpus) if files is None else files)]
    for job in jobs:
        job.entry = manifest.get(job.rel)
    # Cached entries are unpickled here, not in a worker that would only pickle them again
    # for the trip back.
    loaded = cache.load_all(jobs) if cache else {}
    to_parse = [job for job in jobs if job.rel not in loaded]
    with _outcomes(to_parse, workers) as (parsed, in_process), (nullcontext() if in_process else collector_paused()):
        return _gather(jobs, loaded, parsed, on_file)


def _gather(jobs: list[_Job], loaded: dict[str, ParsedFile], parsed: Iterator, on_file: Callable[[str], object] | None) -> CorpusParse:
    """The outcomes of all jobs, in order: loaded from the cache, or parsed."""
    out = CorpusParse([], [])
    for job in jobs:
        outcome = loaded.pop(job.rel, None)
        if outcome is not None:
            out.cached_paths.append(job.rel)
        else:
            outcome = _receive(job, next(parsed))
            out.parsed_paths.append(job.rel)
        if isinstance(outcome, Problem):
            out.problems.append(outcome)
        else:
            out.files.append(outcome)
            out.problems.extend(outcome.warnings)
        if on_file:
            on_file(job.rel)
    out.problems.extend(Problem(path, None, message, severity) for path, message, severity in conflicting_ids(out.files))
    return out


def cache_key(raw: bytes, rel: str, manifest_entry: dict | None) -> str:
    """What a parse depends on, hashed: the bytes, the path shown in Source, the manifest entry
    and the parser (PARSER_VERSION and its own source code, so editing the parser invalidates
    entries even when nobody remembers to bump the version)."""
    return _cache_key(hashlib.sha256(raw).hexdigest(), rel, manifest_entry)


def _cache_key(digest: str, rel: str, manifest_entry: dict | None) -> str:
    """cache_key from the sha256 of the bytes, which the cache also checks entries against."""
    h = hashlib.sha256()
    for part in (
        digest,
        rel,
        json.dumps(manifest_entry or {}, sort_keys=True, ensure_ascii=False, default=str),
        PARSER_VERSION,
        _parser_fingerprint(),
    ):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()


# Measured on the 2-core dev machine: a file parses in ~2.5 ms; a pool of forked workers starts
# in ~15 ms, a spawned one (each worker imports lxml, charset-normalizer, the gazetteer) in
# ~0.5 s. Two forked workers win from 20 files on an idle machine but lose a little when
# another process holds a core, so a worker is only started for this many files or more.
_MIN_FILES_FORKED = 25
_MIN_FILES_SPAWNED = 100
_CHUNKS_PER_WORKER = 4  # a few chunks each: cheap on IPC, and a slow chunk does not idle the rest
_MAX_CHUNK = 32  # small enough that results stream back while the workers go on parsing


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
def _outcomes(jobs: list[_Job], workers: int | None) -> Iterator[tuple[Iterator[ParsedFile | Problem | bytes], bool]]:
    """Outcomes of jobs, in order, and whether they are parsed in this process (else by a pool
    of worker processes, whose parsed files come back pickled; ``_receive`` reads them).
    Leaving early cancels what has not started."""
    count = _worker_count(workers, len(jobs))
    tasks = [job.task() for job in jobs]
    if count == 1:
        yield map(_parse_job, tasks), True
        return
    pool = ProcessPoolExecutor(max_workers=count)
    try:
        chunk = max(1, min(_MAX_CHUNK, len(tasks) // (count * _CHUNKS_PER_WORKER)))
        yield pool.map(_parse_job_pickled, tasks, chunksize=chunk), False
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _parse_job(task: tuple) -> ParsedFile | Problem:
    """Parse one file in this process, and cache it; a ParseError comes back as a Problem."""
    parsed = _parse_task(task)
    if isinstance(parsed, ParsedFile) and task[4] is not None:
        _write_atomic(task[4], _dumps(parsed, without_raw=True))
    return parsed


def _parse_job_pickled(task: tuple) -> bytes | Problem:
    """Parse one file in a worker: the parsed file comes back pickled, the very bytes the cache
    keeps, so it is pickled once. The parent already holds the bytes it handed over (``raw``),
    so they are not sent back."""
    parsed = _parse_task(task)
    if isinstance(parsed, Problem):
        return parsed
    blob = _dumps(parsed, without_raw=task[3] is not None)
    if task[4] is not None:
        _write_atomic(task[4], blob)
    return blob


def _parse_task(task: tuple) -> ParsedFile | Problem:
    """ParseError is turned into a Problem before it leaves a worker: its constructor takes
    more than the one argument pickle would give it back."""
    path, rel, entry, raw, _ = task
    try:
        if raw is None:
            return parse_file(path, entry, display_path=rel)
        return parse_bytes(raw, rel, entry)
    except ParseError as e:
        return Problem(e.path, e.line, e.message)
    except Exception as e:
        e.add_note(f"while parsing {rel}")  # a parser bug: name the file that found it
        raise


def _receive(job: _Job, outcome: ParsedFile | Problem | bytes) -> ParsedFile | Problem:
    """An outcome as parse_corpus returns it: a worker's pickle read, the bytes put back."""
    if not isinstance(outcome, bytes):
        return outcome
    parsed = pickle.loads(outcome)
    if job.raw is not None:
        parsed.source.raw = job.raw
    return parsed


def _dumps(parsed: ParsedFile, without_raw: bool) -> bytes:
    """Pickle a parsed file; without_raw leaves out ``Source.raw`` (the reader has the bytes)."""
    if not without_raw:
        return pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, Source: _source_without_raw}
    pickler.dump(parsed)
    return buffer.getvalue()


def _source_without_raw(source: Source) -> tuple:
    # state as (None, attributes): unpickling sets each attribute, slots or no slots
    attributes = {f.name: getattr(source, f.name) for f in fields(source)}
    attributes["raw"] = b""
    return copyreg.__newobj__, (Source,), (None, attributes)


@dataclass
class _Job:
    """One corpus file on its way through parse_corpus."""

    path: Path
    rel: str
    entry: dict | None = None
    raw: bytes | None = None  # read once to compute the cache key, then handed to the parser
    cache_file: Path | None = None  # where its parse is cached

    def task(self) -> tuple:
        return (self.path, self.rel, self.entry, self.raw, self.cache_file)


class _Cache:
    """Parsed files pickled under ``<dir>/<cache_key>.pickle``, without the file's bytes (the
    key and ``Source.sha256`` stand for them). Only files that parsed are kept, so a bad file is
    re-read, and re-reported, on every run."""

    def __init__(self, directory: Path):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise KbError(f"{directory}: cannot use as the parse cache: {e.strerror}; pass a writable directory") from e
        self.directory = directory

    def load_all(self, jobs: list[_Job]) -> dict[str, ParsedFile]:
        """The cached parse of each job that has a good entry, by path.

        A thread reads and hashes the files and reads their entries a few chunks ahead (both
        release the GIL) while this thread unpickles, which is most of what a cached run does.
        A job without a good entry (none under its key, or one that will not load or is not
        what the key promises) is left out: it is parsed and its entry overwritten.
        """
        loaded: dict[str, ParsedFile] = {}
        chunks = (jobs[k : k + _READ_CHUNK] for k in range(0, len(jobs), _READ_CHUNK))
        with ThreadPoolExecutor(1, thread_name_prefix="kb-parse-cache") as reader, collector_paused():
            ahead = deque(reader.submit(self._read, chunk) for chunk in islice(chunks, _CHUNKS_AHEAD))
            while ahead:
                read = ahead.popleft().result()
                ahead.extend(reader.submit(self._read, chunk) for chunk in islice(chunks, 1))
                for job, digest, entry in read:
                    if entry is not None and (parsed := self._load(job, digest, entry)) is not None:
                        loaded[job.rel] = parsed
        return loaded

    def _read(self, jobs: list[_Job]) -> list[tuple[_Job, str | None, bytes | None]]:
        """Read each file (its bytes go to the parser too), its key, and the entry under it."""
        out = []
        for job in jobs:
            try:
                job.raw = job.path.read_bytes()
            except OSError:
                out.append((job, None, None))  # no key without the bytes; the parser reports the file
                continue
            digest = hashlib.sha256(job.raw).hexdigest()
            job.cache_file = self.directory / f"{_cache_key(digest, job.rel, job.entry)}.pickle"
            try:
                out.append((job, digest, job.cache_file.read_bytes()))
            except OSError:
                out.append((job, digest, None))
        return out

    @staticmethod
    def _load(job: _Job, digest: str, entry: bytes) -> ParsedFile | None:
        try:
            parsed = pickle.loads(entry)
        except Exception:  # noqa: BLE001 - truncated, garbage, or classes that moved: unpickling raises anything
            return None
        if not isinstance(parsed, ParsedFile) or parsed.source.path != job.rel or parsed.source.sha256 != digest:
            return None
        parsed.source.raw = job.raw
        return parsed


_READ_CHUNK = 64  # files the reader thread takes at a time
_CHUNKS_AHEAD = 4  # how far it may run ahead: a few megabytes of entries waiting


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
