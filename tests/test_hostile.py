"""Hostile corpora, as a table: what is put in the corpus, the one line it gives, its row in the
``problems`` table, and the rest of the corpus built as if it were not there.

In the manner of tomli's invalid-input suite: each case is data (how to make the input), the
exact message, and what the database must still hold. The cases come from issue 30's audit:
symbolic links (loops that made the walk run forever, links out of the corpus), second names
of a file, things that are not files, and every way the manifest can be wrong.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlite_utils

from kb.parse import Problem, parse_corpus
from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
P25_FILE = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"
DL_FILE = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
P25 = "辽政办发〔2020〕25号"  # its 文号 comes from the manifest (the text has none)
DL = "大人社发〔2020〕391号"
P25_UNNUMBERED = "辽宁省全力做好当前促进和扩大就业工作的若干举措"  # its id when the manifest's 文号 does not apply

# The small corpus every case starts from: the provincial notice (whose 文号 only the manifest
# gives) and Dalian's rule implementing it.
MANIFEST = f'''[files."{P25_FILE}"]
doc_number = "辽政办发〔2020〕25号"
note = "a web preview"
'''

# A notice outside the corpus, for links that lead out of it.
OUTSIDE = "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"

# name: (how to make the input, the line it gives (str(Problem)), the documents built).
# Steps: ("link", name, target), ("hardlink", name, existing), ("fifo", name),
# ("manifest", bytes), ("mkdir", name). "{outside}" in a target is a directory beside the corpus
# holding a real notice.
CASES: dict[str, tuple[list[tuple], str, set[str]]] = {
    "directory loop": (
        [("link", "loop", ".")],
        "loop: warning: symbolic link to the directory . inside the corpus: not followed (read under its own path)",
        {P25, DL},
    ),
    "loop one level down": (
        [("mkdir", "sub"), ("link", "sub/up", "..")],
        "sub/up: warning: symbolic link to the directory . inside the corpus: not followed (read under its own path)",
        {P25, DL},
    ),
    "directory link out of the corpus": (
        [("link", "more", "{outside}")],
        "more: error: symbolic link out of the corpus (more -> {outside}): refused; copy the file into the corpus",
        {P25, DL},
    ),
    "file link out of the corpus": (
        [("link", "fushun.txt", f"{{outside}}/{OUTSIDE}")],
        f"fushun.txt: error: symbolic link out of the corpus (fushun.txt -> {{outside}}/{OUTSIDE}): refused; copy the file into the corpus",
        {P25, DL},
    ),
    "file link inside the corpus": (
        [("link", "again.txt", DL_FILE)],
        f"again.txt: warning: symbolic link to the file {DL_FILE} inside the corpus: not followed (read under its own path)",
        {P25, DL},
    ),
    "dangling file link": (
        [("link", "gone.txt", "nowhere.txt")],
        "gone.txt: error: dangling symbolic link (gone.txt -> nowhere.txt): No such file or directory; refused",
        {P25, DL},
    ),
    "looping file link": (
        [("link", "self.txt", "self.txt")],
        "self.txt: error: symbolic link loop (self.txt -> self.txt): refused",
        {P25, DL},
    ),
    "hard link": (
        [("hardlink", "zz-again.txt", DL_FILE)],
        f"zz-again.txt: warning: the same file as {DL_FILE} (a hard link): read once, as {DL_FILE}",
        {P25, DL},
    ),
    "fifo": (
        [("fifo", "pipe.txt")],
        "pipe.txt: warning: not a regular file (a FIFO, socket or device): left out; expected notice text files",
        {P25, DL},
    ),
    "manifest not UTF-8": (
        [("manifest", MANIFEST.encode("gb18030"))],
        # 0xc1 starts 辽 in GB18030, and never a UTF-8 character
        f"manifest.toml:2: error: not UTF-8 text (byte 0xc1 at offset {MANIFEST.encode('gb18030').index('辽'.encode('gb18030'))}): save the manifest as UTF-8; no manifest entries applied",
        {P25_UNNUMBERED, DL},
    ),
    "doc_number = 42": (
        [("manifest", MANIFEST.replace('"辽政办发〔2020〕25号"', "42").encode())],
        f'manifest.toml:2: error: files."{P25_FILE}".doc_number: expected a string (a 文号 such as 辽人社发〔2021〕7号), found an integer 42; key ignored',
        {P25_UNNUMBERED, DL},
    ),
    'files = "oops"': (
        [("manifest", b'files = "oops"\n')],
        'manifest.toml:1: error: files: expected a table of entries ([files."name.txt"]), found a string; no manifest entries applied',
        {P25_UNNUMBERED, DL},
    ),
    "an entry that is not a table": (
        [("manifest", (MANIFEST + f'[files]\n"{DL_FILE}" = 3\n').encode())],
        f'manifest.toml:5: error: files."{DL_FILE}": expected a table of keys (doc_number = "…"), found an integer; entry ignored',
        {P25, DL},
    ),
    "issuers of the wrong type": (
        [("manifest", (MANIFEST + f'[files."{DL_FILE}"]\nissuers = [1, 2]\n').encode())],
        f'manifest.toml:5: error: files."{DL_FILE}".issuers: expected a list of strings (the issuing bodies), found an array [1, 2]; key ignored',
        {P25, DL},
    ),
    "syntax error in one entry, the other applies": (
        [("manifest", (MANIFEST + f'[files."{DL_FILE}"]\nnote = "unclosed\n').encode())],
        f"manifest.toml:5: error: [files.\"{DL_FILE}\"]: invalid TOML: Illegal character '\\n'; this table is ignored, the others apply",
        {P25, DL},
    ),
    "entry for a missing file": (
        [("manifest", (MANIFEST + '[files."moved.txt"]\ndoc_number = "辽人社发〔2021〕7号"\n').encode())],
        'manifest.toml:4: warning: files."moved.txt": no such file in the corpus; expected the path of a corpus file, relative to the corpus; entry ignored',
        {P25, DL},
    ),
}


def _make(corpus: Path, outside: Path, steps: list[tuple]) -> None:
    for step, name, *rest in steps:
        if step == "manifest":
            (corpus / "manifest.toml").write_bytes(name)
            continue
        path = corpus / name
        if step == "link":
            path.symlink_to(rest[0].format(outside=outside))
        elif step == "hardlink":
            os.link(corpus / rest[0], path)
        elif step == "fifo":
            os.mkfifo(path)
        elif step == "mkdir":
            path.mkdir()
        else:
            raise ValueError(step)


def _small_corpus(corpus: Path) -> Path:
    corpus.mkdir()
    for name in (P25_FILE, DL_FILE):
        shutil.copy(CORPUS / name, corpus / name)
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    return corpus


def _hostile(tmp_path: Path, steps: list[tuple]) -> tuple[Path, Path]:
    """The small corpus with steps applied, and the directory beside it they may link to."""
    corpus = _small_corpus(tmp_path / "corpus")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(CORPUS / OUTSIDE, outside / OUTSIDE)
    _make(corpus, outside, steps)
    return corpus, outside


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[int, int]:
    """The clauses and links of the small corpus built as it is."""
    tmp = tmp_path_factory.mktemp("clean")
    build(_small_corpus(tmp / "corpus"), tmp / "kb.db", workers=1)
    db = sqlite_utils.Database(tmp / "kb.db")
    return db["clauses"].count, db["links"].count


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input(case, tmp_path, clean):
    """Each input alone, parsed as a build parses it: its one line, and the rest intact."""
    steps, line, documents = CASES[case]
    corpus, outside = _hostile(tmp_path, steps)
    parsed = parse_corpus(corpus, workers=1)
    assert [str(p) for p in parsed.problems if p.path not in (P25_FILE, DL_FILE)] == [line.format(outside=outside)]
    # the rest of the corpus, as without it: each real file once, nothing from outside
    assert {d.id for d in parsed.documents} == documents
    assert [f.source.path for f in parsed.files] == [P25_FILE, DL_FILE]
    assert sum(len(d.clauses) for d in parsed.documents) == clean[0]


# Inputs that can stand side by side in one corpus (one manifest at a time), built together.
TOGETHER = sorted(case for case, (steps, _, documents) in CASES.items() if documents == {P25, DL} and steps[0][0] != "manifest")
TOGETHER_MANIFEST = "entry for a missing file"


def test_hostile_inputs_are_rows_of_the_problems_table(tmp_path, clean):
    """All of them in one build: a row each in ``problems`` (as the line says), and the
    database of the rest as the clean build's."""
    steps = [step for case in [*TOGETHER, TOGETHER_MANIFEST] for step in CASES[case][0]]
    corpus, outside = _hostile(tmp_path, steps)
    db_path = tmp_path / "kb.db"
    report = build(corpus, db_path, workers=1)
    expected = sorted(CASES[case][1].format(outside=outside) for case in [*TOGETHER, TOGETHER_MANIFEST])
    db = sqlite_utils.Database(db_path)
    rows = db["problems"].rows_where("path not in (?, ?)", [P25_FILE, DL_FILE])
    assert sorted(str(Problem(r["path"], r["line"], r["message"], r["severity"])) for r in rows) == expected
    assert sorted(str(p) for p in report.problems if p.path not in (P25_FILE, DL_FILE)) == expected
    assert {r["id"] for r in db["documents"].rows_where("placeholder = 0")} == {P25, DL}
    assert sorted(r["path"] for r in db["sources"].rows) == [P25_FILE, DL_FILE]
    assert (db["clauses"].count, db["links"].count) == clean
    assert (report.counts["files"], report.counts.get("files_failed", 0)) == (2, 0)  # what the walk refused is not a file that failed
    assert report.refused == [p for p in report.problems if p.path not in (P25_FILE, DL_FILE)]
