"""Re-exported from the domain: the time budget is a plain value the services pass to every port call."""

from chalicelib.domain.deadline import Deadline, unbounded

__all__ = ["Deadline", "unbounded"]
