"""parse_corpus with worker processes and with a cache gives exactly what the serial parse gives.

Equality of the records leaves provenance out (offsets, spans, source paths), so results are
compared through ``_dump``, which walks every field of every record, provenance included.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kb.parse
from kb.errors import KbError
from kb.parse import CorpusParse, cache_key, load_manifest, parse_corpus

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "seeds"  # corpus/ also holds the real laws; this is its four seed notices (symlinks)
MAKE_CORPUS = ROOT / "scripts" / "make_corpus"
F25 = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"
GOOD = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
F22 = "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"

# Files the parser refuses (see test_parse_errors.py), with the line it names.
BAD = {
    "empty.txt": (b"", 1),
    "scan.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", 3),
    "english.txt": (b"This is an ordinary English paragraph.\nIt has no notice structure at all.\n", 1),
}


def _dump(value):
    """Every field of a record, compare=False ones included, as nested tuples."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple((f.name, _dump(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, (list, tuple)):
        return tuple(_dump(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _dump(v)) for k, v in value.items())
    return value


def assert_same_parse(got: CorpusParse, want: CorpusParse) -> None:
    assert [f.source.path for f in got.files] == [f.source.path for f in want.files]
    assert got.documents == want.documents
    for g, w in zip(got.documents, want.documents):
        assert g.source is not None and g.source.path == w.source.path and g.source.sha256 == w.source.sha256
        assert (g.start, g.end, g.parser_version) == (w.start, w.end, w.parser_version)
        for got_clause, want_clause in zip(g.clauses, w.clauses):
            assert got_clause == want_clause
            assert (got_clause.start, got_clause.end, got_clause.text_spans, got_clause.heading_span) == (want_clause.start, want_clause.end, want_clause.text_spans, want_clause.heading_span)
            assert (got_clause.source_path, got_clause.source_sha256) == (want_clause.source_path, want_clause.source_sha256)
        assert [(c.start, c.end) for c in g.citations] == [(c.start, c.end) for c in w.citations]
    for f in got.files:  # one Source per file, shared by its documents, as the serial parse has it
        assert all(d.source is f.source for d in f.documents)
    assert [str(p) for p in got.problems] == [str(p) for p in want.problems]
    assert _dump(got.files) == _dump(want.files)
    assert _dump(got.problems) == _dump(want.problems)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(MAKE_CORPUS), "--notices", "60", "--out", str(out), "--seed", "7"],
                   check=True, capture_output=True, cwd=ROOT)
    return out / "corpus"


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    return corpus


@pytest.fixture
def with_bad_files(seed_copy) -> Path:
    for name, (raw, _) in BAD.items():
        (seed_copy / name).write_bytes(raw)
    return seed_copy


def _corpus(request, name: str) -> Path:
    return CORPUS if name == "seed" else request.getfixturevalue(name)


@pytest.mark.parametrize("name", ["seed", "synthetic", "with_bad_files"])
def test_parallel_equals_serial(request, name):
    corpus = _corpus(request, name)
    serial_calls, parallel_calls = [], []
    serial = parse_corpus(corpus, on_file=serial_calls.append, workers=1)
    parallel = parse_corpus(corpus, on_file=parallel_calls.append, workers=2)
    assert_same_parse(parallel, serial)
    assert parallel_calls == serial_calls == sorted(serial_calls)
    assert parallel.parsed_paths == serial_calls and parallel.cached_paths == []


def test_default_workers_equal_serial(synthetic):
    assert_same_parse(parse_corpus(synthetic), parse_corpus(synthetic, workers=1))


def test_failures_reported_in_parallel(with_bad_files):
    result = parse_corpus(with_bad_files, workers=2)
    errors = {p.path: p for p in result.problems if p.severity == "error"}
    assert {path: p.line for path, p in errors.items()} == {name: line for name, (_, line) in BAD.items()}
    assert "binary data (byte 0x00)" in errors["scan.png"].message
    assert len(result.files) == 4


