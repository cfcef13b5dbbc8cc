"""Per-caller (and, for member lookups, per-tenant and per-payer) fixed-window rate limits, counted in
DynamoDB so every Lambda instance shares them.

One UpdateItem (ADD) per limited request and scope. A fixed window admits up to twice the limit across a
window boundary; that is acceptable for abuse control (slot hoarding, eligibility scraping).
"""

from __future__ import annotations

from ...domain.access import Caller
from ...domain.errors import TooManyRequests
from ...domain.ports import Clock
from .models import RateCounterItem


class RateLimiter:
    def __init__(self, clock: Clock, limits: dict[str, tuple[int, int]]) -> None:
        self.clock = clock
        self.limits = limits

    def hit(self, caller: Caller, bucket: str) -> None:
        self._hit(f"RL#{caller.tenant_id}#{caller.sub}#{bucket}", bucket)

    def hit_shared(self, caller: Caller, bucket: str, payer_id: str) -> None:
        """Beside the caller's own limit, one per tenant and one per payer: a fresh token (new `sub`)
        or a second tenant does not start a member lookup afresh. Buckets `{bucket}_tenant`, `{bucket}_payer`."""
        # '@' is outside the id charsets, so these keys cannot meet a caller's key.
        self._hit(f"RL@tenant#{caller.tenant_id}#{bucket}", f"{bucket}_tenant")
        self._hit(f"RL@payer#{payer_id}#{bucket}", f"{bucket}_payer")

    def _hit(self, pk: str, bucket: str) -> None:
        if bucket not in self.limits:
            return
        limit, window = self.limits[bucket]
        now = int(self.clock().timestamp())
        start = now - now % window
        counter = RateCounterItem(pk, f"W#{start}")
        counter.update(actions=[RateCounterItem.hits.add(1), RateCounterItem.expires_at.set(start + 2 * window)])
        if counter.hits > limit:
            retry_after = max(1, start + window - now)
            raise TooManyRequests(f"At most {limit} {bucket} requests per {window} s; retry later.",
                                  headers={"Retry-After": str(retry_after)},
                                  extra={"limit": limit, "window_seconds": window, "retry_after": retry_after})
