"""Insurance eligibility: payer configuration, telehealth policy, checks and their states. Pure.

States of a check (``status``):

| status      | meaning                                                                 | final |
|-------------|-------------------------------------------------------------------------|-------|
| active      | the payer says the coverage is active on the date of service            | yes   |
| inactive    | the payer says the coverage is not active on that date                  | yes   |
| not_found   | the payer could not match the member (AAA 58, 64-78: correct the data)  | yes   |
| error       | the payer refused the request, or answered something we cannot read     | yes   |
| pending     | degraded: the payer did not answer inside our time budget (timeout,     | no    |
|             | 5xx, AAA 42/80 "unable to respond now"). We ask again when the check is |       |
|             | read (GET) at or after ``next_attempt_at``; after ``give_up_at`` the    |       |
|             | check becomes ``error`` with ``failure`` saying why                     |       |

``in_network`` is whether the *provider* is in the payer's network. A 271 never says that: EB12
only labels which benefit row is the in-network (Y) or out-of-network (N) one. We know it only
from the clinician's ``payer_networks`` in our directory; otherwise it is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .model import Modality
from .payer_policy import TelehealthTerms

FINAL_STATUSES = frozenset({"active", "inactive", "not_found", "error"})
CACHEABLE_STATUSES = frozenset({"active", "inactive", "not_found"})
POS_OFFICE = "11"


# --- who owns a check -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Owner:
    """A check belongs to the tenant whose scheduler asked, or to the payer whose token asked."""

    kind: str  # "tenant" | "payer"
    id: str


# --- roster (members a payer uploaded) ------------------------------------------------------------

@dataclass(frozen=True)
class RosterBenefits:
    """Cost share of one network tier. Money as decimal strings ("25.00"), coinsurance a fraction ("0.2")."""

    copay: str | None = None
    coinsurance: str | None = None
    deductible_remaining: str | None = None
    out_of_pocket_remaining: str | None = None


@dataclass(frozen=True)
class RosterDependent:
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    relationship: str = "19"  # INS02: 01 spouse, 19 child, 34 other adult


@dataclass(frozen=True)
class RosterMember:
    """One member a payer uploaded (PUT /v1/payers/{id}/members/{member_id}), or one of the local payer
    simulator's (local/payer_sim.py), which also uses the tiers, exclusions and dependents below."""

    member_id: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    plan_name: str | None
    active_from: date
    active_to: date | None = None
    benefits: RosterBenefits = field(default_factory=RosterBenefits)  # in-network, every service type
    out_of_network: RosterBenefits | None = None
    service_benefits: dict[str, RosterBenefits] = field(default_factory=dict)  # in-network, per service type
    non_covered: frozenset[str] = frozenset()  # service types the plan excludes (EB*I)
    dependents: tuple[RosterDependent, ...] = ()

    def active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


# --- a check --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckRequest:
    """What was asked. PHI: stored inside the check item, never in a key, a log or an error."""

    member_id: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    provider_npi: str
    provider_name: str
    service: str
    modality: Modality
    date_of_service: date
    service_type_codes: tuple[str, ...]
    patient_jurisdiction: str | None = None
    patient_location_type: str = "home"  # home | other | clinic
    clinician_id: str | None = None
    provider_in_network: bool | None = None  # from the clinician's payer_networks, never from EB12
    # The provider as a person (NM1*1P*1): given name set; None = an organisation (NM1*1P*2).
    provider_first_name: str | None = None
    # The patient is a dependent on the member's coverage (2000D, HL 23): their own name and birth
    # date; first_name/last_name/birth_date above are then the subscriber's.
    dependent: DependentPatient | None = None


@dataclass(frozen=True)
class DependentPatient:
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    relationship: str | None = None  # INS02: 01 spouse, 19 child, 34 other adult


@dataclass(frozen=True)
class ReferTo:
    """Who answers for a carved-out service (a 271's EB*U 2120 loop): not PHI, a company."""

    entity_code: str
    name: str
    id_qualifier: str | None = None
    id: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AckEntry:
    code: str  # TA1:025, IK3:8, IK4:6, IK5:5, AK9:5
    description: str
    segment: str | None = None
    element: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A TA1 or 999 the clearinghouse sent instead of a 271: our 270 was refused, and why."""

    kind: str  # TA1 | 999
    ack_code: str
    codes: tuple[AckEntry, ...] = ()


@dataclass(frozen=True)
class AaaEntry:
    """An AAA segment: the payer could not answer (part of) the request. ``level``: information_source |
    information_receiver | subscriber | dependent | benefit (or envelope, for our own TRN check)."""

    code: str  # AAA03
    description: str | None
    level: str
    follow_up_action: str | None = None  # AAA04
    valid_request: bool = True  # AAA01 Y/N


@dataclass(frozen=True)
class Benefits:
    copay: str | None = None
    coinsurance: str | None = None
    deductible_remaining: str | None = None
    out_of_pocket_remaining: str | None = None
    in_network: bool | None = None


@dataclass(frozen=True)
class PayerAnswer:
    """A payer's answer for the asked service types (x12/benefits.summarize_benefits reads it from a 271)."""

    status: str  # active | inactive | not_found | error
    plan_name: str | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    benefits: Benefits = field(default_factory=Benefits)
    benefit_network: str | None = None  # EB12 of the rows the amounts came from (Y, N, W, U)
    service_covered: bool | None = None  # False when the payer sent EB*I for an asked service type
    aaa_errors: tuple[AaaEntry, ...] = ()
    retryable: bool = False  # AAA 42/80: the payer could not answer now
    carve_out: bool = False  # EB*U for the asked service: another entity answers (refer_to)
    refer_to: tuple[ReferTo, ...] = ()
    rejection: Rejection | None = None
    warnings: tuple[str, ...] = ()  # parts of the 271 read around (a benefit row with a bad date)


