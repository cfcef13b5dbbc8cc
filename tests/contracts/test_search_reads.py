"""An availability search's reads (SearchReader.read_for_search), on the fake and on DynamoDB alike; and, on
DynamoDB, what they cost: a warm search is one BatchGetItem, and a directory change made by another process is
seen by the next search."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.domain.model import Availability, Discipline, Interval, Modality, Patient, WeeklyRule
from tests.contracts.conftest import T15, visit
from tests.contracts.test_directory_store import clinician, site

WEEK = Interval(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def _weekly(site_id: str) -> Availability:
    return Availability(rules=(WeeklyRule(1, time(9), time(17), frozenset({Modality.IN_PERSON}), site_id),))


@pytest.fixture
def reads(kind, request, directory, appointments):
    return _reader(kind, request, directory, appointments)


def _reader(kind, request, directory, appointments):
    if kind == "memory":
        from tests.fakes import InMemorySearchReads

        return InMemorySearchReads(directory, appointments)
    from chalicelib.adapters.dynamo.binding import bind_models
    from chalicelib.adapters.dynamo.search_reads import SearchReads

    return SearchReads(bind_models(request.getfixturevalue("settings")))


def _seed(directory, appointments, tenant):
    directory.add_site(site(tenant, "site_1"))
    directory.add_site(site(tenant, "site_2"))
    directory.add_clinician(replace(clinician(tenant, "clin_a"), site_ids=("site_1",), availability=_weekly("site_1")))
    directory.add_clinician(replace(clinician(tenant, "clin_b"), discipline=Discipline("psychiatrist")))
    directory.add_patient(Patient(tenant_id=tenant, patient_id="pat_a", name="Pat", birth_date=date(1990, 1, 2),
                                  home_jurisdiction="US-NJ"))
    appointments.book(visit(tenant, "apt_1", clinician="clin_a", patient="pat_a", site_id="site_1", room="r1",
                           modality=Modality.IN_PERSON))


def test_a_search_reads_the_directory_the_patient_and_the_wanted_clinicians_busy_time(reads, directory,
                                                                                       appointments, tenant):
    _seed(directory, appointments, tenant)
    read = reads.read_for_search(tenant, WEEK, patient_id="pat_a",
                                 wanted=lambda c: c.discipline == Discipline("psychologist"))
    assert [c.clinician_id for c in read.clinicians] == ["clin_a", "clin_b"]
    assert set(read.sites) == {"site_1", "site_2"} and all(s.version == 1 for s in read.sites.values())
    assert read.patient.home_jurisdiction == "US-NJ" and read.patient.version == 1
    held = {T15 + timedelta(minutes=15 * i) for i in range(3)}
    assert read.busy.clinicians == {"clin_a": frozenset(held)}  # clin_b is not wanted: its weeks are not read
    assert read.busy.patient == frozenset(held)
    assert read.busy.rooms == {"site_1": {b: frozenset({"r1"}) for b in held}}


def test_a_named_clinician_alone_and_missing_records_read_as_absent(reads, directory, appointments, tenant):
    _seed(directory, appointments, tenant)
    one = reads.read_for_search(tenant, WEEK, clinician_id="clin_b", wanted=lambda c: False)
    assert [c.clinician_id for c in one.clinicians] == ["clin_b"] and one.busy.clinicians == {}
    missing = reads.read_for_search(tenant, WEEK, patient_id="pat_missing", clinician_id="clin_missing")
    assert (missing.clinicians, missing.patient, missing.busy.patient) == ((), None, frozenset())
    assert reads.read_for_search(f"{tenant}x", WEEK).clinicians == ()  # another tenant sees nothing


def test_a_directory_change_from_another_process_is_seen_by_the_next_search(kind, request, reads, directory,
                                                                           appointments, tenant):
    _seed(directory, appointments, tenant)
    assert [c.name for c in reads.read_for_search(tenant, WEEK).clinicians] == ["Dr. Test", "Dr. Test"]
    other = _other_directory(kind, directory)
    current = other.get_clinician(tenant, "clin_a")
    other.save_clinician(replace(current, name="Dr. Renamed"))
    other.add_clinician(clinician(tenant, "clin_c"))
    other.add_site(site(tenant, "site_3"))
    read = reads.read_for_search(tenant, WEEK)
    assert [(c.clinician_id, c.name, c.version) for c in read.clinicians] == [
        ("clin_a", "Dr. Renamed", 2), ("clin_b", "Dr. Test", 1), ("clin_c", "Dr. Test", 1)]
    assert set(read.sites) == {"site_1", "site_2", "site_3"}


def _other_directory(kind, directory):
    if kind == "memory":
        return directory  # one in-memory store stands for every process
    from chalicelib.adapters.dynamo.directory import DirectoryRepository

    return DirectoryRepository()


# --- what the DynamoDB adapter pays ------------------------------------------------------------------------------
@pytest.fixture
def calls():
    from bench import dynamo_calls

    dynamo_calls.install()  # before the adapter makes its client: every call is seen
    return dynamo_calls.DynamoCalls


@pytest.mark.integration
def test_a_warm_search_is_one_batched_read_and_a_changed_directory_costs_one_query_more(aws, settings, calls,
                                                                                        tenant):
    from chalicelib.adapters.dynamo.appointments import AppointmentRepository
    from chalicelib.adapters.dynamo.binding import bind_models
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.adapters.dynamo.search_reads import SearchReads

    directory = DirectoryRepository()
    _seed(directory, AppointmentRepository(bind_models(settings)), tenant)
    reads = SearchReads(bind_models(settings))
    with calls() as cold:
        reads.read_for_search(tenant, WEEK, patient_id="pat_a")
    with calls() as warm:
        read = reads.read_for_search(tenant, WEEK, patient_id="pat_a")
    assert cold.counts() == {"Query": 1, "BatchGetItem": 1, "total": 2}
    assert warm.counts() == {"BatchGetItem": 1, "total": 1}
    assert read.patient.patient_id == "pat_a" and read.busy.clinicians["clin_a"]

    DirectoryRepository().add_clinician(replace(clinician(tenant, "clin_c"), availability=_weekly("site_2")))
    with calls() as changed:
        read = reads.read_for_search(tenant, WEEK, patient_id="pat_a")
    # The stamps read in the batch differ: the directory is queried again and only the new keys are read.
    assert [t.split(" ")[0] for t in changed.targets()] == ["BatchGetItem", "Query", "BatchGetItem"]
    assert "CLIN#·/WEEK#· x3" in changed.targets()[2] and "SITE#·/WEEK#· x3" in changed.targets()[2]
    assert "clin_c" in {c.clinician_id for c in read.clinicians}
    with calls() as again:
        reads.read_for_search(tenant, WEEK, patient_id="pat_a")
    assert again.counts() == {"BatchGetItem": 1, "total": 1}


@pytest.mark.integration
def test_a_write_that_meets_another_on_its_stamp_shard_retries_and_lands(aws, settings, tenant, monkeypatch):
    """Two writes of one tenant can meet on a stamp shard (TransactionConflict): the loser retries."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.adapters.dynamo import directory as directory_module
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.domain.retry import RetryPolicy

    original, lost = DynamoDBBackend.transact_write_items, []

    def transact_write_items(self, *args, **kwargs):
        if len(lost) < 2:
            lost.append(1)
            raise TransactionCanceledException([(None, None, None), ("TransactionConflict", "racing", None)])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    monkeypatch.setattr(directory_module, "STAMP_WRITE_RETRY", RetryPolicy(5, 0.001, 0.001))
    DirectoryRepository().add_clinician(clinician(tenant, "clin_a"))
    assert len(lost) == 2 and DirectoryRepository().get_clinician(tenant, "clin_a").version == 1


