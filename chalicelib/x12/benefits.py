"""Benefit summary: a 271's EB rows read for the asked service types, as the domain's PayerAnswer.

Amounts leave as API strings (money "25.00", fractions "0.2"); ``status`` is active | inactive |
not_found | error (a check's status, see domain/eligibility.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from ..domain.eligibility import Benefits, PayerAnswer, ReferTo
from . import codes
from .response import BenefitRow, Parsed271


def format_money(amount: Decimal | None) -> str | None:
    """API money: two decimals, "25.00"."""
    if amount is None:
        return None
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def format_fraction(value: Decimal | None) -> str | None:
    """API fraction: shortest plain form, "0.2"."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def summarize_benefits(parsed: Parsed271, service_type_codes: Sequence[str], *,
                       provider_in_network: bool | None = None,
                       procedure_code: str | None = None,
                       places_of_service: Sequence[str] = ()) -> PayerAnswer:
    """Status and cost share for the asked service types.

    Rows are chosen per asked code in the order given (the first code with rows wins), falling
    back to generic rows (no EB03, or 30). Among those, the in-network benefit (EB12=Y) is
    preferred unless the caller says the provider is out of network; then EB12=N rows are.
    Rows for one procedure (EB13) count only when ``procedure_code`` (a CPT code) matches; then
    they win over the service-type-wide rows.

    ``places_of_service`` are the visit's POS codes, best first (in person "11"; video at home
    "10", "02"): a row limited by III*ZZ to other places never applies, and a row for the visit's
    place wins over one for any place. A carve-out (EB*U for an asked service type) means the
    plan-level rows describe someone else's benefit: then only rows naming an asked service
    type count, and whether the service is covered is left to the entity named.
    """
    asked = tuple(dict.fromkeys(service_type_codes))
    status, retryable = _status(parsed, asked)
    named = [c for c in asked if c != codes.GENERIC_SERVICE_TYPE]
    carve_outs = [r for r in parsed.benefits if r.code == codes.EB_CONTACT_ENTITY
                  and any(c in r.service_type_codes for c in named)] if status == "active" else []
    chooser = _Chooser(parsed.benefits if status == "active" else (), asked, provider_in_network,
                       procedure_code, tuple(places_of_service), allow_generic=not carve_outs)

    def trusted(row: BenefitRow | None) -> BenefitRow | None:
        # A dropped row (bad date) that would have been chosen over ``row``: unknown, not another tier's amount.
        if row is None:
            return None
        for d in parsed.dropped_benefits:
            if (d.code == row.code and set(d.service_type_codes) & set(row.service_type_codes)
                    and chooser.applies(d) and chooser.preference(d) <= chooser.preference(row)):
                return None
        return row

    copay = trusted(chooser.pick(codes.EB_COPAY, "amount"))
    coinsurance = trusted(chooser.pick(codes.EB_COINSURANCE, "percent"))
    deductible, deductible_row = chooser.remaining(codes.EB_DEDUCTIBLE)
    out_of_pocket, out_of_pocket_row = chooser.remaining(codes.EB_OUT_OF_POCKET)
    if trusted(deductible_row) is None:
        deductible, deductible_row = None, None
    if trusted(out_of_pocket_row) is None:
        out_of_pocket, out_of_pocket_row = None, None
    used = [r for r in (copay, coinsurance, deductible_row, out_of_pocket_row) if r is not None]
    return PayerAnswer(
        status=status,
        plan_name=parsed.plan_name,
        plan_begin=parsed.plan_begin,
        plan_end=parsed.plan_end,
        benefits=Benefits(format_money(copay.amount) if copay else None,
                          format_fraction(coinsurance.percent) if coinsurance else None,
                          format_money(deductible), format_money(out_of_pocket), provider_in_network),
        benefit_network=used[0].in_plan_network if used else None,
        service_covered=None if carve_outs else _service_covered(parsed.benefits, asked, status),
        aaa_errors=parsed.aaa_errors,
        retryable=retryable,
        carve_out=bool(carve_outs),
        refer_to=tuple(ReferTo(e.entity_code, e.name, e.id_qualifier, e.id, e.phone)
                       for e in dict.fromkeys(e for r in carve_outs for e in r.entities)),
        warnings=parsed.warnings,
    )


def _status(parsed: Parsed271, asked: tuple[str, ...]) -> tuple[str, bool]:
    # AAA on a loop (not on one EB row) means the payer could not answer at all.
    blocking = [e for e in parsed.aaa_errors if e.level != "benefit"]
    if blocking:
        retryable = any(e.code in codes.RETRYABLE_REASONS for e in blocking)
        if all(e.code in codes.MEMBER_NOT_FOUND_REASONS for e in blocking):
            return "not_found", False
        return "error", retryable
    status_rows = _rows_for(parsed.benefits, asked, lambda r: r.code in codes.STATUS_CODES)
    if not status_rows:
        return "error", False
    if any(r.code in codes.ACTIVE_CODES for r in status_rows):
        return "active", False
    return "inactive", False


