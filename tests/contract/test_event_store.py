"""The EventStore contract, run against SQLite and PostgreSQL, plus what the SQL store adds.

`EventStoreContract` holds what every EventStore must do and needs only a `store` fixture: a
new backend (an in-memory fake, say) gets checked by subclassing it in its own test module.
`TestSqlEventStore` runs it on both databases (the `store` fixture is parametrized) and adds
what only a database can promise: append-only enforcement, migrations, upcasting stored rows.
"""

from __future__ import annotations

import inspect
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from events.dates import DateRange
from events.errors import ConcurrencyError, InvalidEvent, StoreUnavailable
from events.schema import (
    AnnualReportSubmitted,
    Event,
    ExtensionDecided,
    new_event,
)
from events.sql import (
    MIGRATIONS_DIR,
    Base,
    EventRow,
    NotMigrated,
    SqlEventStore,
    current_revision,
    make_engine,
    upgrade,
)
from events.store import EventStore, StreamAppend

from .support import many, signed

if TYPE_CHECKING:
    from tests.databases import TestDatabase

LBN = "ccm:state:LBN"
NOR = "ccm:state:NOR"
AFG = "ccm:state:AFG"
#: What the database triggers say when history would be rewritten.
APPEND_ONLY = r"append-only: (UPDATE|DELETE|TRUNCATE) is not allowed"


