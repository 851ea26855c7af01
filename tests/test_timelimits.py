"""Unit tests for content.timelimits: 公开时限 parsing and working-day arithmetic."""

import json
from datetime import date, timedelta

import chinese_calendar
import pytest

from content import timelimits
from content.timelimits import (add_workdays, deadline, is_workday,
                                parse_time_limit, workdays_between)


# --- parsing -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("信息形成或者变更之日起20个工作日内", {"count": 20, "unit": "workday"}),
    ("制定或获取信息之日起10个工作日内", {"count": 10, "unit": "workday"}),
    ("3个工作日", {"count": 3, "unit": "workday"}),
    ("7天", {"count": 7, "unit": "day"}),
    ("7日", {"count": 7, "unit": "day"}),
    ("不少于7日", {"count": 7, "unit": "day"}),
    ("30个自然日内", {"count": 30, "unit": "day"}),
    ("实时公开", {"rule": "realtime"}),
    ("实时", {"rule": "realtime"}),
    ("每年1月31日前", {"rule": "annual", "month": 1, "day": 31}),
    ("每季度的首个月20日", {"rule": "quarterly", "day": 20}),
    ("每季度首月20日前", {"rule": "quarterly", "day": 20}),
    ("每季度第一个月15日前", {"rule": "quarterly", "day": 15}),
    ("每月10日前", {"rule": "monthly", "day": 10}),
    ("每季度", {"rule": "quarterly"}),
    ("每季度公开一次", {"rule": "quarterly"}),
    ("每月", {"rule": "monthly"}),
])
def test_parse_forms(text, expected):
    assert parse_time_limit(text) == expected


def test_parse_with_publicity_period():
    got = parse_time_limit("制定或获取信息之日起10个工作日内，公示7个工作日")
    assert got == {"count": 10, "unit": "workday",
                   "publicity": {"count": 7, "unit": "workday"}}


def test_parse_publicity_in_days_and_listed_first():
    got = parse_time_limit("公示期不少于7天，信息形成之日起5个工作日内")
    assert got == {"count": 5, "unit": "workday",
                   "publicity": {"count": 7, "unit": "day"}}


@pytest.mark.parametrize("text, expected", [
    ("信息形成或者变更之日起二十个工作日内", {"count": 20, "unit": "workday"}),
    ("十日内", {"count": 10, "unit": "day"}),
    ("两个工作日", {"count": 2, "unit": "workday"}),
    ("十五个工作日", {"count": 15, "unit": "workday"}),
    ("一百零五天", {"count": 105, "unit": "day"}),
    ("每年一月三十一日前", {"rule": "annual", "month": 1, "day": 31}),
    ("每月十日前", {"rule": "monthly", "day": 10}),
    ("每季度首月二十日前", {"rule": "quarterly", "day": 20}),
])
def test_parse_chinese_numerals(text, expected):
    assert parse_time_limit(text) == expected


def test_parse_full_width_digits_and_spaces():
    assert parse_time_limit("信息形成之日起 ２０ 个工作日内") == {"count": 20, "unit": "workday"}
    assert parse_time_limit("每年１月３１日前") == {"rule": "annual", "month": 1, "day": 31}


@pytest.mark.parametrize("text", [
    "", None, "   ", "根据工作需要", "长期公开", "及时公开", "每年13月40日前", "abc",
])
def test_parse_unknown_is_none(text):
    assert parse_time_limit(text) is None


def test_monthly_day_is_not_a_count_of_days():
    # "每月10日" is a calendar rule, never "10 days".
    assert "count" not in parse_time_limit("每月10日前")


def test_parsed_forms_are_json_able():
    got = parse_time_limit("制定或获取信息之日起10个工作日内，公示7个工作日")
    assert json.loads(json.dumps(got)) == got


# --- working days ------------------------------------------------------------

