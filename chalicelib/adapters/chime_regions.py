"""Where Chime SDK meetings live: control regions (the API endpoint that owns a meeting) and media
regions (where its audio and video are hosted), chosen to keep media near the patient and inside
their country or the EU where Chime can."""

from __future__ import annotations

# MediaRegion values listed in the botocore model (CreateMeetingRequest.MediaRegion docs).
MEDIA_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-south-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
GOVCLOUD_MEDIA_REGIONS = frozenset({"us-gov-east-1", "us-gov-west-1"})
# Regions with a meetings-chime API endpoint in botocore's endpoints data. The four of the 2021
# launch (us-east-1, us-west-2, eu-central-1, ap-southeast-1) have since been joined by others.
CONTROL_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-west-2",
        "il-central-1",
        "us-east-1",
        "us-west-2",
        "us-gov-east-1",
        "us-gov-west-1",
    }
)

# Nearest control region for stack regions without one; each stays inside its jurisdiction
# where one is available (EU stacks -> Frankfurt, not London).
_NEAREST_CONTROL = {
    "us-east-2": "us-east-1",
    "us-west-1": "us-west-2",
    "ca-west-1": "ca-central-1",
    "sa-east-1": "us-east-1",
    "mx-central-1": "us-east-1",
    "eu-west-1": "eu-central-1",
    "eu-west-3": "eu-central-1",
    "eu-north-1": "eu-central-1",
    "eu-south-1": "eu-central-1",
    "eu-south-2": "eu-central-1",
    "eu-central-2": "eu-central-1",
    "ap-northeast-3": "ap-northeast-1",
    "ap-east-1": "ap-southeast-1",
    "ap-east-2": "ap-northeast-1",
    "ap-southeast-3": "ap-southeast-1",
    "ap-southeast-4": "ap-southeast-2",
    "ap-southeast-5": "ap-southeast-1",
    "ap-southeast-7": "ap-southeast-1",
    "ap-south-2": "ap-south-1",
    "me-south-1": "ap-south-1",
    "me-central-1": "ap-south-1",
}
_CONTROL_BY_PREFIX = {
    "us": "us-east-1",
    "ca": "ca-central-1",
    "eu": "eu-central-1",
    "ap": "ap-southeast-1",
    "sa": "us-east-1",
    "mx": "us-east-1",
    "me": "ap-south-1",
    "af": "af-south-1",
    "il": "il-central-1",
}

# Nearest media region for stack regions that host no Chime media.
_NEAREST_MEDIA = {
    "ca-west-1": "ca-central-1",
    "mx-central-1": "us-east-2",
    "eu-central-2": "eu-central-1",
    "eu-south-2": "eu-west-3",
    "ap-northeast-3": "ap-northeast-1",
    "ap-east-1": "ap-southeast-1",
    "ap-east-2": "ap-northeast-1",
    "ap-southeast-3": "ap-southeast-1",
    "ap-southeast-4": "ap-southeast-2",
    "ap-southeast-5": "ap-southeast-1",
    "ap-southeast-7": "ap-southeast-1",
    "ap-south-2": "ap-south-1",
    "me-south-1": "ap-south-1",
    "me-central-1": "ap-south-1",
    "il-central-1": "eu-south-1",
}
_MEDIA_BY_PREFIX = {
    "us": "us-east-1",
    "ca": "ca-central-1",
    "eu": "eu-central-1",
    "ap": "ap-southeast-1",
    "sa": "sa-east-1",
    "mx": "us-east-2",
    "me": "ap-south-1",
    "af": "af-south-1",
    "il": "eu-south-1",
}
# Where the patient's country has Chime media regions, media stays among them.
_COUNTRY_MEDIA = {
    "CA": "ca-central-1",
    "GB": "eu-west-2",
    "JP": "ap-northeast-1",
    "KR": "ap-northeast-2",
    "IN": "ap-south-1",
    "SG": "ap-southeast-1",
    "AU": "ap-southeast-2",
    "BR": "sa-east-1",
    "ZA": "af-south-1",
    "IE": "eu-west-1",
    "FR": "eu-west-3",
    "DE": "eu-central-1",
    "SE": "eu-north-1",
    "IT": "eu-south-1",
}
# fmt: off
_EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
_EU_MEDIA = frozenset({"eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1"})
_US_MEDIA = frozenset({"us-east-1", "us-east-2", "us-west-1", "us-west-2"})
_US_WEST_2_STATES = frozenset({"WA", "OR", "ID", "MT", "WY", "AK"})
_US_WEST_1_STATES = frozenset({"CA", "NV", "AZ", "UT", "HI"})
_US_EAST_2_STATES = frozenset({"OH", "MI", "IN", "IL", "WI", "MN", "IA", "MO", "ND", "SD", "NE", "KS", "CO", "KY"})

def control_region_for(stack_region: str) -> str:
    """The stack's own region when Chime has a control endpoint there, else the nearest one in
    the same partition and, where possible, the same jurisdiction."""
    if stack_region.startswith("cn-"):
        raise ValueError("Chime SDK Meetings is not available in the AWS China partition")
    if stack_region in CONTROL_REGIONS:
        return stack_region
    if stack_region.startswith("us-gov-"):
        return "us-gov-west-1"
    nearest = _NEAREST_CONTROL.get(stack_region)
    return nearest or _CONTROL_BY_PREFIX.get(stack_region.split("-", 1)[0], "us-east-1")


def choose_media_region(stack_region: str, patient_jurisdiction: str | None) -> str:
    """Where the meeting's media is hosted.

    When Chime hosts media in the patient's country (ISO 3166-2 ``CA-ON``, ``US-NY``; the EU
    counts as one zone), media stays there: in the stack's own media region if that is inside
    the zone, else in the zone's region nearest the patient (by state in the US). Otherwise, or
    without a jurisdiction, the stack's nearest media region. GovCloud stacks keep media in
    GovCloud: a control region only creates meetings in its own partition.
    """
    stack_media = _nearest_media_region(stack_region)
    if stack_region.startswith("us-gov-"):
        return stack_media
    country, _, subdivision = (patient_jurisdiction or "").strip().upper().partition("-")
    zone = _residency_zone(country)
    if not zone or stack_media in zone:
        return stack_media
    if country == "US":
        return _us_media_region(subdivision)
    return _COUNTRY_MEDIA.get(country, "eu-central-1")


def _residency_zone(country: str) -> frozenset[str]:
    if country == "US":
        return _US_MEDIA
    if country in _EU_MEMBERS:
        return _EU_MEDIA
    return frozenset({_COUNTRY_MEDIA[country]}) if country in _COUNTRY_MEDIA else frozenset()


def _nearest_media_region(stack_region: str) -> str:
    if stack_region in MEDIA_REGIONS or stack_region in GOVCLOUD_MEDIA_REGIONS:
        return stack_region
    if stack_region.startswith("us-gov-"):
        return "us-gov-west-1"
    return _NEAREST_MEDIA.get(stack_region) or _MEDIA_BY_PREFIX.get(stack_region.split("-", 1)[0], "us-east-1")


def _us_media_region(state: str) -> str:
    if state in _US_WEST_2_STATES:
        return "us-west-2"
    if state in _US_WEST_1_STATES:
        return "us-west-1"
    if state in _US_EAST_2_STATES:
        return "us-east-2"
    return "us-east-1"
