"""Hot topics (热点问题): recent cases grouped by what they say, where and when; pure, no ORM.

Input: one ``HotCase`` per case of the window (text, point or place, time, supports). Output: ``HotGroup``
rows, ranked. The action (``actions/hot.py``) reads the cases and writes the groups; docs/triage.md
explains the method and the score.

Method, in short:

1. **Text.** Character bigrams of the title and of the first ``BODY_CHARS`` characters of the description
   (whitespace removed; Chinese has no spaces, so bigrams stand in for words), each weighted by
   ``1 + log(tf)`` × IDF over the window's cases and L2-normalised; a case's vector is
   ``TITLE_WEIGHT`` × title + (1 − TITLE_WEIGHT) × description, normalised again. The title says what the
   matter is; the description adds the place and the details. Bigrams found in more than
   ``common_cutoff(n)`` cases are left out: they say little about a topic (小区, 问题, 反映) and they are
   what makes the all-pairs product expensive. Built with numpy directly (not TfidfVectorizer, whose
   Python n-gram loop costs seconds for a month of a busy district); the weighting is the same.
2. **Pairs.** Cosine similarity of every pair sharing a remaining bigram (a sparse product, in chunks),
   kept when ≥ ``min_similarity`` and the two are near: both have a point and are within ``radius_m``
   (haversine), or one has none and they happened in the same place (community). Texts that are alike
   enough (≥ ``far_similarity``) are linked wherever they are: they name the same place and matter, and a
   case's point is sometimes only where the resident called from.
3. **Groups** (leader clustering, no chaining). The case with the most links (then the highest sum of
   similarities, then the earliest) becomes a seed; its group is the seed and its linked cases not yet in
   a group; members less similar than ``min_similarity`` to the group's centroid are dropped (twice, the
   centroid moving each time). Every member is linked to the seed, so a chain A–B–C of ever-different
   texts or ever-further places is not one group. Groups smaller than ``min_cases`` are dropped.
4. **Figures.** Representative: the member closest to the centroid (its title is the topic's title).
   Key words: jieba words of the members' titles, ranked by how many members use them × the centroid's
   weight of their bigrams. Place: the community most members happened in when it has at least half of
   them, else the most common street; the centre is the mean of the members' points. Growth
   ``(recent − earlier) / (recent + earlier)`` ∈ [−1, 1], with recent = received in the later half of the
   window. Score ``(size + log2(1 + supports)) × (1 + growth / 2)``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp

TITLE_WEIGHT = 0.6
BODY_CHARS = 300
# Linked wherever they are: as alike as a resubmission (measured on the demo month: a resubmission scores
# 0.8–1.0; one matter worded by different residents 0.30–0.56; different matters of one kind 0.25–0.42).
FAR_SIMILARITY = 0.6
COMMON_SHARE = 0.01  # bigrams in more than 1 % of the cases (and more than COMMON_FLOOR) are left out
COMMON_FLOOR = 50
CHUNK_ROWS = 2000  # rows of the far-candidate product at a time (memory: the product is dense-ish per chunk)
# Far pairs (link): candidates share enough of their FAR_TERMS strongest n-grams to reach FAR_CANDIDATE of
# the far similarity on those alone.
FAR_TERMS = 24
FAR_CANDIDATE = 0.4
EARTH_RADIUS_M = 6_371_008.8
MAX_TERMS = 5
TERM_TITLES = 12  # the key words come from the titles of the members closest to the representative

_SPACE = re.compile(r"\s+")
_WORDY = re.compile(r"[\u4e00-\u9fffA-Za-z]")
# The portal's anonymised place codes (A2, B4) say nothing about the matter.
_AREA_CODE = re.compile(r"^[A-Z]\d*$")
# Words every request uses; they would otherwise come first among the key words of a short title.
STOP_WORDS = frozenset(
    {
        "请求",
        "要求",
        "希望",
        "建议",
        "咨询",
        "反映",
        "投诉",
        "举报",
        "问题",
        "关于",
        "相关",
        "情况",
        "解决",
        "处理",
        "严重",
        "请问",
        "为何",
        "为什么",
        "什么",
        "怎么",
        "如何",
        "能否",
        "是否",
        "可以",
        "没有",
        "一直",
        "至今",
        "多次",
        "我们",
        "他们",
        "你们",
        "恳请",
        "强烈",
        "呼吁",
        "尽快",
        "及时",
        "部门",
        "领导",
        "政府",
        "有关",
    }
)


@dataclass(frozen=True)
class HotCase:
    id: int
    title: str
    description: str
    received_at: datetime
    lon: float | None = None
    lat: float | None = None
    place_id: int | None = None  # where it happened (the community, usually)
    area_id: int | None = None  # the street above that place: a group's place when its communities differ
    support: int = 0  # residents who said "I have the same problem"


@dataclass(frozen=True)
class HotSettings:
    window_start: datetime
    window_end: datetime
    radius_m: float = 1500.0
    min_similarity: float = 0.30
    min_cases: int = 3
    far_similarity: float = FAR_SIMILARITY


@dataclass
class HotGroup:
    members: list[tuple[int, float]]  # (case id, similarity to the representative), most similar first
    representative: int
    title: str
    terms: list[str]
    size: int
    recent: int
    earlier: int
    growth: float
    support: int
    score: float
    place_id: int | None
    lon: float | None
    lat: float | None
    first_at: datetime
    last_at: datetime
    rank: int = 0
    centroid_similarity: dict[int, float] = field(default_factory=dict, repr=False)


def score_of(size: int, growth: float, support: int) -> float:
    """Volume, with supports counting as much as log2 of their number (the 1st support adds one case's
    worth, the 3rd a second, the 7th a third …), scaled by growth: × 1.5 when every case is recent,
    × 0.5 when none is."""
    return (size + math.log2(1 + support)) * (1 + growth / 2)


def growth_of(recent: int, earlier: int) -> float:
    total = recent + earlier
    return (recent - earlier) / total if total else 0.0


def common_cutoff(n: int) -> int:
    return max(int(COMMON_SHARE * n), COMMON_FLOOR)


def clean(text: str) -> str:
    return _SPACE.sub("", text).replace("\x00", "")


# --- Text vectors -------------------------------------------------------------------------------------


def _gram_entries(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, n-gram key) of every character and character bigram; a key holds one or two code points in
    an int64 (a character c is c, a bigram ab is a << 21 | b, and a, b > 0, so they never collide)."""
    joined = "\x00".join(texts) + "\x00"
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ends = points == 0
    row = np.concatenate(([0], np.cumsum(ends)[:-1]))
    first, second = points[:-1], points[1:]
    inside = ~ends[:-1] & ~ends[1:]
    return (
        np.concatenate((row[~ends], row[:-1][inside])),
        np.concatenate((points[~ends], (first[inside] << 21) | second[inside])),
    )


