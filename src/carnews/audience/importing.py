"""CSV imports of subscribers: streamed a chunk at a time, checked, inserted in bulk.

The file is read row by row (never whole) and a chunk of ``IMPORT_CHUNK`` rows is
checked and inserted in one transaction, so memory stays flat in the file's size and
other writers get their turn between chunks. Every row is judged as a single sign-up
would be (``normalise_address``, the disease catalogue, the name's length); only the
bookkeeping is shared: a disease cell seen before is not looked up again, and a chunk's
rows go in as one ``INSERT … ON CONFLICT (email) DO NOTHING RETURNING`` whose values
were turned into the driver's own types once (the timestamps, status and source are the
same for every row), not by SQLAlchemy row by row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.addresses import normalise_address
from carnews.audience.diseases import normalise_diseases, split_diseases
from carnews.audience.privacy import suppressed_among
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon, lexicon_disease_names
from carnews.errors import SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Subscriber, SubscriberStatus, new_unsubscribe_token

IMPORT_CHUNK = 1000  # rows validated, looked up and inserted together, in one transaction
MAX_REJECTS_KEPT = 1000  # a file of nothing but bad rows must not fill memory with reasons
NAME_LENGTH = 200  # the subscribers.name column
# The columns an import sets: its own four, the same three for every row, and the
# defaults a Core insert of the table would add (a fresh token, the edition frequency).
_COLUMNS = ("email", "name", "diseases", "unsubscribe_token", "status", "consent_source",
            "consent_at", "created_at", "confirmed_at", "frequency")  # fmt: skip
_DISEASE_CELLS = 4096  # distinct disease cells remembered per import (a list has few)


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, address, why
    rejected_total: int = 0  # every rejected row; ``rejected`` keeps the first MAX_REJECTS_KEPT

    def reject(self, line: int, address: str, why: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REJECTS_KEPT:
            self.rejected.append((line, address[:NAME_LENGTH], why))


class _UnreadableLine(Exception):
    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line, self.why = line, why


Row = tuple[int, str, str, str]  # line, email, name, diseases


def _rows(lines: Iterable[str]) -> Iterator[Row]:
    """The file's rows one at a time (never the whole file), by header name."""
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        columns: dict[str, int] = {}
        for index, title in enumerate(header or []):
            columns.setdefault(title.strip().lower(), index)
        if "email" not in columns:
            raise SubscriberError(
                "the CSV has no 'email' column",
                hint="The first line must name the columns, e.g. email,name,diseases.",
            )
        wanted = (columns["email"], columns.get("name", -1), columns.get("diseases", -1))
        for fields in reader:
            email, name, diseases = (
                fields[i].strip() if 0 <= i < len(fields) else "" for i in wanted
            )
            # A row of blank cells is no row; any other row is judged, even without an address.
            if email or name or diseases or any(value.strip() for value in fields):
                yield reader.line_num, email, name, diseases
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit(): not a subscriber row
        raise _UnreadableLine(reader.line_num, str(exc)) from None


@dataclass(frozen=True)
class Added:
    """One subscriber an import chunk added."""

    id: int
    email: str
    status: SubscriberStatus


# Called inside each chunk's transaction with the rows that chunk added, so work that
# belongs with them (a confirmation mail for each pending one) commits or rolls back
# with them.
ChunkHook = Callable[[AsyncSession, Sequence[Added]], Awaitable[None]]


async def import_csv(
    db: Database,
    clock: Clock,
    lexicon: Lexicon | Callable[[], Lexicon],
    source: str | Iterable[str],
    *,
    confirmed: bool,
    actor: str,
    site_key: str = "",
    on_added: ChunkHook | None = None,
) -> ImportReport:
    """Import rows with at least an ``email`` column; a bad row is reported, the rest go in.

    ``lexicon`` may be a loader (``load_lexicon``): it is then called only for a disease
    cell that does not name catalogue diseases exactly, so a plain file never pays for
    compiling the whole lexicon.

    With ``site_key``, an address that was erased or blocked (``audience.privacy``) is
    rejected rather than silently added back; the CLI always passes it.

    ``source`` is the CSV text or, for a large file, an open text stream: it is read,
    checked and inserted a chunk of rows at a time, each chunk in its own transaction,
    so memory stays flat and other writers get their turn between chunks.
    """
    lines = io.StringIO(source) if isinstance(source, str) else source
    report = ImportReport()
    chunk = _Chunk(db, _Checker(lexicon), report, clock(), confirmed, actor, on_added, site_key)
    stopped: _UnreadableLine | None = None
    try:
        for row in _rows(lines):
            chunk.rows.append(row)
            if len(chunk.rows) == IMPORT_CHUNK:
                await chunk.flush()
    except _UnreadableLine as exc:
        stopped = exc  # the rows read before it still go in, as the message says
    await chunk.flush()
    if stopped is not None:
        raise SubscriberError(
            f"line {stopped.line} of the CSV cannot be read: {stopped.why}",
            hint=f"Rows before it were imported ({report.added} added); fix the file and import "
            "it again: addresses already on the list are skipped. (A stray quote makes the rest "
            "of a file one huge field.)",
            context={"line": stopped.line},
        )
    return report


