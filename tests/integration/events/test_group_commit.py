"""The leader/follower group commit with real threads on a real database (SQLite and PostgreSQL): many
submits share few commits, a row that queues during a write is written by the next leader, a bad row fails
alone, and neither a follower out of time nor a leader that dies mid-batch strands anyone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bridge.db.models import Event
from bridge.events.writer import EventWriter


def row(shop_id: int, key: str) -> dict:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    return {
        "shop_id": shop_id,
        "topic": "checkouts/update",
        "delivery_key": key,
        "received_at": at,
        "triggered_at": at,
        "payload": "{}",
        "status": "pending",
        "attempts": 0,
        "available_at": at + timedelta(seconds=10),
    }


class Commits:
    """The writer's `after_commit`: records each commit's events and the thread that committed them; can
    stop the leader's thread at a given commit (after it, before anyone is answered)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[int]]] = []
        self.kill_at: int | None = None
        self.before_kill: Callable[[], None] = lambda: None

    def __call__(self, job_id: str, event_ids: list[int]) -> None:
        self.seen.append((threading.current_thread().name, list(event_ids)))
        if len(self.seen) == self.kill_at:
            self.before_kill()
            raise LeaderKilled


class LeaderKilled(BaseException):
    """Not an Exception: nothing on the way catches it, as with a thread stopped from outside."""


@pytest.fixture
def writer(ctx) -> Iterator[tuple[EventWriter, Commits]]:
    commits = Commits()
    made = EventWriter(ctx.engine, after_commit=commits)  # a window of 0: one call per commit
    yield made, commits
    made.close()


class Sender(threading.Thread):
    """A request thread: submits one row and keeps what it got."""

    def __init__(self, writer: EventWriter, row: dict, name: str, timeout: float = 10.0) -> None:
        super().__init__(name=name)
        self.writer, self.row, self.timeout = writer, row, timeout
        self.result: object = "unanswered"

    def run(self) -> None:
        try:
            self.result = self.writer.submit(self.row, timeout=self.timeout)
        except BaseException as exc:  # kept for the test to look at
            self.result = exc


def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@contextmanager
def leader_held(writer: EventWriter, shop_id: int, key: str = "first") -> Iterator[Sender]:
    """A first request leads and is held in its batch's insert (the job lock) until the block ends."""
    with writer._job_lock:
        first = Sender(writer, row(shop_id, key), "leader-1")
        first.start()
        until(lambda: writer._writing and not writer._waiting)
        yield first
    first.join(10)


def stored(ctx) -> list[str]:
    with ctx.sessions() as s:
        return sorted(s.scalars(sa.select(Event.delivery_key)))


def test_many_concurrent_submits_share_few_commits(ctx, shopify_shop, writer):
    w, commits = writer
    with leader_held(w, shopify_shop["id"]) as first:
        senders = [Sender(w, row(shopify_shop["id"], f"k{n}"), f"s{n}") for n in range(60)]
        for sender in senders:
            sender.start()
        until(lambda: len(w._waiting) == 60)  # every one queued while the first batch is written
    for sender in senders:
        sender.join(10)
    assert isinstance(first.result, int) and all(isinstance(s.result, int) for s in senders)
    assert [len(ids) for _, ids in commits.seen] == [1, 60]  # two commits for 61 requests
    assert len(stored(ctx)) == 61 and not w._writing and not w._waiting

    free = [Sender(w, row(shopify_shop["id"], f"free{n}"), f"f{n}") for n in range(40)]
    for sender in free:  # unheld: however the threads interleave, nobody is lost or written twice
        sender.start()
    for sender in free:
        sender.join(10)
    assert all(isinstance(s.result, int) for s in free) and len(stored(ctx)) == 101
    assert sum(len(ids) for _, ids in commits.seen) == 101


