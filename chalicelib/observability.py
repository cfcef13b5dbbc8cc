"""Powertools Logger and Metrics, created once. Nothing that identifies a patient is ever logged."""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger

SERVICE = "hybrid-care-orchestrator"
METRICS_NAMESPACE = "HybridCareOrchestrator"
logger = Logger(service=SERVICE, log_uncaught_exceptions=False)

# Keys whose values are PHI or secrets; the filter blanks them in any structured log record.
_PHI_KEYS = re.compile(r"(name|birth|dob|member|phone|email|address|note|reason|token|authorization)", re.I)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class PhiFilter(logging.Filter):
    """Only the extras a caller adds are checked: the standard record fields are ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if key not in _STANDARD and _PHI_KEYS.search(key):
                setattr(record, key, "[redacted]")
        return True


logger.addFilter(PhiFilter())

# The SDKs log whole request and response bodies (PHI) at DEBUG. Turning the app's own log level to
# DEBUG in production must never turn those on, so they are capped here.
for _sdk in ("botocore", "boto3", "pynamodb", "urllib3", "aws_lambda_powertools.utilities.idempotency"):
    logging.getLogger(_sdk).setLevel(logging.INFO)

def record_request(metrics: Any, route: str, status: int, seconds: float, request_id: str,
                   problem_code: str | None) -> None:
    """One structured line and EMF metrics per request: route template and status only, never PHI.
    `metrics` is the process's Powertools Metrics (bootstrap's Process.metrics); None logs only."""
    logger.info("request", extra={"route": route, "status": status, "duration_ms": round(seconds * 1000, 1),
                                  "request_id": request_id, "problem": problem_code})
    if metrics is None:
        return
    from aws_lambda_powertools.metrics import MetricUnit

    m = metrics
    m.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    m.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))
    if problem_code:
        m.add_metric(name=f"Problem_{problem_code}", unit=MetricUnit.Count, value=1)
    if status >= 500:
        m.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    m.flush_metrics()