class _Checker:
    """One row's address, name and diseases, judged as ``add_subscriber`` judges them.

    A disease cell ("lupus;myositis") is looked up in the catalogue once per import, and
    its answer, or its refusal, reused for every row that has the same cell.
    """

    def __init__(self, lexicon: Lexicon | Callable[[], Lexicon]) -> None:
        self._lexicon = lexicon
        names = (
            lexicon_disease_names()
            if callable(lexicon)
            else tuple(term.name for term in lexicon.diseases)
        )
        self._names: dict[str, str] = {}
        for name in names:  # the first name wins, as in normalise_disease's loop
            self._names.setdefault(name.casefold(), name)
        self._diseases: dict[str, list[str] | SubscriberError] = {}

    @property
    def lexicon(self) -> Lexicon:
        if callable(self._lexicon):
            self._lexicon = self._lexicon()
        return self._lexicon

    def check(self, email: str, name: str, diseases: str) -> tuple[str, str, list[str]]:
        address = normalise_address(email)
        if len(name) > NAME_LENGTH:
            raise SubscriberError(f"the name is longer than {NAME_LENGTH} characters")
        chosen = self._diseases.get(diseases)
        if chosen is None:
            chosen = self._look_up(diseases)
        if isinstance(chosen, SubscriberError):
            raise chosen
        return address, name, chosen

    def _look_up(self, diseases: str) -> list[str] | SubscriberError:
        parts = split_diseases(diseases)
        exact = [self._names.get(part.casefold()) for part in parts]
        found: list[str] | SubscriberError
        if all(exact):  # what normalise_diseases answers for exact names, without the lexicon
            found = list(dict.fromkeys(cast(list[str], exact)))
        else:
            try:
                found = normalise_diseases(parts, self.lexicon)
            except SubscriberError as exc:
                found = exc
        if len(self._diseases) >= _DISEASE_CELLS:  # a file of made-up cells: stay bounded
            self._diseases.clear()
        self._diseases[diseases] = found
        return found


@dataclass
class _Chunk:
    """Rows read but not yet stored; ``flush`` checks and inserts them together."""

    db: Database
    checker: _Checker
    report: ImportReport
    now: datetime
    confirmed: bool
    actor: str
    on_added: ChunkHook | None
    site_key: str = ""  # given: erased and blocked addresses are refused (``privacy``)
    rows: list[Row] = field(default_factory=list)

    async def flush(self) -> None:
        if not self.rows:
            return
        wanted = self._checked()
        rows, self.rows = self.rows, []
        lines = f"{rows[0][0]}-{rows[-1][0]}"
        if not wanted:
            return
        async with self.db.session() as session:
            if self.site_key:
                await _drop_suppressed(session, self.site_key, wanted, self.report)
            named = self.on_added is not None
            count, added = await _insert_new(session, self.now, self.confirmed,
                                             list(wanted.values()), named=named)  # fmt: skip
            if count:
                audit(session, self.now, self.actor, "subscriber_import", ("subscribers", "*"),
                      added=count, lines=lines)  # fmt: skip
            if self.on_added is not None and added:
                await self.on_added(session, added)
        self.report.added += count
        self.report.unchanged += len(wanted) - count

    def _checked(self) -> dict[str, tuple[int, str, str, list[str]]]:
        """The chunk's good rows (line, address, name, diseases), each address once; bad
        rows reported."""
        wanted: dict[str, tuple[int, str, str, list[str]]] = {}
        check, report = self.checker.check, self.report
        for line, email, name, diseases in self.rows:
            try:
                address, name, chosen = check(email, name, diseases)
            except SubscriberError as exc:
                report.reject(line, email, exc.message)
                continue
            if address in wanted:
                report.unchanged += 1
                continue
            wanted[address] = (line, address, name, chosen)
        return wanted


