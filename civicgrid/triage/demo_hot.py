"""Demo step of the hot topics: the real up-votes of the voted messages become supports of their demo
cases, then the hot topics are computed for the last month.

Demo cases made from ``messages_with_votes.csv`` are keyed ``demo:votes:<留言编号>`` (civicgrid.cases.demo);
each gets as many supports ("I have the same problem") as its message had up-votes (点赞数), at most
SUPPORT_CAP (a few messages have hundreds or thousands). Idempotent: a case that has supports is left
alone, and computing again only adds a run to the history.
"""

from __future__ import annotations

import csv

from civicgrid.cases.models import Case
from civicgrid.demo.context import DemoContext
from civicgrid.triage.actions.hot import do_add_demo_supports, do_compute_hot_topics

SUPPORT_CAP = 50
KEY_PREFIX = "demo:votes:"


def up_votes(ctx: DemoContext) -> dict[str, int]:
    """留言编号 → 点赞数 of the messages that have any."""
    path = ctx.data_dir / "messages" / "messages_with_votes.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        votes = {row["留言编号"].strip(): int(row["点赞数"] or 0) for row in csv.DictReader(handle)}
    return {key: n for key, n in votes.items() if n > 0}


def load_hot(ctx: DemoContext) -> None:
    votes = up_votes(ctx)
    cases = Case.objects.filter(intake_key__startswith=KEY_PREFIX).values_list("pk", "intake_key")
    wanted = {
        pk: min(votes[key[len(KEY_PREFIX) :]], SUPPORT_CAP)
        for pk, key in cases
        if key and key[len(KEY_PREFIX) :] in votes
    }
    added = do_add_demo_supports(wanted, actor=None)
    run = do_compute_hot_topics(actor=None)
    ctx.say(
        f"  hot topics: {added} supports from the messages' up-votes; "
        f"{run.topics.count()} topics among {run.n_cases} cases of the last month ({run.seconds:.2f} s)"
    )
