"""The category classifier: character n-gram TF-IDF and a linear SVM, with a softmax temperature for the
confidence. Pure (no Django): trained by ``train``, stored by ``dump`` / ``load`` as plain arrays, applied
by ``Classifier.predict``.

Why this method (measured by bench/classify.py, docs/benchmarks.md): on the 2,019 labelled messages it
beat word n-grams from jieba, character 1–3 and 2–4 grams, logistic regression, complement naive Bayes,
NB-SVM, ensembles of them and self-training on the 7,000 unlabelled messages, at 0.7 s to train; Chinese
needs no segmentation when the model sees every character and pair of characters.

Training uses scikit-learn; prediction does not: the vocabulary, the idf and the weights are arrays, so a
model is loaded from the database without unpickling anything and a prediction is a dictionary look-up
per n-gram and one small matrix product (well under a millisecond for a typical request).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

METHOD = "char 1–2-gram TF-IDF + linear SVM (softmax-calibrated)"
NGRAMS = (1, 2)
MIN_DF = 2
C = 1.0
CALIBRATION_FOLDS = 5
TEMPERATURES = tuple(round(0.05 * 1.15**i, 4) for i in range(40))
# Texts are cut here: the title and the first paragraphs say what the request is about, and a 20-page
# complaint should not cost a hundred times a short one.
MAX_CHARS = 2000

_SPACE = re.compile(r"\s+")
_MEANINGFUL = re.compile(r"[\u4e00-\u9fffA-Za-z]")

Progress = Callable[[int, str], None]


def normalise(text: str) -> str:
    """Whitespace removed (the portal's texts are full of tabs and line breaks), cut to MAX_CHARS."""
    return _SPACE.sub("", text or "")[:MAX_CHARS]


def ngrams(text: str) -> list[str]:
    lo, hi = NGRAMS
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return out


@dataclass(frozen=True)
class Prediction:
    """The classes best first with their probabilities; empty with ``reason`` when there is nothing to say."""

    ranked: list[tuple[str, float]] = field(default_factory=list)
    reason: str = ""

    @property
    def label(self) -> str | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def confidence(self) -> float:
        return self.ranked[0][1] if self.ranked else 0.0


# The reasons a text gets no prediction (translated where they are shown).
EMPTY = "empty"
NO_WORDS = "no-words"
UNKNOWN = "unknown"


class Classifier:
    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: Sequence[str],
        temperature: float,
    ) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {g: i for i, g in enumerate(self.vocabulary)}
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.labels = list(labels)
        self.temperature = float(temperature)

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        counts = Counter(i for g in ngrams(text) if (i := self.index.get(g)) is not None)
        if not counts:
            return None
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[idx]  # sublinear tf, as in training
        norm = math.sqrt(float(values @ values))
        return idx, values / norm

    def decision(self, text: str) -> np.ndarray | None:
        vec = self._vector(normalise(text))
        if vec is None:
            return None
        idx, values = vec
        result: np.ndarray = self.coef[:, idx] @ values + self.intercept
        return result

    def predict(self, text: str, top: int = 3) -> Prediction:
        clean = normalise(text)
        if not clean:
            return Prediction(reason=EMPTY)
        if not _MEANINGFUL.search(clean):
            return Prediction(reason=NO_WORDS)
        scores = self.decision(clean)
        if scores is None:
            return Prediction(reason=UNKNOWN)
        probs = softmax(scores / self.temperature)
        order = np.argsort(-probs, kind="stable")[:top]
        return Prediction(ranked=[(self.labels[i], float(probs[i])) for i in order])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    result: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return result


def _vectoriser() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=ngrams, sublinear_tf=True, min_df=MIN_DF, norm="l2", dtype=np.float64, lowercase=False
    )


def _svm(seed: int) -> object:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=C, class_weight="balanced", random_state=seed, max_iter=5000)


def _fit(texts: Sequence[str], labels: Sequence[str], seed: int) -> tuple[object, object]:
    vec = _vectoriser()
    x = vec.fit_transform(texts)  # type: ignore[attr-defined]
    svm = _svm(seed)
    svm.fit(x, labels)  # type: ignore[attr-defined]
    return vec, svm