def _rows_for(rows: Sequence[BenefitRow], asked: Sequence[str],
              keep: Callable[[BenefitRow], bool], *, allow_generic: bool = True) -> list[BenefitRow]:
    candidates = [r for r in rows if keep(r)]
    for code in asked:
        if code == codes.GENERIC_SERVICE_TYPE and not allow_generic:
            continue
        specific = [r for r in candidates if code in r.service_type_codes]
        if specific:
            return specific
    return [r for r in candidates if r.is_generic] if allow_generic else []


_NETWORK_RANK_IN = {"Y": 0, "W": 1, None: 2, "U": 3, "N": 4}


_NETWORK_RANK_OUT = {"N": 0, "W": 1, None: 2, "U": 3, "Y": 4}


# The patient's own (individual) accumulator first; the family one only when no other is sent.
_COVERAGE_RANK = {"IND": 0, None: 1, "FAM": 3}


_ACCUMULATION_PERIODS = ("23", "22", "21", "25")  # calendar, service, plan year, contract


def _same_bucket(a: BenefitRow, b: BenefitRow) -> bool:
    """Two accumulator rows of the same network tier, coverage level, services and procedure."""
    return ((a.in_plan_network, a.coverage_level, a.service_type_codes, a.procedure)
            == (b.in_plan_network, b.coverage_level, b.service_type_codes, b.procedure))


class _Chooser:
    """Picks the EB row that applies to the asked service types, network tier and procedure."""

    __slots__ = ("allow_generic", "asked", "places", "procedure_code", "provider_in_network", "rows")

    def __init__(self, rows: Sequence[BenefitRow], asked: tuple[str, ...], provider_in_network: bool | None,
                 procedure_code: str | None, places: tuple[str, ...] = (), *, allow_generic: bool = True) -> None:
        self.rows, self.asked = rows, asked
        self.provider_in_network, self.procedure_code = provider_in_network, procedure_code
        self.places, self.allow_generic = places, allow_generic

    def _place_rank(self, row: BenefitRow) -> int | None:
        """0.. for a row of one of the visit's places (best first), len(places) for any place, None = not this visit."""
        limited = row.places_of_service
        if not self.places:
            return 0  # the caller did not say where the visit is: every row may apply
        if not limited:
            return len(self.places)
        ranks = [i for i, pos in enumerate(self.places) if pos in limited]
        return min(ranks) if ranks else None

    def pick(self, code: str, value: str, time_period: str | None = None) -> BenefitRow | None:
        def keep(r: BenefitRow) -> bool:
            return (r.code == code and getattr(r, value) is not None
                    and (time_period is None or r.time_period == time_period)
                    and (r.procedure is None or r.procedure.code == self.procedure_code)
                    and self._place_rank(r) is not None)
        found = _rows_for(self.rows, self.asked, keep, allow_generic=self.allow_generic)
        return min(found, key=self.preference) if found else None

    def remaining(self, code: str) -> tuple[Decimal | None, BenefitRow | None]:
        """EB06=29 (Remaining); else the period total minus the EB06=24 (year to date) row."""
        row = self.pick(code, "amount", codes.TIME_PERIOD_REMAINING)
        if row is not None:
            return row.amount, row
        for period in _ACCUMULATION_PERIODS:
            total = self.pick(code, "amount", period)
            if total is None or total.amount is None:
                continue
            met = next((r.amount for r in self.rows
                        if r.code == code and r.time_period == "24" and r.amount is not None
                        and _same_bucket(r, total)), None)
            if met is not None:
                return max(total.amount - met, Decimal(0)), total
        return None, None

    def applies(self, row: BenefitRow) -> bool:
        return self._place_rank(row) is not None and (row.procedure is None
                                                      or row.procedure.code == self.procedure_code)

    def preference(self, row: BenefitRow) -> tuple[int, int, int, int]:
        ranks = _NETWORK_RANK_OUT if self.provider_in_network is False else _NETWORK_RANK_IN
        return (0 if row.procedure else 1, self._place_rank(row) or 0, ranks.get(row.in_plan_network, 2),
                _COVERAGE_RANK.get(row.coverage_level, 2))


def _service_covered(rows: Sequence[BenefitRow], asked: Sequence[str], status: str) -> bool | None:
    """False when an asked service is explicitly non-covered (EB*I); True when active rows name it."""
    named = [c for c in asked if c != codes.GENERIC_SERVICE_TYPE]
    specific = [r for r in rows if any(c in r.service_type_codes for c in named)]
    if any(r.code == codes.EB_NON_COVERED for r in specific):
        return False
    if status == "active" and specific:
        return True
    return None
