"""A small keep-alive HTTP/1.1 load generator (asyncio), used the same way for every endpoint compared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Request = tuple[bytes, bytes]  # (head, body) ready to send


def build_request(path: str, body: bytes, headers: dict[str, str], host: str = "127.0.0.1") -> Request:
    """The bytes of one POST request."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


@dataclass
class Result:
    ok: int
    errors: int
    seconds: float
    latencies: list[float]
    note: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    port: int, next_request: Callable[[], Request | None], result: Result, pace: Callable[[], float] | None
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (req := next_request()) is not None:
            if pace is not None:
                delay = pace() - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            start = time.perf_counter()
            writer.write(req[0] + req[1])
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - start)
            if 200 <= status < 300:
                result.ok += 1
            else:
                result.errors += 1
    finally:
        writer.close()


def run(
    port: int, requests: Sequence[Request], concurrency: int, duration: float, rate: float | None = None
) -> Result:
    """Send `requests` (cycled, each used once until exhausted) for `duration` seconds."""
    result = Result(0, 0, 0.0, [])
    deadline = time.perf_counter() + duration
    index = iter(range(len(requests)))
    start = time.perf_counter()
    slot = iter(range(10**9))

    def next_request() -> Request | None:
        if time.perf_counter() >= deadline:
            return None
        i = next(index, None)
        return None if i is None else requests[i]

    pace = (lambda: start + next(slot) / rate) if rate else None

    async def main() -> None:
        await asyncio.gather(*(_connection(port, next_request, result, pace) for _ in range(concurrency)))

    asyncio.run(main())
    result.seconds = time.perf_counter() - start
    return result
