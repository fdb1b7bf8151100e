"""Reading the hot topics for a user: only the member cases the user may see count.

A topic is shown to a user through its *shown members*: the members in ``visible_cases(user)`` (and, on
the overview, in the area of the node looked at). Its figures (cases, recent / earlier, growth, supports,
time span) are those of the shown members. When the user sees every member, the title, key words and
place are the stored ones; otherwise they are worked out again from the shown members (the title of the
one most similar to the representative, the stored key words that their titles use, their most common
place), so nothing is read off a case the user may not see.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import visible_cases
from civicgrid.cases.models import Case
from civicgrid.portal.models import Support
from civicgrid.triage import hot
from civicgrid.triage.actions.hot import place_names
from civicgrid.triage.models import HotTopic, HotTopicMember, HotTopicRun

OVERVIEW_TOPICS = 10


@dataclass(frozen=True)
class Member:
    case_id: int
    number: str
    title: str
    status: str
    status_label: str
    place: str
    received_at: datetime
    similarity: float
    support: int

    @property
    def url(self) -> str:
        return reverse("cases:case", args=[self.number])


@dataclass(frozen=True)
class ShownTopic:
    topic: HotTopic
    complete: bool  # the user sees every member
    title: str
    terms: list[str]
    place: str
    size: int
    recent: int
    earlier: int
    growth: float
    support: int
    score: float
    first_at: datetime
    last_at: datetime
    members: list[Member]

    @property
    def url(self) -> str:
        return reverse("triage:hot_topic", args=[self.topic.pk])

    @property
    def trend(self) -> str:
        """The later half of the window against the earlier: "up", "down" or "flat"."""
        return "up" if self.recent > self.earlier else "down" if self.recent < self.earlier else "flat"


def current_run() -> HotTopicRun | None:
    return HotTopicRun.objects.filter(is_current=True).first()


def _members(topics: QuerySet[HotTopic], cases: QuerySet[Case]) -> dict[int, list[Member]]:
    """The shown members of each topic, most similar to the representative first (two queries)."""
    rows = list(
        HotTopicMember.objects.filter(topic__in=topics, case__in=cases.values("pk"))
        .order_by("topic_id", "-similarity", "case__received_at")
        .values_list(
            "topic_id",
            "case_id",
            "case__number",
            "case__title",
            "case__status",
            "case__origin_id",
            "case__received_at",
            "similarity",
        )
    )
    supports = dict(
        Support.objects.filter(case_id__in=sorted({r[1] for r in rows}))
        .values_list("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    places = place_names(r[5] for r in rows)
    labels = dict(Case._meta.get_field("status").flatchoices)
    found: dict[int, list[Member]] = defaultdict(list)
    for topic_id, case_id, number, title, status, origin, received, similarity in rows:
        found[topic_id].append(
            Member(
                case_id=case_id,
                number=number,
                title=title,
                status=status,
                status_label=str(labels.get(status, status)),
                place=places.get(origin, ""),
                received_at=received,
                similarity=similarity,
                support=supports.get(case_id, 0),
            )
        )
    return found


def _shown(topic: HotTopic, members: list[Member], run: HotTopicRun) -> ShownTopic:
    complete = len(members) == topic.size
    middle = run.window_start + (run.window_end - run.window_start) / 2
    recent = sum(1 for m in members if m.received_at >= middle)
    earlier = len(members) - recent
    growth = hot.growth_of(recent, earlier)
    support = sum(m.support for m in members)
    if complete:
        title, terms, place = topic.title, topic.terms.split(), topic.place
    else:
        title = members[0].title
        terms = [t for t in topic.terms.split() if any(t in hot.clean(m.title) for m in members)]
        place = Counter(m.place for m in members if m.place).most_common(1)[0][0] if members else ""
    return ShownTopic(
        topic=topic,
        complete=complete,
        title=title,
        terms=terms,
        place=place,
        size=len(members),
        recent=recent,
        earlier=earlier,
        growth=growth,
        support=support,
        score=hot.score_of(len(members), growth, support),
        first_at=min(m.received_at for m in members),
        last_at=max(m.received_at for m in members),
        members=members,
    )


def overview_topics(user: User, area: Q | None = None, limit: int = OVERVIEW_TOPICS) -> list[ShownTopic]:
    """The current run's topics with shown members (visible, and in ``area`` when given), hottest first by
    the score of what is shown (ties: the run's rank)."""
    run = current_run()
    if run is None:
        return []
    cases = visible_cases(user)
    if area is not None:
        cases = cases.filter(area)
    topics = HotTopic.objects.filter(run=run)
    members = _members(topics, cases)
    shown = [_shown(t, members[t.pk], run) for t in topics.filter(pk__in=sorted(members)).order_by("rank")]
    shown.sort(key=lambda s: (-s.score, s.topic.rank))
    return shown[:limit]


def topic_for(user: User, pk: int) -> ShownTopic:
    """One topic (of any kept run) as the user may see it; 404 when none of its cases is visible."""
    topic = HotTopic.objects.select_related("run").filter(pk=pk).first()
    if topic is None:
        raise Http404
    members = _members(HotTopic.objects.filter(pk=pk), visible_cases(user)).get(topic.pk, [])
    if not members:
        raise Http404
    return _shown(topic, members, topic.run)
