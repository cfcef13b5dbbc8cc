"""What each scheduled job (chalicelib/api/jobs.py) and the Chime meeting events handler (api/video.py)
may do, as data: infra/jobs.py gives each of them a role of its own made from its grant, and
tests/api/test_job_grants.py runs each on moto and checks that every call it makes is inside its
grant. Plain Python: importing it starts no jsii/Node.

Partition keys (adapters/dynamo/models.py) start with the tenant (`T#{t}#...`) or with a job index of all
tenants (`REMDUE#`, `CONFDUE#`, `ELGDUE#`, `FREED#`, `OFFERS#`), a payer (`PAYER#`) or X12 control numbers
(`X12CTL#`). A grant names the prefixes its job reads or writes: the role's DynamoDB statements carry them
as a `dynamodb:LeadingKeys` condition, so the reminder job cannot touch a payer's roster nor the
eligibility job the waitlist's queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

TENANT = "T#*"  # every tenant's own partitions: visits, their reminders and audit entries, directory


@dataclass(frozen=True)
class JobGrant:
    function: str  # the logical id `chalice package` gives the job's function
    description: str
    table_actions: tuple[str, ...]  # dynamodb:* on the main table itself
    leading_keys: tuple[str, ...]  # StringLike patterns of the partition keys it may touch
    index_actions: tuple[str, ...] = ()  # dynamodb:Query on these indexes of the main table
    indexes: tuple[str, ...] = ()
    sms: bool = False  # sns:Publish to phone numbers (never to a topic)
    email: bool = False  # ses:SendEmail from the reminder sender
    escalations: bool = False  # sns:Publish to the crisis escalation topic
    pseudonym_key: bool = False  # secretsmanager:GetSecretValue of the pseudonym key (payers' member ids)
    # Signs reminders' confirm/decline links: GetSecretValue of the link-signing key, and where links point
    # (HCO_LINK_BASE_URL, the region's link_base_url).
    reminder_links: bool = False
    video_meetings: bool = False  # chime:DeleteMeeting: a visit that ends closes its meeting


JOB_GRANTS: dict[str, JobGrant] = {
    # Due pointers by hour and shard; each reminder claimed by a conditional write (Put in a transaction,
    # the pointer deleted with it), a signed link's nonce put, the audit entry put; SMS and email out.
    "reminders-send": JobGrant(
        "RemindersSend", "reminders job: claim due reminders, send SMS and email",
        ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        (TENANT, "REMDUE#*"), sms=True, email=True, reminder_links=True),
    # Release pointers by hour and shard; the release cancels the visit (its transaction: the visit, its
    # busy-week items, the audit entry; a still-open video meeting is deleted) and tells the patient.
    "confirmations-release": JobGrant(
        "ConfirmationsRelease", "confirmations job: release unconfirmed visits, tell the patient",
        ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
         "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"),
        (TENANT, "CONFDUE#*"), sms=True, email=True, video_meetings=True),
    # Freed slots and open offers by shard; an offer holds the slot on the clinician's busy-week item and
    # updates the entry and its queue; an expired offer frees its hold and passes on; the patient is told.
    "waitlist-offers": JobGrant(
        "WaitlistOffers", "waitlist job: offer freed slots, expire offers",
        ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
         "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"),
        (TENANT, "FREED#*", "OFFERS#*"), sms=True, email=True),
    # Open escalations of all tenants (one sparse partition); each overdue one published once.
    "escalations-overdue": JobGrant(
        "EscalationsOverdue", "escalations job: publish overdue crisis escalations",
        ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"),
        (TENANT, "ESCOPEN"), escalations=True),
    # Due pending checks by hour and shard; the payer's configuration and X12 control numbers, the check,
    # the cache, the result landed on the visit (conditional Update); member ids keyed by pseudonym.
    "eligibility-pending": JobGrant(
        "EligibilityPending", "eligibility job: ask payers again for pending checks, land the results",
        ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        (TENANT, "ELGDUE#*", "PAYER#*", "X12CTL#*"), pseudonym_key=True),
    # Not scheduled: EventBridge hands it Chime's meeting events. The visit a meeting belongs to (one item
    # per meeting), then the attendance event put once (conditional Put) on the visit's partition.
    "chime-meeting-events": JobGrant(
        "ChimeMeetingEvents", "Chime meeting events: record attendance on the visit",
        ("dynamodb:GetItem", "dynamodb:PutItem"), (TENANT, "CHIME#MTG#*")),
}


# The key secrets' names (infra/data.py makes hco/<stage>/<name>); a secret's ARN carries its name.
PSEUDONYM_KEY_NAME = "pseudonym-key"
CURSOR_KEY_NAME = "cursor-key"  # the API's alone: no job reads it
LINK_SIGNING_KEY_NAME = "link-signing-key"


def secrets_of(grant: JobGrant) -> dict[str, bool]:
    """Each key secret a job could read, and whether its grant lets it."""
    return {PSEUDONYM_KEY_NAME: grant.pseudonym_key, LINK_SIGNING_KEY_NAME: grant.reminder_links}


def allows(grant: JobGrant, call: Any, main_table: str) -> bool:
    """Whether `grant` covers one call (tests/api/aws_calls.py Call) the job made."""
    if call.action.startswith("dynamodb:"):
        if call.table != main_table:
            return False
        actions = grant.index_actions if call.index else grant.table_actions
        if call.index and call.index not in grant.indexes:
            return False
        return call.action in actions and call.key is not None and any(
            fnmatchcase(call.key, pattern) for pattern in grant.leading_keys)
    if call.action == "sns:Publish":
        return grant.sms if call.target == "phone" else grant.escalations
    if call.action == "ses:SendEmail":
        return grant.email
    if call.action == "secretsmanager:GetSecretValue":
        return any(granted and call.target is not None and f"/{name}" in call.target
                   for name, granted in secrets_of(grant).items())
    if call.action == "chime:DeleteMeeting":
        return grant.video_meetings
    return False
