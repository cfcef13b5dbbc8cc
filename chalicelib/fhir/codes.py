"""Code systems, extension URLs and resource ids of the FHIR face.

Standard codings are used where they exist (CPT, CMS place of service, v3 ParticipationMode, NPI,
ISO 3166-2, SMART Scheduling Links extensions); where none exists the extension is ours and is
documented under EXT_BASE (see the CapabilityStatement and README).
"""

from __future__ import annotations

from ..domain.model import Modality

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"

CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"
ISO_3166_2 = "urn:iso:std:iso:3166:-2"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
LOCATION_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
LANGUAGE = "urn:ietf:bcp:47"
ISSUE_DETAILS = "https://hybrid-care.example/problems"  # our API's error codes (SLOT_TAKEN, ...)

SMART_EXT = "http://fhir-registry.smarthealthit.org/StructureDefinition/"
BOOKING_DEEP_LINK = SMART_EXT + "booking-deep-link"
BOOKING_PHONE = SMART_EXT + "booking-phone"
SLOT_CAPACITY = SMART_EXT + "slot-capacity"

EXT_BASE = "https://hybrid-care.example/fhir/StructureDefinition/"
EXT_MODALITY = EXT_BASE + "visit-modality"                  # valueCoding, v3 ParticipationMode
EXT_PLACE_OF_SERVICE = EXT_BASE + "place-of-service"        # valueCoding, CMS POS
EXT_BILLING_MODIFIER = EXT_BASE + "billing-modifier"        # valueCoding, CPT modifier (95, 93)
EXT_PATIENT_JURISDICTION = EXT_BASE + "patient-jurisdiction"  # valueCode, ISO 3166-2: where the patient is
EXT_LICENSED_JURISDICTION = EXT_BASE + "licensed-jurisdiction"  # valueCodeableConcept, ISO 3166-2
EXT_COMPACT_PRIVILEGE = EXT_BASE + "compact-privilege"      # complex: compact, kind, home, jurisdiction*, expires
EXT_LANGUAGE = EXT_BASE + "language"                         # valueCode, BCP 47 (R4 PractitionerRole has none)
EXT_DISCIPLINE = EXT_BASE + "CodeSystem/discipline"         # code system of our disciplines
SP_PATIENT_JURISDICTION = EXT_BASE.replace("StructureDefinition", "SearchParameter") + "Slot-patient-jurisdiction"
SP_MODALITY = EXT_BASE.replace("StructureDefinition", "SearchParameter") + "Slot-modality"

MODE_OF = {Modality.IN_PERSON: ("FACE", "face-to-face"), Modality.VIDEO: ("VIDEOCONF", "videoconferencing"),
           Modality.PHONE: ("PHONE", "telephone")}
MODALITY_OF_MODE = {code: m for m, (code, _) in MODE_OF.items()}
SHORT_OF = {Modality.IN_PERSON: "i", Modality.VIDEO: "v", Modality.PHONE: "p"}
MODALITY_OF_SHORT = {s: m for m, s in SHORT_OF.items()}

STATUS_TO_FHIR = {"booked": "booked", "checked_in": "checked-in", "in_progress": "arrived",
                  "completed": "fulfilled", "cancelled": "cancelled", "no_show": "noshow"}

VIRTUAL_PREFIX = "virtual."


def fhir_id(internal: str) -> str:
    """Our ids are [A-Za-z0-9_-]; a FHIR id is [A-Za-z0-9.-]: '_' -> '-' and '-' -> '.', reversibly."""
    return internal.replace("-", ".").replace("_", "-")


def internal_id(fhir: str) -> str:
    return fhir.replace("-", "_").replace(".", "-")


def virtual_location_id(jurisdiction: str) -> str:
    return VIRTUAL_PREFIX + jurisdiction


def modality_coding(modality: Modality) -> dict[str, str]:
    code, display = MODE_OF[modality]
    return {"system": PARTICIPATION_MODE, "code": code, "display": display}


def cpt_concept(code: str, display: str | None = None) -> dict[str, object]:
    coding: dict[str, str] = {"system": CPT, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def jurisdiction_concept(jurisdiction: str) -> dict[str, object]:
    return {"coding": [{"system": ISO_3166_2, "code": jurisdiction}], "text": jurisdiction}
