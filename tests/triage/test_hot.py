"""Hot topics: the pure grouping (civicgrid.triage.hot) on planted texts, and the action that writes a run."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q
from sklearn.feature_extraction.text import TfidfVectorizer

from civicgrid.accounts.permissions import visible_cases
from civicgrid.cases.models import Case
from civicgrid.lib.clock import frozen
from civicgrid.portal.models import Support
from civicgrid.triage import hot, hot_queries
from civicgrid.triage.actions.hot import (
    KEEP_RUNS,
    do_add_demo_supports,
    do_compute_hot_topics,
    do_compute_hot_topics_if_stale,
)
from civicgrid.triage.models import HotTopic, HotTopicMember, HotTopicRun, TriageEvent
from tests.cases.helpers import BJT_POINT, YH_POINT, new_case
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=CST)
START = NOW - timedelta(days=30)
SETTINGS = hot.HotSettings(window_start=START, window_end=NOW)
HERE = (112.97, 28.19)  # 八角亭, about
# ~1.1 km east of HERE (inside the radius) and ~10 km south (outside it).
NEARBY = (112.981, 28.19)
FAR = (112.97, 28.10)

MIXER = [
    (
        "丽发新城小区附近搅拌站噪音扰民",
        "丽发新城小区旁边的混凝土搅拌站日夜施工，噪音和粉尘严重影响居民休息。",
    ),
    ("丽发新城附近搅拌站污染环境", "丽发新城小区附近搅拌站粉尘大噪音大，请有关部门尽快处理。"),
    ("投诉丽发新城搅拌站粉尘噪音", "丽发新城旁边的搅拌站每天晚上作业，粉尘噪音扰民，希望取缔。"),
    ("丽发新城小区搅拌站何时搬走", "丽发新城小区边上的搅拌站噪音粉尘问题一直没有解决，请求搬迁。"),
]
LAMPS = [
    ("小区门口路灯不亮", "小区门口的路灯晚上不亮，已经一周了，行人看不清路。"),
    ("小区路灯晚上不亮", "我们小区门口路灯晚上都不亮，请尽快维修路灯。"),
    ("路灯坏了晚上不亮", "小区门口几盏路灯坏了，晚上不亮，行人有安全隐患。"),
]
OTHERS = [
    ("咨询医保异地报销手续", "父亲在外地住院，想咨询医保异地报销需要哪些材料。"),
    ("学校周末违规补课", "某中学每个周末都组织学生补课并收费，请教育局调查。"),
    ("公积金贷款办理太慢", "申请住房公积金贷款两个月了还没有放款，请问原因。"),
    ("建议增设公交线路", "建议增加一条从城南到火车站的公交线路，方便居民出行。"),
    ("小区电梯经常故障", "小区电梯一个月坏了三次，物业不及时维修，老人上下楼困难。"),
]


def case(
    k: int,
    text: tuple[str, str],
    where: tuple[float, float] | None = HERE,
    days_ago: float = 3,
    support: int = 0,
    place: int | None = 1,
) -> hot.HotCase:
    return hot.HotCase(
        id=k,
        title=text[0],
        description=text[1],
        received_at=NOW - timedelta(days=days_ago),
        lon=where[0] if where else None,
        lat=where[1] if where else None,
        place_id=place,
        area_id=100,
        support=support,
    )


def planted() -> list[hot.HotCase]:
    cases = [case(k, t, days_ago=2 + k) for k, t in enumerate(MIXER)]
    cases += [case(10 + k, t, NEARBY, days_ago=20 + k) for k, t in enumerate(LAMPS)]
    cases += [case(20 + k, t, days_ago=5 + k) for k, t in enumerate(OTHERS)]
    return cases


def test_planted_groups_are_found_and_unrelated_texts_left_alone() -> None:
    groups = hot.hot_topics(planted(), SETTINGS)
    found = sorted(sorted(m for m, _ in g.members) for g in groups)
    assert found == [[0, 1, 2, 3], [10, 11, 12]]


def test_the_representative_is_the_member_closest_to_the_centroid() -> None:
    groups = {g.size: g for g in hot.hot_topics(planted(), SETTINGS)}
    mixer = groups[4]
    best = max(mixer.centroid_similarity, key=lambda k: mixer.centroid_similarity[k])
    assert mixer.representative == best
    assert mixer.title == MIXER[best][0]
    assert mixer.members[0] == (best, 1.0)
    assert "搅拌站" in mixer.terms
    assert "路灯" in groups[3].terms


def background() -> list[hot.HotCase]:
    """Other matters of the month: without them every word of a lone topic would look common (IDF)."""
    return [case(20 + k, t, FAR, days_ago=5 + k) for k, t in enumerate(OTHERS)]


def test_far_apart_places_are_not_grouped() -> None:
    lamps = [case(k, t, HERE if k == 0 else FAR if k == 1 else (112.97, 28.01)) for k, t in enumerate(LAMPS)]
    assert hot.hot_topics(lamps + background(), SETTINGS) == []
    near = [case(k, t, HERE if k == 0 else NEARBY) for k, t in enumerate(LAMPS)]
    assert len(hot.hot_topics(near + background(), SETTINGS)) == 1


def test_without_a_point_the_same_community_counts_as_near() -> None:
    lamps = [case(k, t, None if k else HERE, place=7) for k, t in enumerate(LAMPS)]
    assert len(hot.hot_topics(lamps + background(), SETTINGS)) == 1
    apart = [case(k, t, None, place=k) for k, t in enumerate(LAMPS)]
    assert hot.hot_topics(apart + background(), SETTINGS) == []


def test_the_same_text_is_linked_wherever_it_is() -> None:
    same = [case(k, MIXER[0], where) for k, where in enumerate([HERE, FAR, (112.90, 28.00)])]
    (group,) = hot.hot_topics(same + background(), SETTINGS)
    assert group.size == 3


def test_no_chaining_every_member_is_linked_to_the_seed() -> None:
    """A line of cases 1.2 km apart: each is near its neighbours only, so no group spans the line."""
    line = [case(k, LAMPS[k % 3], (112.95 + 0.0125 * k, 28.19)) for k in range(9)]
    nowhere = hot.HotSettings(START, NOW, far_similarity=1.01)  # the same texts recur along the line
    groups = hot.hot_topics(line + background(), nowhere)
    assert groups
    for group in groups:
        ids = [m for m, _ in group.members]
        assert max(ids) - min(ids) <= 2


def test_groups_smaller_than_the_least_are_dropped() -> None:
    two = [case(k, t) for k, t in enumerate(LAMPS[:2])] + background()
    assert hot.hot_topics(two, SETTINGS) == []
    assert len(hot.hot_topics(two, hot.HotSettings(START, NOW, min_cases=2))) == 1


def test_ranking_by_score_volume_growth_and_support() -> None:
    assert hot.score_of(4, 0.0, 0) == 4
    assert hot.score_of(4, 1.0, 0) == 6  # all recent: × 1.5
    assert hot.score_of(4, -1.0, 0) == 2  # all earlier: × 0.5
    assert hot.score_of(3, 0.0, 7) == 6  # 7 supports = log2(8) = 3 cases' worth
    assert hot.growth_of(3, 1) == 0.5
    groups = hot.hot_topics(planted(), SETTINGS)
    # The mixer: 4 recent cases (score 6); the lamps: 3 earlier ones (1.5) — until residents support them.
    assert [g.size for g in groups] == [4, 3]
    assert (groups[0].recent, groups[0].earlier, groups[0].growth, groups[0].score) == (4, 0, 1.0, 6.0)
    assert (groups[1].recent, groups[1].earlier, groups[1].score) == (0, 3, 1.5)
    supported = [
        case(c.id, LAMPS[c.id - 10], NEARBY, days_ago=3, support=100) if 10 <= c.id < 20 else c
        for c in planted()
    ]
    ranked = hot.hot_topics(supported, SETTINGS)
    assert [g.size for g in ranked] == [3, 4]
    assert ranked[0].support == 300
    assert [g.rank for g in ranked] == [1, 2]


def test_place_is_the_common_community_or_else_the_street() -> None:
    cases = [case(k, t, place=5 if k < 3 else 6) for k, t in enumerate(MIXER)]
    (group,) = hot.hot_topics(cases + background(), SETTINGS)
    assert group.place_id == 5
    spread = [case(k, t, place=k) for k, t in enumerate(MIXER)]
    (group,) = hot.hot_topics(spread + background(), SETTINGS)
    assert group.place_id == 100  # no community holds half: the street
    assert group.lon == pytest.approx(HERE[0])
    assert (group.first_at, group.last_at) == (NOW - timedelta(days=3), NOW - timedelta(days=3))


def test_the_vectors_weigh_like_tfidfvectorizer() -> None:
    """The numpy vectors are scikit-learn's char 1–2-gram TF-IDF (sublinear tf, smooth idf) of each part."""
    titles = [hot.clean(t) for t, _ in MIXER + LAMPS + OTHERS]
    bodies = [hot.clean(b) for _, b in MIXER + LAMPS + OTHERS]
    ours = hot.vectorize(titles, bodies).matrix
    both = [t + "\x00" + b for t, b in zip(titles, bodies, strict=True)]
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    reference.fit(both)  # n-grams across the joint \x00 are dropped below: they exist in neither part
    vocabulary = {g: c for g, c in reference.vocabulary_.items() if "\x00" not in g}
    idf = reference.idf_
    from sklearn.preprocessing import normalize

    t = normalize(reference.transform(titles))
    b = normalize(reference.transform(bodies))
    mixed = normalize(hot.TITLE_WEIGHT * t + (1 - hot.TITLE_WEIGHT) * b)
    ref_sim = (mixed @ mixed.T).toarray()
    our_sim = (ours @ ours.T).toarray()
    assert len(vocabulary) > 0
    assert len(idf) > 0
    # The \x00 n-grams count towards df in the reference only, so compare closely, not exactly.
    assert abs(ref_sim - our_sim).max() < 0.02


