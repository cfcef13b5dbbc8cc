"""PynamoDB models of the main table. Keys are built in keys.py; no PHI ever goes into a key.

Access patterns (pattern -> key / index -> operation):

| pattern                                   | key or index                                        | operation |
|-------------------------------------------|-----------------------------------------------------|-----------|
| get a site / clinician                    | pk=T#{t}#DIR, sk=SITE#{id} / CLIN#{id}              | GetItem   |
| list sites / clinicians of a tenant       | pk=T#{t}#DIR, sk begins_with SITE# / CLIN#          | Query     |
| directory stamp shards (cache check)      | pk=T#{t}#DIR, sk=#STAMP#{0-7}                       | BatchGetItem |
  (set in the transaction of each site or clinician write, the shard by the record's sk)
| an availability search's directory        | pk=T#{t}#DIR, whole partition, once per process+stamps | Query  |
| an availability search's reads            | stamps + week items + patient PROFILE               | BatchGetItem |
| get a patient                             | pk=T#{t}#PAT#{id}, sk=PROFILE                       | GetItem   |
| a booking's patient + latest screening    | pk=T#{t}#PAT#{id}, sk PROFILE .. SCREEN#(max), Limit 2 | Query   |
  (screening sks sort newest first (keys.screening_sk), so the item after PROFILE is the latest one)
| a booking's clinician and sites           | the keys above, those not in the process's cache    | BatchGetItem |
  (cached records are proved current in the booking's transaction: ConditionCheck version = v)
| a booking's keyed reads, together         | eligibility cache entry + site week items (in person) | BatchGetItem |
  (adapters/dynamo/keyed_reads.py: any stores' KeyedReads in one call, with the tenant's SETTINGS and the
   payer's CONFIG when the process's one-minute caches lack them; then the TransactWriteItems)
| get an appointment                        | pk=T#{t}#APPT#{id}, sk=APPT                         | GetItem   |
| a clinician's appointments in a range     | GSI1 gsi1pk=T#{t}#CLIN#{id}, gsi1sk between starts  | Query     |
| a patient's appointments in a range       | GSI2 gsi2pk=T#{t}#PAT#{id}, gsi2sk between starts   | Query     |
| a clinician's busy time in a UTC ISO week | pk=T#{t}#CLIN#{id}, sk=WEEK#{monday} (attrs b{d}{HHMM}) | BatchGetItem |
| a patient's busy time in a UTC ISO week   | pk=T#{t}#PAT#{id}, sk=WEEK#{monday} (attrs b{d}{HHMM})  | BatchGetItem |
| a site's rooms taken in a UTC ISO week    | pk=T#{t}#SITE#{id}, sk=WEEK#{monday} (r{d}{HHMM}#{room}) | BatchGetItem |
  (many clinicians / sites: all their week items in one BatchGetItem per 100 keys; d = ISO weekday 1-7)
| book / reschedule / cancel                | appointment + one update per busy-week item touched | TransactWriteItems |
  (every audited change of a visit puts its audit entry in the same transaction, attribute_not_exists(pk))
  (a block attribute's value is its holder: the appointment id, or "{expires epoch:010d}|{hold id}" for a
   waitlist hold, so an expired hold is free by a string comparison: "0…" < str(now) < "apt_…")
| temporary-practice days (PSYPACT TAP)     | pk=T#{t}#CLIN#{id}, sk=TPD#{ledger}#{year}          | Get; Update in tx |
| visits whose licensure needs review       | pk=T#{t}#REVIEW, sk={start}#{appointment id}        | Query     |
| tenant settings                           | pk=T#{t}#DIR, sk=SETTINGS                           | Get/Put   |
| record an audit entry (request path)      | pk=T#{t}#AUDIT#{yyyy-mm}#{shard}, sk={at}#{entry id} | PutItem or in tx |
| a list page's audit entries (N items)     | same, one item per listed item                      | BatchWriteItem |
| audit entries of a tenant in a window     | pk=T#{t}#AUDIT#{yyyy-mm}#{shard}, sk>{at}#{id} | Query x months x shards |
| audit entries about one patient           | GSI1 gsi1pk=T#{t}#AUDITPAT#{id}, gsi1sk={at}#{id}   | Query     |
| audit entries not chained yet (sparse)    | GSI2 gsi2pk=T#{t}#AUDITWAIT#{shard}, gsi2sk={at}#{id} | Query (verify) |
| audit chain head (stream consumer only)   | pk=T#{t}#AUDIT, sk=HEAD (seq, hash, last batch) | Get; cond. Put |
| audit chain links of a tenant, in order   | pk=T#{t}#AUDIT#CHAIN#{seq // 10000}, sk=SEQ#{n} | Query; BatchWrite |
  (audit: the request writes only its own entry, spread over month x shard partitions; the stream
  consumer (services/streams.py) chains entries per tenant in batches: no hot key on the request path)
| rate-limit window of one caller           | pk=RL#{t}#{sub}#{bucket}, sk=W#{window start}       | UpdateItem ADD |
| payer configuration and roster            | pk=PAYER#{payer_id}, sk=CONFIG / MEMBER#{hmac(member)} | Get/Put |
| an eligibility check (tenant's or payer's)| pk=T#{t}#ELIG#{id} or PAYER#{p}#ELIG#{id}, sk=CHECK  | Get/Put   |
| X12 control numbers of one sender         | pk=X12CTL#{qualifier}#{sender id}, sk=COUNTER        | UpdateItem ADD |
| eligibility cache (ExpiringItem, TTL)     | pk=T#{t}#ELIGCACHE#{payer} (or PAYER#{p}#...), sk=C#{hmac} | Get/Put |
  (member ids are PHI: keys carry an HMAC of them; details in adapters/dynamo/payers.py)
| an appointment's reminders                | pk=T#{t}#APPT#{id}, sk begins_with REM#             | Query     |
| reminders due, all tenants (job)          | pk=REMDUE#{yyyymmddHH}#{shard}, sk<={send_at}       | Query     |
| link nonces of an appointment (single use)| pk=T#{t}#APPT#{id}, sk=LINK#{nonce} (TTL)           | Put / cond. Delete |
| confirmation of an appointment            | pk=T#{t}#APPT#{id}, sk=CONFIRM                      | Get/Put   |
| unconfirmed visits to release, all tenants| pk=CONFDUE#{yyyymmddHH}#{shard}, sk={release_at}#{t}#{id} | Query (job) |
| pending eligibility checks due, all tenants| pk=ELGDUE#{yyyymmddHH}#{shard}, sk={due}#{t}#{check id} | Query (job) |
| land an eligibility result on a visit     | pk=T#{t}#APPT#{id}, sk=APPT (eligibility only)      | cond. Update |
| a patient's no-show tally                 | pk=T#{t}#PAT#{id}, sk=NOSHOWS                       | Get / Update ADD |
| waitlist entry (versioned)                | pk=T#{t}#WAIT, sk=ENTRY#{id}                        | Get/Put   |
| waiting entries of a tenant, in order     | pk=T#{t}#WAITQ, sk={created}#{id} (sparse)          | Query (job) |
| freed slots to offer, all tenants (job)   | pk=FREED#{shard}, sk={freed_at}#{t}#{id}            | Query (job) |
| a freed slot enqueued once (TTL marker)   | pk=T#{t}#FREEDBY#{source id}, sk={slot}#{freed_at}  | cond. Put in tx |
| open offers by expiry, all tenants (job)  | pk=OFFERS#{shard}, sk={expires_at}#{t}#{entry}      | Query (job) |
| a slot held for an offer                  | clinician busy-week item(s), value {expiry}|{hold}  | TransactWriteItems |
  (job indexes are sharded by a hash of the id, so no one partition takes every write: no hot key)
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class _MainTable(Model):
    class Meta:
        table_name = "unbound-main"  # set by bind_models() from Settings
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class DocumentItem(_MainTable):
    """Sites, clinicians, patients, payer configuration: one document per item."""

    kind = UnicodeAttribute()
    doc = MapAttribute()  # raw map: the domain object as JSON-safe data
    version = VersionAttribute()


class DirectoryStampItem(_MainTable):
    """pk=T#{t}#DIR, sk=#STAMP#{shard}: a new random value with every clinician or site write, so a process that
    cached the tenant's directory proves it current by reading the shards (adapters/dynamo/search_reads.py)."""

    stamp = UnicodeAttribute()