def test_a_row_queued_during_a_write_is_written_by_the_next_leader(ctx, shopify_shop, writer):
    w, commits = writer
    with leader_held(w, shopify_shop["id"]) as first:
        late = Sender(w, row(shopify_shop["id"], "late"), "follower-1")
        late.start()
        until(lambda: len(w._waiting) == 1)
    late.join(10)
    # The first leader wrote only its own row; the follower led the next batch, in its own thread.
    assert commits.seen == [("leader-1", [first.result]), ("follower-1", [late.result])]
    assert stored(ctx) == ["first", "late"]


def test_a_bad_row_among_concurrent_submits_fails_alone(ctx, shopify_shop, writer):
    w, _ = writer
    with leader_held(w, shopify_shop["id"]):
        keys = [f"ok{n}" for n in range(8)]
        senders = [Sender(w, row(shopify_shop["id"], key), key) for key in keys]
        senders.insert(4, Sender(w, row(shopify_shop["id"] + 999, "no-shop"), "bad"))  # a foreign key
        for sender in senders:
            sender.start()
        until(lambda: len(w._waiting) == 9)
    for sender in senders:
        sender.join(10)
    failed = [s.name for s in senders if isinstance(s.result, BaseException)]
    assert failed == ["bad"] and isinstance(senders[4].result, sa.exc.IntegrityError)
    assert stored(ctx) == sorted(["first", *keys])


def test_a_follower_out_of_time_leaves_the_queue_and_the_lead_goes_on(ctx, shopify_shop, writer):
    w, commits = writer
    with leader_held(w, shopify_shop["id"]):
        hasty = Sender(w, row(shopify_shop["id"], "hasty"), "hasty", timeout=0.2)
        patient = Sender(w, row(shopify_shop["id"], "patient"), "patient")
        hasty.start()
        until(lambda: len(w._waiting) == 1)
        patient.start()
        hasty.join(5)
        assert isinstance(hasty.result, TimeoutError)  # answered 503 while the leader is still held
        assert [s.row["delivery_key"] for s in w._waiting] == ["patient"]
    patient.join(10)
    assert isinstance(patient.result, int) and stored(ctx) == ["first", "patient"]
    assert [name for name, _ in commits.seen] == ["leader-1", "patient"]


def test_a_leader_that_dies_mid_batch_strands_no_follower_and_loses_nothing(ctx, shopify_shop, writer):
    """The leader's thread stops after its commit and before answering: its followers get TimeoutError
    (503: the store retries, and finds its delivery stored); rows waiting behind it get a new leader."""
    w, commits = writer
    shop_id = shopify_shop["id"]
    behind = [Sender(w, row(shop_id, f"z{n}"), f"z{n}") for n in range(3)]

    def queue_behind() -> None:  # rows that arrive while the doomed batch is being written
        for sender in behind:
            sender.start()
        until(lambda: len(w._waiting) == 3)

    commits.kill_at, commits.before_kill = 2, queue_behind  # the held leader commits first, then d0
    with leader_held(w, shop_id):
        doomed = [Sender(w, row(shop_id, f"d{n}"), f"d{n}") for n in range(4)]
        for sender in doomed:
            sender.start()
        until(lambda: len(w._waiting) == 4)
    for sender in (*doomed, *behind):
        sender.join(10)
    results = {s.name: s.result for s in (*doomed, *behind)}
    killed = [name for name, r in results.items() if isinstance(r, LeaderKilled)]
    timed_out = sorted(name for name, r in results.items() if isinstance(r, TimeoutError))
    assert len(killed) == 1 and len(timed_out) == 3 and {*killed, *timed_out} == {"d0", "d1", "d2", "d3"}
    assert all(isinstance(results[f"z{n}"], int) for n in range(3)), results  # a new leader took them
    assert commits.seen[2][0] in ("z0", "z1", "z2") and not w._writing and not w._waiting
    # The store retries the unanswered deliveries: each was committed, so each is a duplicate now.
    assert [w.submit(row(shop_id, f"d{n}")) for n in range(4)] == [None] * 4
    assert stored(ctx) == ["d0", "d1", "d2", "d3", "first", "z0", "z1", "z2"]
