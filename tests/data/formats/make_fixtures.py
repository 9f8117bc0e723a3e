"""Remake the .docx and .pdf fixtures of tests/test_parse_formats.py from the .txt copies.

Not run by the tests (they read the committed files, so they need no LibreOffice). Run it by
hand after changing a .txt copy: ``python tests/data/formats/make_fixtures.py``. It needs
Debian's ``libreoffice-writer-nogui`` (``soffice``) and python-docx.

- ``X.docx``: LibreOffice's own conversion of ``X.txt`` (one paragraph per line).
- ``X.pdf``: that .docx laid out the way a government office prints (三号 type, a first-line
  indent of two characters, the title in the page header, ``- N -`` in the page footer), then
  exported by LibreOffice: so the PDF has the page furniture and the layout line breaks a
  real one has.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

HERE = Path(__file__).resolve().parent
COPIES = ["dalian-notice.txt", "unemployment-insurance-regulations.txt"]


def _soffice(args: list[str], cwd: Path) -> None:
    subprocess.run(["soffice", "--headless", *args], cwd=cwd, check=True, capture_output=True)


def _page_number_footer(paragraph) -> None:
    """``- {PAGE} -`` as a field, the way Word and WPS number the pages of a 公文."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("- ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == "PAGE" else "w:t")
            element.text = text
        run._r.append(element)
    paragraph.add_run(" -")


def _print_layout(docx: Path, out: Path) -> None:
    document = Document(str(docx))
    title = next(p.text for p in document.paragraphs if p.text.strip())
    section = document.sections[0]
    section.header.paragraphs[0].text = title
    section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_footer(section.footer.paragraphs[0])
    for paragraph in document.paragraphs:
        paragraph.paragraph_format.first_line_indent = Pt(32)
        for run in paragraph.runs:
            run.font.size = Pt(16)
    document.save(str(out))


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        for name in COPIES:
            shutil.copy(HERE / name, tmp / name)
            _soffice(["--infilter=Text (encoded):UTF8,LF,,,", "--convert-to", "docx", name], tmp)
            stem = Path(name).stem
            shutil.copy(tmp / f"{stem}.docx", HERE / f"{stem}.docx")
            printed = tmp / "printed"
            printed.mkdir(exist_ok=True)
            _print_layout(tmp / f"{stem}.docx", printed / f"{stem}.docx")
            _soffice(["--convert-to", "pdf", f"{stem}.docx"], printed)
            shutil.copy(printed / f"{stem}.pdf", HERE / f"{stem}.pdf")


if __name__ == "__main__":
    main()
