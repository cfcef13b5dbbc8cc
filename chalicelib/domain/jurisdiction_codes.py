"""The jurisdictions a request may name: ISO 3166-2 codes of the US states, DC and the inhabited territories,
and of Canada's provinces and territories (sources: ISO 3166-2:US, ISO 3166-2:CA, ISO Online Browsing
Platform). US-UM (the Minor Outlying Islands) has no resident population and no licensing board: left out.

The shape check alone let "US-ZZ" through, and a visit stored a place that does not exist. The licensure rules
(scheduling_rules/jurisdictions.yaml) cover exactly these codes: tests/rules/test_rules_files.py keeps the two equal.
"""

from __future__ import annotations

STATES = tuple(f"US-{s}" for s in [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
])
US_OTHER = tuple(f"US-{s}" for s in ["DC", "PR", "GU", "VI", "AS", "MP"])
CANADA = tuple(f"CA-{s}" for s in [
    "AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC", "SK", "NT", "NU", "YT",
])
JURISDICTION_CODES = frozenset(STATES + US_OTHER + CANADA)
