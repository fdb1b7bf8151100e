"""What the resident portal reads: its policy, the case behind a tracking link, the choices of the report
form, similar open cases nearby, and whether a resident may ask to reopen a case.

The portal is public: everything here returns only what a stranger may see, or is used by the portal's own
actions. ``pending_reopen_requests`` and ``support_count`` are for the staff case page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, CaseClock, Category, ClockState, Stage
from civicgrid.cases.workflow import Group, Status, in_group
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.portal.links import secret_digest
from civicgrid.portal.models import PortalPolicy, ReopenRequest, ReopenStatus, Support, TrackingLink
from civicgrid.portal.timeline import status_label

NEARBY_METRES = 300
NEARBY_DAYS = 30
NEARBY_LIMIT = 5
_EARTH_RADIUS_M = 6_371_000.0


def current_policy() -> PortalPolicy:
    """The one policy row (made by migration 0002; recreated with the defaults if it was removed)."""
    policy = PortalPolicy.objects.select_related("service_area").order_by("pk").first()
    if policy is None:
        policy, _created = PortalPolicy.objects.get_or_create(pk=1)
    return policy


def link_for_secret(secret: str) -> TrackingLink | None:
    """The tracking link whose secret this is (None for a wrong or unknown secret), with its case."""
    return (
        TrackingLink.objects.select_related("case", "case__category", "case__lead_unit")
        .filter(secret_digest=secret_digest(secret))
        .first()
    )


# --- The report form's choices ---------------------------------------------------------------------------


def service_places(policy: PortalPolicy) -> QuerySet[Jurisdiction]:
    """Streets and communities a resident may choose when they give no point on the map."""
    places = Jurisdiction.objects.filter(is_active=True, level__in=[Level.TOWNSHIP, Level.COMMUNITY])
    if policy.service_area is not None:
        places = places.filter(path__startswith=policy.service_area.path)
    return places.order_by("path")


def place_choices(places: QuerySet[Jurisdiction]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The places as <optgroup>s, one per street: the street itself, then its communities."""
    groups: list[tuple[str, list[tuple[int, str]]]] = []
    by_street: dict[str, list[tuple[int, str]]] = {}
    for pk, name, level, path in places.values_list("pk", "name", "level", "path"):
        if level == Level.TOWNSHIP:
            options = [(pk, _("%(street)s (whole street)") % {"street": name})]
            by_street[path] = options
            groups.append((name, options))
            continue
        parent_path = path[: path.rstrip("/").rfind("/") + 1]
        if parent_path in by_street:
            by_street[parent_path].append((pk, name))
        else:  # a community whose street lies outside the service area (the area is a community)
            groups.append((name, [(pk, name)]))
    return groups


def report_categories() -> QuerySet[Category]:
    """The categories a resident may pick: every active one below the first level, and first-level ones
    without children (a catalogue may be flat)."""
    return Category.objects.filter(is_active=True).only("pk", "name", "path", "depth", "parent_id")


def category_choices(categories: QuerySet[Category]) -> list[tuple[str, list[tuple[int, str]]]]:
    """<optgroup>s by first-level category; a third-level option reads "second level / third level"."""
    # Tuples, not model instances: the catalogue has some 650 rows and this runs on every form.
    rows = list(categories.order_by("path").values_list("pk", "name", "depth", "parent_id"))
    names = {pk: name for pk, name, _depth, _parent in rows}
    has_children = {parent for _pk, _name, _depth, parent in rows if parent is not None}
    groups: list[tuple[str, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] = []
    for pk, name, depth, parent_id in rows:
        if depth == 1:
            current = [] if pk in has_children else [(pk, name)]
            groups.append((name, current))
        elif depth == 2:
            current.append((pk, name))
        else:
            parent = names.get(parent_id or 0, "")
            current.append((pk, f"{parent} / {name}" if parent else name))
    return [(name, options) for name, options in groups if options]


# --- Similar open requests nearby --------------------------------------------------------------------------


@dataclass(frozen=True)
class Nearby:
    """A public summary of an open case: no names, phones, typed addresses or descriptions."""

    number: str
    title: str
    category: str
    status: str
    received_at: datetime
    metres: int
    same_kind: bool


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); plenty for a few hundred metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _family(path: str) -> str:
    """The second-level branch of a category path ("01/0103/"), or the first level for a top category."""
    codes = [c for c in path.split("/") if c][:2]
    return "".join(f"{c}/" for c in codes)


