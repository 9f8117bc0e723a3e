"""Time limits read from clause text, on sentences of the seeds."""

from __future__ import annotations

import pytest

from kb.timing import add_months, expiry, extract_time_limits


@pytest.mark.parametrize(
    "text, issued, expected",
    [
        ("可于2021年12月31日前申请2020年度失业保险稳岗返还。", "2021-07-29", "2021-12-31"),
        ("以工代训补贴政策实施期限延长至2021年12月31日，具体补贴标准", "2021-07-29", "2021-12-31"),
        ("给予吸纳就业岗位补贴，执行期限自本文印发之日起12个月。", "2020-11-01", "2021-11-01"),
        ("自本文印发之日起到2020年12月31日，对未就业人员…期限12个月。", "2020-11-01", "2020-12-31"),
        ("2020年至2021年，对组织新招用高校毕业生", "2020-11-24", "2021-12-31"),
        ("相关政策延续执行至2025年12月31日。", "2021-06-30", "2025-12-31"),
        # the last of several limits ends the clause; an event date is not a limit
        (
            "其中，2020年12月31日（含）之前发生的，申领受理时间截至2021年7月31日；2021年1月1日（含）之后新发生的，"
            "申领受理时间截至2021年12月31日，实际发放时间最长可至2022年6月30日。",
            "2021-06-30",
            "2022-06-30",
        ),
    ],
)
def test_expiry(text, issued, expected):
    found = expiry(extract_time_limits(text, issued))
    assert found is not None and found.date == expected
    assert found.words in text


@pytest.mark.parametrize(
    "text",
    [
        "自本细则发布起15日内报市人社局备案后公开发布",  # a deadline for an act, not for the rule
        "按规定相应给予不超过24个月的创业场地补贴",
        "2020年12月31日（含）之前发生的，按各市政策执行口径",
    ],
)
def test_no_expiry(text):
    assert expiry(extract_time_limits(text, "2021-01-01")) is None


def test_effective_and_prevails():
    limits = extract_time_limits("本通知自印发之日起实施。以往规定与本通知不一致的，以本通知为准。", "2021-06-30")
    kinds = {(t.kind, t.date) for t in limits}
    assert ("effective", "2021-06-30") in kinds
    assert ("prevails", "2021-06-30") in kinds


def test_add_months_clamps_to_month_end():
    assert add_months("2021-01-31", 1) == "2021-02-28"
    assert add_months("2020-11-01", 12) == "2021-11-01"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("本办法自2021年1月1日起施行。", {("effective", "2021-01-01")}),  # dated: no 之日起
        ("自本通知印发之日起实施，执行期限自本文印发之日起12个月。", {("effective", "2021-06-30"), ("expires", "2022-06-30")}),
        ("各地要按季度报送工作进展情况。", set()),  # no date, 之日起 or 以往: nothing to find
    ],
)
def test_each_form_is_found_whatever_else_the_text_holds(text, expected):
    assert {(t.kind, t.date) for t in extract_time_limits(text, "2021-06-30")} == expected
