"""Hot topics (热点问题): compute them and keep the result as the current run.

Which cases: those received in the last ``hot_window_days`` (policy) up to ``now``, in any state except
the ones that are not a matter of their own: not registered (void), withdrawn, and split (the children
carry the matter and are counted). Merged cases are counted: a duplicate merged into another case is one
more resident with the same problem, which is what makes a topic hot.

The computation (civicgrid.triage.hot) runs outside any transaction; the result is written in one short
transaction that makes the new run current, so a page reads either the old run or the new one whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Substr

from civicgrid.accounts.models import User
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from civicgrid.core import crypto
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib import clock
from civicgrid.portal.models import Support
from civicgrid.triage import hot
from civicgrid.triage.models import HotTopic, HotTopicMember, HotTopicRun, TriageEvent, TriagePolicy
from civicgrid.triage.policy import policy

LEFT_OUT = (Status.VOID, Status.WITHDRAWN, Status.SPLIT)
KEEP_RUNS = 30  # older runs are deleted (their topics and members with them)
REFRESH_AFTER = timedelta(hours=1)  # the worker recomputes when the current run is older


def window_cases(start: datetime, end: datetime) -> list[hot.HotCase]:
    """The window's cases as the computation needs them: three queries (cases, supports, places)."""
    rows = list(
        Case.objects.filter(received_at__gte=start, received_at__lte=end)
        .exclude(status__in=[s.value for s in LEFT_OUT])
        # Only the head of the description is read: the rest is not used and is most of the bytes.
        .annotate(head=Substr("description", 1, hot.BODY_CHARS + 40))
        .order_by("received_at", "pk")
        .values_list("pk", "title", "head", "received_at", "lon", "lat", "origin_id")
    )
    supports = dict(
        Support.objects.filter(case__received_at__gte=start, case__received_at__lte=end)
        .values_list("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    street = _streets({row[6] for row in rows})
    return [
        hot.HotCase(
            id=pk,
            title=title,
            description=head or "",
            received_at=at,
            lon=lon,
            lat=lat,
            place_id=origin,
            area_id=street.get(origin),
            support=supports.get(pk, 0),
        )
        for pk, title, head, at, lon, lat, origin in rows
    ]


def _streets(origins: Iterable[int]) -> dict[int, int]:
    """Each place → the street (township) it belongs to, or itself when it is a street or higher."""
    rows = Jurisdiction.objects.filter(pk__in=sorted(origins)).values_list("pk", "level", "parent_id")
    return {pk: parent if level == Level.COMMUNITY and parent else pk for pk, level, parent in rows}


def place_names(ids: Iterable[int]) -> dict[int, str]:
    """Names to show: the street and the community's name for a community, the name alone otherwise."""
    rows = {pk: (name, level, parent) for pk, name, level, parent in _jurisdictions(ids)}
    parents = {
        pk: name for pk, name, _level, _parent in _jurisdictions(p for _n, _l, p in rows.values() if p)
    }
    return {
        pk: f"{parents[parent]} {name}" if level == Level.COMMUNITY and parent in parents else name
        for pk, (name, level, parent) in rows.items()
    }


def _jurisdictions(ids: Iterable[int | None]) -> list[tuple[int, str, str, int | None]]:
    wanted = sorted({i for i in ids if i is not None})
    return list(Jurisdiction.objects.filter(pk__in=wanted).values_list("pk", "name", "level", "parent_id"))


def do_compute_hot_topics(*, now: datetime | None = None, actor: User | None) -> HotTopicRun:
    """Compute the hot topics of the policy's window ending ``now`` and make them the current run."""
    now = now or clock.now()
    settings_row = policy()
    start = now - timedelta(days=settings_row.hot_window_days)
    started = time.perf_counter()
    cases = window_cases(start, now)
    settings = hot.HotSettings(
        window_start=start,
        window_end=now,
        radius_m=float(settings_row.hot_radius_m),
        min_similarity=float(settings_row.hot_min_similarity),
        min_cases=max(int(settings_row.hot_min_cases), 2),
    )
    groups = hot.hot_topics(cases, settings)
    names = place_names(g.place_id for g in groups if g.place_id is not None)
    with transaction.atomic():
        # The policy row serialises two computations finishing at once (the flip below must not interleave).
        TriagePolicy.objects.select_for_update().filter(pk=settings_row.pk).first()
        run = HotTopicRun.objects.create(
            computed_at=now, window_start=start, window_end=now, n_cases=len(cases), is_current=False
        )
        topics = HotTopic.objects.bulk_create(
            [
                HotTopic(
                    run=run,
                    rank=g.rank,
                    title=g.title[:200],
                    representative_id=g.representative,
                    terms=" ".join(g.terms)[:200],
                    size=g.size,
                    recent=g.recent,
                    earlier=g.earlier,
                    growth=g.growth,
                    support=g.support,
                    score=g.score,
                    jurisdiction_id=g.place_id,
                    place=names.get(g.place_id, "")[:200] if g.place_id is not None else "",
                    lon=g.lon,
                    lat=g.lat,
                    first_at=g.first_at,
                    last_at=g.last_at,
                )
                for g in groups
            ]
        )
        topic_ids = _ids_of(run, topics)
        HotTopicMember.objects.bulk_create(
            [
                HotTopicMember(topic_id=topic_ids[g.rank], case_id=case_id, similarity=similarity)
                for g in groups
                for case_id, similarity in g.members
            ],
            batch_size=2000,
        )
        HotTopicRun.objects.filter(is_current=True).update(is_current=False)
        run.seconds = round(time.perf_counter() - started, 3)
        run.is_current = True
        run.save(update_fields=["seconds", "is_current"])
        old = list(
            HotTopicRun.objects.order_by("-computed_at", "-pk").values_list("pk", flat=True)[KEEP_RUNS:]
        )
        if old:
            HotTopicRun.objects.filter(pk__in=old).delete()
        TriageEvent.objects.create(
            kind="hot_topics.computed",
            actor=actor,
            at=now,
            data={
                "run": run.pk,
                "cases": len(cases),
                "topics": len(groups),
                "seconds": run.seconds,
                "pruned": len(old),
            },
        )
    return run


def _ids_of(run: HotTopicRun, topics: list[HotTopic]) -> dict[int, int]:
    """rank → topic id (bulk_create returns ids on PostgreSQL and on SQLite ≥ 3.35; read back otherwise)."""
    if all(t.pk is not None for t in topics):
        return {t.rank: t.pk for t in topics}
    return dict(HotTopic.objects.filter(run=run).values_list("rank", "pk"))


def do_compute_hot_topics_if_stale(*, now: datetime | None = None, actor: User | None) -> HotTopicRun | None:
    """Recompute when there is no current run or it is older than REFRESH_AFTER; None when it is fresh."""
    now = now or clock.now()
    current = HotTopicRun.objects.filter(is_current=True).values_list("computed_at", flat=True).first()
    if current is not None and now - current < REFRESH_AFTER:
        return None
    return do_compute_hot_topics(now=now, actor=actor)


def do_add_demo_supports(wanted: dict[int, int], *, actor: User | None) -> int:
    """Demo only: give each case (id → count) that many supports, spread over the days after it was received,
    unless it has supports already (so a second run adds nothing). Returns the number of rows written.

    Not through the portal's ``do_add_support``: that one is the resident's door (rate limits, one per
    address, the time is now), while these are the up-votes the real messages collected over their life."""
    if actor is not None:
        raise PermissionDenied
    now = clock.now()
    with transaction.atomic():
        have = set(Support.objects.filter(case_id__in=sorted(wanted)).values_list("case_id", flat=True))
        received = dict(
            Case.objects.filter(pk__in=sorted(set(wanted) - have)).values_list("pk", "received_at")
        )
        rows = []
        for case_id, at in sorted(received.items()):
            span = max((now - at).total_seconds(), 60.0)
            count = wanted[case_id]
            for k in range(count):
                rows.append(
                    Support(
                        case_id=case_id,
                        # Spread over the first tenth of the case's life: up-votes come while it is news.
                        at=at + timedelta(seconds=span * 0.1 * (k + 1) / (count + 1)),
                        ip_digest=crypto.digest(f"ip:demo-support:{case_id}:{k}"),
                    )
                )
        Support.objects.bulk_create(rows, batch_size=2000)
        if rows:
            TriageEvent.objects.create(
                kind="hot_topics.demo_supports",
                actor=actor,
                at=now,
                data={"cases": len(received), "rows": len(rows)},
            )
    return len(rows)
