"""Ledger checkpoints in SQL: the folded ledger saved at a position, so a restart folds only
the events appended since (the `CheckpointStore` port of tracker.service).

A checkpoint is keyed by (projection, position, code version). The code version is a digest of
the source of everything that decides what a fold produces (events/schema.py, events/dates.py,
projections/*.py, this module) and of the Python and pydantic versions: after any change to
them, old checkpoints are not read, and the next save deletes them. Rebuilding from zero
always gives the same ledger; a checkpoint only saves the time.

The ledger is serialized with pickle and read back through an unpickler that resolves only
the classes a ledger is made of (events/, projections/, the standard containers, UUID and
dates, pydantic's model reconstruction); anything else in the data is refused. The table is
created by migration 0003 and, unlike `events`, rows are replaced: it is a cache.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import pickle
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from events.dates import DateRange
from events.errors import StoreUnavailable
from events.schema import REGISTRY, Event, field_names, trusted
from events.sql import Base, UtcDateTime, make_engine
from tracker.service import SavedLedger

__all__ = ["SqlCheckpointStore", "checkpoints", "code_version", "dumps", "loads"]

checkpoints = Table(
    "projection_checkpoints",
    Base.metadata,
    Column("projection", String(100), nullable=False),
    Column("code_version", String(64), nullable=False),
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("max_recorded_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("data", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("projection", "code_version", "position"),
)

_ROOT = Path(__file__).resolve().parents[2]
_SOURCES = (
    "events/schema.py",
    "events/dates.py",
    "events/facts.py",
    "projections",
    "tracker/stores/checkpoints.py",
)


def code_version() -> str:
    """A digest of the code that decides what a fold produces (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:2]} pydantic {pydantic.VERSION}".encode())
    for name in _SOURCES:
        path = _ROOT / name
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(_ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


# --- serialization ------------------------------------------------------------------------------


# Events and payloads are reduced to their field values and rebuilt without re-validation
# (they were valid when folded; pydantic's generic __setstate__ costs several times more).
_new_object = object.__new__
_set = object.__setattr__


def _reduce_model(model: BaseModel) -> tuple[Any, tuple[Any, ...]]:
    cls = type(model)
    values = model.__dict__
    return _restore_model, (cls, tuple(values[name] for name in field_names(cls)))


def _restore_model(cls: type[BaseModel], values: tuple[Any, ...]) -> BaseModel:
    return trusted(cls, dict(zip(field_names(cls), values, strict=True)))


def _reduce_uuid(value: uuid.UUID) -> tuple[Any, tuple[int]]:
    return _restore_uuid, (value.int,)


def _restore_uuid(number: int) -> uuid.UUID:
    value = _new_object(uuid.UUID)
    _set(value, "int", number)
    _set(value, "is_safe", uuid.SafeUUID.unknown)
    return value


def _reduce_range(value: DateRange) -> tuple[Any, tuple[date, date]]:
    # DateRange forbids setattr, which the default reduction of a slotted object relies on.
    return _restore_range, (value.not_before, value.not_after)


def _restore_range(not_before: date, not_after: date) -> DateRange:
    value = _new_object(DateRange)
    _set(value, "not_before", not_before)
    _set(value, "not_after", not_after)
    return value


class _Pickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[DateRange] = _reduce_range
    dispatch_table[uuid.UUID] = _reduce_uuid
    dispatch_table[Event] = _reduce_model
    for _cls in REGISTRY.values():
        dispatch_table[_cls] = _reduce_model

    def reducer_override(self, obj: Any) -> Any:
        # A date of a subclass (freezegun's FakeDate in a module first imported while time was
        # frozen) is stored as the plain type, which is all the loader accepts.
        if isinstance(obj, datetime) and type(obj) is not datetime:
            return datetime, (*obj.timetuple()[:6], obj.microsecond, obj.tzinfo)
        if isinstance(obj, date) and type(obj) not in (date, datetime):
            return date, (obj.year, obj.month, obj.day)
        return NotImplemented


def dumps(saved: SavedLedger) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(saved)
    return out.getvalue()


_ALLOWED_MODULES = ("events.", "projections.", "tracker.service", "tracker.stores.checkpoints")
_ALLOWED = {
    ("builtins", name) for name in ("set", "frozenset", "dict", "list", "tuple", "object")
} | {
    ("uuid", "UUID"),
    ("uuid", "SafeUUID"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("array", "array"),
    ("array", "_array_reconstructor"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED or module.startswith(_ALLOWED_MODULES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a ledger checkpoint cannot hold {module}.{name}")


def loads(data: bytes) -> SavedLedger:
    saved = _Unpickler(io.BytesIO(data)).load()
    if not isinstance(saved, SavedLedger):
        raise pickle.UnpicklingError("not a ledger checkpoint")
    return saved


# --- the store ----------------------------------------------------------------------------------


class SqlCheckpointStore:
    """Checkpoints in the tracker's database (same URL and schema as the event store).

    Keeps the newest `keep` checkpoints of each projection; a checkpoint that cannot be read
    is ignored (the caller folds from zero), never an error.
    """

    def __init__(
        self,
        url: str | None = None,
        schema: str | None = None,
        *,
        engine: Engine | None = None,
        keep: int = 2,
    ) -> None:
        if engine is None:
            if url is None:
                raise ValueError("give a database URL or an engine")
            engine = make_engine(url, schema)
            self._own_engine = True
        else:
            self._own_engine = False
        self._engine = engine
        self._write_engine = engine.execution_options(tracker_write=True)
        self._keep = keep
        self._version = code_version()

    @property
    def version(self) -> str:
        return self._version

    def save(self, projection: str, saved: SavedLedger) -> None:
        position = saved.ledger.position
        if position is None:
            return
        data = dumps(saved)
        row = {
            "projection": projection,
            "code_version": self._version,
            "position": position,
            "max_recorded_at": saved.latest_recorded,
            "created_at": datetime.now(UTC),
            "size": len(data),
            "data": data,
        }
        c = checkpoints.c
        try:
            with self._write_engine.begin() as connection:
                connection.execute(
                    delete(checkpoints).where(
                        c.projection == projection,
                        c.code_version == self._version,
                        c.position == position,
                    )
                )
                connection.execute(insert(checkpoints), row)
                kept = connection.scalars(
                    select(c.position)
                    .where(c.projection == projection, c.code_version == self._version)
                    .order_by(c.position.desc())
                    .limit(self._keep)
                ).all()
                connection.execute(
                    delete(checkpoints).where(
                        c.projection == projection,
                        (c.code_version != self._version) | c.position.not_in(kept),
                    )
                )
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable(f"cannot save the checkpoint of {projection}: {exc}") from exc

    def load(self, projection: str, max_position: int) -> SavedLedger | None:
        """The newest readable checkpoint of this code at or below `max_position`."""
        c = checkpoints.c
        query = (
            select(c.data)
            .where(
                c.projection == projection,
                c.code_version == self._version,
                c.position <= max_position,
            )
            .order_by(c.position.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            data = connection.scalar(query)
        if data is None:
            return None
        try:
            return loads(bytes(data))
        except Exception:  # a cache: anything unreadable means "fold from zero"
            return None

    def positions(self, projection: str) -> list[int]:
        """Positions of the stored checkpoints of this code, newest first."""
        c = checkpoints.c
        with self._engine.connect() as connection:
            return list(
                connection.scalars(
                    select(c.position)
                    .where(c.projection == projection, c.code_version == self._version)
                    .order_by(c.position.desc())
                )
            )

    def close(self) -> None:
        if self._own_engine:
            self._engine.dispose()
