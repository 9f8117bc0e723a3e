"""One normalisation of 文号 and ids (kb.text.normalize_id) behind every route, command and
canned query: the half-width and spaced forms people type resolve wherever the 〔〕 form does
(issue 28 #7: they gave 404 on document and clause pages, failed in kb provenance and gave 0
rows in canned queries)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.text import normalize_id

TYPED = ["辽人社发[2021]7号", "辽人社发(2021)7号", "辽人社发（2021）7号", "辽人社发 〔２０２１〕 7 号", "辽人社发【2021】07号", "辽人社发［2021］7号"]


@pytest.mark.parametrize("typed", TYPED)
def test_every_bracket_form_and_width_is_the_stored_id(typed):
    assert normalize_id(typed) == "辽人社发〔2021〕7号"
    assert normalize_id(typed + ":一/(一)") == "辽人社发〔2021〕7号:一/（一）"
    assert normalize_id(typed + "：一/（一）") == "辽人社发〔2021〕7号:一/（一）"
    assert normalize_id(typed + "@2") == "辽人社发〔2021〕7号@2"


def test_statute_ids_and_paths():
    assert normalize_id("广东省 失业保险条例") == "广东省失业保险条例"
    assert normalize_id("失业保险条例:第十条/第二款/(三)") == "失业保险条例:第十条/第二款/（三）"


def test_every_stored_id_is_its_own_normal_form(kb_db):
    """kb_norm(stored id) = stored id: a canned query comparing a column with kb_norm(:param) finds every row."""
    ids = [r["id"] for r in kb_db.query("select id from documents union all select id from clauses")]
    assert len(ids) > 100
    assert [i for i in ids if normalize_id(i) != i] == []


@pytest.mark.parametrize("typed", ["辽人社发[2021]7号", "辽人社发(2021)7号", "辽人社发 [2021] 7号"])
async def test_document_and_clause_pages_resolve_half_width(ds, typed):
    doc = await ds.client.get("/-/kb/document/" + quote(typed, safe=""))
    assert doc.status_code == 200 and "辽人社发〔2021〕7号" in doc.text
    clause = await ds.client.get("/-/kb/clause/" + quote(typed + ":一/(一)", safe=""))
    assert clause.status_code == 200 and "辽人社发〔2021〕7号:一/（一）" in clause.text


async def test_an_unknown_id_is_still_404(ds):
    assert (await ds.client.get("/-/kb/document/" + quote("辽人社发[2099]7号", safe=""), follow_redirects=True)).status_code == 404
    assert (await ds.client.get("/-/kb/clause/" + quote("辽人社发[2021]7号:九十九", safe=""), follow_redirects=True)).status_code == 404


async def test_canned_query_takes_the_id_as_typed(ds):
    path = "/kb/provincial_coverage.json?_shape=array&provincial="
    stored = (await ds.client.get(path + quote("辽政办发〔2020〕25号"))).json()
    typed = (await ds.client.get(path + quote("辽政办发(2020)25号"))).json()
    assert len(stored) > 10
    assert typed == stored


def test_kb_provenance_takes_the_id_as_typed(kb_db_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["provenance", "辽人社发[2021]7号:一/(一)", "--db", str(kb_db_path), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["clause_id"] == "辽人社发〔2021〕7号:一/（一）"
    assert record["source"]["sha256"]
