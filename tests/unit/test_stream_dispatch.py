"""The table stream's dispatcher: each consumer gets its kinds' changes, in stream order, once per delivery."""

from __future__ import annotations

from chalicelib.services.streams import Change, StreamDispatcher


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
    totals = dispatcher.dispatch(batch)
    assert seen == {"audit": [["pk1", "pk5"]], "appointment": [["pk2", "pk6"]], "also_appointment": [["pk2", "pk6"]]}
    assert totals == {"records": 6, "skipped": 2, "audit_seen": 2, "appointment_seen": 2, "also_appointment_seen": 2}


def test_a_failing_consumer_fails_the_delivery_so_lambda_delivers_it_again():
    def broken(changes):
        raise RuntimeError("store unavailable")

    dispatcher = StreamDispatcher({"audit": [broken]})
    try:
        dispatcher.dispatch([change("audit", 1)])
    except RuntimeError:
        pass
    else:
        raise AssertionError("the delivery must fail")
