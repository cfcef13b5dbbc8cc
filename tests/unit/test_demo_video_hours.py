"""The README tour books a video visit at the next quarter-hour: at every hour of every day of the week,
one of the demo's around-the-clock clinicians can take it (no visit can span a clinician's local midnight)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.availability import slot_fits_rules
from chalicelib.domain.model import Interval, Modality
from local.seed import demo_clinicians

pytestmark = pytest.mark.unit


def test_some_demo_clinician_takes_a_30_minute_video_visit_starting_at_any_quarter_hour_of_the_week():
    around_the_clock = [c for c in demo_clinicians() if c.clinician_id in ("clin_hale", "clin_sato")]
    assert len(around_the_clock) == 2
    start = datetime(2026, 3, 2, tzinfo=UTC)  # a week that includes the US DST change (8 March)
    uncovered = []
    for step in range(8 * 24 * 4):
        slot = Interval(start + timedelta(minutes=15 * step), start + timedelta(minutes=15 * step + 30))
        if not any(slot_fits_rules(c, {}, slot, Modality.VIDEO, None) for c in around_the_clock):
            uncovered.append(slot.start)
    assert uncovered == []


def test_each_around_the_clock_clinician_alone_covers_all_but_their_local_midnight():
    hale = next(c for c in demo_clinicians() if c.clinician_id == "clin_hale")
    slot = Interval(datetime(2026, 3, 3, 3, 0, tzinfo=UTC), datetime(2026, 3, 3, 3, 30, tzinfo=UTC))  # 22:00 NY
    assert slot_fits_rules(hale, {}, slot, Modality.VIDEO, None)
    midnight = Interval(datetime(2026, 3, 3, 4, 45, tzinfo=UTC), datetime(2026, 3, 3, 5, 15, tzinfo=UTC))
    assert not slot_fits_rules(hale, {}, midnight, Modality.VIDEO, None)
