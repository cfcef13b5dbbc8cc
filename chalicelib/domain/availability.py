"""Bookable slots from weekly wall-clock rules, minus exceptions, booked blocks and full rooms.

Rules are local wall-clock times in the zone of the rule's site (or the clinician's zone when the
rule has no site). A rule window is converted to UTC per calendar date, so a 09:00-17:00 rule
stays 09:00-17:00 local on both sides of a DST change. A start that falls in a spring-forward gap
maps forward, as zoneinfo's fold=0 does (02:30 becomes 03:30 daylight time).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .model import Availability, Clinician, ClosedDate, Interval, Modality, Patient, Site, Unavailable, WeeklyRule
from .timeblocks import BLOCK, blocks_covering, ceil_block


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    clinician_id: str
    modality: Modality
    site_id: str | None
    end: datetime = field(compare=False)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True)
class BusyTime:
    """What an availability search reads in one go: each clinician's held blocks, each site's rooms taken per
    block, and the patient's own held blocks."""

    clinicians: dict[str, frozenset[datetime]]
    rooms: dict[str, dict[datetime, frozenset[str]]]
    patient: frozenset[datetime]


@dataclass(frozen=True)
class SearchInputs:
    """Everything a search decides on, read together: the clinicians it names (all of the tenant's, or the one
    asked for; an empty tuple when that one does not exist), every site of the tenant, the patient (None when
    none was named or found) and the busy time of the clinicians the search wanted."""

    clinicians: tuple[Clinician, ...]
    sites: dict[str, Site]
    patient: Patient | None
    busy: BusyTime


