"""The webhook's few statements run straight on SQLite's DBAPI cursor, compiled once by SQLAlchemy.

Profiling `/webhook` under load showed SQLAlchemy's per-statement machinery (execution
context, events, parameter processing, result wrapping) costing about five times what
SQLite takes to run the statement itself. The statements stay SQLAlchemy Core
expressions, compiled once for the dialect; values are converted by the columns' own
type processors (so rows hold exactly what the ORM writes and reads: the same
datetime text, JSON text and booleans); only the per-call bookkeeping is skipped. The
transaction stays SQLAlchemy's (BEGIN IMMEDIATE, commit, rollback), and PostgreSQL keeps
the ordinary `Connection.execute`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
Statement = Executable  # a Core SELECT, INSERT or UPDATE (each also a ClauseElement, which compiles)


class Prepared:
    """One Core statement compiled for one dialect with a fixed set of parameter names (qmark style)."""

    def __init__(self, statement: Statement, dialect: Dialect, keys: Iterable[str]):
        keys = frozenset(keys)
        # An INSERT's columns are the keys given; elsewhere the keys are the statement's own bind parameters.
        compiled = cast(
            SQLCompiler,
            cast(ClauseElement, statement).compile(
                dialect=dialect, column_keys=sorted(keys) if statement.is_insert else None
            ),
        )
        if compiled.positiontup is None or "POSTCOMPILE" in compiled.string:
            raise ValueError("only plain positional statements run prepared (no expanding IN)")
        unset = [name for name in compiled.positiontup if name not in keys and compiled.binds[name].value is None]
        if unset:  # a column default SQLAlchemy would compute at execution time: pass it instead
            raise ValueError(f"values for {unset} must be given")
        self.sql = compiled.string
        # Per position: the caller's key, or the value fixed in the statement (`.values(state="superseded")`).
        self._order = [
            (
                name if name in keys else None,
                None if name in keys else compiled.binds[name].value,
                _bind_processor(compiled.binds[name].type, dialect),
            )
            for name in compiled.positiontup
        ]
        columns = list(getattr(statement, "selected_columns", ()))
        self._results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        # row.name, as Core's rows give it
        self._row: Any = namedtuple("Row", [column.key for column in columns], rename=True)  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for key, fixed, process in self._order:
            value = fixed if key is None else values[key]
            out.append(value if process is None else process(value))
        return out

    def rows(self, cursor: Any, values: Mapping[str, Any]) -> list[Any]:
        found = cursor.execute(self.sql, self.parameters(values)).fetchall()
        return [
            self._row._make(
                value if process is None else process(value) for value, process in zip(row, self._results, strict=True)
            )
            for row in found
        ]


def _bind_processor(kind: Any, dialect: Dialect) -> Processor:
    return cast(Processor, kind.dialect_impl(dialect).bind_processor(dialect))


class Statements:
    """Runs prebuilt statements on a connection: prepared on SQLite, `Connection.execute` elsewhere.

    On SQLite the connection may be an SQLAlchemy `Connection` or the driver's own (`Queue._intake`).
    """

    def __init__(self, dialect: Dialect):
        self.raw = dialect.name == "sqlite"
        self.dialect = dialect
        self._prepared: dict[tuple[int, frozenset[str]], Prepared] = {}
        self._keep: list[Statement] = []  # the statements keyed by id() above stay alive

    def _get(self, statement: Statement, values: Mapping[str, Any]) -> Prepared:
        key = (id(statement), frozenset(values))
        found = self._prepared.get(key)
        if found is None:
            found = self._prepared[key] = Prepared(statement, self.dialect, values)
            self._keep.append(statement)
        return found

    def rows(self, connection: Connection | Any, statement: Statement, values: Mapping[str, Any]) -> Sequence[Any]:
        if self.raw:
            return self._get(statement, values).rows(_cursor(connection), values)
        return cast(Connection, connection).execute(statement, values).all()

    def insert(self, connection: Connection | Any, statement: Statement, values: Mapping[str, Any]) -> int:
        """Insert one row; its integer primary key."""
        if self.raw:
            prepared = self._get(statement, values)
            return int(_cursor(connection).execute(prepared.sql, prepared.parameters(values)).lastrowid)
        key = cast(Connection, connection).execute(statement, values).inserted_primary_key
        assert key is not None  # a single-row INSERT always reports its key
        return int(key[0])

    def execute(self, connection: Connection | Any, statement: Statement, values: Mapping[str, Any]) -> int:
        """Run a statement for its effect; the number of rows it changed."""
        if self.raw:
            prepared = self._get(statement, values)
            return int(_cursor(connection).execute(prepared.sql, prepared.parameters(values)).rowcount)
        result = cast(Connection, connection).execute(statement, values)
        return cast(CursorResult[Any], result).rowcount


def _cursor(connection: Connection | Any) -> Any:
    """A cursor in the connection's current transaction: an SQLAlchemy connection's driver's, or a driver's own."""
    if isinstance(connection, Connection):
        driver: Any = connection.connection.driver_connection
        return driver.cursor()
    return connection.cursor()
