"""Reminder bookkeeping in SQL: subscriptions, focal-point chats, and one delivery row per
(reminder key, chat) — the record that makes "never sent twice" hold across restarts and
across bot processes sharing one PostgreSQL database.

These tables are NOT append-only (unlike `events`): they are delivery bookkeeping, not history.
A delivery row moves claimed -> sent (or failed), an expired claim is taken over, and an
unsubscribe deletes its row. Their schema is created by migration 0002.

Claiming is atomic on both backends:

- a new (key, chat) is claimed by ``INSERT … ON CONFLICT DO NOTHING RETURNING``: of two
  sweepers, exactly one inserts the row (PostgreSQL makes the second wait on the primary key
  and then do nothing; SQLite serializes writers with BEGIN IMMEDIATE);
- an abandoned claim (its holder crashed between claim and send) is taken over by
  ``UPDATE … WHERE status = 'claimed' AND lease_until <= now RETURNING``: PostgreSQL re-checks
  the WHERE clause after waiting for a concurrent update of the row, so only one taker wins;
- a row whose status is 'sent' or 'failed' is never claimed again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from events.errors import StoreUnavailable
from events.sql import Base, NotMigrated, UtcDateTime, make_engine
from tracker.config import mask_url
from tracker.subscriptions import DeliveryRecord, FocalPoint, Subscription, SubscriptionTopic

__all__ = [
    "DeliveryRecord",
    "SqlReminderStore",
    "deliveries",
    "focal_points",
    "subscriptions",
]

# Core tables on the shared metadata (same naming convention as `events`); the migration holds
# the authoritative DDL, these mirror it for queries.
subscriptions = Table(
    "subscriptions",
    Base.metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("chat_id", BigInteger(), nullable=False),
    Column("topic", String(20), nullable=False),
    Column("state", String(3), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    CheckConstraint(
        "topic IN ('all', 'reports', 'extensions', 'meetings', 'state')", name="known_topic"
    ),
    CheckConstraint(
        "(topic = 'state' AND state IS NOT NULL) OR (topic <> 'state' AND state IS NULL)",
        name="state_iff_topic_state",
    ),
    Index(
        "ux_subscriptions_chat_topic_state",
        "chat_id",
        "topic",
        text("COALESCE(state, '')"),
        unique=True,
    ),
)

focal_points = Table(
    "focal_points",
    Base.metadata,
    Column("iso3", String(3), primary_key=True),
    Column("chat_id", BigInteger(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)

deliveries = Table(
    "reminder_deliveries",
    Base.metadata,
    Column("key", String(300), primary_key=True),
    Column("chat_id", BigInteger(), primary_key=True),
    Column("fire_on", Date(), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("claimed_by", String(200), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("late", Boolean(), nullable=False),
    Column("note", String(500), nullable=True),
    CheckConstraint("status IN ('claimed', 'sent', 'failed')", name="known_status"),
)

_d = deliveries.c
# Keys per IN (...) list: far below SQLite's bound-parameter limit.
_CHUNK = 400


class SqlReminderStore:
    """Subscriptions, focal points and deliveries on SQLite or PostgreSQL. Thread-safe (each
    call checks out its own pooled connection); open one per process."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self._masked = mask_url(url)
        self._engine: Engine = make_engine(url, schema)
        # On SQLite, "tracker_write" begins with BEGIN IMMEDIATE: writers queue for the lock
        # up front instead of failing when a read transaction tries to upgrade.
        self._write: Engine = self._engine.execution_options(tracker_write=True)
        try:
            with self._errors(), self._engine.connect() as connection:
                migrated = inspect(connection).has_table(deliveries.name)
        except BaseException:
            self._engine.dispose()
            raise
        if not migrated:
            self._engine.dispose()
            raise NotMigrated(
                f"the database at {self._masked} has no reminder tables; run "
                "`tracker db upgrade` to create them"
            )
        self._dialect = self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SqlReminderStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            raise StoreUnavailable(
                f"reminder store at {self._masked} is unavailable: {reason}"
            ) from exc

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._errors(), self._write.connect() as connection, connection.begin():
            yield connection

    def _insert(self, table: Table) -> Any:
        # Both dialects spell ON CONFLICT DO NOTHING the same way; SQLAlchemy needs the
        # dialect's own insert() to render it.
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self,
        chat_id: int,
        topic: SubscriptionTopic,
        state: str | None,
        *,
        by: str,
        at: datetime,
    ) -> bool:
        """Add a subscription; False when the chat already had exactly this one."""
        if (topic == "state") != (state is not None):
            raise ValueError("a State subscription names its State; other topics do not")
        statement = (
            self._insert(subscriptions)
            .values(chat_id=chat_id, topic=topic, state=state, created_at=at, created_by=by)
            .on_conflict_do_nothing()
            .returning(subscriptions.c.id)
        )
        with self._writing() as connection:
            # RETURNING rather than rowcount: an INSERT with implicit RETURNING of the id does
            # not report a reliable rowcount on every driver.
            return connection.execute(statement).first() is not None

    def unsubscribe(
        self, chat_id: int, topic: SubscriptionTopic | None = None, state: str | None = None
    ) -> int:
        """Remove the chat's subscriptions: all of them, or one topic (or State); how many."""
        c = subscriptions.c
        statement = delete(subscriptions).where(c.chat_id == chat_id)
        if topic is not None:
            statement = statement.where(c.topic == topic)
            if state is not None:
                statement = statement.where(c.state == state)
        with self._writing() as connection:
            return connection.execute(statement).rowcount

    def subscriptions(self, chat_id: int | None = None) -> tuple[Subscription, ...]:
        c = subscriptions.c
        query = select(c.chat_id, c.topic, c.state, c.created_at, c.created_by).order_by(
            c.chat_id, c.topic, c.state
        )
        if chat_id is not None:
            query = query.where(c.chat_id == chat_id)
        with self._errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return tuple(
            Subscription(
                chat_id=int(row.chat_id),
                topic=cast(SubscriptionTopic, row.topic),
                state=row.state,
                created_at=row.created_at,
                created_by=row.created_by,
            )
            for row in rows
        )

    # --- focal points ----------------------------------------------------------------------

    def set_focal_point(self, iso3: str, chat_id: int, *, by: str, at: datetime) -> None:
        """Make `chat_id` the State's focal-point chat (replacing an earlier one)."""
        with self._writing() as connection:
            connection.execute(delete(focal_points).where(focal_points.c.iso3 == iso3))
            connection.execute(
                focal_points.insert().values(
                    iso3=iso3, chat_id=chat_id, created_at=at, created_by=by
                )
            )

    def remove_focal_point(self, iso3: str) -> bool:
        with self._writing() as connection:
            result = connection.execute(delete(focal_points).where(focal_points.c.iso3 == iso3))
            return result.rowcount == 1

    def focal_points(self) -> tuple[FocalPoint, ...]:
        c = focal_points.c
        query = select(c.iso3, c.chat_id, c.created_at, c.created_by).order_by(c.iso3)
        with self._errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return tuple(
            FocalPoint(
                iso3=row.iso3,
                chat_id=int(row.chat_id),
                created_at=row.created_at,
                created_by=row.created_by,
            )
            for row in rows
        )

    # --- deliveries ------------------------------------------------------------------------

    def deliveries_since(
        self, fire_on: date, chat_id: int | None = None
    ) -> Mapping[tuple[str, int], DeliveryRecord]:
        """Delivery rows of reminders firing on or after `fire_on`, by (key, chat)."""
        query = select(deliveries).where(_d.fire_on >= fire_on)
        if chat_id is not None:
            query = query.where(_d.chat_id == chat_id)
        with self._errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        found: dict[tuple[str, int], DeliveryRecord] = {}
        for row in rows:
            record = DeliveryRecord(
                key=row.key,
                chat_id=int(row.chat_id),
                fire_on=row.fire_on,
                status=row.status,
                claimed_by=row.claimed_by,
                claimed_at=row.claimed_at,
                lease_until=row.lease_until,
                attempts=int(row.attempts),
                sent_at=row.sent_at,
                late=bool(row.late),
                note=row.note,
            )
            found[(record.key, record.chat_id)] = record
        return found

    def claim(
        self,
        chat_id: int,
        items: Sequence[tuple[str, date]],
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
    ) -> set[str]:
        """Claim (key, chat) for each (key, fire_on) in `items`; the keys this worker now holds.

        A key is claimed when it has no row yet, or when its row is a claim whose lease ran out.
        Keys another worker holds, and keys already sent or failed, are left out.
        """
        if not items:
            return set()
        until = now + lease
        fire_on = dict(items)
        claimed: set[str] = set()
        with self._writing() as connection:
            for chunk in _chunks(list(fire_on), _CHUNK):
                rows = [
                    {
                        "key": key,
                        "chat_id": chat_id,
                        "fire_on": fire_on[key],
                        "status": "claimed",
                        "claimed_by": worker,
                        "claimed_at": now,
                        "lease_until": until,
                        "attempts": 1,
                        "late": False,
                    }
                    for key in chunk
                ]
                inserted = connection.execute(
                    self._insert(deliveries)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["key", "chat_id"])
                    .returning(_d.key)
                )
                claimed.update(inserted.scalars())
                rest = [key for key in chunk if key not in claimed]
                if not rest:
                    continue
                taken = connection.execute(
                    update(deliveries)
                    .where(
                        _d.chat_id == chat_id,
                        _d.key.in_(rest),
                        _d.status == "claimed",
                        _d.lease_until <= now,
                    )
                    .values(
                        claimed_by=worker,
                        claimed_at=now,
                        lease_until=until,
                        attempts=_d.attempts + 1,
                    )
                    .returning(_d.key)
                )
                claimed.update(taken.scalars())
        return claimed

    def mark_sent(
        self, chat_id: int, keys: Sequence[str], *, worker: str, now: datetime, late: bool
    ) -> int:
        """Record that this worker sent `keys` to the chat; how many of its claims it closed."""
        return self._finish(chat_id, keys, worker, {"status": "sent", "sent_at": now, "late": late})

    def mark_failed(
        self, chat_id: int, keys: Sequence[str], *, worker: str, now: datetime, reason: str
    ) -> int:
        """Record that the chat refuses messages (bot blocked, chat gone): never retried."""
        return self._finish(
            chat_id, keys, worker, {"status": "failed", "sent_at": now, "note": reason[:500]}
        )

    def release(self, chat_id: int, keys: Sequence[str], *, worker: str, retry_at: datetime) -> int:
        """Give claims back (the send did not happen): claimable again from `retry_at`."""
        return self._finish(chat_id, keys, worker, {"lease_until": retry_at})

    def _finish(
        self, chat_id: int, keys: Sequence[str], worker: str, values: dict[str, Any]
    ) -> int:
        done = 0
        with self._writing() as connection:
            for chunk in _chunks(list(keys), _CHUNK):
                result = connection.execute(
                    update(deliveries)
                    .where(
                        _d.chat_id == chat_id,
                        _d.key.in_(chunk),
                        _d.status == "claimed",
                        _d.claimed_by == worker,
                    )
                    .values(**values)
                )
                done += result.rowcount
        return done

    def delivery_counts(self) -> dict[str, int]:
        """Rows per status (for logs and tests)."""
        with self._errors(), self._engine.connect() as connection:
            rows = connection.execute(select(_d.status, func.count()).group_by(_d.status)).all()
        return {str(status): int(count) for status, count in rows}


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
