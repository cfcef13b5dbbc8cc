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


def forget() -> None:
    """Drop cached values (tests; a process that must pick up a rotated key)."""
    _cache.clear()