class EventStoreContract:
    """Behaviour every EventStore backend must have (arrange / act / assert in each test)."""

    # --- appending and reading back ------------------------------------------------------

    def test_a_round_trip_preserves_every_envelope_field(self, store: EventStore) -> None:
        report = new_event(
            AnnualReportSubmitted(
                state="LBN", year_covered=2023, form_version="revised", forms=("A", "J")
            ),
            occurred_on=DateRange(date(2024, 1, 1), date(2024, 4, 30)),
            recorded_at=datetime(
                2024, 9, 18, 11, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))
            ),
            recorded_by="analyst@example.org",
            source="CCM/MSP/2024/7, Annex I «Art. 7» — p. 12",
        )
        decision = new_event(
            ExtensionDecided(
                state="LBN",
                article=4,
                meeting="12MSP",
                outcome="granted",
                granted_deadline=date(2026, 5, 1),
            ),
            occurred_on=date(2024, 9, 13),
            recorded_at=datetime(2024, 9, 18, tzinfo=UTC),
            recorded_by="analyst@example.org",
            source="CCM/MSP/2024/7",
        )

        stored = store.append(LBN, [report, decision], expected_version=0)
        read = store.read_stream(LBN)

        assert read == stored
        for original, back in zip([report, decision], read, strict=True):
            assert back.model_dump(exclude={"version", "position"}) == original.model_dump(
                exclude={"version", "position"}
            )
        assert read[0].occurred_on == DateRange(date(2024, 1, 1), date(2024, 4, 30))
        assert not read[0].occurred_on.is_exact
        assert read[0].recorded_at == datetime(2024, 9, 18, 9, 30, 15, 123456, tzinfo=UTC)
        assert read[0].recorded_at.utcoffset() == timedelta(0)
        assert read[1].payload == decision.payload

    def test_appended_events_come_back_with_version_and_position_set(
        self, store: EventStore
    ) -> None:
        events = many(LBN, 3)

        stored = store.append(LBN, events, expected_version=0)

        assert [e.event_id for e in stored] == [e.event_id for e in events]
        assert all(e.version is not None and e.position is not None for e in stored)
        assert all(e.version is None and e.position is None for e in events)

    def test_versions_start_at_one_and_are_contiguous_across_appends(
        self, store: EventStore
    ) -> None:
        store.append(LBN, many(LBN, 2), expected_version=0)
        store.append(LBN, many(LBN, 3, start=2), expected_version=2)
        store.append(LBN, many(LBN, 1, start=5), expected_version=None)

        assert [e.version for e in store.read_stream(LBN)] == [1, 2, 3, 4, 5, 6]
        assert store.stream_version(LBN) == 6

    def test_positions_strictly_increase_across_streams(self, store: EventStore) -> None:
        store.append(LBN, many(LBN, 2), expected_version=0)
        store.append(NOR, many(NOR, 2), expected_version=0)
        store.append(LBN, many(LBN, 2, start=2), expected_version=2)

        positions = [e.position for e in store.read_all()]

        assert len(positions) == 6
        assert all(a is not None and b is not None and a < b for a, b in pairwise(positions))
        assert store.head_position() == positions[-1]

    def test_read_stream_after_a_version_returns_only_later_events(self, store: EventStore) -> None:
        store.append(LBN, many(LBN, 5), expected_version=0)

        later = store.read_stream(LBN, after_version=3)

        assert [e.version for e in later] == [4, 5]
        assert store.read_stream("ccm:state:XXX") == []

    def test_an_empty_store_is_at_version_and_position_zero(self, store: EventStore) -> None:
        assert store.stream_version(LBN) == 0
        assert store.head_position() == 0
        assert list(store.read_all()) == []

    def test_appending_nothing_stores_nothing(self, store: EventStore) -> None:
        assert store.append(LBN, [], expected_version=7) == []
        assert store.append_many([]) == []
        assert store.head_position() == 0

    def test_contains_reports_which_ids_are_stored(self, store: EventStore) -> None:
        [stored] = store.append(LBN, [signed(LBN)], expected_version=0)
        absent = str(uuid.uuid4())

        found = store.contains([str(stored.event_id), absent])

        assert found == {str(stored.event_id)}
        assert store.contains([str(stored.event_id).upper()]) == {str(stored.event_id).upper()}
        assert store.contains([]) == set()

    def test_get_finds_a_stored_event_by_id_and_none_otherwise(self, store: EventStore) -> None:
        [stored] = store.append(LBN, [signed(LBN)], expected_version=0)

        found = store.get(str(stored.event_id))
        found_upper_case = store.get(str(stored.event_id).upper())
        missing = store.get(str(uuid.uuid4()))

        assert found == stored
        assert found_upper_case == stored
        assert missing is None

    # --- optimistic concurrency ----------------------------------------------------------

    @pytest.mark.parametrize("expected", [0, 1, 3])
    def test_a_wrong_expected_version_raises_and_stores_nothing(
        self, store: EventStore, expected: int
    ) -> None:
        store.append(LBN, many(LBN, 2), expected_version=0)
        head = store.head_position()
        late = many(LBN, 2, start=100)

        with pytest.raises(ConcurrencyError) as raised:
            store.append(LBN, late, expected_version=expected)

        assert (raised.value.stream, raised.value.expected, raised.value.actual) == (
            LBN,
            expected,
            2,
        )
        assert store.stream_version(LBN) == 2
        assert store.head_position() == head
        assert store.contains([str(e.event_id) for e in late]) == set()

    def test_a_stream_expected_to_be_new_must_not_exist(self, store: EventStore) -> None:
        store.append(LBN, many(LBN, 1), expected_version=0)

        with pytest.raises(ConcurrencyError):
            store.append(LBN, many(LBN, 1, start=1), expected_version=0)

    def test_expected_version_none_appends_without_a_check(self, store: EventStore) -> None:
        store.append(LBN, many(LBN, 2), expected_version=None)

        stored = store.append(LBN, many(LBN, 1, start=2), expected_version=None)

        assert [e.version for e in stored] == [3]

    # --- idempotency ---------------------------------------------------------------------

    def test_re_appending_the_same_event_id_is_a_no_op(self, store: EventStore) -> None:
        events = many(LBN, 3)
        store.append(LBN, events, expected_version=0)
        store.append(LBN, many(LBN, 2, start=3), expected_version=3)  # the stream moves on
        before = list(store.read_all())

        again = store.append(LBN, events, expected_version=0)  # stale version, still a no-op

        assert again == []
        assert list(store.read_all()) == before

    def test_re_appending_a_mix_stores_only_the_new_events(self, store: EventStore) -> None:
        first = many(LBN, 2)
        store.append(LBN, first, expected_version=0)
        fresh = many(LBN, 2, start=2)

        stored = store.append(LBN, [*first, *fresh], expected_version=2)

        assert [e.event_id for e in stored] == [e.event_id for e in fresh]
        assert [e.version for e in stored] == [3, 4]

    def test_the_same_event_id_twice_in_one_append_is_rejected(self, store: EventStore) -> None:
        event = signed(LBN)

        with pytest.raises(InvalidEvent, match="twice"):
            store.append(LBN, [event, event], expected_version=0)

        assert store.head_position() == 0

    def test_an_event_of_another_stream_is_rejected(self, store: EventStore) -> None:
        with pytest.raises(InvalidEvent, match="stream"):
            store.append(LBN, [signed(LBN), signed(NOR)], expected_version=0)

        assert store.head_position() == 0

    def test_an_event_carrying_the_wrong_version_is_rejected(self, store: EventStore) -> None:
        store.append(LBN, many(LBN, 1), expected_version=0)
        right = signed(LBN, n=1).model_copy(update={"version": 2})
        wrong = signed(LBN, n=2).model_copy(update={"version": 7})

        with pytest.raises(InvalidEvent, match="version"):
            store.append(LBN, [right, wrong], expected_version=1)
        stored = store.append(LBN, [right], expected_version=1)

        assert [e.version for e in stored] == [2]

    # --- several streams in one transaction ----------------------------------------------

    def test_append_many_stores_several_streams_together(self, store: EventStore) -> None:
        store.append(NOR, many(NOR, 1), expected_version=0)

        stored = store.append_many(
            [
                StreamAppend(LBN, many(LBN, 2), expected_version=0),
                StreamAppend(NOR, many(NOR, 1, start=1), expected_version=1),
                StreamAppend(LBN, many(LBN, 1, start=2), expected_version=2),
            ]
        )

        assert [(e.stream, e.version) for e in stored] == [
            (LBN, 1),
            (LBN, 2),
            (NOR, 2),
            (LBN, 3),
        ]
        assert [e.position for e in stored] == sorted(e.position or 0 for e in stored)

    def test_a_batch_with_one_wrong_expected_version_stores_nothing_at_all(
        self, store: EventStore
    ) -> None:
        store.append(NOR, many(NOR, 1), expected_version=0)
        batch = [
            StreamAppend(LBN, many(LBN, 2), expected_version=0),
            StreamAppend(AFG, many(AFG, 2), expected_version=0),
            StreamAppend(NOR, many(NOR, 1, start=1), expected_version=0),  # NOR is at 1
        ]

        with pytest.raises(ConcurrencyError) as raised:
            store.append_many(batch)

        assert raised.value.stream == NOR
        assert store.stream_version(LBN) == store.stream_version(AFG) == 0
        assert [e.stream for e in store.read_all()] == [NOR]

    # --- reading the whole log -----------------------------------------------------------

    def test_read_all_returns_the_requested_slices_of_a_large_log(self, store: EventStore) -> None:
        streams = [f"ccm:state:S{i:02d}" for i in range(10)]
        store.append_many([StreamAppend(s, many(s, 500), expected_version=0) for s in streams])
        everything = list(store.read_all())
        positions = [e.position or 0 for e in everything]

        middle = list(store.read_all(after=positions[999], limit=1500))
        tail = list(store.read_all(after=positions[4990], limit=100))
        nothing_after_head = list(store.read_all(after=positions[-1]))
        nothing_at_all = list(store.read_all(limit=0))

        assert len(everything) == 5000
        assert all(a < b for a, b in pairwise(positions))
        assert middle == everything[1000:2500]
        assert tail == everything[4991:]
        assert nothing_after_head == []
        assert nothing_at_all == []

    def test_read_facts_gives_the_events_of_read_all_in_their_lean_form(
        self, store: EventStore
    ) -> None:
        streams = [f"ccm:state:S{i:02d}" for i in range(4)]
        store.append_many([StreamAppend(s, many(s, 800), expected_version=0) for s in streams])
        everything = list(store.read_all())
        after = everything[999].position or 0

        facts = list(store.read_facts())
        middle = list(store.read_facts(after=after, limit=1500))

        assert [f.to_event() for f in facts] == everything
        assert [f.to_event() for f in middle] == everything[1000:2500]
        assert list(store.read_facts(limit=0)) == []
        for fact, event in zip(facts, everything, strict=True):
            assert fact.key == event.event_id.int
            assert fact.state == event.state
            assert fact.payload == event.payload

    def test_read_all_is_a_lazy_iterator_that_does_not_snapshot_the_log(
        self, store: EventStore
    ) -> None:
        store.append(LBN, many(LBN, 5000), expected_version=0)

        reader = store.read_all()
        first = next(reader)
        [late] = store.append(NOR, [signed(NOR)], expected_version=0)
        rest = list(reader)

        assert inspect.isgenerator(reader)
        assert first.position is not None
        assert len(rest) == 5000
        assert rest[-1] == late  # fetched page by page, so it sees what was appended meanwhile

    def test_read_all_rejects_a_negative_limit(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match="limit"):
            store.read_all(limit=-1)


