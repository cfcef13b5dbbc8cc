"""The table stream's consumer of appointment items: the visit's followers run after commit, off the request path.

Each appointment change in the stream is named from its images (domain/visit_changes.py: booked,
rescheduled, modality, cancelled, no_show, ...) and handed to every follower: confirmations and
no-show tallies, reminders, the waitlist's freed slots, eligibility. A change that only landed an
eligibility result is followed by nobody (it would otherwise start eligibility again, forever).

Each follower runs on its own: one failing does not keep the others (or the next changes) from
their work. Once the whole batch went through, the changes some follower failed on are raised by
their sequence numbers, and Lambda delivers the stream again from the first of them on
(services/streams.py): every follower is idempotent under redelivery, in stream order —
reminders are keyed by visit and send time, a no-show is counted once per visit, a freed slot is
enqueued once per visit change, and eligibility skips a version whose result already landed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..domain.changes import Change, ChangesFailed
from ..domain.model import Appointment
from ..domain.visit_changes import ELIGIBILITY, visit_change
from ..observability import logger

Follower = Callable[[str, Appointment | None, Appointment], None]
Decode = Callable[[Mapping[str, Any]], Appointment]


class FollowersFailed(ChangesFailed):
    """Some follower failed on some changes of the batch: the stream is delivered again from the first."""


class VisitFollowers:
    def __init__(self, followers: Mapping[str, Follower], decode: Decode) -> None:
        self.followers = dict(followers)  # name -> follower, run in this order
        self.decode = decode

    def consume(self, changes: Sequence[Change]) -> dict[str, int]:
        counts = {"visit_changes": 0, "followed": 0, "follower_failures": 0}
        failed: list[str] = []
        for change in changes:
            try:
                before = self.decode(change.old) if change.old is not None else None
                after = self.decode(change.new) if change.new is not None else None
            except Exception as exc:  # an image nobody can read: that change fails, the others go on
                counts["follower_failures"] += 1
                failed.append(change.sequence)
                logger.warning("visit change unreadable", extra={"sequence": change.sequence,
                                                                 "error": type(exc).__name__})
                continue
            name = visit_change(before, after)
            if name is None or name == ELIGIBILITY or after is None:
                continue
            counts["visit_changes"] += 1
            for follower_name, follower in self.followers.items():
                try:
                    follower(name, before, after)
                    counts["followed"] += 1
                except Exception as exc:
                    counts["follower_failures"] += 1
                    if not failed or failed[-1] != change.sequence:
                        failed.append(change.sequence)
                    logger.warning("visit follower failed", extra={  # ids and names only: no PHI
                        "follower": follower_name, "change": name, "appointment_id": after.appointment_id,
                        "sequence": change.sequence, "error": type(exc).__name__})
        if failed:
            raise FollowersFailed(failed, f"{counts['follower_failures']} follower call(s) failed on {len(failed)} "
                                          "change(s); the stream comes again from the first")
        return counts
