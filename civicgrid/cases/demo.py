"""Demo step: about two years of cases for the demo district, built from the real messages.

See docs/architecture.md, "Demo case history". In short: the categories are imported from the portal's
taxonomy; the units the categories need and their staff are added (civicgrid.cases.demo_staff); every
replied message and a sample of the voted ones become cases (civicgrid.cases.demo_sources maps their times
and derives category and nature); each case is walked through its life with the real actions by the demo
personas (civicgrid.cases.demo_walk); the sweeper then fires the thresholds due today. All of it runs
under ``notify.suppressed()``: nobody is told about the past.

Which life a message gets is chosen deterministically from its place in a seeded shuffle, by cycling
through fixed patterns (PATHS, the open-state cycles), so any slice of the shuffle — the test's
``limit=150`` as well as the full run — has every path. Idempotent: cases are keyed
``demo:<source>:<message id>`` and a second run skips the ones that exist.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from civicgrid.cases import limits, notify
from civicgrid.cases.actions.catalog import do_save_time_limit
from civicgrid.cases.categories import do_import_categories
from civicgrid.cases.demo_sources import (
    Classifier,
    Message,
    TimeMap,
    infer_nature,
    read_messages,
    stable_order,
    title_grams,
)
from civicgrid.cases.demo_staff import (
    CATEGORY_UNIT_TYPES,
    COMMUNITY_TYPES,
    TOWNSHIP_TYPES,
    Staff,
    load_staff,
    load_units,
)
from civicgrid.cases.demo_walk import Plan, Walker
from civicgrid.cases.models import Case, Category, Nature, Stage, TimeLimit
from civicgrid.cases.sweep import sweep_due_clocks
from civicgrid.core.worker import WorkerContext
from civicgrid.demo.context import DemoContext, mobile_number, person_name
from civicgrid.jurisdictions.models import Jurisdiction

RECENT_DAYS = 21  # the open window: cases of the last three weeks stay open
KEY_PREFIX = "demo:"
# Shares of the voted (unanswered) messages, relative to all demo cases.
VOTES_SHARES = {"void": 0.03, "merge": 0.02, "withdraw": 0.01, "backlog": 0.03}
DIRECT_EVERY = 6  # every 6th consultation with a real reply is answered at intake (≈ 5 % of all cases)
# Paths of the replied messages (per 100): each case gets one, cycling through a spread-out order.
PATHS: dict[str, float] = {
    "return_approve": 6,  # dispatched to the wrong unit, returned, re-dispatched
    "return_ruling": 4,  # returned, refused by a ruling (审定): the unit must handle it
    "esc1": 3,  # the township office escalates to the county
    "esc2": 2.5,  # community → township → county
    "esc3": 2,  # community → township → county → city
    "rework": 5,  # verification fails once (返工)
    "extension": 5,
    "extension_refused": 1.2,
    "unsatisfied": 7.3,
    "reopen": 5,  # unsatisfied, reopened by the oversight office (重办)
    "split": 1.2,
    "joint": 3,  # a co-handling unit (联办)
    "waiting": 2,  # waits for the resident a while
    "suspended": 1.2,
}
# States the open cases stay in (the first eight differ, so any slice of eight has each).
OPEN_CYCLE = (
    "received",
    "registered",
    "dispatched",
    "handling",
    "confirming",
    "return_requested",
    "waiting",
    "suspended",
    "dispatched",
    "handling",
    "registered",
    "handling",
)
REPLIED_CYCLE = ("replied", "resolved", "")  # replied in the open window: waiting for 核查, for 回访, or done
BACKLOG_CYCLE = ("handling", "waiting", "handling", "suspended", "dispatched", "handling")
# The least of each group in a limited run, so a small slice still shows every state.
SLICE_MINIMUM = {"open": 18, "replied_recently": 4, "void": 2, "merge": 2, "withdraw": 1, "backlog": 3}
CHANNELS = (("hotline", 0.60), ("web", 0.25), ("app", 0.07), ("window", 0.05), ("grid", 0.03))
URGENT_WORDS = ("塌陷", "坍塌", "漏电", "燃气泄漏", "火灾", "危房", "倒塌")
STAGED = ("城乡建设", "城乡规划", "违章建筑")  # 停工 → 处罚 → 拆除 (../shared/reference/workflow.md §4)
STAGED_LIMITS = (("停工", "4", "work_hour"), ("处罚", "7", "work_day"), ("拆除", "20", "work_day"))


@dataclass
class Pick:
    message: Message
    received_at: datetime
    replied_at: datetime | None
    group: str
    path: str = "normal"
    stop: str = ""
    master_key: str = ""

    @property
    def intake_key(self) -> str:
        return f"{KEY_PREFIX}{self.message.source}:{self.message.id}"


def _spread(weights: dict[str, float], slots: int = 100) -> list[str]:
    """``slots`` paths with the weights' shares, each path spread evenly (its first use early)."""
    placed: list[tuple[float, str]] = []
    for name, weight in weights.items():
        step = slots / weight
        placed.extend(((k + 0.5) * step, name) for k in range(round(weight)))
    cycle = ["normal"] * slots
    for position, name in sorted(placed):
        slot = int(position) % slots
        while cycle[slot] != "normal":  # taken: the next free slot
            slot = (slot + 1) % slots
        cycle[slot] = name
    return cycle


