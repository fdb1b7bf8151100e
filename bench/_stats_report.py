"""bench/stats.py's results: the build and the data measured, the EXPLAINs, and the section of
docs/benchmarks.md written from them."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _stats_data import DAYS
from _stats_sets import SQL_COUNTERS, Item, Node, Paths, Timed, pct, stat3
from intake import admin_connect

if TYPE_CHECKING:
    pass

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Statistics: dashboard and monthly report (bench/stats.py)"
NOTES_MARKER = "<!-- Notes below this line are written by hand; bench/stats.py keeps them. -->"
COMMAND = "make bench-stats"
TARGET_MS = 300.0
CASE_TABLES = ["cases_case", "cases_caseclock", "cases_caseassignment", "cases_caseevent", "cases_revisit"]
STATS_TABLES = ["stats_casefact", "stats_dailyfigures", "stats_monthlyfigures", "stats_monthlyduration"]


@dataclass
class Rebuild:
    seconds: float
    facts_s: float
    rollups_s: float
    statements: dict[str, tuple[int, float]]  # kind → (count, seconds)
    temp_files: int
    temp_bytes: int
    disk_peak: int  # bytes of disk used at the peak beyond what was used before
    vacuum_s: float
    per_row_us: dict[str, float]  # the facts step per case: SQL fetch, Python, COPY (a sample)
    rollup_work_mem: str  # work_mem set for the rollup statements ("": the server's)
    chunk_plan: str  # EXPLAIN (ANALYZE, BUFFERS) of one chunk of the facts SELECT

    def as_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Rebuild:
        raw = json.loads(text)
        raw["statements"] = {k: tuple(v) for k, v in raw["statements"].items()}
        return cls(**raw)


@dataclass
class Sizes:
    rows: dict[str, int]
    table_bytes: dict[str, int]
    index_bytes: dict[str, int]
    database_bytes: int
    shape: dict[str, int]  # the city's figures over the whole span: what the data looks like
    nodes: dict[str, int]  # jurisdictions per level, units, categories, grid cells


# --- EXPLAIN ---------------------------------------------------------------------------------------------

INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
SEQ_RE = re.compile(r"Seq Scan on (\S+)")


@dataclass
class Explained:
    label: str
    sql: str
    text: str
    execution_ms: float
    indexes: list[str]
    seq_scans: list[str]


def captured(fn: Callable[[], Any]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


def explain(url: str, label: str, sql: str) -> Explained:
    """EXPLAIN (ANALYZE, BUFFERS), the third run (warm)."""
    text = ""
    with admin_connect(url) as conn:
        for _ in range(3):
            text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall())
    found = re.search(r"Execution Time: ([\d.]+)", text)
    assert found is not None
    return Explained(label, sql, text, float(found.group(1)), INDEX_RE.findall(text), SEQ_RE.findall(text))


# --- The report ----------------------------------------------------------------------------------------------


@dataclass
class SetRun:
    set_name: str  # dashboard / monthly report
    node: Node
    make: Callable[[Node, Paths], list[Item]]
    rollup: Timed
    scan: Timed
    sql: Timed

    @property
    def label(self) -> str:
        return f"{self.set_name}, {self.node.label}"


@dataclass
class RankingRun:
    """An assessment scheme's ranking of last month, by the rollups and by the scan."""

    label: str
    subjects: int
    ranked: int
    red: int
    black: int
    rollup: Timed
    scan: Timed