def test_library_knows_2025_spring_festival():
    # Verify the calendar facts the arithmetic tests rely on.
    for d in (date(2025, 1, 28) + timedelta(days=i) for i in range(8)):  # 01-28..02-04
        assert not chinese_calendar.is_workday(d)
    assert date(2025, 1, 26).weekday() == 6 and chinese_calendar.is_workday(date(2025, 1, 26))
    assert date(2025, 2, 8).weekday() == 5 and chinese_calendar.is_workday(date(2025, 2, 8))
    assert not chinese_calendar.is_workday(date(2025, 1, 25))  # an ordinary Saturday


def test_library_knows_2025_national_day():
    for d in (date(2025, 10, 1) + timedelta(days=i) for i in range(8)):  # 10-01..10-08
        assert not chinese_calendar.is_workday(d)
    assert date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(date(2025, 9, 28))
    assert date(2025, 10, 11).weekday() == 5 and chinese_calendar.is_workday(date(2025, 10, 11))


def test_is_workday_follows_official_calendar():
    assert is_workday(date(2025, 1, 26))       # swapped working Sunday
    assert not is_workday(date(2025, 1, 29))   # Spring Festival, a Wednesday
    assert not is_workday(date(2025, 10, 1))
    assert is_workday(date(2025, 10, 11))      # swapped working Saturday
    assert is_workday(date(2025, 3, 3))        # ordinary Monday
    assert not is_workday(date(2025, 3, 2))    # ordinary Sunday


def test_add_workdays_spring_festival_2025():
    # Fri 01-24 → next working day is the swapped Sunday 01-26.
    assert add_workdays(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert add_workdays(date(2025, 1, 24), 2) == date(2025, 1, 27)
    # 01-27 → the holiday 01-28..02-04 is skipped.
    assert add_workdays(date(2025, 1, 27), 1) == date(2025, 2, 5)
    # Wed 02-05, Thu, Fri, then the swapped Saturday 02-08.
    assert add_workdays(date(2025, 2, 4), 4) == date(2025, 2, 8)
    assert add_workdays(date(2025, 2, 4), 5) == date(2025, 2, 10)
    # Across the whole stretch: 01-26, 01-27, 02-05, 02-06, 02-07, 02-08, 02-10.
    assert add_workdays(date(2025, 1, 24), 7) == date(2025, 2, 10)


def test_add_workdays_national_day_2025():
    # Fri 09-26 → swapped Sunday 09-28.
    assert add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)
    # Tue 09-30 → the holiday 10-01..10-08 is skipped.
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 10-09, 10-10, then the swapped Saturday 10-11, then Monday 10-13.
    assert add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert add_workdays(date(2025, 9, 30), 4) == date(2025, 10, 13)
    # 20 working days from Sat 09-20: 09-22..26 (5), 09-28 (6), 09-29, 09-30 (8),
    # 10-09, 10-10, 10-11 (11), 10-13..17 (16), 10-20..23 (20).
    assert add_workdays(date(2025, 9, 20), 20) == date(2025, 10, 23)


def test_add_workdays_zero_and_negative():
    assert add_workdays(date(2025, 1, 25), 0) == date(2025, 1, 25)
    assert add_workdays(date(2025, 2, 5), -1) == date(2025, 1, 27)
    assert add_workdays(date(2025, 1, 27), -1) == date(2025, 1, 26)


def test_add_workdays_does_not_count_start():
    # Start on a working day: it is not counted.
    assert add_workdays(date(2025, 3, 3), 1) == date(2025, 3, 4)


def test_workdays_between():
    assert workdays_between(date(2025, 1, 24), date(2025, 2, 10)) == 7
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert workdays_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    assert workdays_between(date(2025, 2, 10), date(2025, 1, 24)) == -7
    assert workdays_between(date(2025, 10, 13), date(2025, 9, 30)) == -4


def test_workdays_between_inverts_add_workdays():
    start = date(2025, 9, 15)
    for n in (-25, -3, -1, 0, 1, 5, 17, 40):
        assert workdays_between(start, add_workdays(start, n)) == n


