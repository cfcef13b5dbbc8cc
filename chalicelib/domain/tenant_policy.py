"""Tenant policy as data (GET/PUT /v1/tenant/settings). Defaults apply to a tenant that set nothing."""

from __future__ import annotations

from dataclasses import dataclass

UNCERTAIN_RULES = ("warn", "refuse")


@dataclass(frozen=True)
class LicensurePolicy:
    # warn: an allowance resting on a rule marked uncertain goes ahead, flagged `uncertain`;
    # refuse: it becomes a refusal (UNCERTAIN_RULE_REFUSED) until someone settles the doubt.
    uncertain_rules: str = "warn"


@dataclass(frozen=True)
class RoutingOverrides:
    """What a tenant changed of scheduling_rules/routing/: rules switched off, and bounds."""

    disabled_rules: tuple[str, ...] = ()
    high_risk_max_wait_days: int | None = None
    escalation_open_bound_minutes: int | None = None


@dataclass(frozen=True)
class PublicationPolicy:
    """SMART Scheduling Links publication of open slots (GET /fhir/R4/$bulk-publish): who may read the
    feed without a token, where a slot is booked, and how far ahead slots are published."""

    public: bool = False
    booking_url: str | None = None  # https page that books a slot; the feed appends the slot's details
    booking_phone: str | None = None
    days: int = 7
    services: tuple[str, ...] = ()  # CPT codes published; empty: every service in the catalog


@dataclass(frozen=True)
class NoShowPolicy:
    """What follows from a patient's no-show count (None: nothing follows)."""

    require_confirmation_after: int | None = 2
    video_first_after: int | None = None
    # A visit whose required confirmation has not come this long before its start is released (cancelled as
    # `unconfirmed`, its slot offered to the waitlist, the patient told); None: it stays booked and flagged.
    # 4 h: with the default reminders the patient has had the confirm link for about 20 h, and the freed slot
    # still has hours to go to someone on the waitlist (a policy choice; no rule sets it).
    release_unconfirmed_minutes_before: int | None = 240


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders go out, on which channels, and what is quiet time (in the patient's zone).

    Defaults: 24 h and 2 h before (issue 18's minimum), SMS and email, no messages 21:00-08:00 in the
    patient's zone (the TCPA's 8 a.m.-9 p.m. calling window, 47 CFR 64.1200(c)(1)), links valid 72 h
    (never past the visit), waitlist offers held 30 minutes, confirmation required after 2 no-shows, and a visit still
    unconfirmed 4 h before its start released.
    """

    offsets_minutes: tuple[int, ...] = (1440, 120)
    channels: tuple[str, ...] = ("sms", "email")
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    link_ttl_hours: int = 72
    offer_hold_minutes: int = 30
    no_shows: NoShowPolicy = NoShowPolicy()


@dataclass(frozen=True)
class TenantSettings:
    tenant_id: str
    licensure: LicensurePolicy = LicensurePolicy()
    routing: RoutingOverrides = RoutingOverrides()
    reminders: ReminderPolicy = ReminderPolicy()
    version: int = 0
    publication: PublicationPolicy = PublicationPolicy()
