"""HTTP load generator for bench/intake.py and bench/open311.py: one process, asyncio, HTTP/1.1 keep-alive.

Run by the orchestrator as ``python bench/_loadgen.py SPEC.json OUT.json`` in its own process, so it does
not share a GIL with the orchestrator. It prints ``ready`` on stdout when the load starts and writes one
record per request to OUT.json: ``[index, start, latency, status, number, error, sent]`` — the request's
index (its intake key is ``key_prefix + index``), its start in seconds after the load started, the latency
in seconds (a failed request: until the failure), the HTTP status (0: no answer), the case number (or the
peer's ticket id) read from the answer, the error, and whether the request was written to a connection
(False: the connection could not be opened, so the server never saw it).

Modes (``spec["mode"]``):
- ``closed``: ``concurrency`` connections, each sends its next request when the answer to the previous one
  is in, for ``warmup + duration`` seconds.
- ``open``: requests start on a seeded Poisson schedule at ``rate`` per second whatever the server does
  (latency counts from the scheduled start, so a queue in front of a busy server is measured), on a pool of
  up to ``max_connections``; a request with no free connection waits for one.
- ``list``: the requests named in ``indices``, each once, on ``concurrency`` connections (the crash test's
  re-send of the failed requests with their own intake keys).

Requests are POSTs of a JSON body built from ``template`` (``kind`` "civicgrid" or the peer's), or, with
``"method": "GET"``, GETs of ``paths`` in turn (request ``index`` asks for ``paths[index % len(paths)]``);
a GET records the size of the answer's body in bytes where a POST records the case number.

The server may close a connection after an answer (gunicorn's sync workers do, ``Connection: close``):
the next request then opens a new one. Only the standard library: it runs under any of the venvs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import sys
import time
from collections.abc import Callable
from typing import Any

TIMEOUT = 30.0  # seconds for one request; a request still unanswered then counts as failed
OPEN_GRACE = 5.0  # seconds an open-loop run waits for the requests in flight once the schedule ends

Record = list[Any]


class Client:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.host: str = spec["host"]
        self.port: int = spec["port"]
        self.method: str = spec.get("method", "POST")
        self.kind: str = spec.get("kind", "get")
        self.points: list[list[float]] = spec.get("points") or [[0.0, 0.0]]
        self.template: dict[str, Any] = spec.get("template", {})
        self.key_prefix: str = spec.get("key_prefix", "")
        headers = "".join(f"{name}: {value}\r\n" for name, value in spec.get("headers", {}).items())
        self.head = f"POST {spec.get('path', '/')} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n" + headers
        # A GET has no body: each path's whole request is built once (this process's CPU is the servers').
        self.gets = [
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}\r\n".encode()
            for path in (spec.get("paths") or [spec.get("path", "/")])
        ]
        field = spec.get("number_field", "number")
        # The first occurrence of the field is the top-level one (the answer's first keys are the case's).
        self.number_re = re.compile(rb'"' + field.encode() + rb'"\s*:\s*("?)([^",}]+)\1')
        self.records: list[Record] = []
        self.t0 = time.perf_counter()

    def request(self, index: int) -> bytes:
        if self.method == "GET":
            return self.gets[index % len(self.gets)]
        body = dict(self.template)
        if self.kind == "civicgrid":
            lon, lat = self.points[index % len(self.points)]
            body.update(
                lon=lon,
                lat=lat,
                intake_key=f"{self.key_prefix}{index}",
                title=f"{body['title']} #{index}",
                reporter_phone=f"138{index % 100_000_000:08d}",
            )
        else:
            body.update(title=f"{body['title']} #{index}", submitter_email=f"resident{index}@example.org")
        payload = json.dumps(body, ensure_ascii=False).encode()
        return (self.head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload

    def number(self, body: bytes) -> str | None:
        if self.method == "GET":
            return str(len(body))
        match = self.number_re.search(body)
        return match.group(2).decode() if match else None

    def record(
        self,
        index: int,
        started: float,
        ended: float,
        status: int,
        number: str | None,
        error: str | None,
        sent: bool,
    ) -> None:
        self.records.append(
            [index, round(started - self.t0, 6), round(ended - started, 6), status, number, error, sent]
        )


class _Protocol(asyncio.Protocol):
    """The client side of one keep-alive connection: buffers bytes and wakes the request waiting for a
    whole answer. A protocol rather than asyncio's streams: a third of the CPU per request, and this
    process's CPU is taken from the servers being measured."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.eof = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def more(self) -> None:
        """Wait for more bytes; IncompleteReadError when the server closed the connection instead."""
        if self.eof:
            raise asyncio.IncompleteReadError(bytes(self.buffer), None)
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None