@dataclass
class Report:
    machine: dict[str, str]
    cases: int
    sizes: Sizes
    load_s: float
    load_steps: dict[str, float]
    loaded_at: str
    reused: bool
    rebuild: Rebuild
    runs: list[SetRun]
    checks: int
    explained: list[Explained]
    sql_ms: dict[str, float]  # set label → SQL execution time of all its statements (EXPLAIN), city
    statements: dict[str, int]  # set label → statements run by the rollup path
    today: datetime.date
    total_s: float
    load_end: str
    speed_end: float
    reps: int
    peer_reps: int
    rankings: list[RankingRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        m, s, r = self.machine, self.sizes, self.rebuild
        gib = 2**30

        def size(table: str) -> str:
            return f"{s.table_bytes[table] / gib:.2f} + {s.index_bytes[table] / gib:.2f} GiB"

        shape = s.shape
        out = [
            f"Measured {datetime.date.today().isoformat()} on {m['cpu']}, {m['nproc']} cores (`nproc`), "
            f"{m['ram']} RAM, {m['os']}; PostgreSQL {m['postgres']} on 127.0.0.1 ({m['pg_settings']}, "
            f"work_mem={m.get('work_mem', '?')}); Python {m['python']}, Django {m['django']}. Load average "
            f"before measuring: {m['load']}; after: {self.load_end}. Speed check (the fixed pure-Python loop of "
            f"bench/intake.py, best of 3): {m['speed']} s at the start, {self.speed_end:.3f} s at the end. "
            "Others were working on the machine at the same time.",
            "",
            f'**Data: {self.cases:,} cases** received over {DAYS} days up to {self.today.isoformat()} ("today" '
            "of the figures), generated by bench/_stats_data.py in set-based SQL (seeded): "
            f"1 city, {s.nodes['county']} districts, {s.nodes['township']} streets, {s.nodes['community']:,} "
            f"communities, {s.nodes['grid cells']:,} grid cells, {s.nodes['units']} units, "
            f"{s.nodes['categories']} categories. Over the whole span the city counts {shape['received']:,} "
            f"received, {shape['due']:,} due ({shape['received'] - shape['due']:,} dropped), "
            f"{shape['closed']:,} closed ({shape['closed_on_time']:,} on time), "
            f"{shape['due'] - shape['closed']:,} open ({shape['overdue_open']:,} overdue), "
            f"{shape['direct']:,} answered directly, {shape['returned']:,} returned ({shape['returns']:,} "
            f"returns), {shape['escalated']:,} escalated, {shape['extended']:,} extended, "
            f"{shape['reworked']:,} reworked, {shape['reopened']:,} reopened, {shape['revisited']:,} "
            f"revisited ({shape['satisfied']:,} satisfied, {shape['basically_satisfied']:,} basically).",
            "",
            "Rows and sizes (table + indexes):",
            "",
            "| table | rows | size |",
            "|---|---|---|",
            *[f"| `{t}` | {s.rows[t]:,} | {size(t)} |" for t in CASE_TABLES + STATS_TABLES],
            f"| the whole database | | {s.database_bytes / gib:.1f} GiB |",
            "",
            f"Load: {self.load_s:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in self.load_steps.items())
            + ")"
            + (
                f"; this run reused the database loaded {self.loaded_at[:16].replace('T', ' ')} UTC."
                if self.reused
                else "."
            ),
            "",
            f"**Build: `do_rebuild(actor=None)` took {r.seconds:.0f} s** (facts {r.facts_s:.0f} s, rollups "
            f"{r.rollups_s:.0f} s), then VACUUM ANALYZE of the statistics' tables {r.vacuum_s:.0f} s; temporary "
            f"files {r.temp_files:,} ({r.temp_bytes / gib:.1f} GiB), disk used at the peak "
            f"+{r.disk_peak / gib:.1f} GiB (the whole machine's disk, others' files included). "
            + (
                f"The rollup statements ran with `SET LOCAL work_mem = '{r.rollup_work_mem}'` (a Django execute "
                "wrapper of the bench, before `CREATE TEMPORARY TABLE stats_tmp_nodes`; the facts step with the "
                "server's work_mem): with 4MB the monthly aggregation spills to disk (see the notes). "
                if r.rollup_work_mem
                else "The server's work_mem throughout. "
            )
            + "Its statements:",
            "",
            "| part | statements | s |",
            "|---|---|---|",
            *[
                f"| {k} | {c:,} | {sec:.1f} |"
                for k, (c, sec) in sorted(r.statements.items(), key=lambda kv: -kv[1][1])
            ],
            "",
            "The facts step per case, measured on a sample of 50,000 cases after the build (the same SELECT, "
            "`fact_of` and COPY): " + ", ".join(f"{k} {v:.1f} µs" for k, v in r.per_row_us.items()) + ".",
            "",
            "<details><summary>The facts SELECT for one chunk of 5,000 cases (`EXPLAIN (ANALYZE, BUFFERS)` after "
            "the build)</summary>",
            "",
            "```",
            *r.chunk_plan.splitlines(),
            "```",
            "",
            "</details>",
            "",
            f"Method: in-process (Django's connection, as a view runs them; DEBUG off), warm caches (one "
            f"unmeasured run first), the rollup path {self.reps} times and each peer {self.peer_reps} times; "
            "each query is timed inside each run of its set. *Full scan* = the same figures from "
            "`figures.scan_totals` / `scan_breakdown` / `scan_histogram` over `stats_casefact`; *plain SQL* = "
            "COUNT … FILTER straight over `cases_case` (receipt and closing times, the area rule on "
            "`origin_path` / `level_path`) for the counts a case row holds "
            f"({', '.join(SQL_COUNTERS)}; no durations). Before reporting, the bench asserted that the "
            f"rollups, the full scan and plain SQL give the same figures for every query below, and "
            f"{self.checks} more comparisons of `totals` with `scan_totals` (four nodes, seven periods, "
            "narrowed to a category, channel, nature, unit and grid cell); the city counts every case once.",
            "",
            f"Times in ms, p50 / p95 / max. Target: p95 under {TARGET_MS:.0f} ms for a dashboard and a "
            "monthly report.",
            "",
            f"| set | node | statements | rollups ({self.reps} runs) | full scan ({self.peer_reps}) "
            f"| plain SQL ({self.peer_reps}) | rollups p95 < {TARGET_MS:.0f} ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in self.runs:
            ok = "yes" if pct(run.rollup.total, 0.95) * 1000 < TARGET_MS else "**no**"
            key = run.label
            out.append(
                f"| {run.set_name} | {run.node.label} | {self.statements.get(key, 0)} | **{stat3(run.rollup.total)}** "
                f"| {stat3(run.scan.total)} | {stat3(run.sql.total)}* | {ok} |"
            )
        out += [
            "",
            "\\* plain SQL computes fewer figures (no durations, no clock, revisit or assignment counts), so its "
            "set is lighter than the others.",
            "",
            "Each query (p50 / p95 / max, ms):",
            "",
        ]
        for set_name in dict.fromkeys(run.set_name for run in self.runs):
            runs = [run for run in self.runs if run.set_name == set_name]
            header = (
                "| query | "
                + " | ".join(f"{run.node.label}: rollups | full scan | plain SQL" for run in runs)
                + " |"
            )
            out += [f"*{set_name}*", "", header, "|---|" + "---|---|---|" * len(runs)]
            for name in runs[0].rollup.items:
                cells = []
                for run in runs:
                    label = _match(name, run.rollup.items)
                    cells.append(
                        f"{stat3(run.rollup.items[label])} | {stat3(run.scan.items[label])} | "
                        + (stat3(run.sql.items[label]) if label in run.sql.items else "—")
                    )
                out.append(f"| {_generic(name)} | " + " | ".join(cells) + " |")
            out.append("")
        if self.rankings:
            out += [
                "**Assessment rankings** (docs/assessment.md): last month's ranking of a scheme — its subjects' "
                "figures, scores, ranks, red and black lists — as the assessment page builds it "
                "(`assessment.ranking.build_ranking`, on the rollups), beside the same ranking with the figures "
                "from a plain scan of the fact rows (`scan_breakdown` / `scan_totals`); the bench asserted the "
                "two agree on every subject. Units: 三率 (30/35/35, a floor on 满意率); grid cells: 按期结案率 and "
                "满意率; streets: five rates, two floors. p50 / p95 / max, ms:",
                "",
                f"| scheme | subjects | ranked | red / black | rollups ({self.reps} runs) | full scan ({self.peer_reps}) |",
                "|---|---|---|---|---|---|",
                *[
                    f"| {k.label} | {k.subjects:,} | {k.ranked:,} | {k.red} / {k.black} | **{stat3(k.rollup.total)}** "
                    f"| {stat3(k.scan.total)} |"
                    for k in self.rankings
                ],
                "",
            ]
        out += [
            "SQL execution time of the rollup path's statements for the city (sum of `EXPLAIN ANALYZE` "
            "execution times, warm): "
            + ", ".join(f"{k}: {v:.1f} ms" for k, v in self.sql_ms.items())
            + ". The rest of each load is Django: building the queries and the model-free rows.",
            "",
            "The slowest statements (`EXPLAIN (ANALYZE, BUFFERS)`, warm, third run):",
            "",
            "| statement | ms | indexes | seq scans |",
            "|---|---|---|---|",
        ]
        for e in self.explained:
            out.append(
                f"| {e.label} | {e.execution_ms:.2f} | {', '.join(f'`{i}`' for i in dict.fromkeys(e.indexes)) or '—'} "
                f"| {', '.join(f'`{t}`' for t in dict.fromkeys(e.seq_scans)) or '—'} |"
            )
        out.append("")
        for e in self.explained:
            out += [
                f"<details><summary>{e.label} — {e.execution_ms:.2f} ms</summary>",
                "",
                "```sql",
                e.sql if len(e.sql) < 3000 else e.sql[:3000] + " …",
                "```",
                "",
                "```",
                *e.text.splitlines(),
                "```",
                "",
                "</details>",
                "",
            ]
        out.append(
            f"Command: `{COMMAND}` (`.venv/bin/python bench/stats.py`; the cluster is kept in "
            "`var/bench-stats`, so a second run only measures). The run took "
            f"{self.total_s:.0f} s. One run on a shared machine: repeat it before reading much into "
            "differences of a few tens of per cent."
        )
        return out


def _generic(name: str) -> str:
    return re.sub(r"the \d+ child areas", "the child areas", name)


def _match(name: str, items: dict[str, list[float]]) -> str:
    return next(k for k in items if _generic(k) == _generic(name))


def write_doc(section_lines: list[str]) -> None:
    """Replace this bench's section of docs/benchmarks.md (or append it), keeping the hand-written notes."""
    lines = DOC.read_text(encoding="utf-8").rstrip("\n").split("\n")
    section = [SECTION, "", *section_lines, ""]
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        old = lines[start:end]
        section += old[old.index(NOTES_MARKER) :] if NOTES_MARKER in old else [NOTES_MARKER]
        lines[start:end] = section
    else:
        lines += ["", *section, NOTES_MARKER]
    DOC.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
