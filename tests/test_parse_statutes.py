"""Statutes and amendment decisions: the real laws of ../shared/realworld, each pinned.

Counts come from an independent counter (plain regexes over the raw lines, written here and
sharing nothing with the parser's grammar); metadata from tests/gold/realworld_metadata.toml,
read by hand from the texts. Every file is parsed once per module.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest

from kb.errors import ParseError
from kb.parse import parse_bytes, parse_corpus, parse_file, resolve_citation, span_text
from kb.publish import build
from kb.text import compact
from kb.versions import assign_versions

ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT / "corpus"  # the 16 files of ../shared/realworld, byte-identical (their manifest entries say so)
FILES = sorted(p.name for p in REALWORLD.iterdir() if p.suffix in (".md", ".txt") and p.name != "SOURCES.md" and "(" in p.name)
GOLD = tomllib.loads((ROOT / "tests" / "gold" / "realworld_metadata.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed():
    return {name: parse_file(REALWORLD / name) for name in FILES}


def test_all_sixteen_files_are_here():
    assert len(FILES) == 16 and set(FILES) == set(GOLD)


# -- the independent counter ------------------------------------------------------------------
_CN = "〇一二三四五六七八九十百千零两"
_COUNTED = {  # first match wins; a line that matches none is a paragraph, or runs on
    "article": re.compile(rf"^第[{_CN}]+条(?:之[{_CN}]+)?[ \u3000]"),
    "chapter": re.compile(rf"^(?:#+ *)?第[{_CN}]+章[ \u3000]"),
    "section": re.compile(rf"^(?:#+ *)?第[{_CN}]+节[ \u3000]"),
    "item": re.compile(rf"^[（(][{_CN}]+[)）]"),
    "point": re.compile(r"^\d+[.．、]"),
}
_ITEM_RUN_ON = re.compile(rf"[：；:;][ \u3000]+[（(][{_CN}]+[)）]")  # "…处分： （一）… （二）…" on one line


def count_by_hand(text: str) -> dict[str, int]:
    """Articles, chapters, sections, items, points and 款 beyond the first, from the raw lines.

    The body starts after LawRefBook's "<!-- INFO END -->". A plain line is a new 款 when the
    line before it ends a sentence (。；：), else it continues a line broken mid-sentence.
    """
    lines = text.splitlines()
    body = lines[lines.index("<!-- INFO END -->") + 1 :] if "<!-- INFO END -->" in lines else lines[1:]
    counts = dict.fromkeys([*_COUNTED, "paragraph"], 0)
    previous = "。"
    for raw in body:
        line = raw.strip().replace("\u200b", "")
        if not line:
            continue
        counts["item"] += len(_ITEM_RUN_ON.findall(line))
        kind = next((k for k, pattern in _COUNTED.items() if pattern.match(line)), None)
        if kind:
            counts[kind] += 1
        elif previous[-1] in "。；：:;":
            counts["paragraph"] += 1
        previous = line
    return counts


@pytest.mark.parametrize("name", [f for f in FILES if GOLD[f]["genre"] == "statute"])
def test_counts_match_an_independent_count(parsed, name):
    expected = count_by_hand((REALWORLD / name).read_text(encoding="utf-8"))
    headings = GOLD[name].get("headings", [])
    expected["chapter"] += len(headings)  # chapter headings printed without 第N章 (山东)
    expected["paragraph"] -= len(headings)
    (doc,) = parsed[name].documents
    found = {kind: sum(1 for c in doc.clauses if c.kind == kind) for kind in expected}
    assert found == expected
    assert expected["article"] > 0 and len(doc.clauses) == sum(expected.values())
    assert [c.heading for c in doc.clauses if c.kind == "chapter" and not c.label.startswith("第")] == headings


@pytest.mark.parametrize("name", FILES)
def test_metadata_read_by_hand(parsed, name):
    gold = GOLD[name]
    (doc,) = parsed[name].documents
    assert doc.id == gold["id"] and doc.title == gold["title"]
    assert (doc.genre, doc.force, doc.level, doc.jurisdiction, doc.province) == (
        gold["genre"], gold["force"], gold["level"], gold["jurisdiction"], gold.get("province"),
    )
    assert doc.issuers == gold["issuers"]
    assert doc.version_date == gold.get("version_date") and doc.effective == gold.get("effective")
    assert doc.identifiers == gold.get("identifiers", [])
    assert doc.amends == gold.get("amends", [])
    assert [e.act for e in doc.events] == gold["acts"]
    assert all(e.date for e in doc.events)
    assert doc.doc_number is None and doc.complete, doc.incomplete_reasons


def test_ids_are_distinct_and_versions_pair_and_order(parsed):
    documents = [d for name in FILES for d in parsed[name].documents]
    assert len({d.id for d in documents}) == 13  # 16 files, three laws in two versions each
    _, versions = assign_versions(documents)
    chains: dict[str, list[str]] = {}
    for v in versions:
        chains.setdefault(v.document_id, []).append(v.document.version_date)
    paired = {k: v for k, v in chains.items() if len(v) > 1}
    assert paired == {
        "中华人民共和国立法法": ["2015-03-15", "2023-03-13"],
        "中华人民共和国行政复议法": ["2017-09-01", "2023-09-01"],
        "全国年节及纪念日放假办法": ["2007-12-14", "2024-11-10"],
    }


def test_versions_are_ordered_by_date_never_by_file_name():
    old = (REALWORLD / "立法法(2015-03-15).md").read_bytes()
    new = (REALWORLD / "立法法(2023-03-13).md").read_bytes()
    documents = parse_bytes(new, "a-first-by-name.md").documents + parse_bytes(old, "z-last-by-name.md").documents
    latest, versions = assign_versions(documents)
    assert [(v.version, v.document.source.path, v.ordered_by) for v in versions] == [
        (1, "z-last-by-name.md", "text-date"),
        (2, "a-first-by-name.md", "text-date"),
    ]
    assert latest[0].version_date == "2023-03-13"


# -- structure ---------------------------------------------------------------------------------
def test_item_then_paragraph(parsed):
    """A 款 after items is its own clause, not glued into the last item."""
    name = "劳动保障监察条例(2004-11-01).md"
    raw = (REALWORLD / name).read_text(encoding="utf-8").splitlines()
    lines = [line.strip() for line in raw if line.strip()]
    # find, by hand, every place where an item line is followed by a plain line
    expected = []
    article = None
    for k, line in enumerate(lines):
        if m := re.match(rf"^(第[{_CN}]+条)[ \u3000]", line):
            article = m[1]
        if k and re.match(rf"^[（(][{_CN}]+[)）]", lines[k - 1]) and not re.match(rf"^(?:[（(][{_CN}]+[)）]|第[{_CN}]+[条章节]|#)", line):
            expected.append((article, line))
    assert expected, "the file has paragraphs after items"
    doc = parsed[name].documents[0]
    for article, words in expected:
        kuan = [c for c in doc.clauses if c.kind == "paragraph" and c.path.startswith(article + "/") and compact(c.text) == compact(words)]
        assert len(kuan) == 1, (article, words)
        assert all(compact(words) not in compact(c.text) for c in doc.clauses if c.kind == "item")


def test_sections_are_nodes_with_headings(parsed):
    doc = parsed["立法法(2023-03-13).md"].documents[0]
    sections = [c for c in doc.clauses if c.kind == "section"]
    assert [c.path for c in sections][:2] == ["第二章/第一节", "第二章/第二节"]
    assert sections[0].heading == "立法权限" and sections[0].parent_id == doc.clause("第二章").id
    first_article = next(c for c in doc.clauses if c.parent_id == sections[0].id)
    assert first_article.path == "第十条" and first_article.kind == "article"


def test_items_run_into_one_line_are_split(parsed):
    doc = parsed["广东省人力资源市场条例(2021-12-01).md"].documents[0]
    items = [c for c in doc.clauses if c.parent_id == doc.clause("第四十八条").id]
    assert [c.label for c in items] == ["（一）", "（二）", "（三）", "（四）", "（五）"]
    assert items[0].text == "不依法作出行政许可决定；" and doc.clause("第四十八条").text.endswith("依法给予处分：")


def test_citation_resolves_to_the_clause(parsed):
    doc = parsed["行政复议法(2017-09-01).md"].documents[0]
    clause = resolve_citation(doc, "第二十八条第一款第三项")
    assert clause.path == "第二十八条/（三）" and clause.text.startswith("具体行政行为有下列情形之一的")
    point = resolve_citation(doc, "第二十八条第一款第三项第二目")
    assert point.path == "第二十八条/（三）/2" and point.kind == "point"
    law = parsed["立法法(2023-03-13).md"].documents[0]
    assert resolve_citation(law, "第十条第二款").path == "第十条/第二款"
    assert resolve_citation(law, "第10条第2款") == resolve_citation(law, "第十条第二款")
    assert resolve_citation(law, "第二章第一节").heading == "立法权限"
    with pytest.raises(KeyError, match="中华人民共和国立法法 has no clause '第十条第九款'"):
        resolve_citation(law, "第十条第九款")


def test_offsets_point_at_the_text(parsed):
    for name in FILES:
        source = parsed[name].source
        for doc in parsed[name].documents:
            for c in doc.clauses:
                assert span_text(source, c.text_spans) == compact(c.text), (name, c.path)
                if c.heading_span:
                    assert span_text(source, [c.heading_span]) == compact(c.heading), (name, c.path)


def test_decision_structure_and_amends(parsed):
    doc = parsed["国务院关于修改《全国年节及纪念日放假办法》的决定(2024-11-10).txt"].documents[0]
    assert [c.path for c in doc.clauses] == ["序言", "一", "二", "结语"]
    assert doc.clause("一").text.startswith("将第二条第二项修改为") and "本决定自2025年1月1日起施行" in doc.clause("结语").text


# -- synthetic statutes: what the real ones do not show ------------------------------------------
_SMALL = """# 某市电梯安全条例