def test_spawned_workers_equal_serial():
    """Workers that start fresh (spawn, the default off Linux) import the parser and agree."""
    script = textwrap.dedent(f"""
        import multiprocessing, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_parse_parallel import assert_same_parse
        from kb.parse import parse_corpus
        if __name__ == "__main__":
            multiprocessing.set_start_method("spawn")
            assert_same_parse(parse_corpus({str(CORPUS)!r}, workers=2), parse_corpus({str(CORPUS)!r}, workers=1))
    """)
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("workers", [1, 2])
def test_parser_bug_names_the_file(monkeypatch, workers):
    """Not a ParseError, so it stops the run, as in the serial parse, and says which file."""
    if workers > 1 and multiprocessing.get_all_start_methods()[0] != "fork":
        pytest.skip("the patched parser only reaches forked workers")

    def broken(raw, path, manifest=None):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(kb.parse, "parse_bytes", broken)
    with pytest.raises(RuntimeError, match="parser bug") as info:
        parse_corpus(CORPUS, workers=workers)
    assert info.value.__notes__ == [f"while parsing {F25}"]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        parse_corpus(CORPUS, workers=0)


# cache


@pytest.mark.parametrize("workers", [1, 2])
def test_second_run_comes_from_cache(seed_copy, tmp_path, workers):
    cache = tmp_path / "cache"
    serial = parse_corpus(seed_copy, workers=1)
    first = parse_corpus(seed_copy, workers=workers, cache_dir=cache)
    assert first.parsed_paths == [f.source.path for f in serial.files] and first.cached_paths == []
    calls = []
    second = parse_corpus(seed_copy, on_file=calls.append, workers=workers, cache_dir=cache)
    assert second.cached_paths == first.parsed_paths and second.parsed_paths == []
    assert calls == second.cached_paths
    assert_same_parse(first, serial)
    assert_same_parse(second, serial)
    assert len(list(cache.glob("*.pickle"))) == 4
    assert not list(cache.glob(".*"))  # no temp files left behind


def test_changed_bytes_reparse_only_that_file(seed_copy, tmp_path):
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, cache_dir=cache)
    with (seed_copy / GOOD).open("ab") as f:
        f.write(b"\n\n")
    again = parse_corpus(seed_copy, cache_dir=cache)
    assert again.parsed_paths == [GOOD]
    assert len(again.cached_paths) == 3
    assert_same_parse(again, parse_corpus(seed_copy, workers=1))


def test_changed_manifest_entry_reparse_only_that_file(seed_copy, tmp_path):
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, cache_dir=cache)
    manifest = seed_copy / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    marker = f'[files."{F22}"]\n'
    assert marker in text
    manifest.write_text(text.replace(marker, marker + 'retrieved_on = "2024-01-01"\n'), encoding="utf-8")
    again = parse_corpus(seed_copy, cache_dir=cache)
    assert again.parsed_paths == [F22]
    assert again.files[-1].source.manifest["retrieved_on"] == "2024-01-01"
    assert_same_parse(again, parse_corpus(seed_copy, workers=1))


def _entry(corpus: Path, cache: Path, rel: str) -> Path:
    return cache / f"{cache_key((corpus / rel).read_bytes(), rel, load_manifest(corpus).get(rel))}.pickle"


@pytest.mark.parametrize("garbage", [b"not a pickle", b"", "truncated", "another file"])
def test_bad_cache_entry_is_parsed_again(seed_copy, tmp_path, garbage):
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, cache_dir=cache)
    entry = _entry(seed_copy, cache, GOOD)
    if garbage == "truncated":
        garbage = entry.read_bytes()[:1000]
    elif garbage == "another file":  # a whole, valid entry, but not of this file
        garbage = _entry(seed_copy, cache, F22).read_bytes()
    entry.write_bytes(garbage)
    again = parse_corpus(seed_copy, cache_dir=cache)
    assert again.parsed_paths == [GOOD]
    assert_same_parse(again, parse_corpus(seed_copy, workers=1))
    assert pickle.loads(entry.read_bytes()).source.path == GOOD  # overwritten with the good parse
    assert parse_corpus(seed_copy, cache_dir=cache).parsed_paths == []


