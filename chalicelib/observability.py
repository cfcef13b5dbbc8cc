"""Powertools Logger and Metrics, created once. Nothing that identifies a patient is ever logged."""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger

SERVICE = "hybrid-care-orchestrator"
logger = Logger(service=SERVICE, log_uncaught_exceptions=False)

# Keys whose values are PHI or secrets; a filter drops them from any structured log record.
_PHI_KEYS = re.compile(r"(name|birth|dob|member|phone|email|address|note|reason|token|authorization)", re.I)


class PhiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if _PHI_KEYS.search(key) and key not in {"name", "funcName", "threadName", "processName", "taskName"}:
                setattr(record, key, "[redacted]")
        return True


logger.addFilter(PhiFilter())

_metrics: Any = None


def metrics() -> Any:
    """Powertools Metrics (CloudWatch EMF on stdout), imported on first use to keep cold start light."""
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics

        _metrics = Metrics(namespace="HybridCareOrchestrator", service=SERVICE)
    return _metrics


def count(name: str, value: float = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)
