"""The 15-minute UTC grid that held blocks (busy-week items) and slot starts live on.

Every real-world UTC offset is a multiple of 15 minutes, so a block boundary in UTC is also a
quarter-hour on every local wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BLOCK_MINUTES = 15
BLOCK = timedelta(minutes=BLOCK_MINUTES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_aligned(moment: datetime) -> bool:
    return (moment - _EPOCH) % BLOCK == timedelta(0)


def floor_block(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % BLOCK


def ceil_block(moment: datetime) -> datetime:
    floored = floor_block(moment)
    return floored if floored == moment else floored + BLOCK


def blocks_covering(start: datetime, end: datetime) -> list[datetime]:
    """Start times of every block that [start, end) touches."""
    blocks = []
    cursor = floor_block(start)
    while cursor < end:
        blocks.append(cursor)
        cursor += BLOCK
    return blocks


def block_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_block_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
