"""Payers (insurers configure themselves) and eligibility checks, JSON and X12."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.errors import FieldError, ValidationFailed
from ..domain.payer_policy import Connector, PolicyOverride, X12Partner
from ..schemas.eligibility import (
    CheckQuery,
    EligibilityCheckIn,
    EligibilityCheckOut,
    MemberId,
    MemberIn,
    MemberOut,
    PayerId,
    PayerIn,
    PayerOut,
    X12Text,
)
from .endpoint import MAX_BODY_BYTES, Call, endpoint, ok
from .idempotency import idempotent
from .openapi_registry import ROUTES, record
from .presenters import utc
from .problems import problem

if TYPE_CHECKING:
    from ..domain.eligibility import EligibilityCheck, RosterMember
    from ..services.eligibility.inputs import CheckInput

eligibility = Blueprint(__name__)
EDI_X12 = "application/edi-x12"
# Chalice answers 415 itself for any other type, before authentication; these reach the view,
# which answers 415 as problem+json after authenticating, so a stranger always sees 401 first.
X12_ROUTE_TYPES = [EDI_X12, "application/x12", "text/plain", "application/json"]


@endpoint(eligibility, "PUT", "/v1/payers/{payer_id}", body=PayerIn, response=PayerOut,
          summary="A payer configures its connector and telehealth policy", errors=(409, 422))
def put_payer(call: Call, payer_id: str) -> Response:
    services = get_services()
    body = call.body(PayerIn)
    _require_own_payer_path(call, payer_id)
    _valid_path("payer_id", payer_id, PayerId)
    name, connector, override = _payer_input(body)
    return ok(payer_json(services.eligibility.put_payer(call.caller, payer_id, name, connector, override)))


@endpoint(eligibility, "GET", "/v1/payers/{payer_id}", response=PayerOut,
          summary="A payer reads its effective configuration (API over scheduling_rules defaults)")
def get_payer(call: Call, payer_id: str) -> Response:
    return ok(payer_json(get_services().eligibility.get_payer(call.caller, payer_id)))


@endpoint(eligibility, "PUT", "/v1/payers/{payer_id}/members/{member_id}", body=MemberIn, response=MemberOut,
          summary="A payer uploads one roster member (PHI), used by its roster connector", errors=(409,))
def put_member(call: Call, payer_id: str, member_id: str) -> Response:
    body = call.body(MemberIn)
    _require_own_payer_path(call, payer_id)
    _valid_path("member_id", member_id, MemberId)
    member = _roster_member(member_id, body)
    created = get_services().eligibility.put_member(call.caller, payer_id, member)
    return ok(member_json(payer_id, member, created))


@endpoint(eligibility, "POST", "/v1/eligibility/checks", body=EligibilityCheckIn, response=EligibilityCheckOut,
          idempotency_key=True, errors=(404, 422, 429),
          summary="Is this member covered for this visit (service, modality, date), and what do they pay")
def create_check(call: Call) -> Response:
    services = get_services()
    services.rate_limiter.hit(call.caller, "eligibility")
    body = call.body(EligibilityCheckIn)
    services.rate_limiter.hit_shared(call.caller, "eligibility", body.payer_id)
    return idempotent(call, "POST /v1/eligibility/checks",
                      lambda: (200, check_json(services.eligibility.create_check(call.caller, _check_input(body)))))


@endpoint(eligibility, "GET", "/v1/eligibility/checks/{check_id}", query=CheckQuery, response=EligibilityCheckOut,
          summary="Read a check; a pending check asks the payer again once next_attempt_at has come. "
                  "?include=raw271 adds the payer's raw 271 (PHI, audited)")
def get_check(call: Call, check_id: str) -> Response:
    query = call.params(CheckQuery)
    check = get_services().eligibility.get_check(call.caller, check_id, include_raw=query.include == "raw271")
    headers = {}
    if check.status == "pending" and check.next_attempt_at is not None:
        wait = (check.next_attempt_at - get_services().clock()).total_seconds()
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return ok(check_json(check, include_raw=query.include == "raw271"), headers=headers)


@endpoint(eligibility, "POST", "/v1/eligibility/x12", content_types=X12_ROUTE_TYPES, body=X12Text,
          errors=(404, 415, 429),
          summary="An X12 005010X279A1 270 in (Content-Type: application/edi-x12), the 271 out (same type), "
                  "answered from the roster of the payer the 270 names (NM1*PR ... PI*payer_id)")
def x12_exchange(call: Call) -> Response:
    services = get_services()
    services.rate_limiter.hit(call.caller, "eligibility")
    content_type = (call.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != EDI_X12:
        # The framework's own 415 (api/middleware.py), after authentication here; the type sent is not echoed.
        return problem(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", f"Send the 270 as {EDI_X12}.")
    raw = call.request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        from .endpoint import PayloadTooLarge

        raise PayloadTooLarge(f"The body may be at most {MAX_BODY_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The 270 is not UTF-8.", errors=[FieldError("body", "is not UTF-8")]) from exc
    answer = services.eligibility.answer_270(
        call.caller, text, before_answer=lambda payer_id: services.rate_limiter.hit_shared(
            call.caller, "eligibility", payer_id))
    return Response(body=answer, status_code=200, headers={"Content-Type": EDI_X12})


# The document names the one type the route answers; the others only reach the view so that an
# unauthenticated caller gets 401 before 415 (authentication first, on every route).
record(replace(ROUTES["POST /v1/eligibility/x12"], content_types=(EDI_X12,), response=X12Text,
              extra={"response_content_type": EDI_X12}))


# --- request bodies as the service's plain inputs --------------------------------------------------------

def _payer_input(body: PayerIn) -> tuple[str, Connector, PolicyOverride]:
    policy = body.telehealth_policy
    modifiers = policy.modifiers if policy else None
    override = PolicyOverride(
        video_covered=policy.video.covered if policy and policy.video else None,
        phone_covered=policy.phone.covered if policy and policy.phone else None,
        place_of_service_home=policy.place_of_service_home if policy else None,
        place_of_service_other=policy.place_of_service_other if policy else None,
        modifiers_video=tuple(modifiers.video) if modifiers and modifiers.video is not None else None,
        modifiers_phone=tuple(modifiers.phone) if modifiers and modifiers.phone is not None else None,
    )
    x12 = body.connector.x12
    partner = X12Partner(**x12.model_dump(exclude_none=True)) if x12 else X12Partner()
    return body.name, Connector(body.connector.kind, body.connector.url, partner), override


def _roster_member(member_id: str, body: MemberIn) -> RosterMember:
    from ..domain.eligibility import RosterBenefits, RosterMember

    b = body.benefits
    return RosterMember(
        member_id=member_id, first_name=body.first_name, last_name=body.last_name, birth_date=body.birth_date,
        plan_name=body.plan.name if body.plan else None, active_from=body.active_from, active_to=body.active_to,
        benefits=RosterBenefits(b.copay, b.coinsurance, b.deductible_remaining, b.out_of_pocket_remaining))


def _check_input(body: EligibilityCheckIn) -> CheckInput:
    from ..domain.eligibility import DependentPatient
    from ..services.eligibility.inputs import CheckInput, MemberRef

    m, d = body.member, body.dependent
    return CheckInput(
        payer_id=body.payer_id, member=MemberRef(m.member_id, m.first_name, m.last_name, m.birth_date),
        service=body.service, modality=body.modality, date_of_service=body.date_of_service,
        dependent=DependentPatient(d.first_name, d.last_name, d.birth_date, d.relationship) if d else None,
        provider_npi=body.provider_npi, provider_name=body.provider_name, discipline=body.discipline,
        patient_jurisdiction=body.patient_jurisdiction, patient_location_type=body.patient_location_type,
        clinician_id=body.clinician_id, patient_id=body.patient_id)


# --- helpers and presenters ----------------------------------------------------------------------------

def _require_own_payer_path(call: Call, payer_id: str) -> None:
    """Another payer's id is 404 (after the body is parsed, as on every route: parsing comes before lookups)."""
    from ..domain.errors import NotFound

    if call.caller.payer_id != payer_id:
        raise NotFound("No such payer.")


