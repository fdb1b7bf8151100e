"""The classifier alone (no database): training is reproducible, the stored form predicts what the trained
model predicts, bad or empty text gets a reason instead of an error, and the confidence is a probability."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from civicgrid.triage import classifier

PER_CLASS = 40


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str]]:
    """The first PER_CLASS messages of each class of the labelled file (280 texts: a second to train)."""
    path = Path(settings.SHARED_DATA_DIR) / "messages" / "messages_labeled_dev.csv"
    taken: dict[str, int] = defaultdict(int)
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if taken[row["label"]] < PER_CLASS:
                taken[row["label"]] += 1
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


@pytest.fixture(scope="module")
def model(sample: tuple[list[str], list[str]]) -> classifier.Classifier:
    return classifier.train(*sample, seed=7)


def test_the_same_seed_gives_the_same_model(
    sample: tuple[list[str], list[str]], model: classifier.Classifier
) -> None:
    again = classifier.train(*sample, seed=7)
    assert classifier.weights_digest(again) == classifier.weights_digest(model)
    assert np.array_equal(again.coef, model.coef)
    assert again.temperature == model.temperature
    # and the digest does see the weights: a different training set gives another
    other = classifier.train(sample[0][1:], sample[1][1:], seed=7)
    assert classifier.weights_digest(other) != classifier.weights_digest(model)


def test_the_stored_form_predicts_the_same(model: classifier.Classifier) -> None:
    blob = classifier.dump(model)
    assert b"pickle" not in blob
    loaded = classifier.load(blob)
    for text in ("小区门口的路灯坏了好几天", "孩子上学的学位问题", "社保缴费基数怎么算", "公交线路调整"):
        a, b = model.predict(text), loaded.predict(text)
        assert a.label == b.label
        assert a.confidence == pytest.approx(b.confidence, abs=1e-6)


def test_predictions_are_probabilities_best_first(model: classifier.Classifier) -> None:
    p = model.predict("A市某小学周边交通拥堵，学生上下学很危险，请求增设红绿灯和人行横道")
    assert len(p.ranked) == 3
    probs = [x for _label, x in p.ranked]
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= x <= 1.0 for x in probs)
    decision = model.decision("A市某小学周边交通拥堵")
    assert decision is not None
    full = classifier.softmax(np.asarray(decision) / model.temperature)
    assert float(full.sum()) == pytest.approx(1.0)


def test_a_clear_text_is_classified(model: classifier.Classifier) -> None:
    assert model.predict("幼儿园收费太高，教育局能否规范民办幼儿园收费").label == "教育文体"
    assert model.predict("工厂夜间偷排废水废气，河水发黑发臭，请环保部门查处").label == "环境保护"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", classifier.EMPTY),
        ("   \n\t ", classifier.EMPTY),
        ("!!!???。。。", classifier.NO_WORDS),
        ("1234567890", classifier.NO_WORDS),
        ("😀😀😀", classifier.NO_WORDS),
        ("龘靐齉齾", classifier.UNKNOWN),  # letters never seen in training
    ],
)
def test_bad_or_empty_text_gets_a_reason_not_an_error(
    model: classifier.Classifier, text: str, reason: str
) -> None:
    p = model.predict(text)
    assert p.ranked == []
    assert p.label is None
    assert p.confidence == 0.0
    assert p.reason == reason


def test_very_long_text_is_cut(model: classifier.Classifier) -> None:
    long = "小区路灯不亮" * 10_000
    assert len(classifier.normalise(long)) == classifier.MAX_CHARS
    assert model.predict(long).label is not None


def test_two_classes_are_enough_and_one_is_refused(sample: tuple[list[str], list[str]]) -> None:
    texts, labels = sample
    pairs = [(t, label) for t, label in zip(texts, labels, strict=True) if label in ("教育文体", "环境保护")]
    two = classifier.train([t for t, _ in pairs], [label for _, label in pairs], seed=0)
    assert two.labels == ["教育文体", "环境保护"]
    assert two.coef.shape[0] == 2
    assert two.predict("学校食堂饭菜质量差").label == "教育文体"
    with pytest.raises(ValueError, match="two categories"):
        classifier.train(texts[:5], ["教育文体"] * 5, seed=0)
