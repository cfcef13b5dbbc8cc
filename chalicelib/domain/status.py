"""The appointment status machine."""

from __future__ import annotations

from .errors import InvalidTransition
from .model import Status

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.BOOKED: frozenset({Status.CHECKED_IN, Status.IN_PROGRESS, Status.CANCELLED, Status.NO_SHOW}),
    Status.CHECKED_IN: frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}

# Rescheduling and switching modality change the visit, not its status.
CHANGEABLE: frozenset[Status] = frozenset({Status.BOOKED, Status.CHECKED_IN})
RESCHEDULABLE: frozenset[Status] = frozenset({Status.BOOKED})


def require_transition(current: Status, target: Status) -> None:
    if target not in ALLOWED[current]:
        raise InvalidTransition(f"An appointment that is {current.value} cannot become {target.value}.",
                                extra={"current_status": current.value})


def require_in(current: Status, allowed: frozenset[Status], action: str) -> None:
    if current not in allowed:
        raise InvalidTransition(f"An appointment that is {current.value} cannot be {action}.",
                                extra={"current_status": current.value})
