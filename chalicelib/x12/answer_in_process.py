"""A 271 answer read as the 271 reader would read it, without writing and tokenizing its text.

For an answer made in the same process (a payer's roster): ``read_271(write_271(r, envelope))`` and
``as_read(r)`` give the same benefit rows, AAA errors (with the level of the loop they sit in),
dates, references and echoed trace number, so ``summarize_benefits`` reads both alike.
"""

from __future__ import annotations

from dataclasses import replace

from ..domain.eligibility import AaaEntry
from .response import EligibilityResponse, Entity, Member, Parsed271, TraceNumber
from .write_271 import merge_service_types


def as_read(response: EligibilityResponse) -> Parsed271:
    inquiry = response.inquiry

    def at(errors: tuple[AaaEntry, ...], level: str) -> tuple[AaaEntry, ...]:
        return tuple(replace(e, level=level) for e in errors)

    traces = (TraceNumber("2", inquiry.trace_number),
              *((response.source_trace,) if response.source_trace else ()))
    benefits = merge_service_types(response.benefits)
    dependent = inquiry.dependent
    subscriber_errors = at(response.subscriber_errors, "subscriber")
    subscriber = Member(
        "subscriber", last_name=inquiry.last_name, first_name=inquiry.first_name, member_id=inquiry.member_id,
        birth_date=inquiry.birth_date if dependent is None else None,
        trace_numbers=traces if dependent is None else (), references=response.references,
        dates=response.dates if dependent is None else (), aaa_errors=subscriber_errors,
        benefits=benefits if dependent is None else ())
    dependent_errors = at(response.dependent_errors, "dependent")
    member = None
    if dependent is not None:
        member = Member("dependent", last_name=dependent.last_name, first_name=dependent.first_name,
                        birth_date=dependent.birth_date, relationship=dependent.relationship, trace_numbers=traces,
                        dates=response.dates, aaa_errors=dependent_errors, benefits=benefits)
    errors = (*at(response.information_source_errors, "information_source"),
              *at(response.information_receiver_errors, "information_receiver"), *subscriber_errors,
              *dependent_errors, *(e for row in benefits for e in at(row.aaa_errors, "benefit")))
    payer = Entity("PR", "2", inquiry.payer_name, id_qualifier="PI", id=inquiry.payer_id)
    provider = Entity("1P", "1" if inquiry.provider_first_name else "2", inquiry.provider_name,
                      first_name=inquiry.provider_first_name, id_qualifier="XX", id=inquiry.provider_npi)
    return Parsed271(envelope=None, reference_id=inquiry.reference_id or inquiry.trace_number, created_at=None,
                     payer=payer, receiver=provider, subscriber=subscriber, dependent=member, aaa_errors=errors)
