"""Benchmark: case intake over HTTP — creations per second and latency, beside a ceiling and a peer.

Run from the project root:  make bench-intake
(= scripts/with-postgres.sh .venv/bin/python bench/intake.py: a throwaway PostgreSQL on 127.0.0.1, or the
server of DATABASE_URL when it is set).

On that server it creates three databases of its own and drops them at the end: one for CivicGrid, one for
the peer, one for pgbench. In one run it measures, with the same load generator (bench/_loadgen.py: its own
process, asyncio, HTTP/1.1 keep-alive, a fixed number of connections):

- CivicGrid: ``POST /api/v1/cases`` as the demo intake operator tx_hotline (bearer token), seeded random
  points inside the demo grid cells, a unique intake key per request, on gunicorn: a few worker
  configurations, then the kept one for the full measurement; an open-loop check at the target rate.
- the ceiling: pgbench, one single-row INSERT per transaction, as many clients.
- the peer: django-helpdesk's ``POST /api/tickets/`` (DRF token auth) in its own venv (bench/.peer-venv,
  created on first use) and project (bench/peer_helpdesk/), on gunicorn with the same workers.
- a crash test: SIGKILL to gunicorn's whole process group under load, a restart; every case that got a 201
  must be in the database, and re-sending the requests that failed in flight (same intake keys) must create
  no duplicate. The script exits non-zero when a case that got a 201 is missing or a duplicate appears.
- when the target (TARGET_RATE creations/s with p99 under TARGET_P99) is missed: a cProfile of one sync
  worker with its SQL counted and timed (bench/_profiled_wsgi.py), and EXPLAIN ANALYZE of the costliest
  SELECTs, to show where the time goes.

Other processes on the machine skew every figure: each run records the CPU that processes outside the bench
used meanwhile ("others' CPU", as a share of all cores), so a busy machine shows in the tables.

The figures replace the "Case intake" section of docs/benchmarks.md; notes written by hand below the
NOTES_MARKER line of that section are kept.
"""

from __future__ import annotations

import base64
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import pstats
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Case intake (bench/intake.py)"
NOTES_MARKER = "<!-- Notes below this line are written by hand; bench/intake.py keeps them. -->"
COMMAND = "make bench-intake"
LOADGEN = BENCH / "_loadgen.py"
PEER_VENV = BENCH / ".peer-venv"
# The peer: the newest django-helpdesk on PyPI (2.6.1 declares Django 5.2 and 6.0), on CivicGrid's Django.
PEER_REQUIREMENTS = ["django-helpdesk==2.6.1", "Django==5.2.19", "psycopg[binary]==3.3.9", "gunicorn==27.0.1"]
DB_NAMES = {
    "civicgrid": "bench_intake_civicgrid",
    "peer": "bench_intake_helpdesk",
    "pgbench": "bench_intake_pgbench",
}
DEMO_STEPS = ["civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"]
BENCH_USER = "tx_hotline"  # the county hotline's intake operator (civicgrid.accounts.demo)

SEED = 20260101
N_POINTS = 50_000
CONCURRENCY = 16
WARMUP = 3.0
DURATION = 20.0
ROUNDS = 3  # the side-by-side runs, repeated: the verdict is read on the median round
SWEEP_DURATION = 5.0
OPEN_DURATION = 6.0
OPEN_CONNECTIONS = 128
CRASH_SECONDS = 14.0
CRASH_KILL_AFTER = 5.0
CRASH_DOWN = 1.0
PROFILE_SECONDS = 6.0
TARGET_RATE = 400.0
TARGET_P99 = 0.100

Config = tuple[str, int, int]  # (worker class, workers, threads)
# gunicorn's advice is 2–4 workers per core; gthread keeps connections alive, sync closes each one.
CONFIGS: list[Config] = [("sync", 3, 1), ("gthread", 2, 3), ("gthread", 2, 4), ("gthread", 3, 3)]
SERVED: Config = ("gthread", 2, 4)  # what `make run` starts (Makefile); the side-by-side measures it

TITLE = "小区门口路灯不亮"
DESCRIPTION = (
    "居民来电反映：小区东门外人行道上的三盏路灯连续一周晚上不亮，老人和孩子夜间出行不便，"
    "雨天路面湿滑容易摔倒，希望尽快安排维修，并在修好后回电告知。"
)
CASE_TEMPLATE = {
    "channel": "hotline",
    "nature": "help",
    "title": TITLE,
    "description": DESCRIPTION,
    "reporter_name": "王伟",
}
RUN_ID = secrets.token_hex(3)  # in every intake key: a second run on the same database reuses no key


# --- Processes, ports, databases --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin_connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def create_databases(base: str) -> None:
    with admin_connect(base) as conn:
        for name in DB_NAMES.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases(base: str) -> None:
    with admin_connect(base) as conn:
        for name in DB_NAMES.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / name).exists():
            return str(directory / name)
    raise SystemExit(f"{name} not found (PostgreSQL client binaries)")


class Server:
    """gunicorn in its own process group (so the crash test can kill the master and every worker at once)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, port: int, log: Path) -> None:
        self.argv, self.env, self.cwd, self.port, self.log = argv, env, cwd, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_ready(self.port, self.proc, self.log)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def kill(self) -> None:
        """SIGKILL to the master and all its workers (the process group)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        report_server_errors(self.log)