# --- The action ---------------------------------------------------------------------------------------


def _cases(world: World) -> dict[str, Case]:
    made: dict[str, Case] = {}
    with frozen(NOW - timedelta(days=2)):
        for k, (title, body) in enumerate(MIXER):
            made[f"m{k}"] = new_case(world, actor=None, title=title, description=body, point=BJT_POINT)
        for k in range(3):  # the first text again, word for word, in 雨花区
            made[f"y{k}"] = new_case(
                world, actor=None, title=MIXER[0][0], description=MIXER[0][1], point=YH_POINT
            )
        for k, (title, body) in enumerate(OTHERS):
            made[f"o{k}"] = new_case(world, actor=None, title=title, description=body, point=BJT_POINT)
    with frozen(NOW - timedelta(days=40)):
        made["old"] = new_case(world, actor=None, title=MIXER[0][0], description=MIXER[0][1])
    return made


def test_the_action_writes_a_run_and_flips_it_current(world: World) -> None:
    made = _cases(world)
    Support.objects.create(case=made["m0"], at=NOW, ip_digest="x")
    first = do_compute_hot_topics(now=NOW, actor=world.u("tx_leader"))
    assert first.is_current
    assert first.n_cases == len(made) - 1
    topics = list(first.topics.order_by("rank"))
    # 八角亭's four and 雨花区's three are ~20 km apart, but their texts are the same: linked anyway.
    assert [t.size for t in topics] == [7]
    (topic,) = topics
    assert topic.support == 1
    assert topic.place  # the community most of them happened in
    assert set(HotTopicMember.objects.filter(topic=topic).values_list("case_id", flat=True)) == {
        made[k].pk for k in ("m0", "m1", "m2", "m3", "y0", "y1", "y2")
    }
    event = TriageEvent.objects.get(kind="hot_topics.computed")
    assert event.actor == world.u("tx_leader")
    assert event.data["topics"] == 1

    second = do_compute_hot_topics(now=NOW + timedelta(hours=2), actor=None)
    first.refresh_from_db()
    assert second.is_current
    assert not first.is_current
    assert HotTopicRun.objects.filter(is_current=True).count() == 1
    assert HotTopic.objects.filter(run=first).count() == 1


