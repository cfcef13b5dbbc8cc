"""One overall time budget shared by every call and retry of a request (a video join, say).

API Gateway cuts a request off at 29 s; per-call timeouts and retry counts alone multiply
(4 attempts x 3 calls x a 3 s read timeout), so the join carries one deadline and every call
asks it how much time is left before it starts, retries or sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Deadline:
    seconds: float
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.monotonic()

    def remaining(self) -> float:
        return max(0.0, self.seconds - (self.monotonic() - self.started))

    def elapsed(self) -> float:
        return self.monotonic() - self.started

    def allows(self, needed: float) -> bool:
        """True when `needed` seconds (one attempt's worst case) still fit before the deadline."""
        return self.remaining() >= needed


def unbounded() -> Deadline:
    """For calls outside a user's request (event handlers, clean-up): a day is as good as forever."""
    return Deadline(86400.0)