def _weighted(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    m = counts.copy()
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    return _normalised(m)


def _normalised(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    out = sp.csr_matrix(sp.diags(1.0 / norms) @ m)
    out.eliminate_zeros()
    return out


@dataclass(frozen=True)
class Vectors:
    matrix: sp.csr_matrix  # one L2-normalised row per case
    keys: np.ndarray  # the n-gram key of each column, sorted

    def columns(self, text: str) -> list[int]:
        """The columns of a word's bigrams (of the character itself for a one-character word); -1 when
        an n-gram is not in the window's vocabulary."""
        grams = (
            [ord(text)] if len(text) == 1 else [(ord(a) << 21) | ord(b) for a, b in itertools.pairwise(text)]
        )
        at = np.searchsorted(self.keys, grams)
        return [
            int(c) if c < len(self.keys) and self.keys[c] == g else -1 for c, g in zip(at, grams, strict=True)
        ]


def vectorize(titles: Sequence[str], bodies: Sequence[str]) -> Vectors:
    n = len(titles)
    rt, kt = _gram_entries(titles)
    rb, kb = _gram_entries(bodies)
    keys, column = np.unique(np.concatenate([kt, kb]), return_inverse=True)
    ct, cb = column[: len(kt)], column[len(kt) :]
    shape = (n, len(keys))
    title_counts = sp.csr_matrix((np.ones(len(ct)), (rt, ct)), shape=shape)
    body_counts = sp.csr_matrix((np.ones(len(cb)), (rb, cb)), shape=shape)
    present = (title_counts + body_counts).tocsr()
    df = np.bincount(present.indices, minlength=len(keys))
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    idf[df > common_cutoff(n)] = 0.0
    mixed = TITLE_WEIGHT * _weighted(title_counts, idf) + (1 - TITLE_WEIGHT) * _weighted(body_counts, idf)
    return Vectors(matrix=_normalised(sp.csr_matrix(mixed)), keys=keys)


# --- Pairs ------------------------------------------------------------------------------------------------


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))))


