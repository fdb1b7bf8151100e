"""Benchmark: duplicate detection (疑似重复) — precision, recall and latency on planted near-duplicates.

Run from the project root:  .venv/bin/python bench/duplicates.py

Builds a throwaway SQLite database (migrate + the demo's geography and staff: 天心区, its streets,
communities and grid cells) and writes cases into it from the real texts of
../shared/data/messages/messages_with_votes.csv (messages whose title occurs once, so the file's own
repeats do not blur the truth):

- ORIGINALS real messages, open, at seeded random points of the district's grid cells, received over one
  month;
- planted near-duplicates of most originals (one, sometimes two): the text rephrased the way a second
  caller or an operator's note would say it — sentences reordered or dropped, the body cut, a few
  characters changed, the title rewritten with colloquial wrappers ("关于…的问题", "反映…"), the caller's
  phrasing ("你好，我要反映一下，…"), sometimes only a one-line summary — placed within 190 m and 7 days
  after their original; some without a point (the community only);
- distractors: other real messages within 200 m and 7 days of an original — the one with the most words
  in common (another request on much the same subject, the hard negative) and one or two at random; the
  original's text (rephrased) 1–3 km away, or 8–25 days earlier at the same place; and rephrased copies
  that are already closed or merged (never offered).

A pair (case, candidate) is a true duplicate when both are open, were planted from the same original, lie
within the radius (the same community when one has no point) and within the window. For every open case,
``duplicates_of`` (the case page's search, the hotline's is the same function) gives its candidates; the
report counts those offered (similarity ≥ threshold, top 5 as on screen) against the true pairs:
precision, recall, F1 at the policy's threshold and over a range of thresholds; the alternatives measured
on the same candidates (the place and time filter does not depend on the text measure); the query's
latency p50/p95 (one query + Python scoring, SQLite). The figures replace the section
"## Duplicate detection (bench/duplicates.py)" of docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import datetime
import importlib
import io
import logging
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Duplicate detection (bench/duplicates.py)"
COMMAND = ".venv/bin/python bench/duplicates.py"
MESSAGES = ROOT.parent / "shared" / "data" / "messages" / "messages_with_votes.csv"
DEMO_STEPS = ["civicgrid.jurisdictions.demo", "civicgrid.accounts.demo", "civicgrid.grids.demo"]
BENCH_USER = "tx_hotline"  # the county hotline's operator: sees every case of the district
SEED = 20260307
ORIGINALS = 900
DUPLICATE_SHARE = 0.7  # of the originals get a planted duplicate …
SECOND_SHARE = 0.2  # … and of those a second one
NO_POINT_SHARE = 0.1  # of the duplicates carry only their community
NEAR_DISTRACTORS = (1, 2)  # other real messages near each original (min, max)
RELATED_SAMPLE = 400  # the related distractor: the closest in words of this many other messages …
RELATED_MAX = 0.3  # … with less than this share of words in common (jieba words, Jaccard)
FAR_SHARE, OLD_SHARE, CLOSED_SHARE = 0.25, 0.25, 0.1
MONTH_START = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
MONTH_DAYS = 30
SHOWN = 5  # candidates on screen
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
OPEN_STATUSES = ("received", "registered", "dispatched", "handling")

# --- Rephrasing -----------------------------------------------------------------------------------------

TITLE_WRAPPERS = (
    "关于{t}的问题",
    "反映{t}",
    "{t}，请尽快处理",
    "投诉{t}",
    "{t}的情况",
    "请问{t}",
    "{t}，没人管",
    "又是{t}",
)
OPENINGS = (
    "你好，我要反映一下，",
    "您好，我是附近的居民，",
    "喂，你好，",
    "你好，我想投诉一个事情，",
    "我要反映个问题，",
    "",
)
CLOSINGS = ("希望尽快处理，谢谢。", "麻烦你们管一管。", "请相关部门核实处理。", "已经好久了，没人管。", "")
_SENTENCE = re.compile(r"(?<=[。！？；!?;])")
_LEAD_WORDS = re.compile(r"^(关于|反映|投诉|咨询|建议|请问)")
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
    "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
    "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研质"
)


def _change_chars(text: str, rng: random.Random, k: int) -> str:
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in rng.sample(spots, min(k, len(spots))):
        chars[i] = rng.choice(COMMON)
    return "".join(chars)


def rephrase_title(title: str, rng: random.Random) -> str:
    core = _LEAD_WORDS.sub("", title).rstrip("？?！!。")
    roll = rng.random()
    if roll < 0.15:
        return _change_chars(title, rng, 2)
    if roll < 0.3 and len(core) > 8:  # keep the second half (the place dropped, or the other way round)
        cut = len(core) // 3
        core = core[cut:] if rng.random() < 0.5 else core[:-cut]
    return rng.choice(TITLE_WRAPPERS).format(t=core)


def rephrase_body(body: str, rng: random.Random) -> str:
    sentences = [s for s in _SENTENCE.split(body) if s.strip()]
    ops = rng.sample(["reorder", "drop", "cut", "chars"], k=rng.choice((1, 2, 3)))
    if "reorder" in ops and len(sentences) > 1:
        rng.shuffle(sentences)
    if "drop" in ops and len(sentences) > 2:
        keep = max(1, round(len(sentences) * rng.uniform(0.5, 0.8)))
        kept = sorted(rng.sample(range(len(sentences)), keep))
        sentences = [sentences[i] for i in kept]
    text = "".join(sentences)
    if "cut" in ops and len(text) > 40:
        text = text[: max(30, int(len(text) * rng.uniform(0.4, 0.8)))]
    if "chars" in ops:
        text = _change_chars(text, rng, rng.randint(2, 10))
    return rng.choice(OPENINGS) + text + rng.choice(CLOSINGS)


def rephrase(title: str, body: str, rng: random.Random) -> tuple[str, str, str]:
    """(title, description, how): most are a rephrased full text; one in five is an operator's short note."""
    new_title = rephrase_title(title, rng) if rng.random() < 0.8 else title
    if rng.random() < 0.2:  # the operator's note: one clause of some sentence, in the caller's words
        sentences = [s for s in _SENTENCE.split(body) if len(s.strip()) > 8] or [body]
        clause = rng.choice(sentences)
        start = rng.randrange(max(1, len(clause) - 15))
        note = clause[start : start + rng.randint(15, 40)]
        return new_title, rng.choice(OPENINGS) + note + rng.choice(CLOSINGS), "short note"
    return new_title, rephrase_body(body, rng), "rephrased"