PATH_CYCLE = _spread(PATHS)


class _Similar:
    """Earlier messages with a similar title (character-bigram Jaccard ≥ 0.5, at most 90 days before):
    the duplicates that are merged (并案). Very common bigrams are ignored when looking for candidates."""

    def __init__(self, picks: list[Pick]) -> None:
        self.picks = sorted(picks, key=lambda p: (p.received_at, p.intake_key))
        self.grams = [title_grams(p.message.title) for p in self.picks]
        self.position = {p.intake_key: i for i, p in enumerate(self.picks)}
        self.index: dict[str, list[int]] = {}
        for i, grams in enumerate(self.grams):
            for gram in grams:
                self.index.setdefault(gram, []).append(i)

    def earlier(self, pick: Pick) -> Pick | None:
        i = self.position[pick.intake_key]
        mine = self.grams[i]
        shared: Counter[int] = Counter()
        for gram in mine:
            postings = self.index[gram]
            if len(postings) > 400:
                continue
            shared.update(j for j in postings if j < i)
        best: tuple[float, int] | None = None
        for j, count in shared.items():
            if self.picks[i].received_at - self.picks[j].received_at > timedelta(days=90):
                continue
            similarity = count / len(mine | self.grams[j])
            if similarity >= 0.5 and (best is None or similarity > best[0]):
                best = (similarity, j)
        return self.picks[best[1]] if best else None


