"""Secrets read from AWS Secrets Manager once per process, on first use (never at import, never
from a plain environment value on deployed stages)."""

from __future__ import annotations

from typing import Any

_cache: dict[str, str] = {}


def secret_string(secret_id: str, region: str, client: Any = None) -> str:
    """The SecretString of `secret_id` (an ARN or name); fetched once, then served from memory."""
    if secret_id not in _cache:
        if client is None:
            import boto3

            client = boto3.client("secretsmanager", region_name=region)
        _cache[secret_id] = client.get_secret_value(SecretId=secret_id)["SecretString"]
    return _cache[secret_id]


def prefetch(secret_ids: list[str], region: str, client: Any = None) -> None:
    """Fetch the ones not cached yet concurrently (one client, thread-safe): a cold process waits for
    the slowest secret, not for their sum."""
    missing = [s for s in dict.fromkeys(secret_ids) if s not in _cache]
    if not missing:
        return
    if client is None:
        import boto3

        client = boto3.client("secretsmanager", region_name=region)
    if len(missing) == 1:
        secret_string(missing[0], region, client)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(missing)) as pool:
        list(pool.map(lambda s: secret_string(s, region, client), missing))


def forget() -> None:
    """Drop cached values (tests; a process that must pick up a rotated key)."""
    _cache.clear()