# --- The data set ---------------------------------------------------------------------------------------


@dataclass
class Planted:
    number: str
    title: str
    description: str
    group: int  # the original's index; -1 for unrelated messages
    role: str  # original, duplicate, near, far, old, closed
    lon: float | None
    lat: float | None
    community: str  # origin path
    at: datetime.datetime
    status: str
    hidden_point: tuple[float, float] = (0.0, 0.0)


@dataclass
class DataSet:
    cases: list[Planted] = field(default_factory=list)

    def by_number(self) -> dict[str, Planted]:
        return {c.number: c for c in self.cases}


def read_messages() -> list[tuple[str, str]]:
    with MESSAGES.open(encoding="utf-8") as f:
        rows = [(r["留言主题"].strip(), "".join(r["留言详情"].split())) for r in csv.DictReader(f)]
    titles = Counter("".join(t.split()) for t, _ in rows)
    return [(t, d) for t, d in rows if titles["".join(t.split())] == 1 and len(d) >= 20 and t]


def _words(text: str) -> frozenset[str]:
    """Words of two characters or more (jieba), the neutral measure that picks the related distractors."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return frozenset(w for w in jieba.lcut(text[:400]) if len(w) >= 2)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def offset(lon: float, lat: float, metres: float, rng: random.Random) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111_320.0
    dlon = metres * math.sin(angle) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


def build_data(messages: list[tuple[str, str]]) -> DataSet:
    import shapely

    from civicgrid.grids.lookup import locate_grid_cell
    from civicgrid.grids.models import GridCell
    from civicgrid.lib.geometry import from_geojson

    rng = random.Random(SEED)
    area = shapely.union_all(
        [from_geojson(b) for b in GridCell.objects.filter(is_active=True).values_list("boundary", flat=True)]
    )
    min_lon, min_lat, max_lon, max_lat = area.bounds
    unused = set(range(len(messages)))
    words = [_words(t + d) for t, d in messages]
    data = DataSet()

    def place(lon: float, lat: float) -> str | None:
        cell = locate_grid_cell(lon, lat)
        return cell.community.path if cell is not None else None

    def random_point() -> tuple[float, float, str]:
        while True:
            lon, lat = round(rng.uniform(min_lon, max_lon), 6), round(rng.uniform(min_lat, max_lat), 6)
            where = place(lon, lat)
            if where is not None:
                return lon, lat, where

    def near(lon: float, lat: float, lo: float, hi: float) -> tuple[float, float, str]:
        for _ in range(200):
            p = offset(lon, lat, rng.uniform(lo, hi), rng)
            where = place(*p)
            if where is not None:
                return p[0], p[1], where
        raise RuntimeError("no point found near an original")

    def add(
        title: str, text: str, group: int, role: str, point: tuple[float, float, str], at: Any, **kw: Any
    ) -> None:
        no_point = kw.pop("no_point", False)
        data.cases.append(
            Planted(
                number=f"430100-2026-{len(data.cases) + 1:06d}",
                title=title[:200],
                description=text,
                group=group,
                role=role,
                lon=None if no_point else point[0],
                lat=None if no_point else point[1],
                community=point[2],
                at=at,
                status=kw.pop("status", rng.choice(OPEN_STATUSES)),
                hidden_point=(point[0], point[1]),
            )
        )

    for g in range(ORIGINALS):
        index = rng.choice(sorted(unused))
        unused.discard(index)
        title, body = messages[index]
        point = random_point()
        at = MONTH_START + datetime.timedelta(seconds=rng.uniform(0, MONTH_DAYS * 86400))
        add(title, body, g, "original", point, at)
        if rng.random() < DUPLICATE_SHARE:
            for _ in range(2 if rng.random() < SECOND_SHARE else 1):
                t, d, _how = rephrase(title, body, rng)
                when = at + datetime.timedelta(days=rng.uniform(0.02, 6.9))
                add(t, d, g, "duplicate", near(point[0], point[1], 0, 190), when,
                    no_point=rng.random() < NO_POINT_SHARE)  # fmt: skip
        # The hardest negative: a different message on much the same subject (most words in common),
        # nearby and at about the same time — two noise complaints about two different sites.
        # Below RELATED_MAX: the file holds the same petition posted twice under two titles, which is a
        # duplicate, not a distractor.
        ranked = sorted(
            ((_jaccard(words[k], words[index]), k) for k in rng.sample(sorted(unused), RELATED_SAMPLE)),
            reverse=True,
        )
        related = next((k for j, k in ranked if j < RELATED_MAX), ranked[-1][1])
        unused.discard(related)
        when = at + datetime.timedelta(days=rng.uniform(-6.9, 6.9))
        add(*messages[related], -1, "related", near(point[0], point[1], 0, 195), when)
        for _ in range(rng.randint(*NEAR_DISTRACTORS)):
            other = rng.choice(sorted(unused))
            unused.discard(other)
            other_title, other_body = messages[other]
            when = at + datetime.timedelta(days=rng.uniform(-6.9, 6.9))
            add(other_title, other_body, -1, "near", near(point[0], point[1], 0, 195), when)
        if rng.random() < FAR_SHARE:
            t, d, _how = rephrase(title, body, rng)
            when = at + datetime.timedelta(days=rng.uniform(-3, 3))
            add(t, d, g, "far", near(point[0], point[1], 1000, 3000), when)
        if rng.random() < OLD_SHARE:
            t, d, _how = rephrase(title, body, rng)
            when = at - datetime.timedelta(days=rng.uniform(8, 25))
            add(t, d, g, "old", near(point[0], point[1], 0, 150), when)
        if rng.random() < CLOSED_SHARE:
            t, d, _how = rephrase(title, body, rng)
            when = at + datetime.timedelta(days=rng.uniform(0.1, 5))
            add(t, d, g, "closed", near(point[0], point[1], 0, 150), when,
                status=rng.choice(("resolved", "merged", "void")))  # fmt: skip
    return data


def store(data: DataSet) -> None:
    """The cases as rows (bench data; the intake's actions, clocks and events are not what is measured)."""
    from civicgrid.cases.models import Case
    from civicgrid.jurisdictions.models import Jurisdiction

    places = {j.path: j for j in Jurisdiction.objects.all()}
    county = next(j for j in places.values() if j.code == "430103")
    rows = [
        Case(
            number=c.number,
            channel="hotline",
            nature="complaint",
            title=c.title,
            description=c.description,
            lon=c.lon,
            lat=c.lat,
            origin=places[c.community],
            origin_path=c.community,
            jurisdiction=county,
            level=county.level,
            level_path=county.path,
            status=c.status,
            version=1,
            received_at=c.at,
            updated_at=c.at,
        )
        for c in data.cases
    ]
    Case.objects.bulk_create(rows, batch_size=500)


# --- Truth and measures ---------------------------------------------------------------------------------


def is_true_pair(a: Planted, b: Planted, radius: float, window_days: float) -> bool:
    from civicgrid.triage.duplicates import distance_m

    # Far and old copies share the group: they fail the place or time test by construction, except a far
    # copy in the community of a duplicate that has no point, which is one by the definition.
    if a.group < 0 or a.group != b.group:
        return False
    if abs((a.at - b.at).total_seconds()) > window_days * 86400:
        return False
    if a.lon is None or b.lon is None or a.lat is None or b.lat is None:
        return a.community == b.community
    return distance_m(a.lon, a.lat, b.lon, b.lat) <= radius


@dataclass(frozen=True)
class Scores:
    threshold: float
    offered: int
    hits: int
    truth: int

    @property
    def precision(self) -> float:
        return self.hits / self.offered if self.offered else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


# (case number, candidate number, similarity, score) for every candidate inside the radius and window.
Pool = dict[str, list[tuple[str, float, float]]]


def evaluate(pool: Pool, truth: set[tuple[str, str]], threshold: float) -> Scores:
    offered = hits = 0
    for q, cands in pool.items():
        shown = sorted((c for c in cands if c[1] >= threshold), key=lambda c: (-c[2], c[0]))[:SHOWN]
        offered += len(shown)
        hits += sum((q, c[0]) in truth for c in shown)
    return Scores(threshold, offered, hits, len(truth))


def alternatives() -> dict[str, Callable[[Any, Any], float]]:
    """Text measures compared on the same candidates; the first is the one find_duplicates uses."""
    from civicgrid.triage import duplicates as d

    def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
        return len(a & b) / len(a | b) if a and b else 0.0

    def cosine(a: frozenset[str], b: frozenset[str]) -> float:
        return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0

    def overlap(a: frozenset[str], b: frozenset[str]) -> float:
        return len(a & b) / min(len(a), len(b)) if a and b else 0.0

    def mean(a: frozenset[str], b: frozenset[str]) -> float:
        return (cosine(a, b) + overlap(a, b)) / 2

    return {
        "chosen: 0.3 × title + 0.7 × whole, cosine of bigram sets": d.similarity,
        "cosine of bigram sets, whole text": lambda a, b: cosine(a.whole, b.whole),
        "Jaccard, whole text": lambda a, b: jaccard(a.whole, b.whole),
        "overlap (containment), whole text": lambda a, b: overlap(a.whole, b.whole),
        "mean(cosine, overlap), whole text": lambda a, b: mean(a.whole, b.whole),
        "0.3 × title + 0.7 × whole, mean(cosine, overlap)": lambda a, b: (
            0.3 * mean(a.title, b.title) + 0.7 * mean(a.whole, b.whole)
        ),
        "better of title and whole, mean(cosine, overlap)": lambda a, b: max(
            mean(a.whole, b.whole), mean(a.title, b.title)
        ),
        "better of title and whole, Jaccard": lambda a, b: max(
            jaccard(a.whole, b.whole), jaccard(a.title, b.title)
        ),
    }


def tfidf_similarity(data: DataSet) -> Callable[[str, str], float]:
    """Bigram TF-IDF cosine with the idf of the whole bench corpus (an optimistic reference: the live
    search would need a document-frequency table kept up to date)."""
    from civicgrid.triage.duplicates import normalise

    def grams(text: str) -> Counter[str]:
        s = normalise(text)
        return Counter(s[i : i + 2] for i in range(len(s) - 1))

    docs = {c.number: grams(c.title + c.description) for c in data.cases}
    df: Counter[str] = Counter()
    for g in docs.values():
        df.update(g.keys())
    n = len(docs)
    vectors: dict[str, tuple[dict[str, float], float]] = {}
    for number, g in docs.items():
        v = {k: (1 + math.log(tf)) * math.log((1 + n) / (1 + df[k])) for k, tf in g.items()}
        vectors[number] = (v, math.sqrt(sum(x * x for x in v.values())) or 1.0)

    def sim(x: str, y: str) -> float:
        (va, na), (vb, nb) = vectors[x], vectors[y]
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(w * vb.get(k, 0.0) for k, w in va.items()) / (na * nb)

    return sim


@dataclass
class Results:
    machine: str
    counts: dict[str, int]
    truth: int
    queries: int
    default_threshold: float
    table: list[Scores]
    methods: list[tuple[str, Scores, Scores]]  # name, at the default threshold, at its best threshold
    latency_ms: tuple[float, float, float]
    pool_mean: float
    misses: Counter[str]
    wrong: Counter[str]
    build_s: float


def measure(data: DataSet, build_s: float) -> Results:
    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case
    from civicgrid.triage.duplicates import duplicates_of, features
    from civicgrid.triage.policy import policy

    rules = policy()
    radius, window = float(rules.duplicate_radius_m), float(rules.duplicate_window_days)
    default = float(rules.duplicate_min_similarity)
    user = User.objects.get(username=BENCH_USER)
    planted = data.by_number()
    open_cases = [c for c in data.cases if c.status in OPEN_STATUSES]
    truth = {
        (a.number, b.number)
        for a in open_cases
        for b in open_cases
        if a.number != b.number and a.group >= 0 and is_true_pair(a, b, radius, window)
    }
    cases = {c.number: c for c in Case.objects.filter(number__in=[c.number for c in open_cases])}
    # The live search at the policy's settings, timed; then every candidate (threshold 0) for the tables.
    timings: list[float] = []
    for c in open_cases:
        started = time.perf_counter()
        duplicates_of(cases[c.number], user=user)
        timings.append((time.perf_counter() - started) * 1000)
    pool: Pool = {}
    for c in open_cases:
        found = duplicates_of(cases[c.number], user=user, limit=None, min_similarity=0.0)
        pool[c.number] = [(x.number, x.similarity, x.score) for x in found]
    table = [evaluate(pool, truth, t) for t in sorted({*THRESHOLDS, default})]
    shown = {
        (q, x[0])
        for q, cands in pool.items()
        for x in sorted((x for x in cands if x[1] >= default), key=lambda x: (-x[2], x[0]))[:SHOWN]
    }
    misses: Counter[str] = Counter()
    for q, other in truth - shown:
        misses[f"{planted[q].role}→{planted[other].role}"] += 1
    wrong: Counter[str] = Counter()
    for q, other in shown - truth:
        wrong[f"{planted[q].role}→{planted[other].role}"] += 1
    # The alternatives: the same candidates, re-scored by each measure (the score's place and time factor
    # is the candidate's score / similarity, so the order is comparable).
    feats = {c.number: features(c.title, c.description) for c in data.cases}
    measures: dict[str, Callable[[str, str], float]] = {
        name: (lambda f: lambda x, y: f(feats[x], feats[y]))(fn) for name, fn in alternatives().items()
    }
    measures["bigram TF-IDF cosine (corpus idf)"] = tfidf_similarity(data)
    methods: list[tuple[str, Scores, Scores]] = []
    for name, fn in measures.items():
        repooled: Pool = {}
        for q, cands in pool.items():
            rows = []
            for number, sim, score in cands:
                factor = score / sim if sim > 0 else 0.7
                s = fn(q, number)
                rows.append((number, s, s * factor))
            repooled[q] = rows
        grid = [evaluate(repooled, truth, t / 100) for t in range(5, 96)]
        best = max(grid, key=lambda s: (round(s.f1, 4), -abs(s.threshold - default)))
        methods.append((name, evaluate(repooled, truth, default), best))
    timings.sort()
    counts = Counter(c.role for c in data.cases)
    return Results(
        machine=machine_line(),
        counts=dict(counts),
        truth=len(truth),
        queries=len(open_cases),
        default_threshold=default,
        table=table,
        methods=methods,
        latency_ms=(
            statistics.median(timings),
            timings[int(0.95 * (len(timings) - 1))],
            timings[-1],
        ),
        pool_mean=sum(len(v) for v in pool.values()) / max(1, len(pool)),
        misses=misses,
        wrong=wrong,
        build_s=build_s,
    )


# --- Output ---------------------------------------------------------------------------------------------


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import sqlite3

    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}"
    )


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def lines(r: Results) -> list[str]:
    c = r.counts
    out = [
        f"Cases: {sum(c.values()):,} — {c.get('original', 0):,} originals, {c.get('duplicate', 0):,} planted "
        f"near-duplicates, {c.get('near', 0):,} random other messages nearby, {c.get('far', 0):,} copies 1–3 km away, "
        f"{c.get('related', 0):,} related messages nearby, {c.get('old', 0):,} copies older than the window, "
        f"{c.get('closed', 0):,} closed or merged copies. "
        f"{r.queries:,} open cases searched (`duplicates_of` as {BENCH_USER}, top {SHOWN}); "
        f"{r.truth:,} true (case, duplicate) pairs in both directions; on average {r.pool_mean:.1f} open "
        "cases lie within the radius and window of a case (what the text measure has to sort out).",
        "",
        f"By threshold (the policy's duplicate_min_similarity is {r.default_threshold:.2f}):",
        "",
        "| threshold | offered | true | precision | recall | F1 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r.table:
        mark = " **(policy)**" if abs(s.threshold - r.default_threshold) < 1e-9 else ""
        out.append(
            f"| {s.threshold:.2f}{mark} | {s.offered:,} | {s.hits:,} | {_pct(s.precision)} | {_pct(s.recall)} "
            f"| {s.f1:.3f} |"
        )
    out += [
        "",
        "Text measures compared on the same candidates (same place and time filter and score factor):",
        "",
        f"| measure | P @ {r.default_threshold:.2f} | R @ {r.default_threshold:.2f} | F1 @ {r.default_threshold:.2f} "
        "| best F1 | at threshold | P | R |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, at, best in r.methods:
        out.append(
            f"| {name} | {_pct(at.precision)} | {_pct(at.recall)} | {at.f1:.3f} | {best.f1:.3f} | {best.threshold:.2f} "
            f"| {_pct(best.precision)} | {_pct(best.recall)} |"
        )
    p50, p95, worst = r.latency_ms
    missed = ", ".join(f"{k} {v}" for k, v in r.misses.most_common()) or "none"
    wrongly = ", ".join(f"{k} {v}" for k, v in r.wrong.most_common()) or "none"
    out += [
        "",
        f"Latency of one search (`duplicates_of`, one query + scoring): p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"max {worst:.2f} ms.",
        "",
        f"True pairs missed at the policy's threshold, by (case → its duplicate) roles: {missed}. "
        f"Offered wrongly, by (case → candidate) roles: {wrongly} (a `related` message is another message "
        "on much the same subject nearby: the hard negatives).",
    ]
    return out


def report(r: Results) -> None:
    print(f"\nmachine: {r.machine}")
    for line in lines(r):
        print(line)


def write_doc(r: Results) -> None:
    section = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {r.machine}.",
        "",
        "Planted near-duplicates in a throwaway SQLite database with the demo's geography (天心区): real "
        "messages of `messages_with_votes.csv` as originals over one month, rephrased copies within 200 m "
        "and 7 days (sentences reordered or dropped, body cut, characters changed, colloquial titles and "
        "callers' openings, one in five only a short note; a tenth without a point, matched by community), "
        "and distractors nearby at about the same time: for each original the message with the most words "
        "in common (jieba, Jaccard < 0.3) among 400 others (`related`) and one or two random ones (`near`); "
        "the same text far away or older than the window; closed or merged copies. Precision and recall count the pairs offered on screen (top 5 above the "
        f"threshold) against the planted pairs; setting the data up took {r.build_s:.0f} s (not measured). "
        "One run, seeded (the data set is the same every run); latency is wall-clock time on a shared "
        "machine.",
        "",
        *lines(r),
        "",
        f"Command: `{COMMAND}`.",
        "",
    ]
    text = (
        DOC.read_text(encoding="utf-8")
        if DOC.exists()
        else "# Benchmarks\n\nFigures from the scripts in `bench/`.\n"
    )
    doc_lines = text.rstrip("\n").split("\n")
    if SECTION in doc_lines:
        start = doc_lines.index(SECTION)
        end = next(
            (k for k in range(start + 1, len(doc_lines)) if doc_lines[k].startswith("## ")), len(doc_lines)
        )
        doc_lines[start:end] = section
    else:
        doc_lines += ["", *section]
    DOC.write_text("\n".join(doc_lines).rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as var_dir:
        # A private embedded database: never the developer's var/ or a DATABASE_URL from the shell.
        os.environ["CIVICGRID_VAR_DIR"] = var_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command
        from django.db import connection, transaction

        from civicgrid.demo.context import DEMO_PASSWORD, DemoContext

        started = time.perf_counter()
        print(f"database: {var_dir}/civicgrid.sqlite3 (temporary)")
        call_command("migrate", verbosity=0, stdout=io.StringIO())
        ctx = DemoContext(
            data_dir=settings.SHARED_DATA_DIR, say=lambda _: None, password_hash=make_password(DEMO_PASSWORD)
        )
        with transaction.atomic():
            for dotted in DEMO_STEPS:
                importlib.import_module(dotted).load(ctx)
        messages = read_messages()
        data = build_data(messages)
        store(data)
        build_s = time.perf_counter() - started
        print(f"set up: {build_s:.1f} s, {len(data.cases):,} cases")
        results = measure(data, build_s)
        connection.close()
    report(results)
    write_doc(results)
    print(f"\nwrote the section {SECTION!r} in {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