@pytest.mark.integration
def test_a_later_window_of_one_search_reads_only_the_week_items_not_read_yet(aws, settings, calls, tenant):
    from chalicelib.adapters.dynamo.appointments import AppointmentRepository
    from chalicelib.adapters.dynamo.binding import bind_models
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.adapters.dynamo.search_reads import SearchReads

    _seed(DirectoryRepository(), AppointmentRepository(bind_models(settings)), tenant)
    session = SearchReads(bind_models(settings)).open_search(tenant, patient_id="pat_a")
    with calls() as first:
        one = session.read(Interval(WEEK.start, WEEK.start + timedelta(days=1)))  # Mon: weeks of 23 Feb, 2 Mar
    with calls() as same_week:
        two = session.read(Interval(WEEK.start + timedelta(days=1), WEEK.start + timedelta(days=2)))
    with calls() as next_week:
        session.read(Interval(WEEK.end - timedelta(hours=12), WEEK.end))  # Sunday: reaches into 9 March's week
    assert first.counts() == {"Query": 1, "BatchGetItem": 1, "total": 2}
    assert same_week.counts() == {"total": 0}
    assert two.busy.clinicians["clin_a"] == one.busy.clinicians["clin_a"] != frozenset()  # Tuesday's visit
    [batch] = next_week.targets()
    assert "CLIN#·/WEEK#· x2" in batch and "PROFILE" not in batch and "STAMP" not in batch


@pytest.mark.integration
def test_other_stores_keyed_reads_ride_in_the_first_read_of_a_search(aws, settings, calls, tenant):
    from chalicelib.adapters.dynamo.binding import bind_models
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.adapters.dynamo.search_reads import SearchReads
    from chalicelib.adapters.dynamo.tenant_settings import TenantSettingsRepository
    from chalicelib.domain.tenant_policy import TenantSettings

    directory, store = DirectoryRepository(), TenantSettingsRepository()
    directory.add_clinician(clinician(tenant, "clin_a"))
    store.save(TenantSettings(tenant))
    got: list[TenantSettings] = []
    session = SearchReads(bind_models(settings)).open_search(
        tenant, also=[store.settings_read(tenant).then(got.append)])
    with calls() as first:
        session.read(WEEK)
    with calls() as second:
        session.read(Interval(WEEK.end, WEEK.end + timedelta(days=1)))
    assert [(s.tenant_id, s.version) for s in got] == [(tenant, 1)]  # answered once, from the first batch
    assert [t.split(" ")[0] for t in first.targets()] == ["Query", "BatchGetItem"]
    assert "DIR/SETTINGS" in first.targets()[1] and "SETTINGS" not in " ".join(second.targets())
