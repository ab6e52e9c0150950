"""Group commit for webhook ingest: concurrent requests share one INSERT and one COMMIT.

Each request still waits for the commit that holds its row before it answers 200, so an acknowledged webhook
is as durable as with one transaction per request; under load, one round trip and one WAL flush serve many
deliveries instead of one each. Job ids go to Redis in one pipeline after the commit and before the answers
(the relay covers a Redis that is down).
"""

from __future__ import annotations

import logging
import os
import queue as stdqueue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bridge.models import Event

log = logging.getLogger(__name__)
Row = dict[str, Any]


class EventWriter:
    """A background thread that inserts pending events in batches."""

    def __init__(
        self,
        engine: Engine,
        after_commit: Callable[[list[int]], None],
        max_batch: int = 128,
    ) -> None:
        self.engine, self.after_commit, self.max_batch = engine, after_commit, max_batch
        self._queue: stdqueue.SimpleQueue[tuple[Row, Future[int | None]]] = stdqueue.SimpleQueue()
        self._pid = -1
        self._lock = threading.Lock()

    def submit(self, row: Row, timeout: float = 10.0) -> int | None:
        """Store one event row; its id, or None when the delivery was already stored."""
        self._ensure_thread()
        done: Future[int | None] = Future()
        self._queue.put((row, done))
        return done.result(timeout=timeout)

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:  # first use in this process (gunicorn forks after import)
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="relance-event-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except stdqueue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[Row, Future[int | None]]]) -> None:
        try:
            ids = self._insert([row for row, _ in batch])
        except Exception as exc:  # the database is down: every waiting request answers 503
            for _, done in batch:
                done.set_exception(exc)
            return
        seen: set[tuple[int, str]] = set()
        results: list[int | None] = []
        for row, _ in batch:
            key = (row["shop_id"], row["delivery_key"])
            results.append(None if key in seen else ids.get(key))
            seen.add(key)
        inserted = [event_id for event_id in results if event_id is not None]
        if inserted:  # queued before anyone is answered, as in DESIGN §2 (commit, enqueue, answer)
            try:
                self.after_commit(inserted)
            except Exception:
                log.exception("enqueue after commit failed; the relay will pick the events up")
        for (_, done), event_id in zip(batch, results, strict=True):
            done.set_result(event_id)

    def _insert(self, rows: list[Row]) -> dict[tuple[int, str], int]:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        stmt = (
            dialect.insert(Event)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["shop_id", "delivery_key"])
            .returning(Event.id, Event.shop_id, Event.delivery_key)
        )
        with self.engine.begin() as conn:
            return {(shop_id, key): event_id for event_id, shop_id, key in conn.execute(stmt)}
