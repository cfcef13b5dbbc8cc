"""Hybrid routing recommendations and crisis escalations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.model import Interval
from ..schemas.queries import EscalationQuery, PageQuery
from ..schemas.routing import AcknowledgeIn, ResolveIn, RoutingRequestIn
from .endpoint import Call, endpoint, ok
from .presenters import escalation_json, explanation_json, slot_json, utc

if TYPE_CHECKING:
    from ..services.routing import RoutingRequest

care_routing = Blueprint(__name__)


@endpoint(care_routing, "POST", "/v1/routing/recommendations", body=RoutingRequestIn,
          response="RoutingRecommendationOut", errors=(404, 422, 429),
          summary="Recommend clinic, video or phone for a patient, with real options and the rules that fired")
def recommend(call: Call) -> Response:
    get_services().rate_limiter.hit(call.caller, "availability")
    answer = get_services().routing.recommend(call.caller, _routing_request(call.body(RoutingRequestIn)))
    r = answer.recommendation
    crisis = None
    if r.decision == "escalate":
        lines = r.crisis
        crisis = {"escalation_id": answer.escalation.escalation_id if answer.escalation else None,
                  "resources": [{"name": x.name, "phone": x.phone, "text": x.text, "url": x.url}
                                for x in (lines.resources if lines else ())],
                  "emergency_number": lines.emergency_number if lines else "911"}
    s = answer.screening
    return ok({
        "decision": r.decision,
        "recommended_modality": r.recommended_modality.value if r.recommended_modality else None,
        "risk_level": answer.risk,
        "screening": None if s is None else {"instrument": s.instrument, "score": s.score, "band": s.band,
                                             "implied_risk": s.implied_risk, "rule_id": s.rule_id,
                                             "findings": list(s.reasons)},
        "options": [{**slot_json(o.candidate.slot, o.candidate.licensure), "score": o.score,
                     "reasons": [explanation_json(x) for x in o.reasons]} for o in r.options],
        "explanation": [explanation_json(x) for x in r.explanation],
        "crisis": crisis,
        "rules_version": answer.rules_version,
    })


@endpoint(care_routing, "GET", "/v1/escalations", query=EscalationQuery, response="EscalationList",
          summary="Crisis escalations of the tenant (newest first)")
def list_escalations(call: Call) -> Response:
    q = call.params(EscalationQuery)
    found = get_services().routing.list_escalations(call.caller, q.status, q.limit)
    return ok({"items": [escalation_json(e) for e in found], "next_cursor": None})


@endpoint(care_routing, "POST", "/v1/escalations/{escalation_id}/acknowledge", body=AcknowledgeIn,
          response="EscalationOut", errors=(404, 409), summary="On call has seen the escalation")
def acknowledge(call: Call, escalation_id: str) -> Response:
    body = call.body(AcknowledgeIn)
    return ok(escalation_json(get_services().routing.acknowledge(call.caller, escalation_id, body.note)))


@endpoint(care_routing, "POST", "/v1/escalations/{escalation_id}/resolve", body=ResolveIn,
          response="EscalationOut", errors=(404, 409), summary="Close the loop on an escalation")
def resolve(call: Call, escalation_id: str) -> Response:
    body = call.body(ResolveIn)
    return ok(escalation_json(get_services().routing.resolve(call.caller, escalation_id, body.outcome)))


@endpoint(care_routing, "GET", "/v1/patients/{patient_id}/screenings", query=PageQuery, response="ScreeningList",
          summary="The patient's screening results, newest first (PHI: every read is audited)")
def screenings(call: Call, patient_id: str) -> Response:
    page = call.params(PageQuery)
    found = get_services().routing.screenings_of(call.caller, patient_id, page.limit)
    return ok({"items": [{"instrument": s.instrument, "score": s.score, "band": s.band, "implied_risk": s.implied_risk,
                          "rule_id": s.rule_id, "findings": list(s.reasons), "at": utc(s.at)} for s in found],
               "next_cursor": None})


def _routing_request(body: RoutingRequestIn) -> RoutingRequest:
    from ..services.routing import Preferences, PrescribingIntent, RoutingRequest, ScreeningAnswers

    s, p, pref = body.screening, body.prescribing, body.preferences
    return RoutingRequest(
        patient_id=body.patient_id, service=body.service, window=Interval(body.window.from_, body.window.to),
        patient_jurisdiction=body.patient_jurisdiction, risk_level=body.risk_level,
        screening=ScreeningAnswers(s.instrument, tuple(s.answers)) if s is not None else None,
        preferences=Preferences(pref.modality, pref.language, pref.accessibility_needs),
        prescribing=PrescribingIntent(p.controlled_substance_schedule) if p is not None else None,
        postal_code=body.postal_code, limit=body.limit)