def test_entry_of_other_bytes_is_parsed_again(seed_copy, tmp_path):
    """An entry is checked against the file's sha256: a whole, valid entry of the same path made
    from other bytes (here: before an edit) is not used, though it names the right file."""
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, cache_dir=cache)
    before = _entry(seed_copy, cache, GOOD).read_bytes()
    with (seed_copy / GOOD).open("ab") as f:
        f.write(b"\n\n")
    _entry(seed_copy, cache, GOOD).write_bytes(before)
    again = parse_corpus(seed_copy, cache_dir=cache)
    assert again.parsed_paths == [GOOD]
    assert_same_parse(again, parse_corpus(seed_copy, workers=1))


@pytest.mark.parametrize("workers", [1, 2])
def test_entries_leave_out_the_file_bytes(seed_copy, tmp_path, workers):
    """The cache does not keep a second copy of the corpus: the bytes are read anyway to
    compute the key, and put back into Source.raw on loading."""
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, workers=workers, cache_dir=cache)
    for rel in (GOOD, F22):
        assert pickle.loads(_entry(seed_copy, cache, rel).read_bytes()).source.raw == b""
    again = parse_corpus(seed_copy, workers=workers, cache_dir=cache)
    assert again.cached_paths == sorted(p.name for p in seed_copy.glob("*.txt"))
    assert [f.source.raw for f in again.files] == [(seed_copy / f.source.path).read_bytes() for f in again.files]


@pytest.mark.parametrize("collecting", [True, False])
@pytest.mark.parametrize("caller_froze", [False, True])
def test_collector_is_left_as_found(seed_copy, tmp_path, collecting, caller_froze):
    """Loading pauses the garbage collector: it comes back as the caller had it, and objects
    the caller froze stay frozen."""
    cache = tmp_path / "cache"
    parse_corpus(seed_copy, workers=2, cache_dir=cache)
    was = gc.isenabled()
    try:
        if caller_froze:
            gc.freeze()
        (gc.enable if collecting else gc.disable)()
        count = gc.get_freeze_count()
        assert (count > 0) is caller_froze
        for workers, cache_dir in ((1, cache), (2, cache), (2, None)):  # cached, and parsed by workers
            parse_corpus(seed_copy, workers=workers, cache_dir=cache_dir)
            assert gc.isenabled() is collecting
            assert gc.get_freeze_count() == count
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_failing_file_is_never_cached(with_bad_files, tmp_path):
    cache = tmp_path / "cache"
    runs = [parse_corpus(with_bad_files, cache_dir=cache, workers=w) for w in (2, 1, 2)]
    for run in runs[1:]:
        assert run.parsed_paths == sorted(BAD)
        assert [str(p) for p in run.problems] == [str(p) for p in runs[0].problems]
    errors = [(p.path, p.line) for p in runs[-1].problems if p.severity == "error"]
    assert errors == sorted((name, line) for name, (_, line) in BAD.items())
    assert len(list(cache.glob("*.pickle"))) == 4


def test_cache_inside_corpus_is_refused(seed_copy):
    with pytest.raises(KbError, match="inside the corpus"):
        parse_corpus(seed_copy, cache_dir=seed_copy / ".cache")


def test_cache_key_covers_bytes_path_and_manifest():
    key = cache_key(b"abc", "a.txt", {"doc_number": "x"})
    assert key == cache_key(b"abc", "a.txt", {"doc_number": "x"})
    assert cache_key(b"abc", "a.txt", None) == cache_key(b"abc", "a.txt", {})  # the parser reads both as none
    for other in (cache_key(b"abd", "a.txt", {"doc_number": "x"}), cache_key(b"abc", "b.txt", {"doc_number": "x"}),
                  cache_key(b"abc", "a.txt", {"doc_number": "y"}), cache_key(b"abc", "a.txt", None)):
        assert other != key