async def _drop_suppressed(
    session: AsyncSession, site_key: str, wanted: dict[str, tuple[int, str, str, list[str]]],
    report: ImportReport,
) -> None:  # fmt: skip
    """Reject the erased and blocked addresses: only their owner may sign up again.

    Each is reported at its first row in the chunk (a later spelling of the same address
    was counted "already there" when the chunk was checked, as it always was).
    """
    refused = await suppressed_among(session, site_key, list(wanted))
    why = "erased or blocked: only its owner can sign up again, through the form"
    for address in sorted(refused, key=lambda address: wanted[address][0]):
        line = wanted.pop(address)[0]
        report.reject(line, address, why)


async def _insert_new(
    session: AsyncSession, now: datetime, confirmed: bool,
    rows: list[tuple[int, str, str, list[str]]], *, named: bool,
) -> tuple[int, list[Added]]:  # fmt: skip
    """Insert in bulk; an address already on the list is left as it is. How many went
    in and, when ``named`` (or on PostgreSQL, whose driver counts no executemany), which.

    ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) also covers an address that a
    sign-up adds between two chunks. The values go to the driver as they are
    (``exec_driver_sql``): SQLAlchemy's type processing is done here, once per import
    for what every row shares and once per distinct disease list for the rest. SQLite
    takes the rows as one executemany (cheaper there than one long statement).
    """
    if not rows:  # every row of the chunk was erased or blocked: nothing to execute
        return 0, []
    connection = await session.connection()
    dialect = connection.dialect
    values = _driver_rows(dialect, now, confirmed, rows)
    if not named and dialect.name == "sqlite":
        sql, arrange = _insert_sql(dialect, 1, returning=False)
        done = await connection.exec_driver_sql(sql, [arrange(row) for row in values])
        return done.rowcount, []
    sql, arrange = _insert_sql(dialect, len(values), returning=True)
    flat = tuple(value for row in values for value in arrange(row))
    found = sorted(tuple(row) for row in (await connection.exec_driver_sql(sql, flat)).all())
    return len(found), [Added(id_, email, SubscriberStatus(status)) for id_, email, status in found]


def _driver_rows(
    dialect: Dialect, now: datetime, confirmed: bool, rows: list[tuple[int, str, str, list[str]]]
) -> list[tuple[Any, ...]]:
    """Each row's values in ``_COLUMNS`` order and in the driver's types."""
    shared = _shared_values(dialect, now, confirmed)
    to_json = _bind(dialect, "diseases")
    cells: dict[tuple[str, ...], Any] = {}
    values = []
    for _, address, name, diseases in rows:
        key = tuple(diseases)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = to_json(diseases) if to_json else diseases
        values.append((address, name, cell, new_unsubscribe_token(), *shared))
    return values


def _shared_values(dialect: Dialect, now: datetime, confirmed: bool) -> tuple[Any, ...]:
    """status … frequency for every row, in the driver's types."""
    table = _table()
    given = {
        "status": SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING,
        "consent_source": "import",
        "consent_at": now,
        "created_at": now,
        "confirmed_at": now if confirmed else None,
        "frequency": cast(Any, table.c.frequency.default).arg,
    }
    shared = []
    for name, value in given.items():
        process = _bind(dialect, name)
        shared.append(process(value) if process and value is not None else value)
    return tuple(shared)


def _bind(dialect: Dialect, column: str) -> Callable[[Any], Any] | None:
    """SQLAlchemy's own conversion of a value of this column for this dialect's driver."""
    kind = _table().c[column].type
    return cast(Callable[[Any], Any] | None, kind.dialect_impl(dialect).bind_processor(dialect))


def _table() -> Table:
    return cast(Table, Subscriber.__table__)  # the Core table: no ORM work per row


@lru_cache(maxsize=8)
def _insert_sql(
    dialect: Dialect, count: int, *, returning: bool
) -> tuple[str, Callable[[tuple[Any, ...]], tuple[Any, ...]]]:
    """One INSERT of ``count`` rows, and what puts a row's values (in ``_COLUMNS``
    order) in the order the SQL asks for them (the table's)."""
    table = _table()
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    rows: list[dict[str, Any]] = [{c: bindparam(f"{c}__{n}") for c in _COLUMNS}
                                  for n in range(count)]  # fmt: skip
    statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=[table.c.email])
    returned = (table.c.id, table.c.email, table.c.status) if returning else ()
    compiled = statement.returning(*returned).compile(dialect=dialect)
    asked = list(compiled.positiontup or ())
    order = [name.partition("__")[0] for name in asked[: len(_COLUMNS)]]
    # Both dialects take their parameters positionally, row after row.
    if asked != [f"{c}__{n}" for n in range(count) for c in order]:
        raise RuntimeError(f"unexpected parameter order for {dialect.name}")
    return str(compiled), cast(Any, itemgetter(*(_COLUMNS.index(name) for name in order)))