@dataclass(frozen=True)
class Busy:
    """What is already taken, as block start times on the UTC grid."""

    clinician_blocks: frozenset[datetime] = frozenset()
    patient_blocks: frozenset[datetime] = frozenset()
    # site_id -> block start -> rooms taken in that block
    rooms_taken: Mapping[str, Mapping[datetime, frozenset[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SlotQuery:
    duration: timedelta
    window: Interval
    modalities: frozenset[Modality]
    not_before: datetime
    step: timedelta = BLOCK


def rule_zone(rule: WeeklyRule, clinician: Clinician, sites: Mapping[str, Site]) -> ZoneInfo:
    site = sites.get(rule.site_id) if rule.site_id else None
    return ZoneInfo(site.timezone if site else clinician.timezone)


def rule_windows(rule: WeeklyRule, zone: ZoneInfo, window: Interval) -> Iterator[Interval]:
    """UTC intervals when `rule` is open, for each local date that touches `window`."""
    first = window.start.astimezone(zone).date() - timedelta(days=1)
    last = window.end.astimezone(zone).date() + timedelta(days=1)
    day = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
    while day <= last:
        start = datetime.combine(day, rule.start, tzinfo=zone).astimezone(UTC)
        end = _rule_end(day, rule, zone)
        clipped = Interval(max(start, window.start), min(end, window.end))
        if clipped.start < clipped.end:
            yield clipped
        day += timedelta(days=7)


def _rule_end(day: date, rule: WeeklyRule, zone: ZoneInfo) -> datetime:
    if rule.end == time.max:  # "24:00": the end of the local day, which is midnight of the next
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, rule.end, tzinfo=zone).astimezone(UTC)


def _closed_dates(availability: Availability) -> frozenset[date]:
    return frozenset(e.on for e in availability.exceptions if isinstance(e, ClosedDate))


def _unavailable(availability: Availability) -> tuple[Interval, ...]:
    return tuple(Interval(e.start, e.end) for e in availability.exceptions if isinstance(e, Unavailable))


def free_room(site: Site, interval: Interval, busy: Busy) -> str | None:
    taken = busy.rooms_taken.get(site.site_id, {})
    blocks = blocks_covering(interval.start, interval.end)
    for room in site.rooms:
        if all(room not in taken.get(block, frozenset()) for block in blocks):
            return room
    return None


def clinician_free(interval: Interval, buffer_minutes: int, busy: Busy) -> bool:
    held = blocks_covering(interval.start, interval.end + timedelta(minutes=buffer_minutes))
    return not any(block in busy.clinician_blocks for block in held)


def patient_free(interval: Interval, busy: Busy) -> bool:
    return not any(block in busy.patient_blocks for block in blocks_covering(interval.start, interval.end))


def clinician_slots(clinician: Clinician, sites: Mapping[str, Site], query: SlotQuery, busy: Busy) -> list[Slot]:
    """Every free slot of one clinician in the query window, sorted by start."""
    availability = clinician.availability
    closed = _closed_dates(availability)
    unavailable = _unavailable(availability)
    clinician_zone = ZoneInfo(clinician.timezone)
    found: set[Slot] = set()
    for rule in availability.rules:
        modalities = rule.modalities & clinician.modalities & query.modalities
        site = sites.get(rule.site_id) if rule.site_id else None
        if rule.site_id and site is None:
            continue  # a rule naming a deleted site offers nothing rather than a wrong place
        if site is None:
            modalities -= {Modality.IN_PERSON}
        if not modalities:
            continue
        zone = rule_zone(rule, clinician, sites)
        for open_window in rule_windows(rule, zone, query.window):
            for interval in _starts(open_window, query):
                if interval.start.astimezone(clinician_zone).date() in closed:
                    continue
                if any(interval.overlaps(u) for u in unavailable):
                    continue
                if not clinician_free(interval, availability.buffer_minutes, busy):
                    continue
                if not patient_free(interval, busy):
                    continue
                for modality in modalities:
                    if modality is Modality.IN_PERSON and (site is None or free_room(site, interval, busy) is None):
                        continue
                    slot_site = rule.site_id if modality is Modality.IN_PERSON else None
                    found.add(Slot(interval.start, clinician.clinician_id, modality, slot_site, interval.end))
    return sorted(found)


def _starts(open_window: Interval, query: SlotQuery) -> Iterator[Interval]:
    cursor = ceil_block(max(open_window.start, query.not_before))
    while cursor + query.duration <= open_window.end:
        yield Interval(cursor, cursor + query.duration)
        cursor += query.step


def slot_fits_rules(clinician: Clinician, sites: Mapping[str, Site], slot_interval: Interval,
                    modality: Modality, site_id: str | None) -> bool:
    """Is this exact visit inside one of the clinician's weekly rules (ignoring bookings)?"""
    availability = clinician.availability
    if slot_interval.start.astimezone(ZoneInfo(clinician.timezone)).date() in _closed_dates(availability):
        return False
    if any(slot_interval.overlaps(u) for u in _unavailable(availability)):
        return False
    for rule in availability.rules:
        if modality not in rule.modalities or modality not in clinician.modalities:
            continue
        if modality is Modality.IN_PERSON and (rule.site_id is None or rule.site_id != site_id):
            continue
        zone = rule_zone(rule, clinician, sites)
        for open_window in rule_windows(rule, zone, slot_interval):
            if open_window.start <= slot_interval.start and slot_interval.end <= open_window.end:
                return True
    return False


def merge_sorted(slot_lists: Iterable[list[Slot]]) -> list[Slot]:
    return list(heapq.merge(*slot_lists))


def search_chunks(begin: datetime, end: datetime) -> Iterator[Interval]:
    """[begin, end) in time order, cut at UTC midnights into chunks of 1, 1, 2, 4, 8 ... days: a search reads
    and decides one chunk at a time and stops once its page is full, so a first page rarely reads past its
    first days, and a search that finds little still needs few rounds."""
    cut = datetime.combine(begin.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
    days = 1
    while begin < end:
        stop = min(cut, end)
        yield Interval(begin, stop)
        begin, cut, days = stop, cut + timedelta(days=days), days * 2


def chunk_slot_query(query: SlotQuery, chunk: Interval) -> SlotQuery:
    """The query whose slots starting inside `chunk` are the whole query's slots starting there. Rule windows
    are clipped two days before the chunk (a local day is at most 25 hours), so the grid of starts inside it
    is the one the whole window gives; a slot starting inside may end after it."""
    return replace(query, window=Interval(max(query.window.start, chunk.start - timedelta(days=2)),
                                          min(query.window.end, chunk.end + query.duration)))
