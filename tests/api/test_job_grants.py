"""Each scheduled job's role (and the Chime meeting events handler's) grants what it does, measured: every
AWS call a run makes on moto (as IAM authorizes it: the action, the index, the partition key for
dynamodb:LeadingKeys) is inside its grant in infra/job_grants.py, which infra/jobs.py turns into its role."""

from __future__ import annotations

import pytest

from chalicelib.api import jobs
from infra.job_grants import JOB_GRANTS, allows
from local.background import scheduled_event
from tests.api.aws_calls import recorded
from tests.api.reminder_support import unique_patient
from tests.api.test_reminders_api import book
from tests.api.test_routing import _received, _subscribe, clinic, recommend  # noqa: F401 (clinic: a fixture)
from tests.api.test_unconfirmed_release import WED_10_EST, at, missed_once, strict  # noqa: F401 (fixtures)
from tests.api.test_video import attend_together, visit  # noqa: F401 (visit: a fixture)
from tests.api.test_waitlist_api import cancel, freed  # noqa: F401 (freed: a fixture)

pytestmark = pytest.mark.api


def run(job: str, settings, drain_stream) -> tuple[dict, list]:
    """One run of the scheduled handler as EventBridge invokes it; the calls its grant does not cover."""
    handler = {"reminders-send": jobs.reminders_send, "confirmations-release": jobs.confirmations_release,
               "waitlist-offers": jobs.waitlist_offers, "escalations-overdue": jobs.escalations_overdue,
               "eligibility-pending": jobs.eligibility_pending}[job]
    drain_stream()  # what the stream consumer does is the stream role's, not the job's
    with recorded() as calls:
        answer = handler(scheduled_event(job), None)
    # The local stage registers the SES sender itself (adapters/notify.py); deployed, it is set up once.
    made = [c for c in calls if c.action != "ses:CreateEmailIdentity"]
    assert made, "the job made no call: the scenario did not reach it"
    denied = [c for c in made if not allows(JOB_GRANTS[job], c, settings.main_table)]
    return answer, sorted(set(denied), key=str)


def test_reminders_send_stays_inside_its_grant(scheduler, world, tenant, clock, settings, drain_stream):
    book(scheduler, world, unique_patient(scheduler, tenant))
    clock.advance(days=1, hours=3)  # both the 24 h reminders are due
    answer, denied = run("reminders-send", settings, drain_stream)
    assert answer["sent"] >= 2 and answer["failed"] == 0, answer
    assert denied == []


def test_confirmations_release_stays_inside_its_grant(clock, scheduler, world, missed_once,  # noqa: F811
                                                      settings, drain_stream):
    book(scheduler, world, missed_once, start=WED_10_EST)
    at(clock, "2026-03-04T11:00:00Z")
    answer, denied = run("confirmations-release", settings, drain_stream)
    assert answer == {"released": 1}
    assert denied == []


def test_waitlist_offers_stays_inside_its_grant(scheduler, freed, clock, settings, drain_stream):  # noqa: F811
    cancel(scheduler, freed["apt"]["appointment_id"])
    answer, denied = run("waitlist-offers", settings, drain_stream)
    assert answer["offered"] >= 1, answer
    assert denied == []
    clock.advance(minutes=31)  # the offer expires: the next run passes it on
    answer, denied = run("waitlist-offers", settings, drain_stream)
    assert answer["expired"] >= 1, answer
    assert denied == []


def test_escalations_overdue_stays_inside_its_grant(clinic, scheduler, clock, settings, drain_stream):  # noqa: F811
    queue = _subscribe()
    recommend(scheduler, clinic, risk_level="imminent")
    _received(queue)
    clock.advance(minutes=31)
    answer, denied = run("escalations-overdue", settings, drain_stream)
    assert answer["reported"] >= 1, answer
    assert denied == []


def test_chime_meeting_events_stay_inside_their_grant(visit, chime, api, settings):  # noqa: F811
    meeting, _ = attend_together(visit, chime, 41)
    events = [e for e in chime.backend.events if e["detail"]["meetingId"] == meeting]
    with recorded() as calls:
        outcomes = [api.client.lambda_.invoke("chime_meeting_events", e).payload["outcome"] for e in events]
    assert "stored" in outcomes, outcomes
    denied = [c for c in calls if not allows(JOB_GRANTS["chime-meeting-events"], c, settings.main_table)]
    assert sorted(set(denied), key=str) == []


def test_only_the_reminder_job_may_read_the_link_key_and_no_job_the_cursor_key(aws):
    """Deployed, a job reads its keys when its settings are built: each read is a call its grant must cover."""
    import boto3

    from chalicelib import secret_store
    from chalicelib.settings import Settings

    client = boto3.client("secretsmanager", region_name="us-east-1")
    arns = {name: client.create_secret(Name=f"hco/prod-us-east-1/{secret}", SecretString=secret * 4)["ARN"]
            for name, secret in (("HCO_LINK_SIGNING_KEY", "link-signing-key"), ("HCO_CURSOR_KEY", "cursor-key"),
                                 ("HCO_PSEUDONYM_KEY", "pseudonym-key"))}
    base = {"AWS_LAMBDA_FUNCTION_NAME": "hco-job", "HCO_STAGE": "prod-us-east-1", "AWS_REGION": "us-east-1"}
    secret_store.forget()
    try:
        with recorded() as calls:
            for name, arn in arns.items():
                Settings.from_env({**base, f"{name}_SECRET_ARN": arn})
    finally:
        secret_store.forget()
    read = {c.target: c for c in calls if c.action == "secretsmanager:GetSecretValue"}
    assert set(read) == set(arns.values())
    link, cursor, pseudonym = (read[arns[n]] for n in ("HCO_LINK_SIGNING_KEY", "HCO_CURSOR_KEY", "HCO_PSEUDONYM_KEY"))
    allowed = {job: {k for k, c in (("link", link), ("cursor", cursor), ("pseudonym", pseudonym))
                     if allows(grant, c, "hco-test-main")} for job, grant in JOB_GRANTS.items()}
    assert allowed == {"reminders-send": {"link"}, "confirmations-release": set(), "waitlist-offers": set(),
                       "escalations-overdue": set(), "eligibility-pending": {"pseudonym"},
                       "chime-meeting-events": set()}
