"""Dates as people write them (kb.dates), and every place that takes one: governs on the web and
the command line. Each form below was misread or refused before (issue 28 #1, issue 30 #7)."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.dates import DateError, as_of, parse_date

FORMS = ["2021-08-01", "2021/08/01", "20210801", "2021-8-1", "2021年8月1日", "2021.8.1", "二〇二一年八月一日", "２０２１－０８－０１", " 2021 年 8 月 1 日 "]


@pytest.mark.parametrize("written", FORMS)
def test_every_common_form_reads_as_the_same_day(written):
    assert parse_date(written) == date(2021, 8, 1)


@pytest.mark.parametrize(
    "written, why",
    [
        ("2021-13-01", "there is no month 13"),
        ("2021-02-30", "2021-02 has no day 30"),
        ("2021年2月29日", "2021-02 has no day 29"),
        ("21-8-1", "write the year in full"),
        ("2021-08", "not a date"),
        ("2021-8/1", "not a date"),
        ("garbage", "not a date"),
        ("yesterday", "not a date"),
    ],
)
def test_what_is_not_a_date_is_refused_saying_why(written, why):
    with pytest.raises(DateError) as e:
        parse_date(written, "as_of")
    assert str(e.value).startswith(f"as_of {written!r}: {why}")


def test_leap_day_and_year_end():
    assert parse_date("2020年2月29日") == date(2020, 2, 29)
    assert parse_date("二〇二一年十二月三十一日") == date(2021, 12, 31)


def test_an_empty_date_means_today_and_says_so():
    today = as_of("", today=date(2026, 12, 8))
    assert (today.date, today.implicit) == ("2026-12-08", True)
    assert today.describe() == "today (2026-12-08)"
    given = as_of("2021/8/1")
    assert (given.date, given.implicit, given.describe()) == ("2021-08-01", False, "2021-08-01")
    assert as_of(None).date == date.today().isoformat()


@pytest.mark.parametrize("written", ["2021/08/01", "20210801", "2021-8-1", "2021年8月1日"])
async def test_governs_page_reads_the_date_as_written(ds, written):
    """Fushun's 稳岗返还 clause is in force on 2021-08-01 (it lapses on 2021-12-31) in every form."""
    j = (await ds.client.get(f"/-/kb/governs.json?topic={quote('稳岗返还')}&city={quote('抚顺')}&as_of={quote(written)}")).json()
    assert j["as_of"]["date"] == "2021-08-01" and j["as_of"]["implicit"] is False
    assert j["verdict"]["clause_id"] == "抚人社发〔2021〕20号:一"
    assert j["verdict"]["status"]["state"] == "in force"


async def test_governs_answers_are_the_same_for_the_same_day_written_two_ways(ds):
    ask = lambda d: ds.client.get(f"/-/kb/governs.json?topic={quote('补贴')}&city={quote('抚顺')}&as_of={d}")
    short, iso = (await ask("2021-1-1")).json(), (await ask("2021-01-01")).json()
    assert [a["clause_id"] for a in short["answers"]] == [a["clause_id"] for a in iso["answers"]]
    assert short["answers"]


@pytest.mark.parametrize("path", ["/-/kb/governs.json", "/-/kb/governs"])
async def test_governs_refuses_a_bad_date_with_400_and_why(ds, path):
    r = await ds.client.get(f"{path}?topic={quote('补贴')}&city={quote('抚顺')}&as_of=garbage")
    assert r.status_code == 400
    assert "as_of &#39;garbage&#39;: not a date" in r.text or "as_of 'garbage': not a date" in r.text


async def test_governs_without_a_date_says_it_means_today(ds):
    r = await ds.client.get(f"/-/kb/governs?topic={quote('稳岗返还')}&city={quote('抚顺')}&lang=en")
    assert r.status_code == 200 and f"as of today ({date.today().isoformat()})" in r.text
    j = (await ds.client.get(f"/-/kb/governs.json?topic={quote('稳岗返还')}&city={quote('抚顺')}")).json()
    assert j["as_of"] == {"date": date.today().isoformat(), "given": "", "implicit": True, "meaning": f"today ({date.today().isoformat()})"}


def test_cli_governs_reads_the_date_as_written_and_refuses_a_bad_one(kb_db_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["governs", "稳岗返还", "--city", "抚顺", "--as-of", "20210801", "--db", str(kb_db_path), "--json"])
    assert ok.exit_code == 0, ok.output
    ruling = json.loads(ok.output)
    assert ruling["as_of"]["date"] == "2021-08-01"
    assert ruling["verdict"]["clause_id"] == "抚人社发〔2021〕20号:一" and ruling["verdict"]["status"]["state"] == "in force"
    bad = runner.invoke(cli, ["governs", "补贴", "--city", "抚顺", "--as-of", "2021-02-30", "--db", str(kb_db_path)])
    assert bad.exit_code == 1 and "Error: --as-of '2021-02-30': 2021-02 has no day 30" in bad.output
    today = runner.invoke(cli, ["governs", "稳岗返还", "--city", "抚顺", "--db", str(kb_db_path)])
    assert f"as of today ({date.today().isoformat()})" in today.output
