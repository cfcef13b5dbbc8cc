"""One change to moto, for speed only: a table's stream is not deep-copied by each transaction.

moto's transact_write_items deep-copies the whole table once per action, for its rollback; with the
stream on (as deployed: infra/data.py), that copy includes every stream record ever written, which
made a test of 31 bookings 4-5x slower. Sharing the stream between the copy and the table keeps every
record in order; a transaction that fails may leave its records in the stream, which consumers must
tolerate anyway (they read the table, not the image: services/streams.py).
"""

from __future__ import annotations


def share_streams_in_transactions() -> None:
    from moto.dynamodb.models.table import StreamShard

    StreamShard.__deepcopy__ = lambda self, memo: self  # type: ignore[method-assign]
