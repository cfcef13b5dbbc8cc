"""Eligibility: payers configure themselves, checks ask them (X12 270/271), a visit's answer lands after commit.

A check, step by step:
1. The payer's effective configuration: what it PUT through the API, else its entry in
   scheduling_rules/payers/ (the API version wins field by field for the telehealth policy).
2. Service type codes from the service catalog for the service and the clinician's discipline
   (scheduling_rules/services.yaml), never a constant; DTP*291 is the visit's local date.
3. The cache (per owner, payer, member, provider, service types and date of service; TTL
   ``cache_ttl_seconds``, expiry checked in code): a hit sends no 270.
4. Otherwise the connector: ``x12_http`` POSTs the 270 to the payer's URL (its raw 271 is read by
   the 271 reader); ``roster`` answers the same inquiry from the members the payer uploaded, in
   process (roster.py): its answer is read directly, never from text (its 271 is written once, to keep).
5. Time budget and retries: each attempt gets at most ``attempt_timeout_seconds``; a timeout, a
   network error, 5xx/408/429 or AAA 42/80 is retried with capped exponential backoff and full
   jitter while the request's budget (``budget_seconds``, 8 s; booking ``booking_budget_seconds``)
   lasts. When it runs out the check is stored as ``pending`` (the degraded state, see
   domain/eligibility.py) and asked again from ``next_attempt_at`` on: by the ``eligibility-pending``
   job for a visit's check (booking_hook.py), or by a GET of the check, whichever comes first.
6. The check (parsed answer, telehealth block, and the raw 271 beside it) is stored; every read and
   write is audited (the check and the raw 271 are PHI). Logs carry ids and codes only.

The 270's envelope follows the connector's ``x12`` settings (domain/payer_policy.X12Partner): the
clearinghouse as ISA/GS receiver, ISA15 from the stage, control numbers from the sender's atomic
counter (a ControlNumberCounter). Names go out in the connector's character set (x12/text.py),
from the patient's given/family fields. A TA1 or 999 in place of a 271 is read (x12/ack.py) and
surfaced with its codes.

Modules, one concept each; every outside dependency is a port (domain/ports.py), wired in bootstrap.py:
    payers.py        payer configuration (API over rules) and roster upload
    checks.py        checks and their lifecycle: create, cache, pending, re-poll, settle
    payer_calls.py   asking a payer: attempts inside the time budget, backoff, retries
    x12_mapping.py   a check as a 270 (inquiry, envelope) and a 271 (or TA1/999) as an answer
    roster.py        the roster connector: an inquiry answered from the uploaded members
    x12_answering.py POST /v1/eligibility/x12: a 271 for a 270
    booking_hook.py  a visit's eligibility: booking's answer, the stream consumer's check, the pending worker
    service.py       EligibilityService: the one object the routes and bootstrap see
    inputs.py        plain inputs the views map request bodies to
"""
