"""Group commit for webhook ingest: concurrent requests share one INSERT and one COMMIT, written by one.

There is no writer thread. A request that finds no batch being written leads: it takes every row waiting (up
to 128, its own first), inserts them in one statement, commits, answers each follower, and hands the lead to
the first row that queued meanwhile, which takes everything waiting by then. A batch needs no thread of its
own: the leader's row goes from its thread to the database directly, each follower is woken once, with its
answer, and a busy process writes one batch per commit round trip. Each request still waits for the commit
that holds its row before it answers 200, so an acknowledged webhook is as durable as with one transaction per
request. A leader that dies in the middle of a batch answers its followers with TimeoutError on the way out
(503: the store retries, and a row that did commit comes back as a duplicate); a follower whose wait passes
`submit`'s timeout leaves the queue and answers 503 too.

The events of the commits of a window (INGEST_JOB_WINDOW_MS, 1 s; at most 128) travel as one RQ job:
an RQ job costs more CPU to queue and to run than a webhook costs to store, and a busy store then makes
fewer, larger jobs, which the workers apply in one transaction each. The leader that commits after the window
has passed queues the job; when traffic stops with a window open, no request is left to notice, so one
sleeping thread per process closes it (it never touches a row, and no request waits on it). The job's id is
written with the rows, so the relay can tell a live job from a lost one, and covers a Redis that is down or
a process that died with its window open: an acknowledged webhook is already durable in the database. With
a window of 0, each commit's job is queued before its requests are answered. On PostgreSQL the batch is one
prepared `INSERT … SELECT FROM unnest(…)` on the driver: the same statement for any batch size, so nothing is
compiled per request, and its arrays travel in binary (the text format would escape every quote).

One row never fails its neighbours: text that no database column can hold (a NUL character, which
PostgreSQL refuses) is replaced before the insert, and a batch whose insert fails for any reason but a lost
connection is stored again one row at a time, so only the row that really fails answers 5xx.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from bridge.db.models import Event

log = logging.getLogger(__name__)
Row = dict[str, Any]


class Slot:
    """One request's row in the group commit, and its answer once the batch holding it is committed."""

    __slots__ = ("_ready", "answered", "error", "leads", "result", "row")

    def __init__(self, row: Row) -> None:
        self.row = row
        self.result: int | None = None
        self.error: BaseException | None = None
        self.answered = self.leads = False
        self._ready = threading.Lock()  # held until answered (or made leader): the cheapest wait there is
        self._ready.acquire()

    def answer(self, result: int | None = None, error: BaseException | None = None) -> None:
        """Give the row's id (None for a repeat) or the error that kept it out."""
        self.result, self.error, self.answered = result, error, True
        self._ready.release()

    def wait(self, timeout: float) -> bool:
        """Whether the slot was answered or made leader within `timeout` seconds."""
        return self._ready.acquire(timeout=max(timeout, 0.0))

    def outcome(self) -> int | None:
        """The answer, raised when it is an error."""
        if self.error is not None:
            raise self.error
        return self.result