def select(
    ctx: DemoContext, messages: list[Message], tm: TimeMap, now: datetime, limit: int | None
) -> list[Pick]:
    """Which messages become cases, and the path and open state of each (see the module docstring)."""
    picks: list[Pick] = []
    for m in messages:
        received = tm.to_demo(tm.fold(m.at, ctx.rng("fold", m.key).random()))
        replied = received + (m.reply_at - m.at) if m.reply_at is not None else None
        picks.append(Pick(m, received, replied, group=m.source))
    picks.sort(key=lambda p: stable_order(ctx.seed, p.intake_key))
    recent = now - timedelta(days=RECENT_DAYS)
    replies = [p for p in picks if p.group == "replies"]
    votes = [p for p in picks if p.group == "votes"]
    for p in replies:
        if p.replied_at is not None and recent < p.replied_at <= now - timedelta(hours=2):
            p.group = "replied_recently"
    total = round(len(replies) / (1 - sum(VOTES_SHARES.values()) - 0.03))
    quotas = {name: round(share * total) for name, share in VOTES_SHARES.items()}
    groups: dict[str, list[Pick]] = {name: [] for name in ("open", *VOTES_SHARES)}
    similar = _Similar(picks)
    masters: dict[str, Pick] = {}
    old_votes = []
    for p in votes:
        if p.received_at > recent:
            p.group = "open"
            groups["open"].append(p)
        else:
            old_votes.append(p)
    taken: set[str] = set()
    for p in old_votes:
        if len(groups["merge"]) >= quotas["merge"]:
            break
        master = similar.earlier(p)
        if master is None or master.intake_key in taken or p.intake_key in taken:
            continue
        p.group, p.path, p.master_key = "merge", "merge", master.intake_key
        groups["merge"].append(p)
        taken |= {p.intake_key, master.intake_key}
        if master.group == "votes":
            master.group, master.stop = "master", "handling"  # an unanswered case that others join
            masters[p.intake_key] = master
    rest = iter(p for p in old_votes if p.intake_key not in taken)
    for name in ("void", "withdraw", "backlog"):
        for p in rest:
            groups[name].append(p)
            p.group = name
            if len(groups[name]) >= quotas[name]:
                break
    chosen_replies = [p for p in replies if p.group == "replied_recently"] + [
        p for p in replies if p.group == "replies"
    ]
    if limit is not None:
        full = len(chosen_replies) + sum(len(g) for g in groups.values()) + len(masters)
        for name, group in groups.items():
            groups[name] = group[: max(SLICE_MINIMUM[name], round(len(group) * limit / full))]
        recent_replies = [p for p in chosen_replies if p.group == "replied_recently"][
            : SLICE_MINIMUM["replied_recently"]
        ]
        kept_masters = [masters[p.intake_key] for p in groups["merge"] if p.intake_key in masters]
        room = max(limit - sum(len(g) for g in groups.values()) - len(kept_masters) - len(recent_replies), 0)
        others = [p for p in chosen_replies if p.group == "replies"]
        master_replies = {p.master_key for p in groups["merge"]}
        needed = [p for p in others if p.intake_key in master_replies]
        others = (
            needed + [p for p in others if p.intake_key not in master_replies][: max(room - len(needed), 0)]
        )
        chosen_replies = recent_replies + others
        masters = {k: v for k, v in masters.items() if v in kept_masters}
    _assign_paths(chosen_replies, groups)
    return chosen_replies + [p for g in groups.values() for p in g] + list(masters.values())


def _assign_paths(replies: list[Pick], groups: dict[str, list[Pick]]) -> None:
    consults = general = 0
    # The newest cases take the earliest states of the cycles (the last reply is still waiting for
    # verification, the last message is not even registered).
    recently = sorted(
        (p for p in replies if p.group == "replied_recently"), key=lambda p: p.replied_at or p.received_at
    )
    for i, p in enumerate(reversed(recently)):
        p.stop = REPLIED_CYCLE[i % len(REPLIED_CYCLE)]
    for p in replies:
        if p.stop:
            continue
        if infer_nature(p.message.title, p.message.body) == Nature.CONSULT:
            consults += 1
            if consults % DIRECT_EVERY == 1:
                p.path = "direct"
                continue
        p.path = PATH_CYCLE[general % len(PATH_CYCLE)]
        general += 1
    for i, p in enumerate(sorted(groups["open"], key=lambda p: p.received_at, reverse=True)):
        p.stop = OPEN_CYCLE[i % len(OPEN_CYCLE)]
    for i, p in enumerate(groups["backlog"]):
        p.stop = BACKLOG_CYCLE[i % len(BACKLOG_CYCLE)]
    for name in ("void", "withdraw"):
        for p in groups[name]:
            p.path = name


def effective_unit_types() -> dict[int, str]:
    """Category pk → the unit type code of the nearest category (itself or an ancestor) that has one."""
    rows = list(Category.objects.values_list("pk", "code", "path", "unit_type__code"))
    by_code = {code: type_code for _, code, _, type_code in rows}
    found: dict[int, str] = {}
    for pk, _, path, _ in rows:
        codes = [c for c in path.split("/") if c]
        found[pk] = next((by_code[c] for c in reversed(codes) if by_code.get(c)), "")
    return found


