"""Remake the .docx and .pdf fixtures of tests/test_parse_formats.py from the .txt copies.

Not run by the tests (they read the committed files, so they need no LibreOffice). Run it by
hand after changing a .txt copy: ``python tests/data/formats/make_fixtures.py``. It needs
Debian's ``libreoffice-writer-nogui`` (``soffice``) and python-docx.

- ``X.docx``: LibreOffice's own conversion of ``X.txt`` (one paragraph per line).
- ``fushun-table.pdf``: the corpus's 抚人社发〔2021〕20号, its tab-separated rows (the 责任分工表)
  made a ruled Word table by python-docx, exported by LibreOffice: a PDF with tables whose
  rows break across pages.
- ``X.html``: the text wrapped in a government portal's page (title, meta dates, an info
  bar, 字体/打印 tools, the document's title as <h1>, a share bar, 打印 关闭, a 相关链接 box,
  扫一扫, a footer), each line a <p>. Made without LibreOffice (``--html`` makes only these).
- ``X.pdf``: that .docx laid out the way a government office prints (三号 type, a first-line
  indent of two characters, the title in the page header, ``- N -`` in the page footer), then
  exported by LibreOffice: so the PDF has the page furniture and the layout line breaks a
  real one has.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
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


# What each page says about itself: (title suffix, head metas, the info bar above the text).
PAGES = {
    "dalian-notice.txt": (
        "_政策文件_大连市人力资源和社会保障局",
        "",
        "发布日期：2020-11-24　来源：大连市人力资源和社会保障局　浏览次数：1234",
    ),
    "unemployment-insurance-regulations.txt": (
        "_国务院文件_中国政府网",
        '<meta name="PubDate" content="1999-01-22 00:00">\n<meta name="firstpublishedtime" content="1999-01-22-00:00:00">',
        "1999-01-22 00:00　来源：中国政府网",
    ),
}
_TITLE_ENDS = ("通知", "条例", "办法", "规定", "意见", "决定")


def gov_page(text: str, title_suffix: str, metas: str, info_bar: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = next((line for line in lines if line.endswith(_TITLE_ENDS)), lines[0])
    body = "\n".join(f"<h1>{html.escape(line)}</h1>" if line == title else f"<p>{html.escape(line)}</p>" for line in lines)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
{metas}
<title>{html.escape(title)}{title_suffix}</title>
<link rel="stylesheet" href="/css/common.css">
<script>var _hmt = _hmt || [];</script>
</head>
<body>
<div class="header"><nav><a href="/">首页</a> | <a href="/zhengce/">政策</a> | <a href="/hudong/">互动</a></nav></div>
<div class="BreadcrumbNav">当前位置：<a href="/">首页</a> &gt; <a href="/zhengce/">政策</a> &gt; 文件</div>
<div class="article">
<div class="pages-date">{html.escape(info_bar)}</div>
<div class="pages_print">【字体：<span>大</span> <span>中</span> <span>小</span>】<a href="javascript:window.print()">打印</a></div>
<div id="UCAP-CONTENT" class="pages_content">
{body}
</div>
<div class="share">分享到：<a class="wx">微信</a> <a class="wb">微博</a> <a class="qz">QQ空间</a></div>
<div class="print"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></div>
<div class="related"><div class="title"><span>相关链接</span></div>
<ul>
<li><a href="/a.htm">国务院关于修改部分行政法规的决定</a></li>
<li><a href="/b.htm">社会保险费征缴暂行条例</a></li>
</ul></div>
<div class="qr">扫一扫在手机打开当前页<img src="qr.png" alt=""></div>
</div>
<div class="footer">版权所有：中国政府网　京ICP备05070218号　京公网安备11010202000001号</div>
</body>
</html>
"""


FUSHUN = HERE.parent.parent.parent / "corpus" / "2021-07-29_fushun_fs-renshefa-2021-20_with-ln-renshefa-2021-7.txt"


def _table_docx(text: str, out: Path) -> None:
    """Each run of tab-separated lines a ruled table; a cell's <p> fragments its paragraphs."""
    import lxml.html

    document = Document()
    rows: list[list[str]] = []

    def add_table() -> None:
        table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        table.style = "Table Grid"
        for row, values in zip(table.rows, rows):
            for cell, value in zip(row.cells, values):
                fragment = lxml.html.fragment_fromstring(value, create_parent="div")
                paragraphs = [p.text_content() for p in fragment.iter("p")] or [fragment.text_content()]
                cell.text = paragraphs[0]
                for more in paragraphs[1:]:
                    cell.add_paragraph(more)
        rows.clear()

    for line in text.split("\n"):
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        if rows:
            add_table()
        document.add_paragraph(line)
    if rows:
        add_table()
    document.save(str(out))


def main() -> None:
    for name, (suffix, metas, info_bar) in PAGES.items():
        page = gov_page((HERE / name).read_text(encoding="utf-8"), suffix, metas, info_bar)
        (HERE / name.replace(".txt", ".html")).write_text(page, encoding="utf-8")
    if "--html" in sys.argv:
        return
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
        _table_docx(FUSHUN.read_text(encoding="utf-8"), tmp / "fushun-table.docx")
        _soffice(["--convert-to", "pdf", "fushun-table.docx"], tmp)
        shutil.copy(tmp / "fushun-table.pdf", HERE / "fushun-table.pdf")


if __name__ == "__main__":
    main()
