"""Field types shared by request models; the OpenAPI document is generated from these models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..domain.jurisdiction_codes import JURISDICTION_CODES


def _valid_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as America/New_York") from exc
    return name


def _existing_jurisdiction(code: str) -> str:
    if code not in JURISDICTION_CODES:
        raise ValueError("is not a US state, DC, US territory or Canadian province or territory (ISO 3166-2)")
    return code


def _npi_checksum(npi: str) -> str:
    """NPI check digit: Luhn over '80840' + the first nine digits (CMS NPI standard)."""
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    if (10 - total % 10) % 10 != int(npi[9]):
        raise ValueError("is not a valid NPI (check digit)")
    return npi


EARLIEST_YEAR, LATEST_YEAR = 1900, 2199


def to_utc(moment: datetime) -> datetime:
    """An aware moment in UTC, within years 1900-2199: 0001-01-01T00:00+05:00 has no UTC form at all
    (OverflowError), and the scheduling arithmetic near year 9999 overflows too."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}") from exc
    if not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return utc


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_valid_zone)]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(US|CA)-[A-Z]{2}$"), AfterValidator(_existing_jurisdiction),
                         Field(json_schema_extra={"enum": sorted(JURISDICTION_CODES)})]
Npi = Annotated[str, StringConstraints(pattern=r"^[12][0-9]{9}$"), AfterValidator(_npi_checksum)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{7,20}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$")]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
Money = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,7}(\.[0-9]{1,2})?$")]
Fraction = Annotated[str, StringConstraints(pattern=r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")]
RoomName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 _.-]{1,40}$")]
Limit = Annotated[int, Field(ge=1, le=200)]


class Body(BaseModel):
    # Validators are built on first use, not at import: `import app` is the Lambda cold start.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


def valid_npi(npi: str) -> bool:
    try:
        _npi_checksum(npi)
    except ValueError:
        return False
    return True
