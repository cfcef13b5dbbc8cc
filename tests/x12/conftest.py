"""Fixtures for the X12 270/271 adapter and the local payer simulator (loopback only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from chalicelib.domain.eligibility import RosterBenefits, RosterDependent, RosterMember
from chalicelib.x12.envelope import Envelope
from chalicelib.x12.inquiry import Dependent, EligibilityInquiry
from chalicelib.x12.syntax import Separators
from chalicelib.x12.write_270 import EqStyle
from local.payer_sim import PayerSimServer, start_payer_sim

FIXTURES = Path(__file__).parent / "fixtures"
SIM_NOW = datetime(2026, 3, 2, 9, 16)


@dataclass(frozen=True)
class Golden270:
    inquiry: EligibilityInquiry
    envelope: Envelope
    eq_style: EqStyle = "repetition"


def _envelope(control: int, created_at: datetime, **kwargs: object) -> Envelope:
    return Envelope(sender_id="HCORCH", receiver_id="PAYERSIM", interchange_control_number=control,
                    group_control_number=control, created_at=created_at, **kwargs)  # type: ignore[arg-type]


JANE_90834 = EligibilityInquiry(
    payer_id="99HCO", payer_name="ACME HEALTH PLAN", provider_npi="1234567893",
    provider_name="RIVERSIDE BEHAVIORAL HEALTH", member_id="W100200300", first_name="JANE",
    last_name="DOE", birth_date=date(1985, 4, 12), date_of_service=date(2026, 3, 9),
    service_type_codes=["MH", "A6"], trace_number="CHK-90834-0001",
)

GOLDEN_270: dict[str, Golden270] = {
    # Psychotherapy 45 min by video: 5010 has no telehealth service type, so the EQ is the same
    # as in person (MH, A6 from scheduling_rules/services.yaml); modality is payer policy.
    "270_90834_video_mh_a6.x12": Golden270(JANE_90834, _envelope(101, datetime(2026, 3, 2, 9, 15))),
    "270_90834_eq_segments.x12": Golden270(JANE_90834, _envelope(103, datetime(2026, 3, 2, 9, 15)),
                                           eq_style="segments"),
    # Psychiatric evaluation with medical services by a psychiatrist (individual NPI), own
    # BHT03 reference, EIN-based TRN03, a 9-digit control number and GS06 different from ISA13.
    "270_90792_psychiatrist_mh_a8.x12": Golden270(
        EligibilityInquiry(
            payer_id="99HCO", payer_name="ACME HEALTH PLAN", provider_npi="1245319599",
            provider_name="OKAFOR", provider_first_name="ADAEZE", member_id="W100200300",
            first_name="JANE", last_name="DOE", birth_date=date(1985, 4, 12),
            date_of_service=date(2026, 4, 1), service_type_codes=["MH", "A8"],
            trace_number="CHK-90792-0007", trace_originator_id="1123456789", reference_id="REF-90792-7",
        ),
        Envelope(sender_id="HCORCH", receiver_id="PAYERSIM", interchange_control_number=987654321,
                 group_control_number=42, created_at=datetime(2026, 3, 2, 10, 30)),
    ),
    # A child without a member id of their own: HL 23 under the parent's subscriber loop.
    "270_90832_dependent_child.x12": Golden270(
        EligibilityInquiry(
            payer_id="99HCO", payer_name="ACME HEALTH PLAN", provider_npi="1234567893",
            provider_name="RIVERSIDE BEHAVIORAL HEALTH", member_id="HCO1000001", first_name="ALEX",
            last_name="RIVERA", birth_date=None, date_of_service=date(2026, 3, 16),
            service_type_codes=["MH", "A6"], trace_number="CHK-DEP-0001",
            dependent=Dependent(first_name="SAM", last_name="RIVERA", birth_date=date(2014, 9, 3)),
        ),
        _envelope(102, datetime(2026, 3, 10, 14, 2), segment_suffix="\n"),
    ),
    # A social worker's 60-minute session in production, with | element, ! repetition and >
    # component separators (so a name with an apostrophe is plain data).
    "270_90837_pipe_separators.x12": Golden270(
        EligibilityInquiry(
            payer_id="99HCO", payer_name="ACME HEALTH PLAN", provider_npi="1245319599",
            provider_name="NGUYEN", provider_first_name="THAO", member_id="W555000111",
            first_name="PAT", last_name="O'BRIEN", birth_date=date(1970, 1, 1),
            date_of_service=date(2026, 12, 1), service_type_codes=["MH", "A6", "22"],
            trace_number="CHK-90837-0005",
        ),
        _envelope(5, datetime(2026, 11, 30, 23, 59), usage_indicator="P", segment_suffix="\n",
                  separators=Separators(element="|", repetition="!", component=">", segment="~")),
    ),
}


@pytest.fixture
def read_fixture() -> Callable[[str], str]:
    """Fixture files as exact text (bytes decoded; no newline translation)."""
    def read(name: str) -> str:
        return (FIXTURES / name).read_bytes().decode("utf-8")
    return read


@pytest.fixture
def golden_270() -> dict[str, Golden270]:
    return GOLDEN_270


@pytest.fixture
def jane_inquiry() -> EligibilityInquiry:
    return JANE_90834


def build_roster() -> tuple[RosterMember, ...]:
    return (
        RosterMember(
            member_id="W100200300", first_name="JANE", last_name="DOE", birth_date=date(1985, 4, 12),
            plan_name="GOLD PPO 500", active_from=date(2026, 1, 1), active_to=date(2026, 12, 31),
            benefits=RosterBenefits("25", "0.2", "350.50", "2100"),
            out_of_network=RosterBenefits("60", "0.4", "1500", "6000"),
            service_benefits={"A6": RosterBenefits("30", "0.2", "350.50", "2100")},
            non_covered=frozenset({"BD"}),
        ),
        RosterMember(
            member_id="HCO1000001", first_name="ALEX", last_name="RIVERA", birth_date=date(1990, 5, 17),
            plan_name="FAMILY PPO", active_from=date(2026, 1, 1),
            benefits=RosterBenefits("20", "0.1", "800", "4000"),
            dependents=(RosterDependent("SAM", "RIVERA", date(2014, 9, 3)),),
        ),
        RosterMember(
            member_id="HCO1000002", first_name="JORDAN", last_name="LEE", birth_date=date(1978, 11, 2),
            plan_name="DEMO SILVER HMO", active_from=date(2024, 1, 1), active_to=date(2025, 12, 31),
            benefits=RosterBenefits("40"),
        ),
    )


@pytest.fixture
def roster() -> tuple[RosterMember, ...]:
    return build_roster()


@pytest.fixture
def payer_sim(roster: tuple[RosterMember, ...]) -> Iterator[tuple[PayerSimServer, str]]:
    server, base_url = start_payer_sim(roster=roster, clock=lambda: SIM_NOW)
    try:
        yield server, base_url
    finally:
        server.stop()