def _plan(
    ctx: DemoContext,
    pick: Pick,
    classifier: Classifier,
    categories: dict[int, Category],
    unit_types: dict[int, str],
    staff: Staff,
) -> Plan:
    m = pick.message
    rng = ctx.rng("plan", m.key)
    category = categories[classifier.classify(m.title, m.body).pk]
    alt = categories[classifier.classify(m.title, m.body, rank=1).pk]
    roll, channel = rng.random(), "hotline"
    for name, share in CHANNELS:
        if roll < share:
            channel = name
            break
        roll -= share
    local = unit_types.get(category.pk, "") in TOWNSHIP_TYPES | COMMUNITY_TYPES
    county_desk = {"direct", "void", "merge", "withdraw", "split", "esc1", "return_approve", "return_ruling"}
    if channel in ("window", "grid") and (
        not local or pick.path in county_desk or pick.stop == "return_requested"
    ):
        channel = "hotline"  # the county's hotline takes what a township window or grid would pass up anyway
    if pick.path in ("esc2", "esc3"):
        channel = "grid"
    anonymous = (
        channel in ("web", "app") and rng.random() < 0.03 and pick.path not in ("unsatisfied", "reopen")
    )
    nature = Nature.CONSULT.value if pick.path == "direct" else infer_nature(m.title, m.body)
    return Plan(
        message=m,
        received_at=pick.received_at,
        replied_at=pick.replied_at,
        channel=channel,
        nature=nature,
        urgency="urgent" if any(word in m.title for word in URGENT_WORDS) else "normal",
        category=category,
        alt_category=alt,
        cell=_cell_of(ctx, m.title, rng.choice(staff.cells), staff.cells),
        reporter_name=person_name(ctx.rng("reporter", m.key)),
        reporter_phone=mobile_number(ctx.rng("reporter-phone", m.key)),
        anonymous=anonymous,
        path=pick.path,
        stop=pick.stop,
        master_key=pick.master_key,
    )


# Messages that name the same estate, road, school or site are placed in the same grid cell: the source
# has no coordinates, and scattering them would hide what a map, the duplicates and the hot topics should
# see (six complaints about one 丽发新城 mixing plant are one place, not six). Others keep a random cell.
_PLACE = re.compile(
    r"([\u4e00-\u9fff]{2,10}?(?:小区|花园|新城|广场|公寓|家园|山庄|苑|国际|市场|大道|路|小学|中学|幼儿园|医院|搅拌站))"
)
_PLACE_PREFIX = re.compile(r"^(?:[A-Z]\d*[市县区州]?)*(?:[\u4e00-\u9fff]{2,4}(?:街道|镇|乡))?")
_NOT_A_PLACE = ("县", "区", "市", "省", "投诉", "反映", "关于", "请求", "建议", "咨询", "举报")


def place_key(title: str) -> str | None:
    """The named place of a message's title ("丽发新城", "劳动东路"), or None."""
    found = _PLACE.search(_PLACE_PREFIX.sub("", title.strip()))
    if found is None or found.group(1).startswith(_NOT_A_PLACE):
        return None
    return found.group(1)


def _cell_of(ctx: DemoContext, title: str, drawn: Any, cells: list[Any]) -> Any:
    key = place_key(title)
    return ctx.rng("place", key).choice(cells) if key else drawn


def _staged_limits() -> None:
    node = Category.objects.filter(name=STAGED[0], parent=None).first()
    for name in STAGED[1:]:
        node = Category.objects.filter(name=name, parent=node).first() if node else None
    if node is None or TimeLimit.objects.filter(category=node, stage=Stage.HANDLE).exists():
        return  # no such category, or its limits were set already (perhaps edited by an administrator)
    for seq, (label, value, unit) in enumerate(STAGED_LIMITS):
        do_save_time_limit(
            TimeLimit(
                stage=Stage.HANDLE, seq=seq, label=label, category=node, value=Decimal(value), unit=unit
            ),
            actor=None,
        )
    limits.invalidate()  # the action drops the cache on commit; the replay below runs before that