def _valid_path(name: str, value: str, annotated: Any) -> None:
    from pydantic import TypeAdapter
    from pydantic import ValidationError as PydanticError

    try:
        TypeAdapter(annotated).validate_python(value)
    except PydanticError as exc:
        raise ValidationFailed(f"Invalid {name}", errors=[FieldError(name, "is not in the expected format")]) from exc


def payer_json(p: Any) -> dict[str, Any]:
    t = p.policy.terms
    return {
        "payer_id": p.payer_id, "name": p.name,
        "connector": _connector_json(p.connector) if p.connector else None,
        "telehealth_policy": {
            "video": {"covered": t.video_covered}, "phone": {"covered": t.phone_covered},
            "place_of_service_home": t.place_of_service_home, "place_of_service_other": t.place_of_service_other,
            "modifiers": {"video": list(t.modifiers_video), "phone": list(t.modifiers_phone)},
        },
        "telehealth_policy_source": p.policy.source_json(),
        "configured_through_api": p.from_api,
        "version": p.version,
    }


def _connector_json(c: Connector) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": c.kind, "url": c.url}
    if c.x12 != X12Partner():  # only a connector with companion-guide settings shows them
        body["x12"] = {k: v for k, v in vars(c.x12).items() if v is not None}
    return body


def member_json(payer_id: str, m: RosterMember, created: bool) -> dict[str, Any]:
    # The roster entry is PHI: the answer confirms what was stored without echoing names or dates of birth.
    return {"payer_id": payer_id, "created": created, "plan": {"name": m.plan_name},
            "active_from": m.active_from.isoformat(), "active_to": m.active_to.isoformat() if m.active_to else None}