@dataclass(frozen=True)
class Links:
    i: np.ndarray
    j: np.ndarray
    similarity: np.ndarray


def link(cases: Sequence[HotCase], x: sp.csr_matrix, settings: HotSettings) -> Links:
    """Pairs i < j similar enough in text and near enough in place, or alike enough (``far_similarity``) to
    be linked wherever they are.

    Comparing every case with every other grows with the square of a month's cases (11 s at 30,000), so
    near pairs are only looked for where they can be: cases with a point against those in the same or a
    neighbouring square of the radius's size, and a case without a point against the cases of its place.
    Far pairs, which must be very alike, are found through each case's strongest n-grams only (two texts
    at 0.6 share some of those) and then measured on their whole vectors: a far pair is never made up, at
    worst one whose strongest words differ is missed."""
    n = len(cases)
    lon = np.array([np.nan if c.lon is None else c.lon for c in cases])
    lat = np.array([np.nan if c.lat is None else c.lat for c in cases])
    place = np.array([-1 if c.place_id is None else c.place_id for c in cases])
    candidates = [*_near_by_square(lon, lat, x, settings), *_near_by_place(lon, place, x, settings)]
    candidates.append(_far_candidates(x, settings))
    i = np.concatenate([c[0] for c in candidates]) if candidates else np.zeros(0, dtype=np.int64)
    j = np.concatenate([c[1] for c in candidates]) if candidates else np.zeros(0, dtype=np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keep = lo < hi
    key = np.unique(lo[keep].astype(np.int64) * n + hi[keep])
    i, j = key // n, key % n
    s = np.asarray(x[i].multiply(x[j]).sum(axis=1)).ravel() if len(i) else np.zeros(0)
    keep = s >= settings.min_similarity - 1e-9
    i, j, s = i[keep], j[keep], s[keep]
    both = ~np.isnan(lon[i]) & ~np.isnan(lon[j])
    near = np.zeros(len(i), dtype=bool)
    near[both] = haversine_m(lon[i[both]], lat[i[both]], lon[j[both]], lat[j[both]]) <= settings.radius_m
    near[~both] = (place[i[~both]] == place[j[~both]]) & (place[i[~both]] >= 0)
    keep = near | (s >= settings.far_similarity - 1e-9)
    return Links(i[keep], j[keep], np.minimum(s[keep], 1.0))


Pairs = tuple[np.ndarray, np.ndarray]


def _pairs_of(x: sp.csr_matrix, rows: np.ndarray, others: np.ndarray, floor: float) -> Pairs:
    """(i, j) of ``rows`` × ``others`` whose similarity reaches ``floor``."""
    product = sp.coo_matrix(x[rows] @ x[others].T)
    keep = product.data >= floor - 1e-9
    return rows[product.row[keep]], others[product.col[keep]]


def _near_by_square(lon: np.ndarray, lat: np.ndarray, x: sp.csr_matrix, settings: HotSettings) -> list[Pairs]:
    pointed = np.flatnonzero(~np.isnan(lon))
    if len(pointed) < 2:
        return []
    side_lat = max(settings.radius_m, 1.0) / 111_320.0
    side_lon = side_lat / max(math.cos(math.radians(float(np.mean(lat[pointed])))), 0.01)
    sx = np.floor(lon[pointed] / side_lon).astype(np.int64)
    sy = np.floor(lat[pointed] / side_lat).astype(np.int64)
    squares: dict[tuple[int, int], list[int]] = {}
    for row, key in zip(pointed.tolist(), zip(sx.tolist(), sy.tolist(), strict=True), strict=True):
        squares.setdefault(key, []).append(row)
    found: list[Pairs] = []
    for (kx, ky), members in squares.items():
        # The square itself and the four "forward" neighbours: each neighbouring pair of squares once.
        others = [
            r
            for dx, dy in ((0, 0), (1, -1), (1, 0), (1, 1), (0, 1))
            for r in squares.get((kx + dx, ky + dy), ())
        ]
        if len(others) > 1:
            found.append(_pairs_of(x, np.array(members), np.array(others), settings.min_similarity))
    return found


def _near_by_place(
    lon: np.ndarray, place: np.ndarray, x: sp.csr_matrix, settings: HotSettings
) -> list[Pairs]:
    """A case without a point against every case of its place."""
    pointless = np.flatnonzero(np.isnan(lon) & (place >= 0))
    found: list[Pairs] = []
    for value in np.unique(place[pointless]).tolist():
        rows = pointless[place[pointless] == value]
        others = np.flatnonzero(place == value)
        if len(others) > 1:
            found.append(_pairs_of(x, rows, others, settings.min_similarity))
    return found


def _far_candidates(x: sp.csr_matrix, settings: HotSettings) -> Pairs:
    """Pairs that may reach ``far_similarity``: those whose strongest FAR_TERMS n-grams overlap enough."""
    strongest = _strongest(x, FAR_TERMS)
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    st = sp.csr_matrix(strongest.T)
    for start in range(0, x.shape[0], CHUNK_ROWS):
        product = sp.coo_matrix(strongest[start : start + CHUNK_ROWS] @ st)
        keep = (product.col > product.row + start) & (product.data >= FAR_CANDIDATE * settings.far_similarity)
        found_i.append(product.row[keep] + start)
        found_j.append(product.col[keep])
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_i), np.concatenate(found_j)


