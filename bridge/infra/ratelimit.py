"""Fixed-window rate limits counted in Redis (they let requests through while Redis is away)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError

WINDOW_SECONDS = 60


def allow(redis: Redis, key: str, now: datetime, limit: int) -> bool:
    """Fixed-window counter in Redis; True while under `limit` (and whenever Redis is unreachable)."""
    window = int(now.timestamp()) // WINDOW_SECONDS
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no raw IPs in Redis
    name = f"ratelimit:collect:{digest}:{window}"
    try:
        pipe = redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        count = pipe.execute()[0]
    except (RedisError, OSError):
        return True
    return int(count) <= limit
