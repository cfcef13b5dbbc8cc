"""Place of service and telehealth modifiers for a visit.

Sources: CMS CR 12427 / Transmittal 11045 (POS 02 and 10), CMS Transmittal 12671 (pair POS 02/10
with modifier 95 for audio-video or 93 for audio-only). Office visits bill POS 11 without a
telehealth modifier. A payer's telehealth policy may override POS and modifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .model import Billing, Modality

POS_OFFICE = "11"
POS_TELEHEALTH_HOME = "10"
POS_TELEHEALTH_OTHER = "02"
DEFAULT_MODIFIERS: Mapping[Modality, tuple[str, ...]] = {
    Modality.IN_PERSON: (),
    Modality.VIDEO: ("95",),
    Modality.PHONE: ("93",),
}


@dataclass(frozen=True)
class TelehealthPolicy:
    place_of_service_home: str = POS_TELEHEALTH_HOME
    place_of_service_other: str = POS_TELEHEALTH_OTHER
    modifiers: Mapping[Modality, Sequence[str]] | None = None


def billing_facts(modality: Modality, patient_location_type: str,
                  policy: TelehealthPolicy | None = None) -> Billing:
    if modality is Modality.IN_PERSON:
        return Billing(POS_OFFICE, ())
    policy = policy or TelehealthPolicy()
    pos = policy.place_of_service_home if patient_location_type == "home" else policy.place_of_service_other
    modifiers = (policy.modifiers or DEFAULT_MODIFIERS).get(modality, DEFAULT_MODIFIERS[modality])
    return Billing(pos, tuple(modifiers))
