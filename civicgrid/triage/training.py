"""What a classifier is trained on: the labelled file that bootstraps it and the platform's own closed cases.

Labels are categories of the tree at ``LABEL_DEPTH`` (the first level: 城乡建设, 交通运输 …): the labelled
file names first-level classes, and the routing rules give a unit type to every first-level class. A closed
case counts under the first-level ancestor of the category it was closed with — what the dispatcher
finally chose, not what was suggested.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from civicgrid.cases.models import Case, Category
from civicgrid.cases.workflow import GROUPS, Group, Status
from civicgrid.lib import clock
from civicgrid.triage.models import ModelSource

LABEL_DEPTH = 1
# Closed cases older than this are left out: categories and responsibilities change.
CASE_YEARS = 3
# A case's text as the classifier sees it (the same for training and suggesting).
DESCRIPTION_CHARS = 1500


def bootstrap_file() -> Path:
    return Path(settings.SHARED_DATA_DIR) / "messages" / "messages_labeled_dev.csv"


def case_text(title: str, description: str) -> str:
    return f"{title or ''}{(description or '')[:DESCRIPTION_CHARS]}"


@dataclass
class TrainingSet:
    texts: list[str]
    labels: list[str]  # category codes
    from_file: int = 0
    from_cases: int = 0
    skipped: int = 0  # file rows whose class is not a category of the tree


def _top_codes() -> dict[str, str]:
    """First-level category name → code (active categories)."""
    rows = Category.objects.filter(depth=LABEL_DEPTH, is_active=True).values_list("name", "code")
    return dict(rows)


def read_file(path: Path) -> Iterator[tuple[str, str]]:
    """(label name, text) rows of a ``label,text`` CSV file."""
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label, text = (row.get("label") or "").strip(), row.get("text") or ""
            if label and text.strip():
                yield label, text


def training_set(source: str, *, path: Path | None = None) -> TrainingSet:
    data = TrainingSet(texts=[], labels=[])
    if source in (ModelSource.FILE, ModelSource.BOTH):
        codes = _top_codes()
        for label, text in read_file(path or bootstrap_file()):
            code = codes.get(label)
            if code is None:
                data.skipped += 1
                continue
            data.texts.append(text)
            data.labels.append(code)
            data.from_file += 1
    if source in (ModelSource.CASES, ModelSource.BOTH):
        done = [s for s in GROUPS[Group.DONE] if s != Status.DIRECT_ANSWERED]
        since = clock.now() - timedelta(days=365 * CASE_YEARS)
        rows = (
            Case.objects.filter(status__in=done, category__isnull=False, received_at__gte=since)
            .order_by("pk")
            .values_list("title", "description", "category__path")
            .iterator(chunk_size=2000)
        )
        top = {c.path: c.code for c in Category.objects.filter(depth=LABEL_DEPTH)}
        for title, description, category_path in rows:
            code = top.get(category_path.split("/", 1)[0] + "/")
            if code is None:
                continue
            data.texts.append(case_text(title, description))
            data.labels.append(code)
            data.from_cases += 1
    return data
