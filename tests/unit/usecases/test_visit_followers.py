"""The table stream's consumer of visits: changes named from their images, each follower on its own, an
eligibility-only change followed by nobody, a failure redelivers the batch."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.changes import Change
from chalicelib.domain.model import Modality, Status
from chalicelib.domain.visit_changes import checked_for_version, visit_change
from chalicelib.services.streams import StreamDispatcher
from chalicelib.services.visit_followers import FollowersFailed, VisitFollowers
from tests.unit.usecases.test_booking import request

pytestmark = pytest.mark.unit


@pytest.fixture
def visit(world):
    return world.booking.book(world.scheduler, request(world))


def landed(visit, status="verified"):
    """The visit after eligibility's one conditional update: status, one history event, the next version."""
    event = {"at": "2026-03-02T12:00:01+00:00", "action": "eligibility_checked", "role": "system",
             "status": status, "check_id": "elg_1", "for_version": str(visit.version)}
    return replace(visit, eligibility_status=status, history=(*visit.history, event), version=visit.version + 1)


def test_booking_answers_pending_for_a_coverage_and_unknown_without_one_asking_nobody(world, visit):
    covered = world.another_patient("Cora Covered", coverages=[{"payer_id": "acme", "member_id": "W100200300"}])
    uninsured = world.another_patient("Una Insured", coverages=[])
    a = world.booking.book(world.scheduler, request(world, patient=covered, start=visit.start + timedelta(hours=1)))
    b = world.booking.book(world.scheduler, request(world, patient=uninsured, start=visit.start + timedelta(hours=2)))
    assert (a.eligibility_status, b.eligibility_status) == ("pending", "unknown")
    assert [e["action"] for e in a.history] == ["booked"]  # no payer was asked, nothing landed


def test_each_change_is_named_from_the_images_before_and_after(visit):
    later = visit.start + timedelta(days=1)
    assert visit_change(None, visit) == "booked"
    assert visit_change(visit, replace(visit, status=Status.CANCELLED)) == "cancelled"
    assert visit_change(visit, replace(visit, status=Status.NO_SHOW)) == "no_show"
    assert visit_change(visit, replace(visit, status=Status.COMPLETED)) == "completed"
    assert visit_change(visit, replace(visit, start=later, end=later + timedelta(minutes=45))) == "rescheduled"
    assert visit_change(visit, replace(visit, modality=Modality.PHONE)) == "modality"
    assert visit_change(visit, landed(visit)) == "eligibility"
    assert visit_change(visit, replace(landed(visit), room="B")) == "updated"  # more than eligibility changed
    assert visit_change(visit, None) is None
    assert checked_for_version(landed(visit).history) == visit.version


def _change(before, after, n):
    return Change(event="INSERT" if before is None else "MODIFY", kind="appointment", pk=f"pk{n}", sk="APPT",
                  new=None if after is None else {"visit": after}, old=None if before is None else {"visit": before},
                  sequence=str(n))


def test_an_eligibility_only_change_runs_no_follower_and_a_failing_follower_stops_no_other(visit):
    seen: list[tuple[str, str]] = []

    def follower(name):
        def follow(change, before, after):
            if name == "reminders" and change == "cancelled":
                raise RuntimeError("throttled")
            seen.append((name, change))
        return follow

    consumer = VisitFollowers({n: follower(n) for n in ("confirmations", "reminders", "waitlist")},
                              lambda image: image["visit"])
    cancelled = replace(landed(visit), status=Status.CANCELLED, version=visit.version + 2)
    batch = [_change(None, visit, 1), _change(visit, landed(visit), 2), _change(landed(visit), cancelled, 3)]

    with pytest.raises(FollowersFailed) as failed:  # after the whole batch: the stream comes again from it
        consumer.consume(batch)
    assert failed.value.sequences == ("3",)  # the cancel alone: the booking before it is done

    assert seen == [("confirmations", "booked"), ("reminders", "booked"), ("waitlist", "booked"),
                    ("confirmations", "cancelled"), ("waitlist", "cancelled")]


def test_a_failing_consumer_does_not_keep_the_audit_chain_from_its_batch():
    chained: list[int] = []

    def broken(changes):
        raise FollowersFailed(["1"], "1 follower call(s) failed")

    def chain(changes):
        chained.append(len(changes))
        return {"chained": len(changes)}

    dispatcher = StreamDispatcher({"appointment": [broken], "audit": [chain]})
    batch = [Change("INSERT", "appointment", "a", "APPT", {}, None, "1"), Change("INSERT", "audit", "b", "E", {}, None,
                                                                               "2")]
    assert dispatcher.dispatch(batch).response() == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert chained == [1]


def test_an_unreadable_image_fails_its_own_change_and_the_others_are_followed(visit):
    seen: list[str] = []

    def decode(image):
        if image.get("poison"):
            raise ValueError("not a visit")
        return image["visit"]

    consumer = VisitFollowers({"reminders": lambda change, before, after: seen.append(change)}, decode)
    poison = Change("INSERT", "appointment", "pk9", "APPT", {"poison": True}, None, "9")
    cancelled = replace(visit, status=Status.CANCELLED, version=visit.version + 1)
    with pytest.raises(FollowersFailed) as failed:
        consumer.consume([_change(None, visit, 1), poison, _change(visit, cancelled, 10)])
    assert failed.value.sequences == ("9",) and seen == ["booked", "cancelled"]