def _strongest(x: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row cut to its k largest weights (not normalised again: its products bound the full ones from
    below)."""
    x = sp.csr_matrix(x)
    data, indices, indptr = x.data, x.indices, x.indptr
    keep = np.zeros(len(data), dtype=bool)
    for r in range(x.shape[0]):
        a, b = indptr[r], indptr[r + 1]
        if b - a <= k:
            keep[a:b] = True
        else:
            keep[a + np.argpartition(-data[a:b], k)[:k]] = True
    rows = np.repeat(np.arange(x.shape[0]), np.diff(indptr))
    return sp.csr_matrix((data[keep], (rows[keep], indices[keep])), shape=x.shape)


# --- Groups -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A few rows of the matrix as a dense array over only the columns they use: per-group arithmetic in
    numpy (a sparse operation costs ~0.1 ms of overhead whatever its size, and a month has many groups)."""

    dense: np.ndarray  # rows × used columns
    columns: np.ndarray  # the matrix column of each dense column

    @classmethod
    def of(cls, x: sp.csr_matrix, rows: list[int]) -> Block:
        sub = x[rows]
        columns, position = np.unique(sub.indices, return_inverse=True)
        dense = np.zeros((len(rows), len(columns)))
        dense[np.repeat(np.arange(len(rows)), np.diff(sub.indptr)), position] = sub.data
        return cls(dense, columns)

    def centroid(self, keep: np.ndarray | None = None) -> np.ndarray:
        total = (self.dense if keep is None else self.dense[keep]).sum(axis=0)
        norm = float(np.linalg.norm(total))
        return np.asarray(total / norm if norm else total)

    def similarity(self, vector: np.ndarray) -> np.ndarray:
        return np.asarray(self.dense @ vector)


def cluster(
    cases: Sequence[HotCase], x: sp.csr_matrix, links: Links, settings: HotSettings
) -> list[list[int]]:
    """Row indices of each group (leader clustering: every member linked to its seed)."""
    n = len(cases)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    weight = np.zeros(n)
    for a, b, s in zip(links.i.tolist(), links.j.tolist(), links.similarity.tolist(), strict=True):
        neighbours[a].append(b)
        neighbours[b].append(a)
        weight[a] += s
        weight[b] += s
    seeds = [k for k in range(n) if len(neighbours[k]) + 1 >= settings.min_cases]
    seeds.sort(key=lambda k: (-len(neighbours[k]), -weight[k], cases[k].received_at, cases[k].id))
    taken = np.zeros(n, dtype=bool)
    groups: list[list[int]] = []
    for seed in seeds:
        if taken[seed]:
            continue
        candidates = [seed] + [k for k in neighbours[seed] if not taken[k]]
        if len(candidates) < settings.min_cases:
            continue
        block = Block.of(x, candidates)
        keep = np.ones(len(candidates), dtype=bool)
        for _ in range(2):
            close = block.similarity(block.centroid(keep)) >= settings.min_similarity - 1e-9
            close[0] = True  # the seed stays
            if (close == keep).all():
                break
            keep = close
        members = [m for m, k in zip(candidates, keep.tolist(), strict=True) if k]
        if len(members) < settings.min_cases:
            continue
        taken[members] = True
        groups.append(members)
    return groups


# --- Key words ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65_536)
def _words(text: str) -> tuple[str, ...]:
    """The words of a title (cached: residents repeating one matter repeat its title, and jieba costs about
    0.1 ms a title)."""
    import jieba  # imported here: its dictionary takes half a second to load, only when groups exist

    jieba.setLogLevel(logging.WARNING)
    return tuple(
        w
        for w in jieba.lcut(text, HMM=False)
        if len(w) >= 2 and _WORDY.search(w) and w not in STOP_WORDS and not _AREA_CODE.match(w)
    )


def key_words(titles: Sequence[str], weight_of: dict[int, float], vectors: Vectors) -> list[str]:
    """Words used by several members' titles, by how many use them × the centroid's weight of the word
    (``weight_of``: column → weight)."""
    used: Counter[str] = Counter()
    for title in titles:
        used.update(set(_words(title)))
    scored: list[tuple[float, str]] = []
    for word, count in used.items():
        if count < 2 and len(titles) > 1:
            continue
        weights = [weight_of.get(k, 0.0) for k in vectors.columns(word)]
        if not weights or max(weights) <= 0.0:
            continue
        scored.append((count * sum(weights) / len(weights), word))
    scored.sort(key=lambda t: (-t[0], t[1]))
    chosen: list[str] = []
    for _score, word in scored:
        if any(word in other or other in word for other in chosen):
            continue
        chosen.append(word)
        if len(chosen) == MAX_TERMS:
            break
    return chosen


# --- All of it ------------------------------------------------------------------------------------------


def _place(cases: Sequence[HotCase]) -> int | None:
    places = Counter(c.place_id for c in cases if c.place_id is not None)
    if places:
        best, count = places.most_common(1)[0]
        if 2 * count >= len(cases):
            return best
    areas = Counter(c.area_id for c in cases if c.area_id is not None)
    if areas:
        return areas.most_common(1)[0][0]
    return places.most_common(1)[0][0] if places else None


def describe(cases: Sequence[HotCase], vectors: Vectors, rows: list[int], settings: HotSettings) -> HotGroup:
    x = vectors.matrix
    members = [cases[r] for r in rows]
    block = Block.of(x, rows)
    centroid = block.centroid()
    to_centroid = block.similarity(centroid)
    best = int(np.argmax(to_centroid))
    rep = members[best]
    to_rep = block.similarity(block.dense[best])
    weight_of = dict(zip(block.columns.tolist(), centroid.tolist(), strict=True))
    order = sorted(range(len(rows)), key=lambda k: (k != best, -to_rep[k], members[k].received_at))
    middle = settings.window_start + (settings.window_end - settings.window_start) / 2
    recent = sum(1 for c in members if c.received_at >= middle)
    earlier = len(members) - recent
    growth = growth_of(recent, earlier)
    support = sum(c.support for c in members)
    points = [(c.lon, c.lat) for c in members if c.lon is not None and c.lat is not None]
    return HotGroup(
        members=[(members[k].id, round(float(min(to_rep[k], 1.0)), 4)) for k in order],
        representative=rep.id,
        title=rep.title,
        # The titles closest to the representative name the matter; a large group's tail adds time only.
        terms=key_words([clean(members[k].title) for k in order[:TERM_TITLES]], weight_of, vectors),
        size=len(members),
        recent=recent,
        earlier=earlier,
        growth=round(growth, 4),
        support=support,
        score=round(score_of(len(members), growth, support), 4),
        place_id=_place(members),
        lon=sum(p[0] for p in points) / len(points) if points else None,
        lat=sum(p[1] for p in points) / len(points) if points else None,
        first_at=min(c.received_at for c in members),
        last_at=max(c.received_at for c in members),
        centroid_similarity={c.id: float(s) for c, s in zip(members, to_centroid, strict=True)},
    )


def rank(groups: list[HotGroup]) -> list[HotGroup]:
    """Highest score first; ties: more cases, then the latest case, then the representative's id."""
    ordered = sorted(groups, key=lambda g: (-g.score, -g.size, -g.last_at.timestamp(), g.representative))
    for position, group in enumerate(ordered, start=1):
        group.rank = position
    return ordered


def hot_topics(cases: Sequence[HotCase], settings: HotSettings) -> list[HotGroup]:
    """The ranked groups of ``cases`` (all of them taken as inside the window)."""
    if len(cases) < max(settings.min_cases, 2):
        return []
    vectors = vectorize([clean(c.title) for c in cases], [clean(c.description)[:BODY_CHARS] for c in cases])
    links = link(cases, vectors.matrix, settings)
    rows = cluster(cases, vectors.matrix, links, settings)
    return rank([describe(cases, vectors, r, settings) for r in rows])
