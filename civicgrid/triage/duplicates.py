"""Possible duplicates (疑似重复): open cases with similar text near the same place, received about the same time.

``find_duplicates`` answers for a text being taken in (the hotline desk, as the operator types) and
``duplicates_of`` for a case already recorded (the case page, where the duplicate is merged into its master
with the lifecycle's merge action). Both read the settings of ``TriagePolicy`` (radius, window, least text
similarity) and return ``Candidate`` rows, best first.

How (measured by bench/duplicates.py, docs/benchmarks.md "Duplicate detection"):

- **Place and time first, in one query**: open cases (``Group.OPEN``) received within the window on either
  side of ``at``, inside the user's ``visible_cases``; with a point, those inside the radius's bounding box
  (the haversine distance then keeps the disc) plus point-less cases of the point's community; without a
  point, the cases located in the given jurisdiction (its community or street). The ``(status, received_at)``
  index narrows the table to the window's open cases; the box does the rest on those few rows.
- **Text similarity in Python** on character bigrams of the normalised text (NFKC, lower case, everything
  but letters and digits dropped; Chinese needs no segmentation for this): ``similarity`` is
  0.3 × the cosine of the titles' bigram sets + 0.7 × that of the whole texts (title + description), the
  cosine of sets being |A∩B| / √(|A|·|B|). The title says what the request is about in a few words and
  survives a caller's rewording better than the body; the cosine, unlike the Jaccard index, keeps a
  short re-telling of a long message. On the bench's planted duplicates it beat Jaccard, the overlap
  coefficient, their means, the better of title and body, and a bigram TF-IDF cosine (which would need
  a document-frequency table kept up to date) at the policy's default threshold 0.30; see the bench for
  the figures.
- **One score** for the order: ``similarity × (0.7 + 0.2 × nearness + 0.1 × recency)``, nearness
  = 1 − metres / radius (0.5 when a case has no point), recency = 1 − |Δt| / window. Text similarity
  decides whether a case is offered at all (≥ ``duplicate_min_similarity``); place and time only order the
  ones that pass, as they already passed the hard radius and window.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_cases
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Group, Status, in_group
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib import clock
from civicgrid.triage.policy import policy

_EARTH_RADIUS_M = 6_371_000.0
_METRES_PER_DEGREE = 111_320.0
# Letters and digits are kept; punctuation, spaces and symbols go (\W is Unicode-aware: CJK is \w).
_NOT_WORD = re.compile(r"[\W_]+")
# The title and the first part of the description say what a request is about; a 20-page complaint should
# not cost a hundred times a short one.
MAX_CHARS = 1500
# The title's share of the text similarity, and the weights of the score (docstring, docs/triage.md).
TITLE_WEIGHT = 0.3
W_TEXT, W_NEAR, W_RECENT = 0.7, 0.2, 0.1
UNKNOWN_NEARNESS = 0.5


@dataclass(frozen=True)
class Candidate:
    """An open case that may be the same request."""

    number: str
    title: str
    status: str
    status_label: str
    category: str
    metres: int | None  # None: one of the two has no point (matched by community)
    received_at: datetime
    similarity: float
    score: float


# --- Text -----------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), lower case, only letters and digits, cut."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())[:MAX_CHARS]


def bigrams(text: str) -> frozenset[str]:
    """The set of character pairs of the normalised text (a single character is its own "pair")."""
    s = normalise(text)
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


@dataclass(frozen=True)
class TextFeatures:
    whole: frozenset[str]
    title: frozenset[str]


def features(title: str, description: str) -> TextFeatures:
    return TextFeatures(whole=bigrams(f"{title}{description}"), title=bigrams(title))


def cosine(a: frozenset[str], b: frozenset[str]) -> float:
    """|A∩B| / √(|A|·|B|) of two bigram sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def similarity(a: TextFeatures, b: TextFeatures) -> float:
    """0…1: TITLE_WEIGHT × the titles' bigram cosine + the rest × the whole texts' (the whole texts alone
    when either title is empty). See the module docstring."""
    whole = cosine(a.whole, b.whole)
    if not a.title or not b.title:
        return whole
    return TITLE_WEIGHT * cosine(a.title, b.title) + (1 - TITLE_WEIGHT) * whole