def test_fallback_for_years_without_calendar_data():
    far = date(2099, 1, 1)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(far)
    # 2099-01-01 is a Thursday; in the fallback New Year is a plain weekday.
    assert far.weekday() == 3
    assert is_workday(far)
    assert not is_workday(date(2099, 1, 3))  # Saturday
    assert add_workdays(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Fri → Mon
    assert workdays_between(date(2099, 1, 1), date(2099, 1, 31)) == 21


def test_fallback_is_used_only_on_not_implemented(monkeypatch):
    def boom(d):
        raise NotImplementedError
    timelimits._library_workday.cache_clear()
    monkeypatch.setattr(timelimits.chinese_calendar, "is_workday", boom)
    try:
        # The Spring Festival Wednesday counts as an ordinary weekday now.
        assert timelimits.is_workday(date(2025, 1, 29))
        assert not timelimits.is_workday(date(2025, 1, 26))
    finally:
        timelimits._library_workday.cache_clear()


# --- deadlines ---------------------------------------------------------------

def test_deadline_workdays_and_days():
    assert deadline(date(2025, 9, 30), {"count": 1, "unit": "workday"}) == date(2025, 10, 9)
    assert deadline(date(2025, 9, 30), {"count": 7, "unit": "day"}) == date(2025, 10, 7)
    limit = parse_time_limit("信息形成或者变更之日起20个工作日内")
    assert deadline(date(2025, 9, 20), limit) == date(2025, 10, 23)


def test_deadline_ignores_publicity_period():
    limit = parse_time_limit("制定或获取信息之日起10个工作日内，公示7个工作日")
    assert deadline(date(2025, 3, 3), limit) == date(2025, 3, 17)


def test_deadline_realtime_is_same_day():
    assert deadline(date(2025, 5, 6), {"rule": "realtime"}) == date(2025, 5, 6)


def test_deadline_annual():
    limit = {"rule": "annual", "month": 1, "day": 31}
    assert deadline(date(2025, 1, 10), limit) == date(2025, 1, 31)
    assert deadline(date(2025, 1, 31), limit) == date(2025, 1, 31)
    assert deadline(date(2025, 2, 1), limit) == date(2026, 1, 31)
    # 2月29日 in a non-leap year falls back to the month's last day.
    assert deadline(date(2025, 1, 1), {"rule": "annual", "month": 2, "day": 29}) == date(2025, 2, 28)


def test_deadline_quarterly_with_day():
    limit = {"rule": "quarterly", "day": 20}
    assert deadline(date(2025, 2, 14), limit) == date(2025, 4, 20)
    assert deadline(date(2025, 3, 31), limit) == date(2025, 4, 20)
    assert deadline(date(2025, 4, 1), limit) == date(2025, 7, 20)
    assert deadline(date(2025, 11, 5), limit) == date(2026, 1, 20)


def test_deadline_monthly_with_day():
    limit = {"rule": "monthly", "day": 10}
    assert deadline(date(2025, 5, 31), limit) == date(2025, 6, 10)
    assert deadline(date(2025, 12, 1), limit) == date(2026, 1, 10)
    assert deadline(date(2025, 1, 15), {"rule": "monthly", "day": 31}) == date(2025, 2, 28)


def test_deadline_frequency_without_day():
    assert deadline(date(2025, 2, 14), {"rule": "quarterly"}) == date(2025, 6, 30)
    assert deadline(date(2025, 12, 31), {"rule": "quarterly"}) == date(2026, 3, 31)
    assert deadline(date(2025, 1, 15), {"rule": "monthly"}) == date(2025, 2, 28)
    assert deadline(date(2025, 12, 15), {"rule": "monthly"}) == date(2026, 1, 31)


def test_deadline_none_and_unknown():
    assert deadline(date(2025, 1, 1), None) is None
    assert deadline(date(2025, 1, 1), {}) is None
    assert deadline(date(2025, 1, 1), {"rule": "whenever"}) is None
    assert deadline(date(2025, 1, 1), {"publicity": {"count": 7, "unit": "day"}}) is None
