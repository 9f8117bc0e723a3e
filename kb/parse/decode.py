"""Bytes -> text: detect the format and the encoding (never assume them), refuse the rest.

The format comes from the first bytes (kb.parse.formats.sniff): a .docx or a .pdf is read
into text there; an image, .doc, .wps, .ofd is a ParseError saying how to convert it. For
text and HTML the order of trust is: a BOM; UTF-16 without a BOM (its NULs tell it); strict
UTF-8; strict GB18030 (a superset of GBK and GB2312, which is what Chinese government PDFs
and portals export); then charset-normalizer's guess. A file that none of them can decode
is a ParseError naming the line of the first bad byte.

Size limit, not streaming: a text or HTML file over MAX_TEXT_BYTES, a .docx or .pdf over
MAX_BINARY_BYTES, is refused with one line saying so. Every later stage (the grammar, the
linker, the diff) holds a document whole, at about 15 times its size (a 60 MB file took
943 MB), and a law is small: the Civil Code is under 1 MB. Streaming would change every
stage to save memory only on files that are not one document anyway.

``Source.sha256`` is always the hash of the file's own bytes; ``Source.text`` is the text that
was read (decoded, or extracted from a .docx or .pdf), and every offset points into it.
"""

from __future__ import annotations

import codecs
import hashlib
import re

from charset_normalizer import from_bytes

from ..errors import ParseError
from ..model import Source
from .formats import read_docx, read_pdf, sniff
from .lines import html_page_meta

# A text or HTML file above this is refused (see the module docstring for why not streamed).
MAX_TEXT_BYTES = 8 * 1024 * 1024
# A .docx or .pdf may be larger (embedded fonts and pictures); its text has its own limit.
MAX_BINARY_BYTES = 64 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _looks_binary(raw: bytes) -> int | None:
    """Offset of the first NUL or control byte run that text files do not have."""
    sample = raw[:8192]
    nul = sample.find(b"\x00")
    if nul >= 0:
        return nul
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and controls / len(sample) > 0.05:
        return _CONTROL_BYTE.search(sample).start()
    return None


# Bytes below 32 other than \t \n \v \f \r: counted with bytes.translate, in C.
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
_CONTROL_BYTE = re.compile(b"[\x00-\x08\x0e-\x1f]")


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def decode(raw: bytes, path: str) -> tuple[str, str]:
    """Return (text, encoding name) or raise ParseError."""
    if not raw.strip():
        raise ParseError(path, "empty file: expected the text of a notice", line=1)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(name), name
            except UnicodeDecodeError as e:
                line, col = _line_col(raw, e.start)
                raise ParseError(path, f"starts with a {name} byte-order mark but is not valid {name}", line, col) from e
    utf16 = _utf16_without_bom(raw)
    if utf16 is not None:
        return utf16
    binary_at = _looks_binary(raw)
    if binary_at is not None:
        line, col = _line_col(raw, binary_at)
        raise ParseError(path, f"binary data (byte 0x{raw[binary_at]:02x}): expected a text or HTML file", line, col)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        first_bad = utf8_error.start
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as gb_error:
        # Name the byte where the decoding that got further broke: in a GB18030 file with
        # one bad byte that is the bad byte, not the first non-UTF-8 byte.
        first_bad = max(first_bad, gb_error.start)
    best = from_bytes(raw).best()
    if best is not None and best.encoding and _mostly_cjk_or_ascii(str(best)):
        return str(best), best.encoding
    line, col = _line_col(raw, first_bad)
    raise ParseError(
        path,
        f"cannot decode byte 0x{raw[first_bad]:02x}: neither UTF-8 nor GB18030; re-save the file as UTF-8",
        line,
        col,
    )


def _utf16_without_bom(raw: bytes) -> tuple[str, str] | None:
    """(text, codec) of a UTF-16 file saved without a byte-order mark, else None.

    Its ASCII characters (newlines, digits, punctuation) are half NUL bytes, all on the odd
    offsets (little-endian) or all on the even ones (big-endian); a binary file's NULs fall
    on both. The side is confirmed by decoding strictly into mostly Chinese and ASCII text.
    """
    sample = raw[:8192]
    if b"\x00" not in sample or len(raw) % 2:
        return None
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    for codec, nuls, other in (("utf-16-le", odd_nuls, even_nuls), ("utf-16-be", even_nuls, odd_nuls)):
        if nuls and other * 3 < nuls:  # 一 (U+4E00) and its like put a few NULs on the other side
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if _mostly_cjk_or_ascii(text) and not _CONTROL_BYTE.search(text.encode("utf-8")):
                return text, codec
    return None


def _mostly_cjk_or_ascii(text: str) -> bool:
    if not text:
        return False
    # Half-width katakana (U+FF61-FF9F) is what GB18030 bytes look like read as Shift-JIS: not good.
    good = sum(
        1 for ch in text if ch.isascii() or "\u3000" <= ch <= "\u9fff" or ("\uff00" <= ch <= "\uffef" and not "\uff61" <= ch <= "\uff9f")
    )
    return good / len(text) > 0.9


def read_source(raw: bytes, path: str, manifest: dict | None = None) -> Source:
    """The Source of one file's bytes: its text, the format's metadata, its hash."""
    fmt = sniff(raw, path)
    limit = MAX_TEXT_BYTES if fmt == "text" else MAX_BINARY_BYTES
    if len(raw) > limit:
        raise ParseError(
            path,
            f"{len(raw):,} bytes, over the limit of {limit:,} for a {'text or HTML' if fmt == 'text' else '.' + fmt} file: "
            "a law or notice is far smaller; split the file into one file per document",
            line=1,
        )
    if fmt in _EXTRACTORS:
        extracted = _EXTRACTORS[fmt](raw, path)
        if not extracted.text.strip():
            raise ParseError(path, f"the .{fmt} holds no text: expected the text of a notice", line=1)
        return Source(
            path=path,
            sha256=hashlib.sha256(raw).hexdigest(),
            encoding="",  # extracted, not decoded: Source.char_to_byte is None
            size=len(raw),
            text=extracted.text,
            raw=raw,
            discarded=list(extracted.discarded),
            manifest=dict(manifest or {}),
            meta=extracted.meta,
            page_starts=extracted.page_starts,
        )
    text, encoding = decode(raw, path)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():  # only ideographic spaces, or a byte-order mark and nothing else
        raise ParseError(path, "empty file: expected the text of a notice", line=1)
    # Offsets are into this text; \r\n is kept so that byte offsets stay exact.
    return Source(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
        size=len(raw),
        text=text,
        raw=raw,
        manifest=dict(manifest or {}),
        meta=html_page_meta(text, path) or {"format": "text"},
    )


_EXTRACTORS = {"docx": read_docx, "pdf": read_pdf}