# --- Place ----------------------------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); plenty for a few hundred metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _community_of(lon: float, lat: float, given: Jurisdiction | None) -> Jurisdiction | None:
    """The community a point lies in (the grid index, no query), else the given place if it is one."""
    from civicgrid.grids.lookup import locate_grid_cell

    cell = locate_grid_cell(lon, lat)
    if cell is not None:
        return cell.community
    return given if given is not None and given.level == Level.COMMUNITY else None


def score_of(sim: float, metres: float | None, radius_m: float, days: float, window_days: float) -> float:
    near = UNKNOWN_NEARNESS if metres is None else max(0.0, 1.0 - metres / max(radius_m, 1.0))
    recent = max(0.0, 1.0 - abs(days) / max(window_days, 1e-9))
    return sim * (W_TEXT + W_NEAR * near + W_RECENT * recent)


# --- The search -----------------------------------------------------------------------------------------


def find_duplicates(
    *,
    user: User | AnonymousUser,
    title: str = "",
    description: str = "",
    text: str = "",
    lon: float | None = None,
    lat: float | None = None,
    jurisdiction: Jurisdiction | None = None,
    at: datetime | None = None,
    exclude_case_id: int | None = None,
    limit: int | None = 5,
    min_similarity: float | None = None,
) -> list[Candidate]:
    """Open cases the user sees that may be the same request, best first (at most ``limit``; None: all).

    ``text`` is taken as the description when no ``description`` is given. The place is the point when
    there is one, else ``jurisdiction`` (cases located in it); with neither nothing is searched: "near the
    same place" cannot be judged. ``min_similarity`` overrides the policy's threshold (the bench)."""
    rules = policy()
    radius = float(rules.duplicate_radius_m)
    window = float(rules.duplicate_window_days)
    least = float(rules.duplicate_min_similarity) if min_similarity is None else min_similarity
    wanted = features(title, description or text)
    if not wanted.whole:
        return []
    at = at or clock.now()
    point = (lon, lat) if lon is not None and lat is not None else None
    if point is not None:
        dlat = radius / _METRES_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(point[1])), 0.01)
        place = Q(
            lon__range=(point[0] - dlon, point[0] + dlon), lat__range=(point[1] - dlat, point[1] + dlat)
        )
        community = _community_of(point[0], point[1], jurisdiction)
        if community is not None:
            place |= Q(lon__isnull=True, origin_path__startswith=community.path)
    elif jurisdiction is not None:
        place = Q(origin_path__startswith=jurisdiction.path)
    else:
        return []
    span = timedelta(days=window)
    rows = (
        visible_cases(user)
        .filter(place, status__in=in_group(Group.OPEN), received_at__range=(at - span, at + span))
        .select_related("category")
        .only("pk", "number", "title", "description", "status", "received_at", "lon", "lat", "category__name")
    )
    if exclude_case_id is not None:
        rows = rows.exclude(pk=exclude_case_id)
    found: list[Candidate] = []
    for case in rows:
        metres: float | None = None
        if point is not None and case.lon is not None and case.lat is not None:
            metres = distance_m(point[0], point[1], case.lon, case.lat)
            if metres > radius:
                continue  # in the box's corner, outside the disc
        sim = similarity(wanted, features(case.title, case.description))
        if sim < least:
            continue
        days = (case.received_at - at).total_seconds() / 86400.0
        found.append(
            Candidate(
                number=case.number,
                title=case.title,
                status=case.status,
                status_label=str(Status(case.status).label),
                category=case.category.name if case.category is not None else "",
                metres=None if metres is None else round(metres),
                received_at=case.received_at,
                similarity=round(sim, 3),
                score=round(score_of(sim, metres, radius, days, window), 4),
            )
        )
    found.sort(key=lambda c: (-c.score, c.number))
    return found if limit is None else found[:limit]


def duplicates_of(
    case: Case, *, user: User | AnonymousUser, limit: int | None = 5, min_similarity: float | None = None
) -> list[Candidate]:
    """Open cases that may be the same request as ``case`` (never the case itself), around when and where
    it was received."""
    from civicgrid.grids.lookup import place_at

    # The grid index holds every community on a cell's path: no query for the case's place.
    where = place_at(case.origin_path) or case.origin
    return find_duplicates(
        user=user,
        title=case.title,
        description=case.description,
        lon=case.lon,
        lat=case.lat,
        jurisdiction=where,
        at=case.received_at,
        exclude_case_id=case.pk,
        limit=limit,
        min_similarity=min_similarity,
    )
