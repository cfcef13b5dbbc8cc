"""Code tables for X12 005010X279A1 (270/271) used by the chalicelib.x12 package.

Sources: shared/facts/regulatory-and-billing.md section 5 (Stedi EDI reference, X12 element
lists). Only the codes this product reads or writes are listed; an unknown code is kept as-is and
described as "Unknown code".
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

IMPLEMENTATION_REFERENCE: Final = "005010X279A1"
ISA_VERSION: Final = "00501"

# GS01 functional identifier codes.
FUNCTIONAL_ID_270: Final = "HS"
FUNCTIONAL_ID_271: Final = "HB"

# HL03 hierarchical level codes.
LEVEL_INFORMATION_SOURCE: Final = "20"
LEVEL_INFORMATION_RECEIVER: Final = "21"
LEVEL_SUBSCRIBER: Final = "22"
LEVEL_DEPENDENT: Final = "23"

LEVEL_NAMES: Final = MappingProxyType({
    LEVEL_INFORMATION_SOURCE: "information_source",
    LEVEL_INFORMATION_RECEIVER: "information_receiver",
    LEVEL_SUBSCRIBER: "subscriber",
    LEVEL_DEPENDENT: "dependent",
})

# AAA03, element 901: reject reason codes used in 270/271.
AAA_REJECT_REASONS: Final = MappingProxyType({
    "04": "Authorized Quantity Exceeded",
    "15": "Required application data missing",
    "41": "Authorization/Access Restrictions",
    "42": "Unable to Respond at Current Time",
    "43": "Invalid/Missing Provider Identification",
    "44": "Invalid/Missing Provider Name",
    "45": "Invalid/Missing Provider Specialty",
    "46": "Invalid/Missing Provider Phone Number",
    "47": "Invalid/Missing Provider State",
    "48": "Invalid/Missing Referring Provider Identification Number",
    "49": "Provider is Not Primary Care Physician",
    "50": "Provider Ineligible for Inquiries",
    "51": "Provider Not on File",
    "52": "Service Dates Not Within Provider Plan Enrollment",
    "53": "Inquired Benefit Inconsistent with Provider Type",
    "54": "Inappropriate Product/Service ID Qualifier",
    "55": "Inappropriate Product/Service ID",
    "56": "Inappropriate Date",
    "57": "Invalid/Missing Date(s) of Service",
    "58": "Invalid/Missing Date-of-Birth",
    "60": "Date of Birth Follows Date(s) of Service",
    "61": "Date of Death Precedes Date(s) of Service",
    "62": "Date of Service Not Within Allowable Inquiry Period",
    "63": "Date of Service in Future",
    "64": "Invalid/Missing Patient ID",
    "65": "Invalid/Missing Patient Name",
    "66": "Invalid/Missing Patient Gender Code",
    "67": "Patient Not Found",
    "68": "Duplicate Patient ID Number",
    "69": "Inconsistent with Patient's Age",
    "70": "Inconsistent with Patient's Gender",
    "71": "Patient Birth Date Does Not Match That for the Patient on the Database",
    "72": "Invalid/Missing Subscriber/Insured ID",
    "73": "Invalid/Missing Subscriber/Insured Name",
    "74": "Invalid/Missing Subscriber/Insured Gender Code",
    "75": "Subscriber/Insured Not Found",
    "76": "Duplicate Subscriber/Insured ID Number",
    "77": "Subscriber Found, Patient Not Found",
    "78": "Subscriber/Insured Not in Group/Plan Identified",
    "79": "Invalid Participant Identification",
    "80": "No Response received - Transaction Terminated",
    "97": "Invalid or Missing Provider Address",
    "AA": "Authorization Number Not Found",
    "AE": "Requires Primary Care Physician Authorization",
    "AF": "Invalid/Missing Diagnosis Code(s)",
    "AG": "Invalid/Missing Procedure Code(s)",
    "AO": "Additional Patient Condition Information Required",
    "CI": "Certification Information Does Not Match Patient",
    "E8": "Requires Medical Review",
    "IA": "Invalid Authorization Number Format",
    "MA": "Missing Authorization Number",
    "T4": "Payer Name or Identifier Missing",
})

# AAA reasons that mean "the payer could not match this person": the caller should correct the
# member data. Everything else (payer down, provider not enrolled, bad dates) is an error.
MEMBER_NOT_FOUND_REASONS: Final = frozenset({
    "58", "64", "65", "66", "67", "68", "71", "72", "73", "74", "75", "76", "77", "78",
})

# AAA reasons worth an automatic retry later (the payer, not the request, was the problem).
RETRYABLE_REASONS: Final = frozenset({"42", "80"})

# AAA04, element 889: follow-up action codes.
AAA_FOLLOW_UP_ACTIONS: Final = MappingProxyType({
    "C": "Please Correct and Resubmit",
    "N": "Resubmission Not Allowed",
    "P": "Please Resubmit Original Transaction",
    "R": "Resubmission Allowed",
    "S": "Do Not Resubmit; Inquiry Initiated to a Third Party",
    "W": "Please Wait 30 Days and Resubmit",
    "X": "Please Wait 10 Days and Resubmit",
    "Y": "Do Not Resubmit; We Will Hand Deliver Our Response to You",
})

# EB01, element 1390 (5010).
EB01_CODES: Final = MappingProxyType({
    "1": "Active Coverage",
    "2": "Active - Full Risk Capitation",
    "3": "Active - Services Capitated",
    "4": "Active - Services Capitated to Primary Care Physician",
    "5": "Active - Pending Investigation",
    "6": "Inactive",
    "7": "Inactive - Pending Eligibility Update",
    "8": "Inactive - Pending Investigation",
    "A": "Co-Insurance",
    "AA": "Patient Reimbursement",
    "AB": "Co-Payment Maximum",
    "AC": "Co-Insurance Maximum",
    "B": "Co-Payment",
    "C": "Deductible",
    "CB": "Coverage Basis",
    "D": "Benefit Description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out of Pocket (Stop Loss)",
    "H": "Unlimited",
    "I": "Non-Covered",
    "J": "Cost Containment",
    "K": "Reserve",
    "L": "Primary Care Provider",
    "M": "Pre-existing Condition",
    "MC": "Managed Care Coordinator",
    "N": "Services Restricted to Following Provider",
    "O": "Not Deemed a Medical Necessity",
    "P": "Benefit Disclaimer",
    "Q": "Second Surgical Opinion Required",
    "R": "Other or Additional Payor",
    "S": "Prior Year(s) History",
    "T": "Card(s) Reported Lost/Stolen",
    "U": "Contact Following Entity for Eligibility or Benefit Information",
    "V": "Cannot Process",
    "W": "Other Source of Data",
    "WV": "Waiver",
    "X": "Health Care Facility",
    "Y": "Spend Down",
})

ACTIVE_CODES: Final = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES: Final = frozenset({"6", "7", "8"})
STATUS_CODES: Final = ACTIVE_CODES | INACTIVE_CODES

EB_COPAY: Final = "B"
EB_COINSURANCE: Final = "A"
EB_DEDUCTIBLE: Final = "C"
EB_OUT_OF_POCKET: Final = "G"
EB_NON_COVERED: Final = "I"
EB_CONTACT_ENTITY: Final = "U"  # "Contact Following Entity": a carve-out names who really answers

# III01 qualifier whose III02 is a place of service code (CMS POS: 11 office, 02/10 telehealth).
III_PLACE_OF_SERVICE: Final = "ZZ"

# EB03 / EQ01, element 1365: the service types this product asks about, plus the common ones.
SERVICE_TYPES: Final = MappingProxyType({
    "1": "Medical Care",
    "22": "Social Work",
    "30": "Health Benefit Plan Coverage",
    "33": "Chiropractic",
    "35": "Dental Care",
    "47": "Hospital",
    "86": "Emergency Services",
    "88": "Pharmacy",
    "96": "Professional (Physician)",
    "98": "Professional (Physician) Visit - Office",
    "99": "Professional (Physician) Visit - Inpatient",
    "A0": "Professional (Physician) Visit - Outpatient",
    "A3": "Professional (Physician) Visit - Home",
    "A4": "Psychiatric",
    "A5": "Psychiatric - Room and Board",
    "A6": "Psychotherapy",
    "A7": "Psychiatric - Inpatient",
    "A8": "Psychiatric - Outpatient",
    "AI": "Substance Abuse",
    "AJ": "Alcoholism",
    "AK": "Drug Addiction",
    "AL": "Vision (Optometry)",
    "BB": "Partial Hospitalization (Psychiatric)",
    "BC": "Day Care (Psychiatric)",
    "BD": "Cognitive Therapy",
    "CE": "Mental Health Provider - Inpatient",
    "CF": "Mental Health Provider - Outpatient",
    "CG": "Mental Health Facility - Inpatient",
    "CH": "Mental Health Facility - Outpatient",
    "CI": "Substance Abuse Facility - Inpatient",
    "CJ": "Substance Abuse Facility - Outpatient",
    "MH": "Mental Health",
    "RT": "Residential Psychiatric Treatment",
    "UC": "Urgent Care",
})

GENERIC_SERVICE_TYPE: Final = "30"

# EB02 coverage level codes.
COVERAGE_LEVELS: Final = MappingProxyType({
    "CHD": "Children Only",
    "DEP": "Dependents Only",
    "ECH": "Employee and Children",
    "EMP": "Employee Only",
    "ESP": "Employee and Spouse",
    "FAM": "Family",
    "IND": "Individual",
    "SPC": "Spouse and Children",
    "SPO": "Spouse Only",
    "TWO": "Two Party",
})

# EB06, element 615: time period qualifiers.
TIME_PERIODS: Final = MappingProxyType({
    "6": "Hour",
    "7": "Day",
    "13": "24 Hours",
    "21": "Years",
    "22": "Service Year",
    "23": "Calendar Year",
    "24": "Year to Date",
    "25": "Contract",
    "26": "Episode",
    "27": "Visit",
    "28": "Outlier",
    "29": "Remaining",
    "30": "Exceeded",
    "31": "Not Exceeded",
    "32": "Lifetime",
    "33": "Lifetime Remaining",
    "34": "Month",
    "35": "Week",
    "36": "Admission",
})

TIME_PERIOD_VISIT: Final = "27"
TIME_PERIOD_REMAINING: Final = "29"

# EB12: In Plan Network Indicator. It says which benefit row this is (the in-network or the
# out-of-network benefit), never whether the requesting provider is in the payer's network.
NETWORK_INDICATORS: Final = MappingProxyType({
    "Y": "In-network benefit",
    "N": "Out-of-network benefit",
    "U": "Unknown",
    "W": "Not applicable (applies to both in- and out-of-network)",
})

# DTP01 date qualifiers seen in 270/271.
DATE_QUALIFIERS: Final = MappingProxyType({
    "096": "Discharge",
    "193": "Period Start",
    "194": "Period End",
    "198": "Completion",
    "290": "Coordination of Benefits",
    "291": "Plan",
    "292": "Benefit",
    "295": "Primary Care Provider",
    "304": "Latest Visit or Consultation",
    "307": "Eligibility",
    "318": "Added",
    "340": "Consolidated Omnibus Budget Reconciliation Act (COBRA) Begin",
    "341": "Consolidated Omnibus Budget Reconciliation Act (COBRA) End",
    "342": "Premium Paid to Date Begin",
    "343": "Premium Paid to Date End",
    "346": "Plan Begin",
    "347": "Plan End",
    "348": "Benefit Begin",
    "349": "Benefit End",
    "356": "Eligibility Begin",
    "357": "Eligibility End",
    "382": "Enrollment",
    "435": "Admission",
    "442": "Date of Death",
    "458": "Certification",
    "472": "Service",
    "539": "Policy Effective",
    "540": "Policy Expiration",
    "636": "Date of Last Update",
    "771": "Status",
})

DATE_PLAN: Final = "291"
DATE_ELIGIBILITY: Final = "307"
DATE_PLAN_BEGIN: Final = "346"
DATE_PLAN_END: Final = "347"
DATE_ELIGIBILITY_BEGIN: Final = "356"
DATE_ELIGIBILITY_END: Final = "357"

# INS02 individual relationship codes allowed for a dependent in 270/271 2100D.
DEPENDENT_RELATIONSHIPS: Final = MappingProxyType({
    "01": "Spouse",
    "19": "Child",
    "34": "Other Adult",
})

# REF01 qualifiers that carry plan identity in 2100C/D.
REF_PLAN_NUMBER: Final = "18"
REF_GROUP_NUMBER: Final = "6P"


def describe(table: MappingProxyType[str, str], code: str | None) -> str | None:
    """The table's description of ``code``; unknown codes stay visible instead of vanishing."""
    if code is None or code == "":
        return None
    return table.get(code, f"Unknown code {code}")
