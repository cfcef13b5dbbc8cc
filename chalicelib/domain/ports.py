"""What the services need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from .access import Caller

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]


def payer_log(payer_id: str) -> str:
    """The audit log of a payer. '@' and ':' are outside the tenant id charset: no tenant can own this log."""
    return f"@payer:{payer_id}"


def audit_log_of(caller: Caller) -> str:
    """Whose log an action goes to: the payer's own for a payer token, never the log its tenant claim names."""
    if caller.has("payer") and caller.payer_id and not caller.has("admin", "scheduler", "clinician", "patient"):
        return payer_log(caller.payer_id)
    return caller.tenant_id


class AuditTrail(Protocol):
    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        """Append one entry to `log` (default: audit_log_of(caller)); never raises for the caller's request
        to fail silently."""


# --- eligibility ports ---------------------------------------------------------------------------------
# What services/eligibility needs: the payer store (configuration and roster), the check store (checks
# and the answer cache), the X12 connector of a payer, the connector URL policy, the X12 control-number
# counter, and the narrow reads of the directory and the appointments it uses. Implementations:
# adapters/dynamo/payers.py, adapters/payer_http.py, adapters/dynamo/x12_control.py.
# (Imported here, not at the top, so this section stays one block for merging.)
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from .eligibility import EligibilityCheck, Owner, RosterMember
    from .model import Appointment, Clinician, Patient
    from .payer_policy import PayerConfig

class PayerStore(Protocol):
    def get_config(self, payer_id: str) -> PayerConfig | None: ...

    def put_config(self, config: PayerConfig) -> PayerConfig:
        """Saved with the next version (raises Conflict when another write won)."""
        ...

    def get_member(self, payer_id: str, member_id: str) -> RosterMember | None: ...

    def put_member(self, payer_id: str, member: RosterMember) -> bool:
        """True when the member is new."""
        ...


class EligibilityCheckStore(Protocol):
    def get_check(self, owner: Owner, check_id: str) -> EligibilityCheck | None: ...

    def add_check(self, check: EligibilityCheck) -> EligibilityCheck: ...

    def update_check(self, check: EligibilityCheck) -> EligibilityCheck:
        """Raises Conflict when the stored version moved on."""
        ...

    def get_cached(self, owner: Owner, payer_id: str, digest: str, now: datetime) -> dict[str, Any] | None: ...

    def put_cached(self, owner: Owner, payer_id: str, digest: str, entry: dict[str, Any],
                   expires_at: datetime) -> None: ...


class PayerConnector(Protocol):
    """One X12 exchange with a payer or clearinghouse: a 270 out, the raw answer back.

    Raises PayerCallFailed (domain/eligibility.py) with a short code; the caller owns the retries."""

    def exchange(self, url: str, x12_270: str, timeout: float) -> str: ...


class ConnectorUrlPolicy(Protocol):
    def vet(self, url: str) -> object:
        """Raises ConnectorUrlNotAllowed (domain/connector_url.py) for a URL a payer may not use."""
        ...


class ControlNumberCounter(Protocol):
    def next(self, sender_qualifier: str, sender_id: str) -> int:
        """The sender's next ISA13/GS06 control number, atomically."""
        ...


Pseudonym = Callable[..., str]  # keyed digest of its parts: members in audit entries, cache keys


class EligibilityDirectory(Protocol):
    """The directory reads eligibility needs."""

    def get_patient(self, tenant: str, patient_id: str) -> Patient | None: ...

    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None: ...


class VisitRecords(Protocol):
    """The appointment reads and writes of eligibility's booking hook."""

    def get(self, tenant: str, appointment_id: str) -> Appointment | None: ...

    def save(self, old: Appointment, new: Appointment, token: str) -> Appointment: ...