# --- the SQL store ----------------------------------------------------------------------------

OLD_RECORDED_AT = {"sqlite": "2020-09-01 00:00:00.000000", "postgres": "2020-09-01 00:00:00+00"}


def insert_raw(db: TestDatabase, sql: str, **params: object) -> None:
    engine = db.engine()
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


V1_ANNUAL_REPORT = '{"state": "LBN", "year": 2019, "revised_form": false}'


def insert_row(db: TestDatabase, type_name: str, payload: str, event_id: str | None = None) -> None:
    """One row of schema version 1 written by other software, straight into the table."""
    insert_raw(
        db,
        "INSERT INTO events (event_id, stream, version, type, schema_version, occurred_from,"
        " occurred_to, recorded_at, recorded_by, source, payload) VALUES (:id, :stream, 1,"
        " :type, 1, :day, :day, :recorded, 'v1-importer', 'CCM/MSP/2020/6', :payload)",
        id=event_id or str(uuid.uuid4()),
        stream=LBN,
        type=type_name,
        day=date(2020, 4, 30),
        recorded=OLD_RECORDED_AT[db.backend],
        payload=payload,
    )


class TestSqlEventStore(EventStoreContract):
    """The contract on SQLite and PostgreSQL, and what the database itself guarantees."""

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE events SET source = 'rewritten'",
            "DELETE FROM events WHERE stream = 'ccm:state:LBN'",
            "DELETE FROM events",
        ],
        ids=["update", "delete", "delete-all"],
    )
    def test_rewriting_history_by_raw_sql_fails_and_leaves_the_rows_unchanged(
        self, store: SqlEventStore, db_url: TestDatabase, statement: str
    ) -> None:
        stored = store.append(LBN, many(LBN, 2), expected_version=0)

        with pytest.raises(sa.exc.DBAPIError, match=APPEND_ONLY):
            insert_raw(db_url, statement)

        assert store.read_stream(LBN) == stored

    def test_overwriting_an_event_through_an_upsert_fails(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        [stored] = store.append(LBN, [signed(LBN)], expected_version=0)
        upsert = {
            # REPLACE deletes the old row; the store's connections fire triggers for that.
            "sqlite": "INSERT OR REPLACE INTO events SELECT * FROM events",
            "postgres": (
                "INSERT INTO events SELECT * FROM events "
                "ON CONFLICT (position) DO UPDATE SET source = 'rewritten'"
            ),
        }[db_url.backend]

        with pytest.raises(sa.exc.DBAPIError, match=APPEND_ONLY):
            insert_raw(db_url, upsert)

        assert store.read_stream(LBN) == [stored]

    def test_wiping_the_whole_log_at_once_fails(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        # PostgreSQL's TRUNCATE bypasses row triggers, so it has its own statement trigger;
        # SQLite has no TRUNCATE and its whole-table wipe is an unqualified DELETE.
        wipe = {"postgres": "TRUNCATE events", "sqlite": "DELETE FROM events"}[db_url.backend]
        stored = store.append(LBN, many(LBN, 2), expected_version=0)

        with pytest.raises(sa.exc.DBAPIError, match=APPEND_ONLY):
            insert_raw(db_url, wipe)

        assert store.read_stream(LBN) == stored

    def test_an_old_schema_row_is_upcast_when_read(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        event_id = str(uuid.uuid4())
        insert_row(db_url, "report.annual.submitted", V1_ANNUAL_REPORT, event_id)

        [from_stream] = store.read_stream(LBN)
        [from_log] = list(store.read_all())

        assert from_stream == from_log
        assert str(from_stream.event_id) == event_id
        assert from_stream.schema_version == AnnualReportSubmitted.SCHEMA_VERSION
        assert from_stream.payload == AnnualReportSubmitted(
            state="LBN", year_covered=2019, form_version="original"
        )
        assert from_stream.recorded_at == datetime(2020, 9, 1, tzinfo=UTC)

    def test_an_old_schema_row_is_upcast_when_read_for_a_fold(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        insert_row(db_url, "report.annual.submitted", V1_ANNUAL_REPORT)

        [fact] = list(store.read_facts())

        assert fact.to_event() == next(store.read_all())
        assert fact.state == "LBN"
        assert fact.payload == AnnualReportSubmitted(
            state="LBN", year_covered=2019, form_version="original"
        )

    def test_a_hand_written_payload_is_read_for_a_fold_as_it_would_be_validated(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        # Keys in another order and spaces: the State is still read from the payload itself.
        insert_row(
            db_url, "state.consent_deposited", '{ "instrument": "accession", "state": "LBN" }'
        )

        [fact] = list(store.read_facts())

        assert fact.state == "LBN"
        assert fact.to_event() == next(store.read_all())

    def test_an_unreadable_stored_row_names_its_position(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        insert_row(db_url, "no.such.type", "{}")

        with pytest.raises(InvalidEvent, match=r"at position \d+: .*no\.such\.type"):
            store.read_stream(LBN)

    def test_a_writer_that_bypasses_the_lock_still_meets_a_concurrency_error(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        # Another program inserts version 1 and holds its transaction open while the store
        # appends to the same stream: the store must wait, then report a conflict.
        outcome: list[BaseException | list[Event]] = []
        intruder = db_url.engine()
        try:
            with intruder.connect() as connection:
                connection.execution_options(tracker_write=True)
                with connection.begin():
                    connection.execute(
                        sa.text(
                            "INSERT INTO events (event_id, stream, version, type,"
                            " schema_version, occurred_from, occurred_to, recorded_at,"
                            " recorded_by, source, payload) VALUES (:id, :stream, 1,"
                            " 'state.signed', 1, :day, :day, :recorded, 'x', 'x',"
                            ' \'{"state": "LBN"}\')'
                        ),
                        {
                            "id": str(uuid.uuid4()),
                            "stream": LBN,
                            "day": date(2009, 1, 1),
                            "recorded": OLD_RECORDED_AT[db_url.backend],
                        },
                    )
                    writer = threading.Thread(target=_append_into, args=(store, outcome))
                    writer.start()
                    _wait_until_blocked(connection, db_url.backend)
                writer.join(timeout=30)
        finally:
            intruder.dispose()

        assert len(outcome) == 1
        assert isinstance(outcome[0], ConcurrencyError), outcome
        assert outcome[0].actual == 1
        assert store.stream_version(LBN) == 1

    # --- migrations and connection handling ----------------------------------------------

    def test_an_unmigrated_database_gives_a_clear_error(self, db_url: TestDatabase) -> None:
        if db_url.backend == "sqlite":
            Path(sa.make_url(db_url.url).database or "").touch()  # exists, but empty

        with pytest.raises(NotMigrated, match="run `tracker db upgrade`"):
            SqlEventStore(db_url.url, db_url.schema)

    def test_upgrade_is_idempotent_and_keeps_the_events(self, db_url: TestDatabase) -> None:
        head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
        assert current_revision(db_url.url, db_url.schema) is None
        upgrade(db_url.url, db_url.schema)
        with SqlEventStore(db_url.url, db_url.schema) as store:
            stored = store.append(LBN, many(LBN, 2), expected_version=0)

        upgrade(db_url.url, db_url.schema)

        assert current_revision(db_url.url, db_url.schema) == head
        with SqlEventStore(db_url.url, db_url.schema) as store:
            assert store.read_stream(LBN) == stored

    @pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
    def test_the_migrations_create_the_events_table_exactly_as_mapped(
        self, store: SqlEventStore, db_url: TestDatabase
    ) -> None:
        # Scoped to the store's own table: later revisions own theirs (and may use indexes,
        # such as expression indexes, that reflection cannot compare).
        def is_the_events_table(
            obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
        ) -> bool:
            table = obj if type_ == "table" else getattr(obj, "table", None)
            return getattr(table, "name", None) == EventRow.__tablename__

        engine = db_url.engine()
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "include_object": is_the_events_table},
                )
                differences = compare_metadata(context, Base.metadata)
        finally:
            engine.dispose()

        assert differences == []


def _append_into(store: SqlEventStore, outcome: list[BaseException | list[Event]]) -> None:
    try:
        outcome.append(store.append(LBN, [signed(LBN)], expected_version=0))
    except BaseException as exc:
        outcome.append(exc)


def _wait_until_blocked(connection: sa.Connection, backend: str) -> None:
    """Return once the store's append waits on our open transaction (or after a grace time)."""
    if backend != "postgres":
        time.sleep(0.3)  # SQLite: the store queues on BEGIN IMMEDIATE behind our write lock
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
            )
        ).scalar_one()
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the store's append never blocked on the open transaction")


# --- without a database fixture ---------------------------------------------------------------


def test_an_unreachable_server_gives_store_unavailable_without_the_password() -> None:
    url = "postgresql+psycopg://tracker:s3cret-pw@127.0.0.1:1/tracker"

    with pytest.raises(StoreUnavailable) as raised:
        SqlEventStore(url)
    with pytest.raises(StoreUnavailable) as raised_by_upgrade:
        upgrade(url)

    for message in (str(raised.value), str(raised_by_upgrade.value)):
        assert "s3cret-pw" not in message
        assert "tracker:***@127.0.0.1:1/tracker" in message
        assert "check that the PostgreSQL server is running" in message


def test_a_missing_sqlite_file_is_reported_as_not_migrated_and_not_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent.db"

    with pytest.raises(NotMigrated, match="does not exist"):
        SqlEventStore(f"sqlite:///{path}")

    assert current_revision(f"sqlite:///{path}") is None
    assert not path.exists()


def test_sqlite_connections_use_wal_a_busy_timeout_and_rowid_positions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
            primary_key_indexes = connection.exec_driver_sql(
                "SELECT count(*) FROM pragma_index_list('events') WHERE origin = 'pk'"
            ).scalar()
    finally:
        engine.dispose()

    assert pragma == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "foreign_keys": 1,
        "synchronous": 1,
    }
    assert primary_key_indexes == 0  # position is the rowid itself, not a separate index


def test_a_schema_is_refused_for_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL only"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", schema="s")
