"""Busy-week keys: a block's attribute names its place in the UTC ISO week, and reads it back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.busy_weeks import hold_value, now_value, weeks_covering


@pytest.mark.parametrize(("moment", "monday", "attr"), [
    (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), date(2026, 3, 2), "b10000"),  # Monday 00:00 opens the week
    (datetime(2026, 3, 8, 23, 45, tzinfo=UTC), date(2026, 3, 2), "b72345"),  # Sunday 23:45 closes it
    (datetime(2026, 3, 9, 0, 0, tzinfo=UTC), date(2026, 3, 9), "b10000"),
    # 00:00 in Los Angeles on the spring-forward Sunday is 08:00 UTC: the UTC grid does not move
    (datetime(2026, 3, 8, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles")), date(2026, 3, 2), "b70800"),
])
def test_a_block_is_named_by_its_utc_week_day_and_time(moment, monday, attr):
    assert keys.week_of(moment) == monday
    assert keys.block_attr(moment) == attr
    assert keys.parse_block_attr(monday, attr) == (moment.astimezone(UTC), None)


def test_room_blocks_round_trip_even_with_separators_in_the_room_name():
    block = datetime(2026, 3, 3, 15, 15, tzinfo=UTC)
    name = keys.block_attr(block, "B.2#north")
    assert name == "r21515#B.2#north"
    assert keys.parse_block_attr(date(2026, 3, 2), name) == (block, "B.2#north")


@pytest.mark.parametrize("name", ["pk", "sk", "kind", "b8", "b81200", "b02400", "b12460", "r11200", "r11200x"])
def test_other_attributes_are_not_blocks(name):
    assert keys.parse_block_attr(date(2026, 3, 2), name) is None


def test_a_read_covers_every_week_its_window_touches():
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)  # a Sunday
    assert weeks_covering(start, start + timedelta(days=8)) == [
        "WEEK#2026-02-23", "WEEK#2026-03-02", "WEEK#2026-03-09"]


def test_an_expired_hold_sorts_below_now_and_a_live_one_and_any_appointment_id_above():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    expired = hold_value(int(now.timestamp()) - 1, "hold_a")
    live = hold_value(int(now.timestamp()) + 1, "hold_b")
    assert expired < now_value(now) < live < "apt_0"
