"""One retry policy for every call out (payers, Chime): capped exponential backoff with full jitter.

AWS Architecture Blog, "Exponential Backoff And Jitter": wait U(0, min(cap, base * 2**(n-1)))
after failed attempt n. Pure: the uniform draw is passed in, the caller sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_seconds: float = 0.2
    cap_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, failed_attempt: int, unit_random: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``failed_attempt`` (1-based); unit_random in [0, 1).

        A server's Retry-After is a floor, but never past our own cap."""
        jittered = unit_random * min(self.cap_seconds, self.base_seconds * 2 ** (failed_attempt - 1))
        if retry_after is not None:
            return max(jittered, min(retry_after, self.cap_seconds))
        return jittered