class EventWriter:
    """Leader/follower group commit of event rows, and the job windows that carry their ids to the workers."""

    _pid: int  # the process the state below belongs to
    _lock: threading.Lock  # guards the queue and who leads
    _waiting: list[Slot]
    _writing: bool  # a leader holds the lead (writing, or woken to write next)
    _job_lock: threading.Lock
    _job: tuple[str, list[int], float] | None  # the open job: its id, events, opening time
    _conn: sa.Connection | None  # the leaders' own connection, outside the pool
    _conn_engine: Engine | None

    def __init__(
        self,
        engine: Engine,
        after_commit: Callable[[str, list[int]], object],  # what it returns is not used
        max_batch: int = 128,
        job_window: float = 0.0,
        max_job: int = 128,
    ) -> None:
        self.engine, self.after_commit, self.max_batch = engine, after_commit, max_batch
        self.job_window, self.max_job = job_window, max_job
        self._fork_lock = threading.Lock()
        self._start_process()

    def submit(self, row: Row, timeout: float = 10.0) -> int | None:
        """Store one event row; its id, or None when the delivery was already stored."""
        if self._pid != os.getpid():
            self._start_process()
        deadline = time.monotonic() + timeout
        slot = Slot(row)
        with self._lock:
            self._waiting.append(slot)
            leads, self._writing = not self._writing, True
        if not leads:
            if not slot.wait(timeout):
                self._give_up(slot)  # raises TimeoutError, unless made leader just now
            elif slot.answered:
                return slot.outcome()
        self._lead(deadline)
        return slot.outcome()

    def flush(self) -> None:
        """Queue the open job now (its window has passed, it is full, or the process is leaving)."""
        with self._job_lock:  # taken out under the lock: never queued twice; queued outside it
            job, self._job = self._job, None
        if job is None:
            return
        try:
            self.after_commit(job[0], job[1])
        except Exception:
            log.exception("enqueue after commit failed; the relay will pick the events up")

    def _start_process(self) -> None:
        """Fresh state in a new process (gunicorn forks after import): no lock, job or connection of the
        parent's (its connection's socket is the parent's: dropped here, never closed)."""
        with self._fork_lock:
            if getattr(self, "_pid", -1) == os.getpid():
                return
            self._lock, self._waiting, self._writing = threading.Lock(), [], False
            self._job_lock, self._job = threading.Lock(), None
            self._window_opened, self._closer_started = threading.Event(), False
            self._conn, self._conn_engine = None, None
            self._wait_ms = 0  # the lock wait set on that connection
            self._pid = os.getpid()

    def _give_up(self, slot: Slot) -> None:
        """A follower out of time: it leaves the queue; it leads if the lead reached it meanwhile."""
        with self._lock:
            if slot.leads:
                slot._ready.acquire(blocking=False)  # made leader as the wait ended: lead after all
                return
            if slot in self._waiting:
                self._waiting.remove(slot)  # never written: the store's retry brings it again
        raise TimeoutError("the event was not committed in time")  # in a batch: it may still commit

    def _lead(self, deadline: float) -> None:
        """Write everything waiting as one batch, answer it, and pass the lead on."""
        with self._lock:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
        try:
            self._write(batch, deadline)
        finally:  # even when this thread is stopped mid-batch: no follower stays stranded
            for slot in batch:
                if not slot.answered:
                    slot.answer(error=TimeoutError("the group commit's leader stopped"))
            self._pass_lead()
        if self._until_due() == 0:  # under steady traffic the window ends during someone's batch
            self.flush()

    def _pass_lead(self) -> None:
        with self._lock:
            if not self._waiting:
                self._writing = False
                return
            first = self._waiting[0]  # it queued during this batch: it writes the next one
            first.leads = True
            first._ready.release()

    def _close_windows(self) -> None:
        """The open job's window ends with no request left to notice: queue it (this thread's one task)."""
        while True:
            self._window_opened.wait()
            self._window_opened.clear()
            while (left := self._until_due()) is not None:
                if left > 0:
                    time.sleep(left)
                else:
                    self.flush()

    def _until_due(self) -> float | None:
        job = self._job
        return None if job is None else max(0.0, job[2] + self.job_window - time.monotonic())

    def _write(self, batch: list[Slot], deadline: float | None = None) -> None:
        """Store a batch and answer its slots; a statement waits for a lock until `deadline` at most."""
        try:
            results = self._store(batch, deadline)
        except Exception as exc:
            if len(batch) > 1 and not _connection_lost(exc):  # one bad row: the others go on alone
                log.warning(
                    "a batch of %d event(s) goes one row at a time: %s", len(batch), type(exc).__name__
                )
                for slot in batch:
                    self._write([slot], deadline)
                return
            for slot in batch:  # the database is down (or this row cannot be stored): 5xx
                slot.answer(error=exc)
            return
        for slot, event_id in zip(batch, results, strict=True):
            slot.answer(event_id)

    def _store(self, batch: list[Slot], deadline: float | None) -> list[int | None]:
        """Insert a batch under the open job (opening one if needed); each row's id, None for a repeat."""
        with self._job_lock:  # a flush from another thread waits: the job's id is not queued before its rows
            job = self._job
            job_id = job[0] if job is not None else f"events-{secrets.token_hex(8)}"
            ids = self._insert([slot.row for slot in batch], job_id, deadline)
            seen: set[tuple[int, str]] = set()
            results: list[int | None] = []
            for slot in batch:
                key = (slot.row["shop_id"], slot.row["delivery_key"])
                results.append(None if key in seen else ids.get(key))
                seen.add(key)
            inserted = [event_id for event_id in results if event_id is not None]
            if not inserted:
                return results
            if job is None:
                job = self._job = (job_id, [], time.monotonic())
            job[1].extend(inserted)
            full = len(job[1]) >= self.max_job or self.job_window <= 0
        if full:
            self.flush()  # with no window, queued before anyone is answered (DESIGN §2 as written)
        elif len(job[1]) == len(inserted):
            self._watch_window()
        return results

    def _watch_window(self) -> None:
        """A new window opened: its end is watched even if traffic stops."""
        if not self._closer_started:  # only the leader (or a test) writes: no race on the flag
            self._closer_started = True
            threading.Thread(target=self._close_windows, name="relance-job-window", daemon=True).start()
            atexit.register(self.flush)  # a worker that stops queues what it holds
        self._window_opened.set()

    def _insert(self, rows: list[Row], job_id: str, deadline: float | None) -> dict[tuple[int, str], int]:
        rows = [storable(row) for row in rows]
        conn = self._connection(deadline)
        try:
            if self.engine.dialect.name == "postgresql":
                found = self._insert_pg(conn, rows, job_id)
            else:
                stmt = (
                    sqlite.insert(Event)
                    .values([{**row, "job_id": job_id} for row in rows])
                    .on_conflict_do_nothing(index_elements=["shop_id", "delivery_key"])
                    .returning(Event.id, Event.shop_id, Event.delivery_key)
                )
                found = [(r[0], r[1], r[2]) for r in conn.execute(stmt)]
                conn.commit()
        except Exception:
            self._recover(conn)
            raise
        return {(shop_id, key): event_id for event_id, shop_id, key in found}

    def _connection(self, deadline: float | None) -> sa.Connection:
        """The leaders' connection (one per process, outside the pool: a full pool never holds up a
        webhook), set to give up on a lock at the leader's deadline, rounded up to half a second."""
        if self._conn is None or self._conn_engine is not self.engine:
            self.close()
            self._conn = self.engine.connect()  # an engine's errors: a failed connect answers 503
            self._conn.detach()
            if self.engine.dialect.name == "postgresql":
                # Autocommit: the batch's one INSERT is its own transaction, committed (WAL flushed) when
                # it returns, so no BEGIN and COMMIT round trips beside it.
                raw: Any = self._conn.connection.dbapi_connection
                raw.rollback()  # whatever the first connect left open
                raw.autocommit = True
            if not sa.event.contains(self.engine, "engine_disposed", self._disposed):
                sa.event.listen(self.engine, "engine_disposed", self._disposed)
            self._conn_engine, self._wait_ms = self.engine, 0
        left = 30.0 if deadline is None else deadline - time.monotonic()
        wait_ms = max(500, math.ceil(left * 2) * 500)
        if wait_ms != self._wait_ms:
            driver: Any = self._conn.connection.dbapi_connection
            pg = self.engine.dialect.name == "postgresql"
            try:
                driver.execute(
                    f"SET statement_timeout = {wait_ms}" if pg else f"PRAGMA busy_timeout = {wait_ms}"
                )
                if not pg:
                    driver.commit()
            except Exception as exc:
                self._recover(self._conn)
                raise sa_exc.DBAPIError.instance(
                    None, None, exc, self.engine.dialect.loaded_dbapi.Error
                ) from exc
            self._wait_ms = wait_ms
        return self._conn

    def close(self) -> None:
        """Close the leaders' connection (in the process that opened it; a forked child only forgets it)."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):
                conn.close()

    def _disposed(self, engine: Engine) -> None:
        if engine is self._conn_engine:
            self.close()

    def _recover(self, conn: sa.Connection) -> None:
        """After a failed insert: roll back, or drop a connection that is gone (the next leader opens one)."""
        try:
            if self.engine.dialect.name == "postgresql":
                driver = conn.connection.dbapi_connection
                assert isinstance(driver, psycopg.Connection)
                if driver.broken:
                    raise psycopg.OperationalError("connection lost")
                driver.rollback()
            else:
                conn.rollback()
        except Exception:
            self.close()

    @staticmethod
    def _insert_pg(conn: sa.Connection, rows: list[Row], job_id: str) -> list[tuple[int, int, str]]:
        """The batch on psycopg itself: no SQLAlchemy statement or result machinery per batch."""
        params: dict[str, Any] = {name: [row[name] for row in rows] for name in _PG_COLUMNS}
        params["job_id"] = job_id
        driver = conn.connection.dbapi_connection  # psycopg's own connection: its cursor prepares statements
        assert isinstance(driver, psycopg.Connection)
        try:
            with driver.cursor() as cur:
                cur.execute(_PG_INSERT, params, prepare=True)  # autocommit: committed on return
                found = cur.fetchall()
        except psycopg.Error as exc:  # raised as SQLAlchemy would, without the parameters (personal data)
            raise sa_exc.DBAPIError.instance(_PG_INSERT, {}, exc, psycopg.Error) from exc
        return found


def storable(row: Row) -> Row:
    """The row with NUL characters (refused by PostgreSQL's text) replaced, as undecodable bytes are."""
    return {
        k: v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v for k, v in row.items()
    }


def _connection_lost(exc: BaseException) -> bool:
    """Whether the database itself failed (every row would), rather than one row of the batch."""
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | TimeoutError | OSError)


_PG_COLUMNS = ("shop_id", "topic", "delivery_key", "received_at", "triggered_at", "payload", "available_at")
_PG_INSERT = """
INSERT INTO events (shop_id, topic, delivery_key, received_at, triggered_at, payload, available_at,
                    status, attempts, job_id)
SELECT b.shop_id, b.topic, b.delivery_key, b.received_at, b.triggered_at, b.payload, b.available_at,
       'pending', 0, %(job_id)s
FROM unnest(%(shop_id)b::bigint[], %(topic)b::text[], %(delivery_key)b::text[],
            %(received_at)b::timestamptz[], %(triggered_at)b::timestamptz[], %(payload)b::text[],
            %(available_at)b::timestamptz[])
     AS b(shop_id, topic, delivery_key, received_at, triggered_at, payload, available_at)
ON CONFLICT (shop_id, delivery_key) DO NOTHING
RETURNING id, shop_id, delivery_key
"""
