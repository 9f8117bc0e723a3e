"""Bad input: every failure is a ParseError naming the file and a line, with an exact message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.errors import KbError, ParseError
from kb.parse import parse_bytes, parse_corpus, parse_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
GOOD = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
NO_STRUCTURE = "expected a 文号 (辽人社发〔2021〕7号), a '…文件' header, a recipients line ending in '：' or numbered items (一、 / （一）)"

BAD = [
    ("empty.txt", b"", "empty.txt:1: empty file: expected the text of a notice"),
    ("blank.txt", b"  \n\n\t \r\n", "blank.txt:1: empty file: expected the text of a notice"),
    ("ideographic-spaces.txt", "\u3000\u3000\n\u3000\n".encode(), "ideographic-spaces.txt:1: empty file: expected the text of a notice"),
    ("bom-only.txt", b"\xef\xbb\xbf\n", "bom-only.txt:1: empty file: expected the text of a notice"),
    (
        "scan.png",
        PNG_HEADER,
        "scan.png:1: a PNG image: a picture of a page has no text to read; run OCR first (`ocrmypdf -l chi_sim FILE out.pdf`) "
        "or add the text as a .txt file",
    ),
    (
        "undecodable.txt",
        "关于做好就业工作的通知\n".encode() + b"\xff\xfe\xff\x80\x80\n",
        "undecodable.txt:2:1: cannot decode byte 0xff: neither UTF-8 nor GB18030; re-save the file as UTF-8",
    ),
    (
        # GB18030 text with one corrupt byte: the error points at that byte, not at the first
        # byte that is not UTF-8, and the text is not guessed as Shift-JIS
        "corrupt-gb18030.txt",
        "关于做好\n就业工作".encode("gb18030") + b"\x81\x20\n",
        "corrupt-gb18030.txt:2:9: cannot decode byte 0x81: neither UTF-8 nor GB18030; re-save the file as UTF-8",
    ),
    (
        "utf16-broken.txt",
        b"\xff\xfe\x00\xd8",
        "utf16-broken.txt:1:3: starts with a utf-16 byte-order mark but is not valid utf-16",
    ),
    (
        "english.txt",
        b"This is an ordinary English paragraph.\nIt has no notice structure at all.\n",
        f"english.txt:1: no recognisable notice structure: {NO_STRUCTURE}; found 'This is an ordinary English pa'",
    ),
    (
        "prose.txt",
        "\n\n今天天气很好，我们去公园散步。\n公园里有很多人。\n".encode(),
        f"prose.txt:3: no recognisable notice structure: {NO_STRUCTURE}; found '今天天气很好，我们去公园散步。'",
    ),
    (
        "footer-only.txt",
        "版权所有：辽宁省人民政府 主办单位：辽宁省人民政府办公厅\n".encode(),
        "footer-only.txt:1: no text left after removing boilerplate: expected the text of a notice",
    ),
    (
        "header-only.txt",
        "辽人社发〔2021〕7号\n".encode(),
        "header-only.txt:1: a header but no clauses: expected numbered items or paragraphs after it",
    ),
]


@pytest.mark.parametrize("name, raw, message", BAD, ids=[b[0] for b in BAD])
def test_bad_file(tmp_path, name, raw, message):
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(ParseError) as info:
        parse_file(path, display_path=name)
    assert str(info.value) == message
    assert isinstance(info.value, KbError)
    assert info.value.path == name and info.value.line is not None


@pytest.mark.parametrize("name, raw, message", BAD, ids=[b[0] for b in BAD])
def test_bad_bytes(name, raw, message):
    with pytest.raises(ParseError) as info:
        parse_bytes(raw, name)
    assert str(info.value) == message


def test_missing_file(tmp_path):
    with pytest.raises(ParseError) as info:
        parse_file(tmp_path / "nowhere.txt", display_path="nowhere.txt")
    assert str(info.value) == "nowhere.txt: cannot read file: No such file or directory"


def test_parse_error_prints_like_a_compiler():
    assert str(ParseError("corpus/x.txt", "expected a 文号", 12, 3)) == "corpus/x.txt:12:3: expected a 文号"
    assert str(ParseError("corpus/x.txt", "expected a 文号", 12)) == "corpus/x.txt:12: expected a 文号"
    assert str(ParseError("corpus/x.txt", "expected a 文号")) == "corpus/x.txt: expected a 文号"


def test_corpus_with_good_and_bad_files(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / GOOD, corpus / GOOD)
    for name, raw, _ in BAD:
        (corpus / name).write_bytes(raw)
    (corpus / "README.md").write_text("not a notice, skipped\n", encoding="utf-8")

    result = parse_corpus(corpus)

    assert [f.source.path for f in result.files] == [GOOD]
    assert [d.id for d in result.documents] == ["大人社发〔2020〕391号"]
    errors = sorted((p for p in result.problems if p.severity == "error"), key=lambda p: p.path)
    expected = sorted(BAD, key=lambda b: b[0])
    assert [p.path for p in errors] == [name for name, _, _ in expected]
    for problem, (name, _, message) in zip(errors, expected):
        assert f"{problem.path}:{problem.line}" == message.split(":", 2)[0] + ":" + message.split(":", 2)[1]
        assert message.endswith(problem.message)
        assert str(problem).startswith(f"{name}:{problem.line}: error: ")
    # the good file's own warning (it is truncated) is still reported
    warnings = [p for p in result.problems if p.severity == "warning"]
    assert [p.path for p in warnings] == [GOOD]
    assert "十四 ends mid-sentence" in warnings[0].message


def test_bad_manifest(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.toml").write_text("[files\n", encoding="utf-8")
    # one problem naming the manifest and its line; the parse goes on (tests/test_hostile.py has the rest)
    assert [str(p) for p in parse_corpus(corpus).problems] == [
        "manifest.toml:1: error: [files: invalid TOML: Expected ']' at the end of a table declaration; this table is ignored, the others apply"
    ]
