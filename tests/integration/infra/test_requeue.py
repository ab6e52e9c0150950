"""Queueing again what RQ lost: once per id, never beside a live job, stopping while Redis is away."""

from __future__ import annotations

from redis import Redis

from bridge.infra import jobnames, queue


def test_requeue_all_skips_live_jobs_and_queues_the_lost_ones(ctx):
    assert queue.enqueue(
        ctx.redis, jobnames.DELIVER_OFFER, 2, job_id=jobnames.deliver_id(2), queue=queue.CAMPAIGNS
    )
    queued = queue.requeue_all(
        ctx.redis, jobnames.DELIVER_OFFER, [1, 2, 3], jobnames.deliver_id, queue=queue.CAMPAIGNS
    )
    assert queued == 2  # 2 was still waiting: a second job would only race it
    waiting = queue.get_queue(ctx.redis, queue.CAMPAIGNS).job_ids
    assert sorted(waiting) == ["deliver-1", "deliver-2", "deliver-3"]
    assert (
        queue.requeue_all(
            ctx.redis, jobnames.DELIVER_OFFER, [1, 2, 3], jobnames.deliver_id, queue=queue.CAMPAIGNS
        )
        == 0
    )


def test_requeue_all_stops_at_the_first_refusal_when_redis_is_away():
    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)  # nothing listens there
    assert queue.requeue(away, jobnames.CREATE_CODE, 1, job_id="code-1", queue=queue.CAMPAIGNS) == "refused"
    assert queue.requeue_all(away, jobnames.CREATE_CODE, [1, 2], jobnames.code_id, queue=queue.CAMPAIGNS) == 0