class ClinicianScheduleIndex(GlobalSecondaryIndex["AppointmentItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class PatientScheduleIndex(GlobalSecondaryIndex["AppointmentItem"]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class AppointmentItem(_MainTable):
    kind = UnicodeAttribute(default="appointment")
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    status = UnicodeAttribute()
    doc = MapAttribute()
    version = VersionAttribute()

    by_clinician = ClinicianScheduleIndex()
    by_patient = PatientScheduleIndex()


class BusyWeekItem(_MainTable):
    """The 15-minute blocks one clinician, patient or site (rooms) holds in one UTC ISO week.

    Blocks are top-level attributes named by their place in the week (keys.block_attr), which a model
    cannot declare: they are written with Path(name) updates and read raw (appointments.py).
    """

    kind = UnicodeAttribute(default="busy_week")


class PracticeLedgerItem(_MainTable):
    """Distinct days of temporary practice in one year; per-day visit counts live in attributes n{yyyymmdd}."""

    kind = UnicodeAttribute(default="practice_days")
    day_count = NumberAttribute(default=0)


class ReviewItem(_MainTable):
    """A marker for a visit whose licensure needs review (sparse: present only while flagged)."""

    kind = UnicodeAttribute(default="review")
    appointment_id = UnicodeAttribute()


class PointerItem(_MainTable):
    """A sparse index entry that points at another item (e.g. open escalations); never versioned."""

    kind = UnicodeAttribute()
    doc = MapAttribute()


class AuditPatientIndex(GlobalSecondaryIndex["AuditEntryItem"]):
    """gsi1 is overloaded: clinician schedules, and audit entries by patient."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class AuditWaitingIndex(GlobalSecondaryIndex["AuditEntryItem"]):
    """gsi2 is overloaded: patient schedules, and audit entries not chained yet (sparse, sharded)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class AuditEntryItem(_MainTable):
    """Written once by the request (doc never changes); the chain consumer adds seq, prev_hash and hash
    and drops the entry from the waiting index."""

    kind = UnicodeAttribute(default="audit")
    at = UnicodeAttribute()
    log = UnicodeAttribute()
    doc = MapAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    seq = NumberAttribute(null=True)
    prev_hash = UnicodeAttribute(null=True)
    hash = UnicodeAttribute(null=True)

    by_patient = AuditPatientIndex()
    waiting = AuditWaitingIndex()


class AuditChainLinkItem(_MainTable):
    """One place in a tenant's chain: its hash, the hash before it, and the entry it covers."""

    kind = UnicodeAttribute(default="audit_link")
    seq = NumberAttribute()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    entry_pk = UnicodeAttribute()
    entry_sk = UnicodeAttribute()


class AuditHeadItem(_MainTable):
    """The chain's end, and the last batch the consumer claimed (finished again, idempotently, if a
    consumer stopped between claiming it and writing its links)."""

    kind = UnicodeAttribute(default="audit_head")
    seq = NumberAttribute()
    last_hash = UnicodeAttribute()
    batch = ListAttribute(of=MapAttribute, default=list)
    claimed_at = UnicodeAttribute(null=True)


class RateCounterItem(_MainTable):
    """Requests one caller made in one fixed window of one bucket; TTL sweeps old windows."""

    kind = UnicodeAttribute(default="rate")
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class ControlCounterItem(_MainTable):
    """The last X12 interchange control number one sender used (x12_control.py): UpdateItem ADD."""

    kind = UnicodeAttribute(default="x12_control")
    last = NumberAttribute(default=0)


class ExpiringItem(_MainTable):
    """Temporary items (eligibility cache, rate-limit windows); DynamoDB TTL deletes them lazily."""

    kind = UnicodeAttribute()
    doc = MapAttribute()
    expires_at = NumberAttribute()


class StatusItem(_MainTable):
    """An item whose life is a few conditional status changes (reminders, links, no-show tallies)."""

    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    doc = MapAttribute()
    expires_at = NumberAttribute(null=True)


MAIN_TABLE_MODELS: tuple[type[Model], ...] = (
    _MainTable, DocumentItem, DirectoryStampItem, AppointmentItem, BusyWeekItem, ExpiringItem, AuditEntryItem,
    AuditHeadItem, AuditChainLinkItem, RateCounterItem, PracticeLedgerItem, ReviewItem, PointerItem, StatusItem)
# The model whose schema (keys and indexes) creates the table.
TABLE_SCHEMA_MODEL = AppointmentItem
