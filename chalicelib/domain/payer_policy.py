"""A payer's configuration and telehealth policy: the rules defaults and what the payer set through the API.

Loaded with the rule book (scheduling_rules/payers/, kind ``payer_policy``); the checks themselves
live in eligibility.py. Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .model import Modality
from .ruleref import RuleRef

PAYER_POLICY = "payer_policy"  # RuleBook.tables key
ANY_PAYER = "*"


# --- payer configuration --------------------------------------------------------------------------

@dataclass(frozen=True)
class X12Partner:
    """How one connector's clearinghouse wants the 270 enveloped (its companion guide).

    The ISA/GS receiver is the clearinghouse, never the payer: the payer is named only in 2100A
    NM109. Unset ids fall back to our sender id (settings) and, for the receiver, to the payer id
    (a direct payer connection, like the local simulator).
    """

    sender_id: str | None = None  # ISA06/GS02; None = Settings.eligibility.x12_sender_id
    sender_qualifier: str = "ZZ"  # ISA05
    receiver_id: str | None = None  # ISA08/GS03: the clearinghouse's own id
    receiver_qualifier: str = "ZZ"  # ISA07
    application_receiver_code: str | None = None  # GS03 when it differs from ISA08
    usage_indicator: str | None = None  # ISA15 forced (T against a clearinghouse's test line); None = the stage's
    provider_entity: str = "person"  # NM1*1P*1 with the clinician's names | "organization": NM1*1P*2
    organization_name: str | None = None  # NM103 when provider_entity is organization
    organization_npi: str | None = None  # the group NPI sent with the organisation (None = the clinician's)
    character_set: str = "basic"  # "basic": transliterated; "extended": accented letters kept


@dataclass(frozen=True)
class Connector:
    kind: str  # "x12_http" | "roster"
    url: str | None = None
    x12: X12Partner = field(default_factory=X12Partner)


@dataclass(frozen=True)
class TelehealthTerms:
    """What a payer covers for telehealth and how it must be billed."""

    video_covered: bool | None
    phone_covered: bool | None
    place_of_service_home: str = "10"
    place_of_service_other: str = "02"
    modifiers_video: tuple[str, ...] = ("95",)
    modifiers_phone: tuple[str, ...] = ("93",)

    def covered(self, modality: Modality) -> bool | None:
        if modality is Modality.VIDEO:
            return self.video_covered
        if modality is Modality.PHONE:
            return self.phone_covered
        return None

    def modifiers(self, modality: Modality) -> tuple[str, ...]:
        if modality is Modality.VIDEO:
            return self.modifiers_video
        if modality is Modality.PHONE:
            return self.modifiers_phone
        return ()


# Used only when the rules carry no default entry: coverage unknown, CMS billing conventions.
UNKNOWN_TERMS = TelehealthTerms(video_covered=None, phone_covered=None)


@dataclass(frozen=True)
class PolicyOverride:
    """The fields a payer set through PUT /v1/payers/{id}; None = not set (the rules default applies)."""

    video_covered: bool | None = None
    phone_covered: bool | None = None
    place_of_service_home: str | None = None
    place_of_service_other: str | None = None
    modifiers_video: tuple[str, ...] | None = None
    modifiers_phone: tuple[str, ...] | None = None

    def fields_set(self) -> tuple[str, ...]:
        return tuple(name for name in self.__dataclass_fields__ if getattr(self, name) is not None)


@dataclass(frozen=True)
class PayerDefaults:
    """One entry of scheduling_rules/payers/*.yaml (kind payer_policy)."""

    rule: RuleRef
    payer_id: str  # ANY_PAYER = every payer without an entry of its own
    name: str
    connector: Connector | None
    terms: TelehealthTerms


@dataclass(frozen=True)
class PayerPolicyTable:
    entries: tuple[PayerDefaults, ...] = ()

    def own(self, payer_id: str, on: date) -> PayerDefaults | None:
        return next((e for e in self.entries if e.payer_id == payer_id and e.rule.in_effect(on)), None)

    def for_payer(self, payer_id: str, on: date) -> PayerDefaults | None:
        """The payer's own entry in effect on that date, else the default entry."""
        return self.own(payer_id, on) or self.own(ANY_PAYER, on)


@dataclass(frozen=True)
class PayerConfig:
    """What a payer configured through the API (the API version wins over the rules defaults)."""

    payer_id: str
    name: str
    connector: Connector
    policy: PolicyOverride = field(default_factory=PolicyOverride)
    updated_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True)
class EffectivePolicy:
    terms: TelehealthTerms
    rule_id: str | None  # the rules default the unset fields came from
    overridden: tuple[str, ...]  # the fields the payer set through the API

    def source_json(self) -> dict[str, object]:
        return {"rule_id": self.rule_id, "api_fields": list(self.overridden)}


def effective_policy(override: PolicyOverride | None, defaults: PayerDefaults | None) -> EffectivePolicy:
    """Field by field: what the payer set through the API wins; the rest comes from the rules."""
    base = defaults.terms if defaults else UNKNOWN_TERMS
    override = override or PolicyOverride()
    values = {name: getattr(base, name) for name in base.__dataclass_fields__}
    for name in override.fields_set():
        values[name] = getattr(override, name)
    return EffectivePolicy(TelehealthTerms(**values), defaults.rule.rule_id if defaults else None,
                           override.fields_set())