@dataclass(frozen=True)
class TelehealthCoverage:
    covered: bool | None
    place_of_service: str
    modifiers: tuple[str, ...]


@dataclass(frozen=True)
class EligibilityCheck:
    check_id: str
    owner: Owner
    tenant_id: str  # the caller's tenant (audit); a payer-owned check is not a tenant's
    payer_id: str
    request: CheckRequest
    status: str
    source: str  # the connector kind that answered: x12_http | roster
    requested_at: datetime
    answer: PayerAnswer | None = None
    telehealth: TelehealthCoverage | None = None
    raw_271: str | None = field(default=None, repr=False)  # PHI: returned only on ?include=raw271
    cached: bool = False
    checked_at: datetime | None = None
    attempts: int = 0
    polls: int = 0
    next_attempt_at: datetime | None = None
    give_up_at: datetime | None = None
    failure: str | None = None  # why it is pending or error: timeout, http_503, aaa_42, x12_invalid, ...
    patient_id: str | None = None
    appointment_id: str | None = None
    version: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


def places_of_service(terms: TelehealthTerms, modality: Modality, location_type: str) -> tuple[str, ...]:
    """The visit's place of service codes, best first, for choosing a 271's III*ZZ rows.

    Telehealth rows are often sent for POS 02 only (or 10 only) and meant for both: the other
    telehealth code comes second, never the office one.
    """
    if not modality.is_telehealth:
        return (POS_OFFICE,)
    home, other = terms.place_of_service_home, terms.place_of_service_other
    ordered = (home, other) if location_type == "home" else (other, home)
    return tuple(dict.fromkeys(ordered))


def telehealth_coverage(terms: TelehealthTerms, modality: Modality, location_type: str, status: str,
                        service_covered: bool | None, carve_out: bool = False) -> TelehealthCoverage:
    """Covered, place of service and modifiers for this modality with the patient where they are.

    In person: not a telehealth question (covered None, office POS 11). Telehealth: POS 10 at home,
    02 elsewhere (or the payer's own codes); covered follows the payer's policy for the modality
    while the coverage is active, is False when the coverage is inactive or the payer excluded the
    asked service (EB*I), and None while the payer's answer is unknown.
    """
    if not modality.is_telehealth:
        return TelehealthCoverage(None, POS_OFFICE, ())
    pos = terms.place_of_service_home if location_type == "home" else terms.place_of_service_other
    if status == "active" and carve_out:
        covered = None  # the plan answered for a benefit that another entity administers
    elif status == "active":
        covered = False if service_covered is False else terms.covered(modality)
    elif status == "inactive":
        covered = False
    else:
        covered = None
    return TelehealthCoverage(covered, pos, terms.modifiers(modality))


def appointment_status(status: str, telehealth: TelehealthCoverage | None, modality: Modality,
                       answer: PayerAnswer | None = None) -> str:
    """What an appointment records: verified | not_covered | pending | unknown.

    A service the payer excludes (EB*I) is not covered whatever the modality; a carved-out one is
    unknown until the entity the payer named is asked.
    """
    if status == "pending":
        return "pending"
    if status == "inactive":
        return "not_covered"
    if status != "active":
        return "unknown"  # not_found and error: nobody could confirm either way
    if answer is not None and answer.service_covered is False:
        return "not_covered"
    if answer is not None and answer.carve_out:
        return "unknown"
    if not modality.is_telehealth:
        return "verified"
    covered = telehealth.covered if telehealth else None
    if covered is True:
        return "verified"
    return "not_covered" if covered is False else "unknown"


def needs_recheck(previous_status: str, before_modality: Modality, after_modality: Modality,
                  before_day: date, after_day: date, plan_begin: date | None, plan_end: date | None) -> bool:
    """After a reschedule or a switch of modality: ask the payer again?

    Yes when the modality changed (telehealth coverage is per modality), when the visit moved into
    another plan year (the plan dates of the last 271 when it gave them, else the calendar year:
    deductibles and out-of-pocket reset), and when the last answer was not a definitive one.
    """
    if previous_status in ("pending", "unknown"):
        return True
    if before_modality is not after_modality:
        return True
    if before_day == after_day:
        return False
    if (plan_begin is not None and after_day < plan_begin) or (plan_end is not None and after_day > plan_end):
        return True
    return before_day.year != after_day.year


# --- a call to a payer that failed ------------------------------------------------------------------

class PayerCallFailed(Exception):
    """One attempt at a payer failed: a short code (timeout, network, http_503, ...), never payer text or PHI."""

    def __init__(self, code: str, retryable: bool) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


# --- re-polling a pending check ------------------------------------------------------------------

def repoll_delay_seconds(polls: int, base_seconds: float, cap_seconds: float) -> float:
    """How long a pending check waits before the next read may ask the payer again."""
    return float(min(cap_seconds, base_seconds * 2 ** max(polls, 0)))


# --- names ----------------------------------------------------------------------------------------

def split_person_name(full_name: str) -> tuple[str, str]:
    """(given, family) from a single name field: the last word is the family name.

    Only for records that have no given/family fields (older patients, clinicians): a payer match on
    "Maria de la Cruz" needs family_name "de la Cruz", which only the record itself can say.
    """
    words = full_name.split()
    if not words:
        return "UNKNOWN", "UNKNOWN"
    if len(words) == 1:
        return words[0], words[0]
    return " ".join(words[:-1]), words[-1]