def _temperature(
    texts: Sequence[str], labels: Sequence[str], seed: int, progress: Progress, span: tuple[int, int]
) -> float:
    """The temperature that makes softmax(decision / T) honest: the one with the least log loss on
    decisions made by models that did not see the text (CALIBRATION_FOLDS-fold)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    classes = sorted(set(labels))
    folds = min(CALIBRATION_FOLDS, min(Counter(labels).values()))
    if folds < 2:
        return 1.0
    decisions = np.zeros((len(y), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    arr = np.asarray(texts, dtype=object)
    for k, (tr, te) in enumerate(splitter.split(arr, y)):
        vec, svm = _fit(list(arr[tr]), list(y[tr]), seed)
        d = svm.decision_function(vec.transform(list(arr[te])))  # type: ignore[attr-defined]
        if d.ndim == 1:  # two classes: one column, positive for the second class
            d = np.column_stack([-d / 2, d / 2])
        decisions[te] = d
        progress(span[0] + (span[1] - span[0]) * (k + 1) // folds, "calibrating")
    truth = np.array([classes.index(v) for v in y])
    best, best_loss = 1.0, math.inf
    for t in TEMPERATURES:
        p = softmax(decisions / t)
        loss = -float(np.mean(np.log(np.clip(p[np.arange(len(y)), truth], 1e-12, 1.0))))
        if loss < best_loss:
            best, best_loss = t, loss
    return best


def train(
    texts: Sequence[str], labels: Sequence[str], *, seed: int = 0, progress: Progress | None = None
) -> Classifier:
    """Train on ``texts`` with ``labels`` (at least two classes). The same texts, labels and seed give the
    same model, array for array."""
    report: Progress = progress or (lambda _pct, _stage: None)
    if len(set(labels)) < 2:
        raise ValueError("at least two categories are needed to train")
    clean = [normalise(t) for t in texts]
    report(5, "calibrating")
    temperature = _temperature(clean, list(labels), seed, report, (5, 80))
    report(80, "fitting")
    vec, svm = _fit(clean, list(labels), seed)
    vocab = vec.get_feature_names_out()  # type: ignore[attr-defined]
    coef = np.asarray(svm.coef_, dtype=np.float32)  # type: ignore[attr-defined]
    intercept = np.asarray(svm.intercept_, dtype=np.float32)  # type: ignore[attr-defined]
    classes = [str(c) for c in svm.classes_]  # type: ignore[attr-defined]
    if len(classes) == 2:  # liblinear keeps one row for two classes
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    report(95, "storing")
    return Classifier(
        vocabulary=[str(g) for g in vocab],
        idf=np.asarray(vec.idf_, dtype=np.float32),  # type: ignore[attr-defined]
        coef=coef,
        intercept=intercept,
        labels=classes,
        temperature=temperature,
    )


def dump(model: Classifier) -> bytes:
    """The model as an ``.npz`` of plain arrays (no pickles), float32 to halve the size."""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        vocabulary=np.array(model.vocabulary, dtype=np.str_),
        idf=model.idf.astype(np.float32),
        coef=model.coef.astype(np.float32),
        intercept=model.intercept.astype(np.float32),
        labels=np.array(model.labels, dtype=np.str_),
        temperature=np.array([model.temperature], dtype=np.float64),
    )
    return buf.getvalue()


def load(blob: bytes) -> Classifier:
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as z:
        return Classifier(
            vocabulary=[str(g) for g in z["vocabulary"]],
            idf=z["idf"],
            coef=z["coef"],
            intercept=z["intercept"],
            labels=[str(v) for v in z["labels"]],
            temperature=float(z["temperature"][0]),
        )


def weights_digest(model: Classifier) -> str:
    """SHA-256 over the arrays themselves (compressed bytes may differ with the zlib build)."""
    h = hashlib.sha256()
    h.update("\x1f".join(model.vocabulary).encode())
    h.update("\x1f".join(model.labels).encode())
    for arr in (model.idf, model.coef, model.intercept):
        h.update(np.ascontiguousarray(arr.astype(np.float32)).tobytes())
    h.update(repr(model.temperature).encode())
    return h.hexdigest()
