"""The audit log: GET /v1/audit (search) and GET /v1/audit/verify (walk the hash chain)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.model import Interval
from ..schemas.queries import AuditQuery
from .endpoint import Call, endpoint, ok
from .presenters import audit_entry_json, utc

audit = Blueprint(__name__)


@endpoint(audit, "GET", "/v1/audit", query=AuditQuery, response="AuditList",
          summary="Audit entries of every PHI read or write (append-only; shown at once, hash-chained "
                  "shortly after by the table stream's consumer)")
def search_audit(call: Call) -> Response:
    q = call.params(AuditQuery)
    start, end = _window(q)
    items, next_cursor = get_services().audit_log.search(call.caller, Interval(start, end), q.patient_id, q.limit,
                                                         q.cursor)
    return ok({"items": [audit_entry_json(e) for e in items], "next_cursor": next_cursor})


@endpoint(audit, "GET", "/v1/payers/{payer_id}/audit", query=AuditQuery, response="AuditList",
          summary="A payer's own audit log: every lookup of its members (by any tenant, with the asking tenant "
                  "and the member's pseudonym) and every action of its own tokens")
def payer_audit(call: Call, payer_id: str) -> Response:
    q = call.params(AuditQuery)
    start, end = _window(q)
    items, next_cursor = get_services().audit_log.search_payer(call.caller, payer_id, Interval(start, end), q.limit,
                                                               q.cursor)
    return ok({"items": [audit_entry_json(e) for e in items], "next_cursor": next_cursor})


def _window(q: AuditQuery) -> tuple[datetime, datetime]:
    now = get_services().clock()
    return q.from_ or now - timedelta(days=30), q.to or now + timedelta(minutes=1)


@endpoint(audit, "GET", "/v1/audit/verify", response="AuditVerifyOut", summary="Walk the tenant's audit hash chain; "
          "report entries waiting to be chained and fail when one waited past the bound")
def verify_audit(call: Call) -> Response:
    report = get_services().audit_log.verify(call.caller)
    return ok({"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq,
               "problem": report.problem, "waiting": report.waiting,
               "oldest_waiting_seconds": report.oldest_waiting_seconds, "max_wait_seconds": report.max_wait_seconds,
               "checked_at": utc(get_services().clock())})