2020年5月1日 某市第十五届人民代表大会常务委员会第二十次会议通过

第一条 为了保障电梯安全，制定本条例。

第二条 有下列情形之一的，不得使用：
(一)未经检验；
(二)检验不合格：
1. 主要部件损坏；
2. 安全装置失效。
前款规定的电梯，应当停止使用。

第三条 本条例自2020年7月1日起施行。
"""


def test_half_width_items_points_and_kuan():
    doc = parse_bytes(_SMALL.encode(), "small.md").documents[0]
    assert [c.path for c in doc.clauses] == [
        "第一条", "第二条", "第二条/（一）", "第二条/（二）", "第二条/（二）/1", "第二条/（二）/2", "第二条/第二款", "第三条",
    ]
    assert doc.clause("第二条/第二款").text == "前款规定的电梯，应当停止使用。"
    assert doc.effective == "2020-07-01" and doc.force == "地方性法规" and doc.version_date == "2020-05-01"


def test_a_statute_without_articles_is_a_clear_error():
    with pytest.raises(ParseError) as e:
        parse_bytes("# 某某条例\n\n2020年5月1日 国务院第1次常务会议通过\n\n第一章 总则\n".encode(), "bad.md")
    assert str(e.value) == "bad.md:1: a statute title ('某某条例') but no articles after it: expected 第一条 …"
    empty = parse_bytes("# 某某条例\n\n第一条\n".encode(), "empty.md")
    assert empty.documents[0].incomplete_reasons == ["第一条 has no text (pages missing?)"]
    assert [str(w) for w in empty.warnings] == ["empty.md: warning: 某某条例 incomplete: 第一条 has no text (pages missing?)"]


def test_two_titles_claiming_one_id_is_a_problem_not_a_merge(tmp_path):
    gazette = ROOT / "corpus" / "2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt"
    shutil.copy(gazette, tmp_path / "a.txt")
    text = gazette.read_text(encoding="utf-8")
    assert text.count("关于印发《进一步支持") == 1  # the title line
    (tmp_path / "b.txt").write_text(text.replace("关于印发《进一步支持", "关于印发《另外支持"), encoding="utf-8")
    result = parse_corpus(tmp_path, workers=1)
    assert [d.source.path for d in result.documents] == ["a.txt"]
    (problem,) = [p for p in result.problems if p.severity == "error"]
    assert problem.path == "b.txt" and "辽人社〔2022〕22号" in problem.message and "a.txt" in problem.message
    db = tmp_path.parent / f"{tmp_path.name}.db"
    build(tmp_path, db)  # the build goes on, publishes the first, and records the clash
    conn = sqlite3.connect(db)
    assert conn.execute("select id, source_path from documents where placeholder = 0").fetchall() == [("辽人社〔2022〕22号", "a.txt")]
    assert conn.execute("select path, severity from problems where message like '%cannot share an id%'").fetchall() == [("b.txt", "error")]


@pytest.fixture(scope="module")
def statute_db(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("laws")
    for name in ("失业保险条例(1999-01-22).md", "广东省失业保险条例(2022-06-01).md", "立法法(2015-03-15).md", "立法法(2023-03-13).md"):
        shutil.copy(REALWORLD / name, corpus / name)
    db = tmp_path_factory.mktemp("db") / "kb.db"
    build(corpus, db)
    return db


def test_statutes_are_published_with_their_trees(statute_db):
    conn = sqlite3.connect(statute_db)
    rows = conn.execute("select id, genre, force, level, version_date, effective, events, version from documents order by id").fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("中华人民共和国立法法", "statute", "法律", "national", "2023-03-13"),
        ("失业保险条例", "statute", "行政法规", "national", "1999-01-22"),
        ("广东省失业保险条例", "statute", "地方性法规", "province", "2022-06-01"),
    ]
    events = json.loads(rows[2][6])
    assert [e["act"] for e in events] == ["通过", "修订", "修正"] and events[0]["body"] == "广东省人民代表大会常务委员会"
    kinds = dict(conn.execute("select kind, count(*) from clauses where document_id = '失业保险条例' group by kind").fetchall())
    assert kinds == {"chapter": 6, "article": 33, "paragraph": 10, "item": 28}
    versions = conn.execute("select version, source_path from document_versions where document_id = '中华人民共和国立法法' order by version").fetchall()
    assert versions == [(1, "立法法(2015-03-15).md"), (2, "立法法(2023-03-13).md")]


def test_corpus_copies_are_byte_identical_and_sourced():
    manifest = tomllib.loads((ROOT / "corpus" / "manifest.toml").read_text(encoding="utf-8"))["files"]
    shared = Path("/work/shared/realworld")
    for name in FILES:
        assert "LawRefBook/Laws" in manifest[name]["retrieved_from"] and manifest[name]["note"]
        if shared.is_dir():
            assert (shared / name).read_bytes() == (REALWORLD / name).read_bytes(), name


# -- the shapes official copies take that the LawRefBook files do not -----------------------------
STATUTE_CASES = ROOT / "tests" / "data" / "statutes"


def _case(name: str):
    (doc,) = parse_file(STATUTE_CASES / name).documents
    return doc


def test_a_city_regulation_approved_by_its_province():
    doc = _case("city-regulation.txt")  # history in one bracketed line: 通过, 批准, 公告…公布, 施行
    assert (doc.id, doc.level, doc.jurisdiction, doc.province, doc.force) == ("郑州市城市供水节水条例", "city", "郑州市", "河南省", "地方性法规")
    assert [(e.date, e.act) for e in doc.events] == [("2019-10-29", "通过"), ("2019-11-29", "批准"), ("2019-12-10", "公布"), ("2020-03-01", "施行")]
    assert doc.issuers == ["郑州市人民代表大会常务委员会"]  # the maker, not the approving province
    assert doc.events[1].body == "河南省人民代表大会常务委员会"
    assert (doc.version_date, doc.effective) == ("2019-12-10", "2020-03-01")
    assert doc.identifiers == ["郑州市人民代表大会常务委员会公告第5号"]


def test_a_promulgation_order_above_the_title_a_contents_list_and_an_attachment():
    doc = _case("state-council-order.txt")
    assert (doc.title, doc.force, doc.identifiers) == ("人力资源市场暂行条例", "行政法规", ["国务院令第700号"])
    assert [(e.date, e.act, e.body) for e in doc.events] == [
        ("2018-05-02", "通过", "国务院"), ("2018-06-29", "公布", "国务院"), ("2018-10-01", "施行", None),
    ]
    assert [c.path for c in doc.clauses if c.kind == "chapter"] == ["第一章", "第二章", "第三章"]  # the contents list is not read as chapters
    assert doc.clause("附件").heading == "人力资源服务许可证样式" and doc.clause("第四条").text == "本条例自2018年10月1日起施行。"
    reasons = [d.reason for d in doc.source.discarded]
    assert reasons == ["title", "promulgation-order", "table-of-contents"]


def test_a_ministry_rule():
    doc = _case("ministry-rule.txt")
    assert (doc.force, doc.level, doc.issuers, doc.version_date, doc.effective) == (
        "部门规章", "national", ["人力资源和社会保障部"], "2024-02-20", "2024-03-01",
    )
    assert doc.identifiers == ["人力资源和社会保障部令第53号"]


def test_books_and_sub_books():
    doc = _case("civil-code-books.txt")
    assert (doc.genre, doc.force) == ("statute", "法律")
    assert [c.path for c in doc.clauses if c.kind != "article"] == [
        "第一编", "第一编/第一章", "第一编/第二章", "第一编/第二章/第一节", "第二编", "第二编/第一分编", "第二编/第一分编/第一章",
    ]
    assert doc.clause("第三条").parent_id == doc.clause("第二编/第一分编/第一章").id


def test_bracketed_history_with_several_events():
    doc = _case("bracketed-history.txt")
    assert [(e.date, e.act) for e in doc.events] == [("2007-08-30", "通过"), ("2015-04-24", "修正")]
    assert doc.issuers == ["全国人民代表大会常务委员会"] and doc.version_date == "2015-04-24"


def test_a_version_note_in_the_title_is_not_part_of_the_id(tmp_path):
    (tmp_path / "a.md").write_text("# 中华人民共和国公司法（2018年修正）\n\n第一条 为了规范公司的组织和行为，制定本法。\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# 中华人民共和国公司法\n\n第一条 为了规范公司，制定本法。\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("# 某某管理办法（试行）\n\n第一条 为了规范，制定本办法。\n", encoding="utf-8")
    result = parse_corpus(tmp_path, workers=1)
    assert [(d.id, d.title, d.genre) for d in result.documents] == [
        ("中华人民共和国公司法", "中华人民共和国公司法（2018年修正）", "statute"),
        ("中华人民共和国公司法", "中华人民共和国公司法", "statute"),
        ("某某管理办法（试行）", "某某管理办法（试行）", "statute"),  # 试行 names the document, not a version
    ]
    assert result.problems == []


def test_kb_parse_shows_a_statutes_history():
    from click.testing import CliRunner

    from kb.cli import cli

    path = str(REALWORLD / "人力资源市场暂行条例(2018-06-29).md")
    text = CliRunner().invoke(cli, ["parse", path])
    assert text.exit_code == 0
    assert "  force        行政法规\n" in text.output and "  history      2018-05-02 国务院 通过; 2018-06-29 国务院 公布; 2018-10-01 施行\n" in text.output
    dumped = CliRunner().invoke(cli, ["parse", "--json", path])
    assert dumped.exit_code == 0
    (doc,) = json.loads(dumped.output)[0]["documents"]
    assert doc["events"][1] == {"date": "2018-06-29", "body": "国务院", "act": "公布", "text": "2018年6月29日中华人民共和国国务院令第700号公布", "identifier": "国务院令第700号"}


def test_a_pages_own_title_and_date_are_used_when_the_text_lacks_them():
    """Source.meta (filled by the HTML/docx/pdf readers) names the title line and dates the text."""
    from kb.parse.decode import read_source
    from kb.parse.lines import split_lines
    from kb.parse.statute import read_statute

    raw = "首页 > 政策文件\n某某市养犬管理规定\n第一条 为了规范养犬行为，制定本规定。\n".encode()
    source = read_source(raw, "page.html")
    source.meta = {"format": "html", "title": "某某市养犬管理规定_某某市人民政府网", "h1": "某某市养犬管理规定", "published": "2021-03-01"}
    doc, discarded = read_statute(split_lines(source.text).lines, source, {}, "statute")
    assert (doc.title, doc.version_date, doc.metadata_sources["version_date"]) == ("某某市养犬管理规定", "2021-03-01", "page")
    assert [c.path for c in doc.clauses] == ["第一条"] and [d.reason for d in discarded] == ["title", "before-title"]


def test_a_missing_article_is_a_gap_not_a_glued_paragraph():
    text = "# 某某条例\n\n第一条 为了测试，制定本条例。\n\n第二条 甲。\n\n第二十条规定的事项，另行规定。\n\n第四条 乙。\n\n第五条 丙。\n"
    parsed = parse_bytes(text.encode(), "gap.md")
    (doc,) = parsed.documents
    assert [c.path for c in doc.clauses] == ["第一条", "第二条", "第二条/第二款", "第四条", "第五条"]
    assert doc.clause("第二条/第二款").text == "第二十条规定的事项，另行规定。"  # a reference, not an article
    assert doc.incomplete_reasons == ["第四条 follows 第二条: numbering jumps (pages missing?)"]