def report_server_errors(log: Path) -> None:
    """Print the first traceback a server logged (a 500 is an error of the run, not noise)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    start = text.find("Traceback (most recent call last)")
    if start >= 0:
        count = text.count("Traceback (most recent call last)")
        print(f"    {log.name}: {count} traceback(s), the first:\n{text[max(0, start - 300) : start + 3000]}")
    log.unlink(missing_ok=True)


def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    """Until the server answers anything to a GET (a worker is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; its log:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /__bench_ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not come up in {timeout:.0f} s; its log:\n{log.read_text()[-3000:]}")


def gunicorn_argv(binary: Path, app: str, port: int, config: Config) -> list[str]:
    worker_class, workers, threads = config
    # No control socket: gunicorn 27 puts one in ~/.gunicorn/, shared by every gunicorn on the machine.
    argv = [str(binary), app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--no-control-socket"]
    if worker_class == "gthread":
        argv += ["--worker-class", "gthread", "--threads", str(threads)]
    return argv


def config_label(config: Config) -> str:
    worker_class, workers, threads = config
    return f"sync × {workers}" if worker_class == "sync" else f"gthread {workers} × {threads} threads"


def config_key(config: Config) -> str:
    worker_class, workers, threads = config
    return f"s{workers}" if worker_class == "sync" else f"g{workers}x{threads}"


# --- Who else uses the CPU ---------------------------------------------------------------------------------


HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def _processes() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, CPU ticks used so far) for every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2 :].split()
        table[int(entry.name)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return table


class CpuWatch:
    """CPU time used during a block: by processes outside the bench (``others``, as a share of all cores),
    by the web server's process tree (``app``, seconds) and by PostgreSQL's (``db``, seconds).

    The bench's processes are this one's descendants (servers, load generator, pgbench) and the PostgreSQL
    server's (``postmaster``, when it runs on this machine). A process that both started and ended inside
    the block is not seen: ``others`` is a lower bound."""

    postmaster: int | None = None

    def __init__(self, server: int | None = None) -> None:
        self.server = server
        self.others = 0.0
        self.app = 0.0
        self.db = 0.0

    def __enter__(self) -> CpuWatch:
        self.started = time.monotonic()
        self.before = _processes()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        after = _processes()
        elapsed = time.monotonic() - self.started
        parents = {pid: parent for pid, (parent, _) in {**self.before, **after}.items()}

        def under(pid: int, root: int | None) -> bool:
            for _ in range(64):
                if pid == root:
                    return True
                if pid <= 1 or pid not in parents:
                    return False
                pid = parents[pid]
            return False

        used = {pid: ticks - self.before.get(pid, (0, 0))[1] for pid, (_, ticks) in after.items()}
        me = os.getpid()
        others = sum(t for pid, t in used.items() if not under(pid, me) and not under(pid, self.postmaster))
        self.others = others / HZ / (elapsed * NCPU) if elapsed > 0 else 0.0
        self.app = sum(t for pid, t in used.items() if under(pid, self.server)) / HZ
        self.db = sum(t for pid, t in used.items() if under(pid, self.postmaster)) / HZ


def note_postmaster(url: str) -> None:
    """Find the local PostgreSQL server's main process (its processes are the bench's own)."""
    with admin_connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        raw = Path(f"/proc/{backend}/stat").read_text()
    except OSError:
        return  # not on this machine
    CpuWatch.postmaster = int(raw[raw.rfind(")") + 2 :].split()[1])


# --- Load runs and their figures ---------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    window: float  # measured seconds
    rate: float  # 201 answers per second in the window
    p50: float
    p90: float
    p99: float
    max: float
    created: int  # 201s in the window
    errors: dict[str, int] = field(default_factory=dict)
    offered: float = 0.0  # open loop: the scheduled rate
    unfinished: int = 0  # open loop: scheduled requests that never got a connection
    others: float = 0.0  # CPU share of processes outside the bench meanwhile
    app_ms: float = 0.0  # CPU of the web server (master and workers) per 2xx answer, whole run
    db_ms: float = 0.0  # CPU of PostgreSQL per 2xx answer (or pgbench transaction), whole run
    gen_ms: float = 0.0  # CPU of the load generator per request sent, whole run

    def error_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"


def load(spec: dict[str, Any], tmp: Path, on_ready: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run the load generator with this spec in its own process; its result."""
    spec_path = tmp / "loadgen-spec.json"
    out_path = tmp / "loadgen-out.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        [sys.executable, str(LOADGEN), str(spec_path), str(out_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.wait()
        raise SystemExit(f"the load generator did not start: {line!r}")
    if on_ready is not None:
        on_ready()
    if proc.wait() != 0:
        raise SystemExit("the load generator failed")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the generator is the only child reaped meanwhile
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    result["generator_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result


def summarize(
    label: str,
    result: dict[str, Any],
    warmup: float,
    duration: float,
    offered: float = 0.0,
    cpu: CpuWatch | None = None,
) -> Run:
    """Figures of the requests that completed inside [warmup, warmup + duration); the CPU per answer over
    the whole run (warm-up included)."""
    start, end = warmup, warmup + duration
    latencies = []
    created = 0
    errors: dict[str, int] = {}
    for _, began, latency, status, _number, _error, sent in result["records"]:
        if not start <= began + latency < end:
            continue
        if status == 201:
            created += 1
            latencies.append(latency)
        else:
            kind = (
                "200 (retry)"
                if status == 200
                else str(status)
                if status
                else "no answer"
                if sent
                else "refused"
            )
            errors[kind] = errors.get(kind, 0) + 1
    done = sum(1 for record in result["records"] if record[3] in (200, 201)) or 1
    lat = np.array(latencies) if latencies else np.array([np.nan])
    p50, p90, p99 = (float(x) for x in np.percentile(lat, [50, 90, 99]))
    return Run(
        label=label,
        window=duration,
        rate=created / duration,
        p50=p50,
        p90=p90,
        p99=p99,
        max=float(np.max(lat)),
        created=created,
        errors=errors,
        offered=offered,
        unfinished=int(result.get("unfinished", 0)),
        others=cpu.others if cpu else 0.0,
        app_ms=cpu.app / done * 1000 if cpu else 0.0,
        db_ms=cpu.db / done * 1000 if cpu else 0.0,
        gen_ms=result.get("generator_cpu", 0.0) / max(1, len(result["records"])) * 1000,
    )


def first_error(result: dict[str, Any]) -> str:
    for record in result["records"]:
        if record[3] not in (200, 201):
            return f"status {record[3]}: {record[5]}"
    return ""


# --- CivicGrid ---------------------------------------------------------------------------------------------


@dataclass
class CivicGrid:
    env: dict[str, str]
    token: str
    points: list[list[float]]
    cells: int
    setup_s: float


def setup_civicgrid(url: str, var_dir: Path) -> CivicGrid:
    """Migrate, load the demo geography (not the cases history), a token for the intake operator, points."""
    env = dict(os.environ)
    env.pop("CIVICGRID_TESTING", None)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="civicgrid.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        CIVICGRID_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
    )
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from civicgrid.accounts.models import User
    from civicgrid.accounts.tokens import do_issue_api_token
    from civicgrid.demo.context import DEMO_PASSWORD, DemoContext

    call_command("migrate", verbosity=0)
    ctx = DemoContext(
        data_dir=settings.SHARED_DATA_DIR, say=lambda _: None, password_hash=make_password(DEMO_PASSWORD)
    )
    with transaction.atomic():
        for dotted in DEMO_STEPS:
            importlib.import_module(dotted).load(ctx)
    user = User.objects.get(username=BENCH_USER)
    _, secret = do_issue_api_token(user, name="bench", actor=None)
    points, cells = grid_points()
    connection.close()
    return CivicGrid(env=env, token=secret, points=points, cells=cells, setup_s=time.perf_counter() - started)


def grid_points() -> tuple[list[list[float]], int]:
    """N_POINTS seeded random points, uniform over the union of the active grid cells."""
    import shapely

    from civicgrid.grids.models import GridCell
    from civicgrid.lib.geometry import from_geojson

    boundaries = GridCell.objects.filter(is_active=True).values_list("boundary", flat=True)
    polygons = [from_geojson(b) for b in boundaries]
    if not polygons:
        raise SystemExit("the demo created no grid cells")
    area = shapely.union_all(polygons)
    shapely.prepare(area)
    min_lon, min_lat, max_lon, max_lat = area.bounds
    rng = np.random.default_rng(SEED)
    found: list[np.ndarray[Any, Any]] = []
    count = 0
    while count < N_POINTS:
        lons = rng.uniform(min_lon, max_lon, N_POINTS)
        lats = rng.uniform(min_lat, max_lat, N_POINTS)
        inside = shapely.contains_xy(area, lons, lats)
        found.append(np.column_stack([lons[inside], lats[inside]]))
        count += int(inside.sum())
    points: list[list[float]] = np.concatenate(found)[:N_POINTS].round(6).tolist()
    return points, len(polygons)


def civicgrid_server(cg: CivicGrid, config: Config, tmp: Path, app: str = "civicgrid.wsgi") -> Server:
    port = free_port()
    argv = gunicorn_argv(ROOT / ".venv" / "bin" / "gunicorn", app, port, config)
    env = dict(cg.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH)])
    return Server(argv, env, ROOT, port, tmp / f"civicgrid-{config_key(config)}.log")


def civicgrid_spec(cg: CivicGrid, server: Server, prefix: str, **kw: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "path": "/api/v1/cases",
        "kind": "civicgrid",
        "points": cg.points,
        "template": CASE_TEMPLATE,
        "key_prefix": f"{prefix}-{RUN_ID}-",
        "number_field": "number",
        "headers": {
            "Authorization": f"Bearer {cg.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        **kw,
    }


def stored_cases(prefix: str) -> dict[str, str]:
    """intake key → case number of the cases whose key starts with this run's ``prefix``."""
    from django.db import connection

    from civicgrid.cases.models import Case

    rows = Case.objects.filter(intake_key__startswith=f"{prefix}-{RUN_ID}-").values_list(
        "intake_key", "number"
    )
    found = {str(key): number for key, number in rows}
    connection.close()
    return found


def answered(prefix: str, records: list[list[Any]], status: int = 201) -> dict[str, str]:
    """intake key → the case number in the answer, for the requests answered with ``status``."""
    return {f"{prefix}-{RUN_ID}-{r[0]}": r[4] for r in records if r[3] == status}


def measure_civicgrid(
    cg: CivicGrid, config: Config, tmp: Path, prefix: str, duration: float, rate: float = 0.0
) -> Run:
    """A closed-loop run (or open-loop at ``rate``); every 201 must be stored with the number it answered."""
    server = civicgrid_server(cg, config, tmp)
    server.start()
    extra: dict[str, Any] = {"warmup": WARMUP, "duration": duration}
    if rate:
        extra.update(mode="open", rate=rate, max_connections=OPEN_CONNECTIONS, seed=SEED)
    else:
        extra.update(mode="closed", concurrency=CONCURRENCY)
    try:
        with CpuWatch(server.pid) as cpu:
            result = load(civicgrid_spec(cg, server, prefix, **extra), tmp)
    finally:
        server.stop()
    run = summarize(f"CivicGrid, {config_label(config)}", result, WARMUP, duration, rate, cpu)
    if run.created == 0:
        raise SystemExit(f"CivicGrid created no case: {first_error(result)}")
    stored = stored_cases(prefix)
    wrong = [key for key, number in answered(prefix, result["records"]).items() if stored.get(key) != number]
    if wrong:
        raise SystemExit(f"{len(wrong)} cases answered 201 are not stored as answered, e.g. {wrong[:3]}")
    return run


# --- The peer: django-helpdesk ----------------------------------------------------------------------------


@dataclass
class Peer:
    env: dict[str, str]
    token: str
    queue: int
    versions: str
    setup_s: float


def ensure_peer_venv() -> None:
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / ".requirements"
    wanted = "\n".join(PEER_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return
    print(f"creating {PEER_VENV.relative_to(ROOT)} ({', '.join(PEER_REQUIREMENTS)})", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS], check=True)
    marker.write_text(wanted)


def setup_peer(url: str, base_env: dict[str, str]) -> Peer:
    """The venv (once), migrate, a queue, a staff user and their token. Only subprocesses: it runs in a
    thread beside CivicGrid's setup."""
    started = time.perf_counter()
    ensure_peer_venv()
    env = {k: v for k, v in base_env.items() if not k.startswith(("CIVICGRID_", "DJANGO_", "DATABASE_"))}
    env.update(
        PEER_DATABASE_URL=url,
        PEER_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_SETTINGS_MODULE="peer_helpdesk.settings",
        PYTHONPATH=str(BENCH),
    )
    python = str(PEER_VENV / "bin" / "python")
    subprocess.run(
        [python, "-m", "django", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=BENCH,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [python, "-m", "peer_helpdesk.bench_setup"],
        env=env,
        cwd=BENCH,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    made = json.loads(out.strip().splitlines()[-1])
    return Peer(
        env=env,
        token=made["token"],
        queue=made["queue"],
        versions=made["versions"],
        setup_s=time.perf_counter() - started,
    )


def measure_peer(peer: Peer, config: Config, tmp: Path) -> Run:
    port = free_port()
    argv = gunicorn_argv(PEER_VENV / "bin" / "gunicorn", "peer_helpdesk.wsgi", port, config)
    server = Server(argv, peer.env, BENCH, port, tmp / "peer.log")
    server.start()
    spec = {
        "host": "127.0.0.1",
        "port": port,
        "path": "/api/tickets/",
        "kind": "helpdesk",
        "template": {"queue": peer.queue, "title": TITLE, "description": DESCRIPTION, "priority": 3},
        "number_field": "id",
        "headers": {
            "Authorization": f"Token {peer.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        "mode": "closed",
        "concurrency": CONCURRENCY,
        "warmup": WARMUP,
        "duration": DURATION,
    }
    try:
        with CpuWatch(server.pid) as cpu:
            result = load(spec, tmp)
    finally:
        server.stop()
    run = summarize(f"django-helpdesk, {config_label(config)}", result, WARMUP, DURATION, cpu=cpu)
    if run.created == 0:
        raise SystemExit(f"the peer created no ticket: {first_error(result)}")
    return run


# --- The ceiling: pgbench ----------------------------------------------------------------------------------


def measure_pgbench(url: str, tmp: Path) -> Run:
    """pgbench, one INSERT of a row like a case's text per transaction; latencies from its per-transaction
    log, counted in the same window as the HTTP runs."""
    parts = urlsplit(url)
    with admin_connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS intake_ceiling")  # each round starts from an empty table
        conn.execute(
            "CREATE TABLE intake_ceiling (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL)"
        )
    script = tmp / "insert.sql"
    body = f"{TITLE} {DESCRIPTION}".replace("'", "''")
    script.write_text(f"INSERT INTO intake_ceiling (body, at) VALUES ('{body}', now());\n", encoding="utf-8")
    log_dir = tmp / "pgbench"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir()
    argv = [
        pg_bin("pgbench"),
        *("-n", "-c", str(CONCURRENCY), "-j", "2", "-T", str(int(WARMUP + DURATION))),
        *("-f", str(script), "--log", "--log-prefix", str(log_dir / "tx")),
        *(
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
        ),
        parts.path.lstrip("/"),
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    with CpuWatch() as cpu:
        subprocess.run(argv, env=env, cwd=tmp, check=True, capture_output=True, text=True)
    # A log line: client_id transaction_no latency_us script_no end_epoch_s end_epoch_us.
    ends: list[float] = []
    latencies: list[float] = []
    for path in log_dir.iterdir():
        for line in path.read_text().splitlines():
            f = line.split()
            ends.append(int(f[4]) + int(f[5]) / 1e6)
            latencies.append(int(f[2]) / 1e6)
    first = min(end - lat for end, lat in zip(ends, latencies, strict=True))
    records = [
        [i, end - lat - first, lat, 201, None, None, True]
        for i, (end, lat) in enumerate(zip(ends, latencies, strict=True))
    ]
    return summarize("pgbench, one INSERT", {"records": records}, WARMUP, DURATION, cpu=cpu)


# --- Crash test --------------------------------------------------------------------------------------------


@dataclass
class Crash:
    acknowledged: int
    missing: int
    in_flight: int
    refused: int
    other_errors: dict[str, int]
    committed_unanswered: int
    resent: int
    resent_201: int
    resent_200: int
    resent_failed: int
    resent_200_same_number: int
    duplicates: int
    downtime_s: float

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.duplicates == 0
            and self.resent_failed == 0
            and self.resent_200 == self.committed_unanswered == self.resent_200_same_number
        )


def crash_test(cg: CivicGrid, config: Config, tmp: Path) -> Crash:
    prefix = "crash"
    server = civicgrid_server(cg, config, tmp)
    server.start()
    downtime = [0.0]

    def chaos() -> None:
        time.sleep(CRASH_KILL_AFTER)
        killed = time.perf_counter()
        server.kill()
        time.sleep(CRASH_DOWN)
        server.start()
        downtime[0] = time.perf_counter() - killed

    thread = threading.Thread(target=chaos, daemon=True)
    spec = civicgrid_spec(
        cg, server, prefix, mode="closed", concurrency=CONCURRENCY, warmup=0.0, duration=CRASH_SECONDS
    )
    try:
        result = load(spec, tmp, on_ready=thread.start)
        thread.join()
    finally:
        server.stop()
    records = result["records"]
    acknowledged = answered(prefix, records)
    failed = [r for r in records if r[6] and r[3] not in (200, 201)]  # reached the server, no 2xx
    in_flight = sum(1 for r in failed if r[3] == 0)
    other_errors: dict[str, int] = {}
    for r in failed:
        if r[3] != 0:
            other_errors[str(r[3])] = other_errors.get(str(r[3]), 0) + 1
    stored = stored_cases(prefix)
    missing = [key for key, number in acknowledged.items() if stored.get(key) != number]
    key = f"{prefix}-{RUN_ID}-"
    committed_unanswered = sum(1 for r in failed if f"{key}{r[0]}" in stored)

    # Re-send every request that reached the server without a 2xx answer, with its own intake key.
    server.start()
    indices = [r[0] for r in failed]
    try:
        again = load(
            civicgrid_spec(cg, server, prefix, mode="list", indices=indices, concurrency=CONCURRENCY), tmp
        )
    finally:
        server.stop()
    statuses = {r[0]: (r[3], r[4]) for r in again["records"]}
    resent_201 = sum(1 for s, _ in statuses.values() if s == 201)
    resent_200 = sum(1 for s, _ in statuses.values() if s == 200)
    same = sum(1 for i, (s, n) in statuses.items() if s == 200 and stored.get(f"{key}{i}") == n)
    after = stored_cases(prefix)
    # One case per key that was ever answered 2xx, no other case, no number twice.
    expected = set(acknowledged) | {f"{key}{i}" for i, (s, _) in statuses.items() if s in (200, 201)}
    duplicates = len(set(after) - expected) + len(after) - len(set(after.values()))
    return Crash(
        acknowledged=len(acknowledged),
        missing=len(missing),
        in_flight=in_flight,
        refused=sum(1 for r in records if not r[6]),
        other_errors=other_errors,
        committed_unanswered=committed_unanswered,
        resent=len(indices),
        resent_201=resent_201,
        resent_200=resent_200,
        resent_failed=len(indices) - resent_201 - resent_200,
        resent_200_same_number=same,
        duplicates=duplicates,
        downtime_s=downtime[0],
    )


# --- Profile -----------------------------------------------------------------------------------------------


@dataclass
class Profile:
    requests: int
    ms_per_request: float
    queries_per_request: float
    db_ms_per_request: float
    top: list[tuple[str, float, float]]  # (function, ms per request (cumulative), share of the request)
    sql: list[tuple[str, float, float]]  # (statement shape, calls per request, ms per request)
    plans: list[tuple[str, float, float]]  # (statement shape, planning ms, execution ms)


# Framework steps worth a row beside CivicGrid's own functions (file suffix, function).
FRAMEWORK_STEPS = {
    ("ninja/operation.py", "_run_authentication"),
    ("ninja/operation.py", "_get_values"),
    ("ninja/operation.py", "_result_to_response"),
    ("django/core/handlers/base.py", "get_response"),
    ("django/db/models/query.py", "prefetch_related_objects"),
}


# Wrappers that only repeat the cost of what they call.
NOT_STEPS = {"<lambda>", "<listcomp>", "<dictcomp>", "<genexpr>", "attempt", "inner"}


def profile_civicgrid(cg: CivicGrid, tmp: Path) -> Profile:
    """One sync worker under cProfile (bench/_profiled_wsgi.py), closed loop with 2 connections."""
    stats_path = tmp / "intake.pstats"
    server = civicgrid_server(cg, ("sync", 1, 1), tmp, app="_profiled_wsgi:application")
    server.env["BENCH_PROFILE_OUT"] = str(stats_path)
    server.start()
    spec = civicgrid_spec(
        cg, server, "profile", mode="closed", concurrency=2, warmup=1.0, duration=PROFILE_SECONDS
    )
    try:
        load(spec, tmp)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            s.sendall(b"GET /__bench_profile_dump HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            s.recv(100)
    finally:
        server.stop()
    meta = json.loads(Path(f"{stats_path}.json").read_text())
    n = meta["requests"]
    total = meta["seconds"]
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, _nc, _tt, cumulative, _callers) in raw.items():
        path = _relative(filename)
        if name in NOT_STEPS:
            continue
        if path.startswith("civicgrid/") or any(path.endswith(f) and name == fn for f, fn in FRAMEWORK_STEPS):
            rows.append((f"{path}:{line} {name}", cumulative))
    rows.sort(key=lambda r: -r[1])
    top = [(where, ct / n * 1000, ct / total) for where, ct in rows[:18]]
    sql = [(shape, calls / n, seconds / n * 1000) for shape, calls, seconds, _ in meta["sql"][:12]]
    plans = explain(
        cg.env["DATABASE_URL"], [(shape, example) for shape, _, _, example in meta["sql"] if example][:3]
    )
    return Profile(
        requests=n,
        ms_per_request=total / n * 1000,
        queries_per_request=meta["queries"] / n,
        db_ms_per_request=meta["db_seconds"] / n * 1000,
        top=top,
        sql=sql,
        plans=plans,
    )


def _relative(filename: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def explain(url: str, examples: list[tuple[str, str]]) -> list[tuple[str, float, float]]:
    """Planning and execution time (best of 5) of each example SELECT, as PostgreSQL reports them."""
    plans = []
    with admin_connect(url) as conn:
        for shape, sql in examples:
            planning = execution = float("inf")
            for _ in range(5):
                lines = [row[0] for row in conn.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql).fetchall()]
                text = "\n".join(lines)
                planning = min(planning, float(re.search(r"Planning Time: ([\d.]+)", text).group(1)))  # type: ignore[union-attr]
                execution = min(execution, float(re.search(r"Execution Time: ([\d.]+)", text).group(1)))  # type: ignore[union-attr]
            plans.append((shape, planning, execution))
    return plans


# --- Machine and report ------------------------------------------------------------------------------------


def python_speed() -> float:
    """Seconds of CPU for a fixed pure-Python loop (best of 3). This machine is a shared VM whose speed
    drifts by half from hour to hour; the figure lets a reader tell a slow hour from a slow change."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(3_000_000):
            total += i * i % 7
        best = min(best, time.process_time() - started)
    return best


def machine(url: str) -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    mem = "?"
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        mem = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else mem
    except OSError:
        pass
    with admin_connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "shared_buffers",
                "max_connections",
            )
        }
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": cpu,
        "nproc": nproc,
        "ram": mem,
        "postgres": version,
        "pg_settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
        "python": platform.python_version(),
        "django": importlib.metadata.version("django"),
        "ninja": importlib.metadata.version("django-ninja"),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "os": f"{platform.system()} {platform.machine()}",
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "speed": f"{python_speed():.3f}",
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def cpu_text(run: Run) -> str:
    app = f"{run.app_ms:.1f}" if run.app_ms else "—"
    db = f"{run.db_ms:.2f}" if run.db_ms < 1 else f"{run.db_ms:.1f}"
    gen = f"{run.gen_ms:.2f}" if run.gen_ms else "—"
    return f"{app} + {db} + {gen}"


def run_row(run: Run) -> str:
    return (
        f"| {run.label} | **{run.rate:,.0f}** | {ms(run.p50)} | {ms(run.p90)} | {ms(run.p99)} | {ms(run.max)} "
        f"| {run.created:,} | {run.error_text()} | {cpu_text(run)} | {run.others:.0%} |"
    )


RUN_HEADER = [
    "| | creations/s | p50 ms | p90 ms | p99 ms | max ms | created in the window | errors in the window "
    "| CPU ms per creation: app + PostgreSQL + load generator | others' CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


@dataclass
class Round:
    speed: float  # python_speed() just before the round
    main: Run
    ceiling: Run
    peer: Run


@dataclass
class Report:
    machine: dict[str, str]
    cg: CivicGrid
    peer: Peer
    sweep: list[tuple[Config, Run]]
    kept: Config
    kept_why: str
    main: Run
    ceiling: Run
    peer_run: Run
    rounds: list[Round]
    open_runs: list[Run]
    crash: Crash
    profile: Profile | None
    total_s: float
    speed_end: float

    def target_met(self) -> bool:
        return self.main.rate >= TARGET_RATE and self.main.p99 < TARGET_P99

    def lines(self) -> list[str]:
        m = self.machine
        out = [
            f"Measured {datetime.date.today().isoformat()} on {m['cpu']}, {m['nproc']} cores (`nproc`), "
            f"{m['ram']} RAM, {m['os']}; PostgreSQL {m['postgres']} on 127.0.0.1 ({m['pg_settings']}); "
            f"Python {m['python']}, Django {m['django']}, django-ninja {m['ninja']}, gunicorn {m['gunicorn']}; "
            f"peer: {self.peer.versions}. Load average at the start: {m['load']}. Speed check (a fixed "
            f"pure-Python loop, best of 3; on this shared VM the same loop has taken from 0.24 to 0.37 s, and "
            f"every figure below scales with it): {m['speed']} s at the start, {self.speed_end:.3f} s at the end.",
            "",
            f"Sizes: {self.cg.cells} active demo grid cells; {N_POINTS:,} seeded random points (numpy seed "
            f"{SEED}) uniform over their union, one per request; {CONCURRENCY} concurrent connections, "
            "HTTP/1.1 keep-alive (closed loop: each sends its next request when the answer is in), and "
            f"`pgbench -c {CONCURRENCY} -j 2`; warm-up {WARMUP:.0f} s, then {DURATION:.0f} s measured "
            f"(the worker sweep: {SWEEP_DURATION:.0f} s). A request counts in the window it completes in; its "
            "latency runs from its first byte sent to the last byte of the answer. The servers, PostgreSQL "
            "and the load generator share the machine's cores; *others' CPU* is what processes outside the "
            "bench used meanwhile, as a share of all cores (a lower bound): above a few per cent the rates "
            "and latencies of that row are too low. *CPU ms per creation* is the CPU time of the web server's "
            "processes (gunicorn's master and workers) and of PostgreSQL's over the whole run, divided by the "
            "answers (for pgbench: PostgreSQL's per transaction), and of the load generator per request it "
            "sent; it hardly depends on what else runs, and "
            f"{TARGET_RATE:.0f} creations/s on {NCPU} cores leave at most {NCPU * 1000 / TARGET_RATE:.1f} ms "
            "of CPU per creation for everything (web server, PostgreSQL, load generator).",
            "",
            f"**Side by side** ({config_label(self.kept)} for both web servers), in {len(self.rounds)} rounds "
            "(each: CivicGrid, pgbench, the peer, one after the other), because this VM's speed drifts; the "
            "speed check before each round is in its first column:",
            "",
            *RUN_HEADER,
            *[
                row
                for r in self.rounds
                for row in (
                    f"| *round {self.rounds.index(r) + 1}: speed check {r.speed:.3f} s* | | | | | | | | | |",
                    run_row(r.main),
                    run_row(r.ceiling),
                    run_row(r.peer),
                )
            ],
            "",
            f"Target: {TARGET_RATE:.0f} creations/s with p99 under {TARGET_P99 * 1000:.0f} ms, ahead of the "
            f"peer, read on the median round ({self.main.label.split('(')[-1].rstrip(')')}: {self.main.rate:,.0f}"
            f"/s, p99 {ms(self.main.p99)} ms) against the peer's median ({self.peer_run.rate:,.0f}/s) — "
            f"{self.verdict()}. Rounds meeting the target: {self.rounds_met()} of {len(self.rounds)}. CivicGrid "
            f"makes {self.main.rate / self.peer_run.rate:.2f}× the peer's creations/s and "
            f"{self.main.rate / self.ceiling.rate:.2%} of the pgbench ceiling.",
            "",
            f"**Worker configurations** (CivicGrid, closed loop, {SWEEP_DURATION:.0f} s each). Kept: "
            f"{config_label(self.kept)} — {self.kept_why}.",
            "",
            *RUN_HEADER,
            *[run_row(run) for _, run in self.sweep],
            "",
        ]
        if self.open_runs:
            out += [
                f"**Open loop** (CivicGrid, {config_label(self.kept)}): requests start on a seeded Poisson "
                f"schedule whatever the server does, on up to {OPEN_CONNECTIONS} connections; latency runs from "
                f"the scheduled start, so waiting for a connection counts; {WARMUP:.0f} s warm-up + "
                f"{OPEN_DURATION:.0f} s.",
                "",
                "| offered/s | creations/s | p50 ms | p90 ms | p99 ms | max ms | never started | errors "
                "| CPU ms per creation: app + PostgreSQL + load generator | others' CPU |",
                "|---|---|---|---|---|---|---|---|---|---|",
                *[
                    f"| {r.offered:,.0f} | **{r.rate:,.0f}** | {ms(r.p50)} | {ms(r.p90)} | {ms(r.p99)} "
                    f"| {ms(r.max)} | {r.unfinished:,} | {r.error_text()} | {cpu_text(r)} | {r.others:.0%} |"
                    for r in self.open_runs
                ],
                "",
            ]
        c = self.crash
        other = ", ".join(f"{k}: {v}" for k, v in sorted(c.other_errors.items())) or "0"
        out += [
            f"**Crash test** ({config_label(self.kept)}, {CONCURRENCY} connections, {CRASH_SECONDS:.0f} s of "
            f"load): SIGKILL to gunicorn's process group (master and workers) after {CRASH_KILL_AFTER:.0f} s, "
            f"restart {CRASH_DOWN:.0f} s later; answering again {c.downtime_s:.1f} s after the kill. Then the "
            "database is checked, and every request that reached the server without a 2xx answer is sent "
            "again with its own intake key.",
            "",
            "| | count |",
            "|---|---|",
            f"| requests answered 201 | {c.acknowledged:,} |",
            f"| … missing from the database after the restart | **{c.missing}** |",
            f"| requests that failed in flight (sent, connection lost) | {c.in_flight} |",
            f"| … committed before the kill (their key is in the database) | {c.committed_unanswered} |",
            f"| requests refused while the server was down (never sent) | {c.refused:,} |",
            f"| other answers than 200/201 | {other} |",
            f"| re-sent with the same intake key | {c.resent} |",
            f"| … answered 201 (created now) | {c.resent_201} |",
            f"| … answered 200 (committed before the kill; the stored number) | {c.resent_200} "
            f"({c.resent_200_same_number}) |",
            f"| … failed | {c.resent_failed} |",
            f"| duplicate cases (a key or a number twice, or a case nobody was answered for) | **{c.duplicates}** |",
            "",
            f"Crash test: **{'passed' if c.ok else 'FAILED'}**.",
            "",
        ]
        if self.profile is not None:
            p = self.profile
            out += [
                f"**Where the time goes** (cProfile of one sync worker, {p.requests:,} requests on 2 connections; "
                "cProfile slows Python code about twofold, so read the shares): "
                f"{p.ms_per_request:.1f} ms per request in the worker; {p.queries_per_request:.1f} SQL statements "
                f"per request, {p.db_ms_per_request:.1f} ms of it waiting for them (wall time in the driver).",
                "",
                "| function (cumulative, CivicGrid's and a few framework steps) | ms per request | share |",
                "|---|---|---|",
                *[f"| `{where}` | {per:.1f} | {share:.0%} |" for where, per, share in p.top],
                "",
                "| SQL statement | per request | ms per request |",
                "|---|---|---|",
                *[f"| `{shape}` | {calls:.2f} | {per:.2f} |" for shape, calls, per in p.sql],
                "",
                "The costliest SELECTs under `EXPLAIN (ANALYZE, SUMMARY)` (best of 5, one idle connection):",
                "",
                "| SQL statement | planning ms | execution ms |",
                "|---|---|---|",
                *[f"| `{shape}` | {plan:.2f} | {run:.2f} |" for shape, plan, run in p.plans],
                "",
            ]
        out += [
            f"Command: `{COMMAND}` (`scripts/with-postgres.sh .venv/bin/python bench/intake.py`); the run "
            f"took {self.total_s:.0f} s, of which setup (not measured): CivicGrid migrate + demo geography "
            f"{self.cg.setup_s:.0f} s, beside the peer's venv + migrate {self.peer.setup_s:.0f} s. One run: on "
            "a shared machine, repeat it before reading much into differences of a few tens of per cent.",
        ]
        return out

    def rounds_met(self) -> int:
        return sum(1 for r in self.rounds if r.main.rate >= TARGET_RATE and r.main.p99 < TARGET_P99)

    def verdict(self) -> str:
        misses = []
        if self.main.rate < TARGET_RATE:
            misses.append(f"{self.main.rate:,.0f} creations/s")
        if self.main.p99 >= TARGET_P99:
            misses.append(f"p99 {ms(self.main.p99)} ms")
        if self.main.rate <= self.peer_run.rate:
            misses.append("behind the peer")
        return "**met**" if not misses else "**missed** (" + "; ".join(misses) + ")"


def write_doc(section_lines: list[str]) -> None:
    text = (
        DOC.read_text(encoding="utf-8")
        if DOC.exists()
        else "# Benchmarks\n\nFigures from the scripts in `bench/`.\n"
    )
    lines = text.rstrip("\n").split("\n")
    section = [SECTION, "", *section_lines, ""]
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        old = lines[start:end]
        if NOTES_MARKER in old:
            section += old[old.index(NOTES_MARKER) :]
        lines[start:end] = section
    else:
        lines += ["", *section]
    DOC.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


# --- Main --------------------------------------------------------------------------------------------------


def choose(sweep: list[tuple[Config, Run]]) -> tuple[Config, str]:
    """The configuration `make run` serves with: the figures are those of what ships. The sweep beside it
    shows what the others do (5 s each on a VM whose speed drifts: read differences under ~15 % as noise)."""
    fastest, best = max(sweep, key=lambda item: item[1].rate)
    served = next(run for config, run in sweep if config == SERVED)
    note = "the configuration `make run` serves with"
    if fastest != SERVED:
        note += (
            f"; in the sweep {config_label(fastest)} made {best.rate / served.rate - 1:+.0%} creations/s, "
            "within this machine's drift"
            if best.rate < 1.15 * served.rate
            else f"; in the sweep {config_label(fastest)} made {best.rate / served.rate - 1:+.0%} creations/s"
        )
    return SERVED, note


def main() -> None:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL: run `make bench-intake`")
    started = time.perf_counter()
    create_databases(base)
    try:
        with tempfile.TemporaryDirectory(prefix="civicgrid-bench-intake-") as tmp_name:
            report = bench(base, Path(tmp_name), started)
    finally:
        drop_databases(base)
    print()
    for line in report.lines():
        print(line)
    write_doc(report.lines())
    print(f"\nwrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")
    if not report.crash.ok:
        raise SystemExit("the crash test failed: see the table above")


def bench(base: str, tmp: Path, started: float) -> Report:
    info = machine(base)
    note_postmaster(base)
    print(
        f"machine: {info['cpu']}, {info['nproc']} cores, {info['ram']}, load average {info['load']}; "
        f"PostgreSQL {info['postgres']} ({info['pg_settings']})",
        flush=True,
    )
    # The peer's setup (venv, migrate: subprocesses) runs in a thread beside CivicGrid's.
    peer_box: list[Peer | BaseException] = []

    def peer_setup() -> None:
        try:
            peer_box.append(setup_peer(db_url(base, DB_NAMES["peer"]), dict(os.environ)))
        except BaseException as exc:
            peer_box.append(exc)

    peer_thread = threading.Thread(target=peer_setup)
    peer_thread.start()
    cg = setup_civicgrid(db_url(base, DB_NAMES["civicgrid"]), tmp / "var")
    print(f"CivicGrid: migrate + demo geography {cg.setup_s:.0f} s; {cg.cells} grid cells", flush=True)
    peer_thread.join()
    if isinstance(peer_box[0], BaseException):
        raise peer_box[0]
    peer = peer_box[0]
    print(f"peer: {peer.versions}; venv + migrate {peer.setup_s:.0f} s", flush=True)

    print("worker configurations:", flush=True)
    sweep = []
    for config in CONFIGS:
        run = measure_civicgrid(cg, config, tmp, f"sweep-{config_key(config)}", SWEEP_DURATION)
        print(f"  {run_row(run)}", flush=True)
        sweep.append((config, run))
    kept, why = choose(sweep)
    print(f"kept: {config_label(kept)} ({why}); side by side:", flush=True)
    rounds: list[Round] = []
    for number in range(1, ROUNDS + 1):
        speed = python_speed()
        main_run = measure_civicgrid(cg, kept, tmp, f"main{number}", DURATION)
        main_run.label += f" (round {number})"
        print(f"  {run_row(main_run)}", flush=True)
        ceiling = measure_pgbench(db_url(base, DB_NAMES["pgbench"]), tmp)
        ceiling.label += f" (round {number})"
        print(f"  {run_row(ceiling)}", flush=True)
        peer_run = measure_peer(peer, kept, tmp)
        peer_run.label += f" (round {number})"
        print(f"  {run_row(peer_run)}", flush=True)
        rounds.append(Round(speed, main_run, ceiling, peer_run))
    # The verdict is read on the median round (by CivicGrid's rate), with that round's own p99.
    median = sorted(rounds, key=lambda r: r.main.rate)[len(rounds) // 2]
    main_run, ceiling = median.main, median.ceiling
    peer_run = sorted((r.peer for r in rounds), key=lambda run: run.rate)[len(rounds) // 2]

    open_runs = [measure_civicgrid(cg, kept, tmp, "open-target", OPEN_DURATION, rate=TARGET_RATE)]
    if main_run.rate < TARGET_RATE:
        # The target is beyond this server: the latency at a rate it sustains (3/4 of its closed-loop rate).
        rate = float(max(1, round(main_run.rate * 0.75)))
        open_runs.append(measure_civicgrid(cg, kept, tmp, "open-sustained", OPEN_DURATION, rate=rate))
    for run in open_runs:
        print(
            f"  open loop, offered {run.offered:,.0f}/s: {run_row(run)} never started: {run.unfinished}",
            flush=True,
        )

    crash = crash_test(cg, kept, tmp)
    print(f"  crash test: {'passed' if crash.ok else 'FAILED'}: {crash}", flush=True)

    profile = None
    if not (main_run.rate >= TARGET_RATE and main_run.p99 < TARGET_P99):
        profile = profile_civicgrid(cg, tmp)
    return Report(
        machine=info,
        cg=cg,
        peer=peer,
        sweep=sweep,
        kept=kept,
        kept_why=why,
        main=main_run,
        ceiling=ceiling,
        peer_run=peer_run,
        rounds=rounds,
        open_runs=open_runs,
        crash=crash,
        profile=profile,
        total_s=time.perf_counter() - started,
        speed_end=python_speed(),
    )


if __name__ == "__main__":
    main()