class Connection:
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self.transport = transport
        self.protocol = protocol

    @classmethod
    async def open(cls, client: Client) -> Connection:
        transport, protocol = await asyncio.get_running_loop().create_connection(
            _Protocol, client.host, client.port
        )
        return cls(transport, protocol)

    def close(self) -> None:
        self.transport.close()

    async def exchange(self, data: bytes) -> tuple[int, bytes, bool]:
        """Send one request; the status, the body and whether the server closes the connection."""
        p = self.protocol
        self.transport.write(data)
        while (end := p.buffer.find(b"\r\n\r\n")) < 0:
            await p.more()
        head = bytes(p.buffer[:end])
        del p.buffer[: end + 4]
        status = int(head[9:12])
        length = -1
        chunked = closing = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                closing = b"close" in value.lower()
        if chunked:
            parts = []
            while True:
                while (eol := p.buffer.find(b"\r\n")) < 0:
                    await p.more()
                size = int(bytes(p.buffer[:eol]).split(b";")[0], 16)
                while len(p.buffer) < eol + 2 + size + 2:
                    await p.more()
                parts.append(bytes(p.buffer[eol + 2 : eol + 2 + size]))
                del p.buffer[: eol + 2 + size + 2]
                if size == 0:
                    break
            body = b"".join(parts)
        elif length >= 0:
            while len(p.buffer) < length:
                await p.more()
            body = bytes(p.buffer[:length])
            del p.buffer[:length]
        else:
            while not p.eof:
                await p.more()
            body = bytes(p.buffer)
            p.buffer.clear()
            closing = True
        return status, body, closing


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


async def _send(client: Client, conn: Connection, index: int, started: float) -> bool:
    """One request on an open connection; records it. True when the connection can be used again."""
    try:
        # asyncio.timeout, not wait_for: wait_for wraps every request in a task of its own, which costs
        # the load generator more CPU than parsing the answer (its CPU is taken from the servers').
        async with asyncio.timeout(TIMEOUT):
            status, body, closing = await conn.exchange(client.request(index))
    except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        client.record(index, started, time.perf_counter(), 0, None, _error(exc), True)
        conn.close()
        return False
    number = client.number(body) if status in (200, 201) else None
    error = None if status in (200, 201) else body[:200].decode(errors="replace")
    client.record(index, started, time.perf_counter(), status, number, error, True)
    if closing:
        conn.close()
    return not closing


async def _connect(client: Client, index: int, started: float) -> Connection | None:
    try:
        async with asyncio.timeout(TIMEOUT):
            return await Connection.open(client)
    except (TimeoutError, OSError) as exc:
        client.record(index, started, time.perf_counter(), 0, None, _error(exc), False)
        return None


async def closed_loop(
    client: Client, concurrency: int, seconds: float, next_index: Callable[[], int]
) -> None:
    deadline = client.t0 + seconds

    async def one_connection() -> None:
        conn: Connection | None = None
        while time.perf_counter() < deadline:
            index = next_index()
            started = time.perf_counter()
            if conn is None:
                conn = await _connect(client, index, started)
                if conn is None:
                    await asyncio.sleep(0.05)  # the server is down: do not spin
                    continue
            if not await _send(client, conn, index, started):
                conn = None
        if conn is not None:
            conn.close()

    await asyncio.gather(*(one_connection() for _ in range(concurrency)))


async def open_loop(client: Client, rate: float, seconds: float, max_connections: int, seed: int) -> int:
    """Returns how many scheduled requests never started (no connection became free in time)."""
    rng = random.Random(seed)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, scheduled: float) -> None:
        nonlocal opened
        conn: Connection | None = None
        try:
            conn = idle.get_nowait()
        except asyncio.QueueEmpty:
            if opened < max_connections:
                opened += 1
                conn = await _connect(client, index, scheduled)
                if conn is None:
                    opened -= 1
                    return
            else:
                conn = await idle.get()
        if await _send(client, conn, index, scheduled):
            idle.put_nowait(conn)
        else:
            opened -= 1

    at = client.t0
    end = client.t0 + seconds
    for index in itertools.count():
        at += rng.expovariate(rate)
        if at >= end:
            break
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, at))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks), timeout=OPEN_GRACE)
    unfinished = len(tasks)
    for task in list(tasks):
        task.cancel()
    while not idle.empty():
        idle.get_nowait().close()
    return unfinished


async def list_mode(client: Client, indices: list[int], concurrency: int) -> None:
    queue = list(reversed(indices))

    async def worker() -> None:
        conn: Connection | None = None
        while queue:
            index = queue.pop()
            started = time.perf_counter()
            if conn is None:
                conn = await _connect(client, index, started)
                if conn is None:
                    continue
            if not await _send(client, conn, index, started):
                conn = None
        if conn is not None:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(indices))))))


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    client = Client(spec)
    counter = itertools.count(spec.get("first_index", 0))
    print("ready", flush=True)
    client.t0 = time.perf_counter()
    unfinished = 0
    mode = spec["mode"]
    seconds = spec.get("warmup", 0.0) + spec.get("duration", 0.0)
    if mode == "closed":
        await closed_loop(client, spec["concurrency"], seconds, lambda: next(counter))
    elif mode == "open":
        unfinished = await open_loop(
            client, spec["rate"], seconds, spec.get("max_connections", 256), spec.get("seed", 1)
        )
    elif mode == "list":
        await list_mode(client, spec["indices"], spec["concurrency"])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return {"records": client.records, "elapsed": time.perf_counter() - client.t0, "unfinished": unfinished}


def main() -> None:
    spec_path, out_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    result = asyncio.run(run(spec))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
