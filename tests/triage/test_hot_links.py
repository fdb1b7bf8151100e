"""hot.link looks for pairs only where they can be (squares of the radius, the cases of a place, the
strongest n-grams for far pairs): checked against comparing every case with every other on real texts."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from django.conf import settings

from civicgrid.triage import hot

START = datetime(2026, 11, 1, tzinfo=UTC)
CENTRE = (112.98, 28.12)


def cases(n: int = 700, seed: int = 5) -> list[hot.HotCase]:
    """Real messages at random points of a 6 km square (a tenth without a point, placed by community),
    with rephrased copies near and far: plenty of near pairs, far pairs and neither."""
    rng = random.Random(seed)
    path = Path(settings.SHARED_DATA_DIR) / "messages" / "messages_with_votes.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [(r["留言主题"], r["留言详情"]) for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    out: list[hot.HotCase] = []

    def add(title: str, body: str, lon: float, lat: float) -> None:
        pointless = rng.random() < 0.1
        out.append(
            hot.HotCase(
                id=len(out) + 1,
                title=title,
                description=body,
                received_at=START,
                lon=None if pointless else lon,
                lat=None if pointless else lat,
                place_id=int((lon - CENTRE[0]) * 50) * 100 + int((lat - CENTRE[1]) * 50),
            )
        )

    for title, body in rows:
        lon, lat = CENTRE[0] + rng.uniform(0, 0.06), CENTRE[1] + rng.uniform(0, 0.06)
        add(title, body, lon, lat)
        roll = rng.random()
        if roll < 0.2:  # a neighbour's re-telling
            add(title[2:], body[: len(body) // 2], lon + rng.uniform(-0.005, 0.005), lat + 0.004)
        elif roll < 0.3:  # the same text far away
            add(title, body, lon + 0.2, lat - 0.1)
    return out


def oracle(items: list[hot.HotCase], x: sp.csr_matrix, s: hot.HotSettings) -> set[tuple[int, int]]:
    dense = np.asarray((x @ x.T).todense())
    found = set()
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            sim = dense[i, j]
            if sim < s.min_similarity - 1e-9:
                continue
            a, b = items[i], items[j]
            if a.lon is not None and b.lon is not None:
                near = (
                    hot.haversine_m(
                        np.array([a.lon]), np.array([a.lat]), np.array([b.lon]), np.array([b.lat])
                    )[0]
                    <= s.radius_m
                )
            else:
                near = a.place_id == b.place_id
            if near or sim >= s.far_similarity - 1e-9:
                found.add((i, j))
    return found


def test_the_links_are_those_of_comparing_every_pair() -> None:
    items = cases()
    s = hot.HotSettings(window_start=START, window_end=START, radius_m=1500, min_similarity=0.3)
    vectors = hot.vectorize(
        [hot.clean(c.title) for c in items], [hot.clean(c.description)[:300] for c in items]
    )
    links = hot.link(items, vectors.matrix, s)
    got = set(zip(links.i.tolist(), links.j.tolist(), strict=True))
    expected = oracle(items, vectors.matrix, s)
    assert len(expected) > 100
    assert got <= expected  # nothing made up
    assert len(got) >= 0.99 * len(expected), (len(got), len(expected))
    # every near pair is found exactly; only far pairs may (rarely) be missed
    far = {(i, j) for i, j in expected - got}
    for i, j in far:
        assert items[i].lon is not None
        assert items[j].lon is not None
    sims = dict(
        zip(zip(links.i.tolist(), links.j.tolist(), strict=True), links.similarity.tolist(), strict=True)
    )
    dense = np.asarray((vectors.matrix @ vectors.matrix.T).todense())
    for (i, j), value in list(sims.items())[:200]:
        assert abs(value - min(dense[i, j], 1.0)) < 1e-9