def similar_open_cases(
    lon: float, lat: float, category: Category | None, *, at: datetime, limit: int = NEARBY_LIMIT
) -> list[Nearby]:
    """Open cases received in the last NEARBY_DAYS within NEARBY_METRES of the point, those of the same
    category branch first, then the nearest."""
    dlat = NEARBY_METRES / 111_320.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    # (status, received_at) is indexed; the bounding box narrows the few open cases of the month further.
    rows = (
        Case.objects.filter(
            status__in=in_group(Group.OPEN),
            received_at__gte=at - timedelta(days=NEARBY_DAYS),
            lon__range=(lon - dlon, lon + dlon),
            lat__range=(lat - dlat, lat + dlat),
        )
        .select_related("category")
        .only("number", "title", "status", "received_at", "lon", "lat", "category__name", "category__path")
    )
    family = _family(category.path) if category is not None else None
    found: list[Nearby] = []
    for case in rows:
        if case.lon is None or case.lat is None:
            continue
        metres = distance_m(lon, lat, case.lon, case.lat)
        if metres > NEARBY_METRES:
            continue
        same = family is not None and case.category is not None and case.category.path.startswith(family)
        found.append(
            Nearby(
                number=case.number,
                title=case.title,
                category=case.category.name if case.category else "",
                status=status_label(case.status),
                received_at=case.received_at,
                metres=int(round(metres / 10.0) * 10),
                same_kind=same,
            )
        )
    found.sort(key=lambda n: (not n.same_kind, n.metres, n.number))
    return found[:limit]


def open_case_by_number(number: str) -> Case | None:
    """An open case a resident may support (anything else is not offered, and not found)."""
    return Case.objects.filter(number=number, status__in=in_group(Group.OPEN)).first()


def support_count(case: Case) -> int:
    """How many residents said "I have the same problem" (for the staff case page and the tracking page)."""
    return Support.objects.filter(case=case).count()


# --- Expected reply and reopening ---------------------------------------------------------------------------


def expected_reply_at(case: Case) -> datetime | None:
    """When the resident may expect the reply: the handling clock's deadline once it runs (the last stage of
    staged limits), before that the handling limit counted from when the case was received."""
    from civicgrid.cases import clocks

    handling = (
        CaseClock.objects.filter(case=case, stage=Stage.HANDLE)
        .exclude(state=ClockState.STOPPED)
        .order_by("-deadline_at")
        .values_list("deadline_at", flat=True)
        .first()
    )
    if handling is not None:
        return handling
    if case.status not in in_group(Group.OPEN):
        return None
    planned = clocks.plan_clocks(case, Stage.HANDLE, at=case.received_at)
    return max((c.deadline_at for c in planned), default=None)


def pending_reopen_requests(case: Case) -> QuerySet[ReopenRequest]:
    """The residents' undecided requests to reopen this case (at most one), for the staff case page."""
    return ReopenRequest.objects.filter(case=case, status=ReopenStatus.PENDING).order_by("at")


def reopen_deadline(case: Case, policy: PortalPolicy) -> datetime | None:
    """Until when the resident may ask to reopen: the portal's window after closure, and never past the
    category's own window (do_reopen enforces that one)."""
    if case.closed_at is None:
        return None
    days = policy.reopen_window_days
    if case.category is not None:
        days = min(days, case.category.reopen_window_days)
    return case.closed_at + timedelta(days=days)


def reopen_refusal(case: Case, policy: PortalPolicy, *, at: datetime) -> str | None:
    """Why the resident may not ask to reopen the case now (None: they may). Mirrors the rules of
    civicgrid.cases.actions.do_reopen, so nobody is invited to ask for something that cannot be granted."""
    if case.status == Status.RESOLVED:
        return _("Tell us first whether the problem was solved (rate the result above).")
    if case.status != Status.REVISITED:
        return _("Only a closed case can be reopened.")
    last = case.revisits.order_by("-at", "-pk").first()
    if last is None or not last.asks_for_rework:
        return _(
            "The feedback on this case says the problem was solved. If it has come back, please submit "
            "a new request or call 12345."
        )
    if case.category is not None:
        if not case.category.allow_reopen:
            return _("Cases of this kind cannot be reopened. Please call 12345.")
        if case.reopen_count >= case.category.reopen_cap:
            return _("This case has already been reopened as often as allowed. Please call 12345.")
    deadline = reopen_deadline(case, policy)
    if deadline is None or at > deadline:
        return _("The time to ask for reopening has passed. Please submit a new request or call 12345.")
    if ReopenRequest.objects.filter(case=case, status=ReopenStatus.PENDING).exists():
        return _("Your request to reopen this case is waiting for a decision.")
    return None
