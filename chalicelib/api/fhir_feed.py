"""SMART Scheduling Links publication at /fhir/R4: the $bulk-publish manifest and its NDJSON files.

The caller's own tenant with a token; any tenant's feed without one only when that tenant's settings
publish it (`publication.public`), and otherwise 404 so a tenant's existence is not told.
"""

from __future__ import annotations

import json

from chalice import Response

from ..bootstrap import get_services
from ..domain.errors import NotFound
from .auth import caller_from_headers
from .endpoint import Call
from .fhir import BASE, BulkManifest, FhirBlueprint, Ndjson, base_url, fhir_route

FHIR_NDJSON = "application/fhir+ndjson"

fhir_feed = FhirBlueprint(__name__)
MANIFEST = {"bp": fhir_feed, "response": BulkManifest, "content_type": "application/json"}  # the spec's JSON


# --- SMART Scheduling Links bulk publication -----------------------------------------------------
@fhir_route("GET", "/$bulk-publish", **MANIFEST,
            summary="SMART Scheduling Links manifest of the caller's tenant (Location, Schedule, Slot NDJSON)")
def bulk_publish(call: Call) -> Response:
    return _manifest(call, call.caller.tenant_id)


@fhir_route("GET", "/public/{tenant_id}/$bulk-publish", **MANIFEST,
            summary="A tenant's SMART Scheduling Links manifest: no token when the tenant publishes publicly")
def public_bulk_publish(call: Call, tenant_id: str) -> Response:
    _require_feed_reader(call, tenant_id)
    return _manifest(call, tenant_id)


@fhir_route("GET", "/public/{tenant_id}/files/{file_name}", bp=fhir_feed, response=Ndjson, content_type=FHIR_NDJSON,
            summary="One NDJSON file of a tenant's SMART Scheduling Links feed")
def public_bulk_file(call: Call, tenant_id: str, file_name: str) -> Response:
    from ..fhir import publication

    _require_feed_reader(call, tenant_id)
    body = publication.ndjson(get_services(), tenant_id, file_name)
    return Response(body=body, status_code=200, headers={"Content-Type": FHIR_NDJSON})


def _manifest(call: Call, tenant: str) -> Response:
    from ..fhir import publication

    files = f"{base_url(call)}{BASE}/public/{tenant}/files"
    made = publication.manifest(get_services(), tenant, f"{base_url(call)}{call.request.path}", files)
    return Response(body=json.dumps(made), status_code=200, headers={"Content-Type": "application/json"})


def _require_feed_reader(call: Call, tenant: str) -> None:
    """Public when the tenant publishes publicly; otherwise only a bearer of that tenant (else 404, not 401,
    so a tenant's existence is not told)."""
    from ..fhir import publication

    services = get_services()
    if len(tenant) > 64 or not tenant.replace("-", "").replace("_", "").isalnum():
        raise NotFound("No such feed.")
    if publication.policy(services, tenant).public:
        return
    if not (call.headers or {}).get("authorization"):
        raise NotFound("No such feed.")
    caller = caller_from_headers(call.headers, services.settings, jwks=services.process.jwks)
    if caller.tenant_id != tenant or not caller.has("admin", "scheduler", "clinician", "patient"):
        raise NotFound("No such feed.")
