"""X12 interchange control numbers: one atomic counter per sender (ISA05 + ISA06).

A clearinghouse refuses an interchange whose ISA13 it has seen from that sender (TA1 025), so
numbers come from one DynamoDB counter (UpdateItem ADD, atomic across every Lambda instance),
never from a hash: two checks can never draw the same number. ISA13 has 9 digits; after
999,999,999 interchanges the counter wraps to 1, far beyond any partner's duplicate window.
The group (GS06) uses the same number: one group per interchange.
"""

from __future__ import annotations

from .models import ControlCounterItem

MAX_CONTROL_NUMBER = 999_999_999


class ControlNumbers:
    def next(self, sender_qualifier: str, sender_id: str) -> int:
        counter = ControlCounterItem(f"X12CTL#{sender_qualifier}#{sender_id}", "COUNTER")
        counter.update(actions=[ControlCounterItem.last.add(1)])
        return (int(counter.last) - 1) % MAX_CONTROL_NUMBER + 1