def check_json(c: EligibilityCheck, *, include_raw: bool = False) -> dict[str, Any]:
    a = c.answer
    t = c.telehealth
    body: dict[str, Any] = {
        "check_id": c.check_id, "status": c.status, "payer_id": c.payer_id, "service": c.request.service,
        "modality": c.request.modality.value, "date_of_service": c.request.date_of_service.isoformat(),
        "service_type_codes": list(c.request.service_type_codes),
        "plan": {"name": a.plan_name if a else None,
                 "begin": a.plan_begin.isoformat() if a and a.plan_begin else None,
                 "end": a.plan_end.isoformat() if a and a.plan_end else None},
        "benefits": {
            "copay": a.benefits.copay if a else None, "coinsurance": a.benefits.coinsurance if a else None,
            "deductible_remaining": a.benefits.deductible_remaining if a else None,
            "out_of_pocket_remaining": a.benefits.out_of_pocket_remaining if a else None,
            "in_network": c.request.provider_in_network,
        },
        "benefit_network": a.benefit_network if a else None,
        "telehealth": {"covered": t.covered if t else None, "place_of_service": t.place_of_service if t else None,
                       "modifiers": list(t.modifiers) if t else []},
        "aaa_errors": [{"code": e.code, "description": e.description, "level": e.level,
                        "follow_up_action": e.follow_up_action} for e in (a.aaa_errors if a else ())],
        "carve_out": bool(a and a.carve_out),
        "refer_to": [{"entity_code": r.entity_code, "name": r.name, "id_qualifier": r.id_qualifier, "id": r.id,
                      "phone": r.phone} for r in (a.refer_to if a else ())],
        "rejection": ({"kind": a.rejection.kind, "ack_code": a.rejection.ack_code,
                       "codes": [{"code": c.code, "description": c.description, "segment": c.segment,
                                  "element": c.element} for c in a.rejection.codes]}
                      if a and a.rejection else None),
        "warnings": list(a.warnings) if a else [],
        "source": c.source, "cached": c.cached, "checked_at": utc(c.checked_at), "requested_at": utc(c.requested_at),
        "pending": ({"attempts": c.attempts, "next_attempt_at": utc(c.next_attempt_at),
                     "give_up_at": utc(c.give_up_at), "reason": c.failure} if c.status == "pending" else None),
        "error": c.failure if c.status == "error" else None,
    }
    if include_raw:
        body["raw_271"] = c.raw_271
    return body
