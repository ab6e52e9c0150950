"""Group commit for webhook ingest: concurrent requests share one INSERT and one COMMIT.

Each request still waits for the commit that holds its row before it answers 200, so an acknowledged webhook
is as durable as with one transaction per request; under load, one round trip and one WAL flush serve many
deliveries instead of one each. The events of the commits of a short window (INGEST_JOB_WINDOW_MS, 100 ms;
at most 128) travel as one RQ job, queued when the window closes: an RQ job costs more CPU to queue and to
run than a webhook costs to store, and a busy store then makes fewer, larger jobs, which the workers apply
in one transaction each. The job's id is written with the rows, so the relay can tell a live job from a
lost one, and covers a Redis that is down or a process that died with its window open: an acknowledged
webhook is already durable in the database. With a window of 0, each commit's job is queued before its
requests are answered. On PostgreSQL the batch is one prepared `INSERT … SELECT FROM unnest(…)`: the same
statement for any batch size, so nothing is compiled per request, and its arrays travel in binary (the text
format would escape every quote of every payload).

One row never fails its neighbours: text that no database column can hold (a NUL character, which
PostgreSQL refuses) is replaced before the insert, and a batch whose insert fails for any reason but a lost
connection is stored again one row at a time, so only the row that really fails answers 5xx.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue as stdqueue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from bridge.db.models import Event

log = logging.getLogger(__name__)
Row = dict[str, Any]


class EventWriter:
    """A background thread that inserts pending events in batches and hands them to jobs."""

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
        self._queue: stdqueue.SimpleQueue[tuple[Row, Future[int | None]]] = stdqueue.SimpleQueue()
        self._pid = -1
        self._lock = threading.Lock()
        self._job_lock = threading.RLock()
        self._job: tuple[str, list[int], float] | None = None  # the open job: its id, events, opening time

    def submit(self, row: Row, timeout: float = 10.0) -> int | None:
        """Store one event row; its id, or None when the delivery was already stored."""
        self._ensure_thread()
        done: Future[int | None] = Future()
        self._queue.put((row, done))
        return done.result(timeout=timeout)

    def flush(self) -> None:
        """Queue the open job now (its window has passed, it is full, or the process is leaving)."""
        with self._job_lock:
            job, self._job = self._job, None
            if job is None:
                return
            try:
                self.after_commit(job[0], job[1])
            except Exception:
                log.exception("enqueue after commit failed; the relay will pick the events up")

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:  # first use in this process (gunicorn forks after import)
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="relance-event-writer", daemon=True).start()
                atexit.register(self.flush)  # a worker that stops queues what it holds
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self._until_due())]
            except stdqueue.Empty:
                self.flush()
                continue
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except stdqueue.Empty:
                    break
            self._write(batch)
            if self._until_due() == 0:  # under steady traffic the queue is never empty when the window ends
                self.flush()

    def _until_due(self) -> float | None:
        job = self._job
        return None if job is None else max(0.0, job[2] + self.job_window - time.monotonic())

    def _write(self, batch: list[tuple[Row, Future[int | None]]]) -> None:
        try:
            results = self._store(batch)
        except Exception as exc:
            if len(batch) > 1 and not _connection_lost(exc):  # one bad row: the others go on alone
                log.warning(
                    "a batch of %d event(s) goes one row at a time: %s", len(batch), type(exc).__name__
                )
                for item in batch:
                    self._write([item])
                return
            for _, done in batch:  # the database is down (or this row cannot be stored): 5xx
                done.set_exception(exc)
            return
        for (_, done), event_id in zip(batch, results, strict=True):
            done.set_result(event_id)

    def _store(self, batch: list[tuple[Row, Future[int | None]]]) -> list[int | None]:
        """Insert a batch under the open job (opening one if needed); each row's id, None for a repeat."""
        with self._job_lock:  # a flush from another thread waits: the job's id is not queued twice
            job_id = self._job[0] if self._job is not None else f"events-{secrets.token_hex(8)}"
            ids = self._insert([row for row, _ in batch], job_id)
            seen: set[tuple[int, str]] = set()
            results: list[int | None] = []
            for row, _ in batch:
                key = (row["shop_id"], row["delivery_key"])
                results.append(None if key in seen else ids.get(key))
                seen.add(key)
            inserted = [event_id for event_id in results if event_id is not None]
            if inserted:
                if self._job is None:
                    self._job = (job_id, [], time.monotonic())
                self._job[1].extend(inserted)
                if len(self._job[1]) >= self.max_job or self.job_window <= 0:
                    self.flush()  # with no window, queued before anyone is answered (DESIGN §2 as written)
            return results

    def _insert(self, rows: list[Row], job_id: str) -> dict[tuple[int, str], int]:
        rows = [storable(row) for row in rows]
        if self.engine.dialect.name == "postgresql":
            return self._insert_pg(rows, job_id)
        stmt = (
            sqlite.insert(Event)
            .values([{**row, "job_id": job_id} for row in rows])
            .on_conflict_do_nothing(index_elements=["shop_id", "delivery_key"])
            .returning(Event.id, Event.shop_id, Event.delivery_key)
        )
        with self.engine.begin() as conn:
            return {(shop_id, key): event_id for event_id, shop_id, key in conn.execute(stmt)}

    def _insert_pg(self, rows: list[Row], job_id: str) -> dict[tuple[int, str], int]:
        """The batch on a pooled DBAPI connection: no SQLAlchemy statement or result machinery per batch."""
        params: dict[str, Any] = {name: [row[name] for row in rows] for name in _PG_COLUMNS}
        params["job_id"] = job_id
        try:
            conn = self.engine.raw_connection()
        except psycopg.Error as exc:  # raised as SQLAlchemy would (503 upstream)
            raise sa_exc.DBAPIError.instance(None, None, exc, psycopg.Error) from exc
        try:
            driver = conn.driver_connection  # psycopg's own connection: its cursor prepares statements
            assert isinstance(driver, psycopg.Connection)
            with driver.cursor() as cur:
                cur.execute(_PG_INSERT, params, prepare=True)
                found = cur.fetchall()
            conn.commit()
        except psycopg.Error as exc:  # the same, and without the parameters (payloads are personal data)
            if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                # The server went away: like SQLAlchemy, retire every pooled connection, not just this one.
                self.engine.pool._invalidate(conn, exc)
            else:
                conn.rollback()
            raise sa_exc.DBAPIError.instance(_PG_INSERT, {}, exc, psycopg.Error) from exc
        finally:
            conn.close()  # back to the pool
        return {(shop_id, key): event_id for event_id, shop_id, key in found}


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