def load(ctx: DemoContext, *, limit: int | None = None) -> None:
    """Add the demo case history (``limit``, else ``ctx.case_limit``: only that many messages, for tests)."""
    limit = limit if limit is not None else ctx.case_limit
    started = time.monotonic()
    county = Jurisdiction.objects.get(code=ctx.county_code)
    messages_dir = ctx.data_dir / "messages"
    units = load_units(county)  # the unit types first: the categories name them
    imported = do_import_categories(
        messages_dir / "category_taxonomy.csv", unit_types=CATEGORY_UNIT_TYPES, actor=None
    )
    ctx.say(
        f"    categories: {imported.created} created, {imported.updated} updated, {imported.unchanged} kept"
    )
    _staged_limits()
    staff = load_staff(ctx, county, units)
    now = timezone.now()
    picks = select(ctx, read_messages(messages_dir), TimeMap(timezone.localdate(now)), now, limit)
    existing = set(
        Case.objects.filter(intake_key__startswith=KEY_PREFIX).values_list("intake_key", flat=True)
    )
    todo = sorted(
        (p for p in picks if p.intake_key not in existing), key=lambda p: (p.received_at, p.intake_key)
    )
    ctx.say(f"    staff: {staff.created[0]} created; messages: {len(picks)} chosen, {len(todo)} to add")
    if todo:
        _walk_all(ctx, todo, staff, now)
    _summary(ctx, started)


def _walk_all(ctx: DemoContext, todo: list[Pick], staff: Staff, now: datetime) -> None:
    categories = {c.pk: c for c in Category.objects.all()}
    unit_types = effective_unit_types()
    classifier = Classifier.from_rows(
        Category.objects.order_by("path").values_list("pk", "code", "name", "depth", "parent_id")
    )
    masters = {p.master_key for p in todo if p.master_key}
    cases = {c.intake_key or "": c for c in Case.objects.filter(intake_key__in=sorted(masters))}
    staged = frozenset(
        TimeLimit.objects.filter(is_active=True, seq__gt=0).values_list("category_id", flat=True)
    )
    walker = Walker(
        staff,
        cutoff=now - timedelta(minutes=10),
        unit_types=unit_types,
        rng_for=ctx.rng,
        cases=cases,
        staged=frozenset(pk for pk in staged if pk is not None),
    )
    with notify.suppressed():
        for i, pick in enumerate(todo, start=1):
            walker.walk(_plan(ctx, pick, classifier, categories, unit_types, staff))
            if i % 500 == 0:
                ctx.say(f"    cases: {i} of {len(todo)} walked")
        # Thresholds due today (warnings, overdue, the rules' urging, supervision and escalation) are
        # fired by the real sweeper, as the worker would on its first round.
        swept = 0
        while handled := sweep_due_clocks(WorkerContext(worker_id="demo", now=timezone.now(), batch=500)):
            swept += handled
    ctx.say(f"    cases: {len(todo)} walked; {swept} due clocks swept")


def _summary(ctx: DemoContext, started: float) -> None:
    demo = Case.objects.filter(
        Q(intake_key__startswith=KEY_PREFIX) | Q(parent__intake_key__startswith=KEY_PREFIX)
    )
    counts = dict(demo.values_list("status").annotate(n=Count("id")).order_by("status"))
    overdue = demo.filter(was_overdue=True).count()
    ctx.say(
        f"    demo cases: {sum(counts.values())} ({', '.join(f'{s} {n}' for s, n in sorted(counts.items()))}); "
        f"{overdue} were overdue; {time.monotonic() - started:.1f} s"
    )