def test_a_dropped_case_is_not_counted(world: World) -> None:
    made = _cases(world)
    Case.objects.filter(pk=made["m0"].pk).update(status="void")
    run = do_compute_hot_topics(now=NOW, actor=None)
    assert run.n_cases == len(made) - 2
    assert not HotTopicMember.objects.filter(case=made["m0"]).exists()


def test_old_runs_are_pruned_and_a_fresh_run_is_not_recomputed(world: World) -> None:
    for k in range(KEEP_RUNS + 2):
        do_compute_hot_topics(now=NOW + timedelta(minutes=k), actor=None)
    assert HotTopicRun.objects.count() == KEEP_RUNS
    latest = HotTopicRun.objects.get(is_current=True)
    assert do_compute_hot_topics_if_stale(now=latest.computed_at + timedelta(minutes=59), actor=None) is None
    again = do_compute_hot_topics_if_stale(now=latest.computed_at + timedelta(minutes=61), actor=None)
    assert again is not None
    assert again.is_current


def test_the_job_is_registered() -> None:
    from civicgrid.core.worker import registered_jobs
    from civicgrid.triage.hot_job import refresh_hot_topics

    assert registered_jobs()["triage.hot_topics"] is refresh_hot_topics


def test_members_are_scoped_on_the_overview(world: World) -> None:
    made = _cases(world)
    with frozen(NOW):
        do_compute_hot_topics(now=NOW, actor=None)
    tx = world.u("tx_leader")
    (shown,) = hot_queries.overview_topics(tx)
    # 天心区's leader sees the four 八角亭 cases, not 雨花区's three: counts and title are of those four.
    assert shown.size == 4
    assert not shown.complete
    assert {m.case_id for m in shown.members} == {made[f"m{k}"].pk for k in range(4)}
    assert shown.title in {t for t, _ in MIXER}
    assert all(m.case_id in set(visible_cases(tx).values_list("pk", flat=True)) for m in shown.members)
    yh = world.u("yh_dispatcher")
    (outside,) = hot_queries.overview_topics(yh)
    assert outside.size == 3
    assert hot_queries.overview_topics(tx, Q(origin_path__startswith="nowhere/")) == []
    (everything,) = hot_queries.overview_topics(world.u("root"))
    assert everything.complete
    assert everything.size == 7


def test_demo_supports_are_added_once(world: World) -> None:
    made = _cases(world)
    wanted = {made["m0"].pk: 3, made["m1"].pk: 2}
    with frozen(NOW):
        assert do_add_demo_supports(wanted, actor=None) == 5
        assert do_add_demo_supports(wanted, actor=None) == 0
    assert Support.objects.filter(case=made["m0"]).count() == 3
    assert len(set(Support.objects.values_list("ip_digest", flat=True))) == 5
