"""The table stream's dispatcher: each consumer gets its kinds' changes, in stream order, once per delivery; a
failure is answered as Lambda's partial batch response from the first change some consumer did not finish."""

from __future__ import annotations

import pytest

from chalicelib.services.streams import Change, ChangesFailed, StreamDispatcher

pytestmark = pytest.mark.unit


def change(kind: str | None, n: int, event: str = "INSERT") -> Change:
    return Change(event=event, kind=kind, pk=f"pk{n}", sk="sk", new={"kind": kind}, old=None, sequence=str(n))


def test_changes_go_to_the_consumers_of_their_kind_in_stream_order_and_others_are_skipped():
    seen: dict[str, list[list[str]]] = {"audit": [], "appointment": [], "also_appointment": []}

    def consumer(name: str):
        def consume(changes):
            seen[name].append([c.pk for c in changes])
            return {f"{name}_seen": len(changes)}
        return consume

    dispatcher = StreamDispatcher({"audit": [consumer("audit")]})
    dispatcher.follow("appointment", consumer("appointment"))
    dispatcher.follow("appointment", consumer("also_appointment"))
    batch = [change("audit", 1), change("appointment", 2), change("lock", 3), change(None, 4, "REMOVE"),
             change("audit", 5), change("appointment", 6, "MODIFY")]
    delivery = dispatcher.dispatch(batch)
    assert seen == {"audit": [["pk1", "pk5"]], "appointment": [["pk2", "pk6"]], "also_appointment": [["pk2", "pk6"]]}
    assert delivery.response() == {"batchItemFailures": []}  # all done: Lambda checkpoints the whole batch
    assert delivery.totals == {"records": 6, "skipped": 2, "audit_seen": 2, "appointment_seen": 2,
                               "also_appointment_seen": 2}


def test_a_consumer_that_fails_outright_is_retried_from_its_first_change_and_the_others_still_run():
    chained: list[list[str]] = []

    def broken(changes):
        raise RuntimeError("store unavailable")

    def chain(changes):
        chained.append([c.sequence for c in changes])
        return {"chained": len(changes)}

    dispatcher = StreamDispatcher({"audit": [chain], "appointment": [broken]})
    batch = [change("audit", 1), change("lock", 2), change("appointment", 3), change("audit", 4),
             change("appointment", 5)]
    delivery = dispatcher.dispatch(batch)
    assert chained == [["1", "4"]]  # the chain is not held by the follower's failure
    # Nothing of the broken consumer is done: the stream comes again from its first change, not from 5.
    assert delivery.response() == {"batchItemFailures": [{"itemIdentifier": "3"}]}
    assert delivery.totals["failed_consumers"] == 1 and delivery.totals["chained"] == 2


def test_a_consumer_naming_its_failed_changes_is_retried_from_the_first_of_them_across_consumers():
    def follower(changes):
        raise ChangesFailed(["6", "3"])  # in any order: the stream's order decides

    def chain(changes):
        raise ChangesFailed(["4"])

    dispatcher = StreamDispatcher({"audit": [chain], "appointment": [follower]})
    batch = [change("appointment", 1), change("audit", 2), change("appointment", 3), change("audit", 4),
             change("appointment", 6)]
    assert dispatcher.dispatch(batch).response() == {"batchItemFailures": [{"itemIdentifier": "3"}]}


def test_kinds_run_in_the_order_they_were_registered_so_the_chain_comes_before_the_followers():
    order: list[str] = []
    dispatcher = StreamDispatcher({"audit": [lambda cs: order.append("audit") or {}]})
    dispatcher.follow("appointment", lambda cs: order.append("appointment") or {})
    dispatcher.dispatch([change("appointment", 1), change("audit", 2)])
    assert order == ["audit", "appointment"]


def test_an_unreadable_record_fails_at_its_place_and_the_others_are_dispatched():
    from chalicelib.adapters.dynamo.stream_records import changes

    def record(n, image):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(n), "Keys": {"pk": {"S": f"pk{n}"},
                                                                                       "sk": {"S": "sk"}},
                                                    "NewImage": image}}

    good = {"kind": {"S": "audit"}, "log": {"S": "t1"}}
    batch = changes([record(1, good), record(2, {"kind": {"Q": "not a DynamoDB type"}}), record(3, good)])
    assert [c.unreadable for c in batch] == [False, True, False] and batch[1].sequence == "2"
    seen: list[str] = []
    dispatcher = StreamDispatcher({"audit": [lambda cs: seen.extend(c.sequence for c in cs) or {}]})
    assert dispatcher.dispatch(batch).response() == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert seen == ["1", "3"]
