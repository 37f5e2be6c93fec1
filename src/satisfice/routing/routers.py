"""Predictive routers: P(model answers correctly | prompt) for every model, from prompt features.

Features come from a registry (``FEATURES``; built in: ``tfidf``, word and character n-grams fitted on the
training prompts). Routers come from another (``ROUTERS``; built in: ``logreg``, one logistic regression per
model, and ``knn``, the smoothed share of the k most similar training prompts each model got right). Both are
scikit-learn estimators, fitted once and pickled with the policy; computing the features of one request is one
``transform`` call, shared by every router.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

MAX_PROMPT_CHARS = 20_000
"""Prompts are cut to this many characters before featurising (a hostile 10 MB prompt costs no more)."""


class Featurizer(Protocol):
    """Turns prompts into a feature matrix (fitted on training prompts)."""

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Fit on these prompts and return their features."""
        ...

    def transform(self, texts: Sequence[str]) -> Any:
        """Features of new prompts."""
        ...


def _cut(texts: Sequence[str]) -> list[str]:
    return [t[:MAX_PROMPT_CHARS] for t in texts]


@dataclass
class Tfidf:
    """Word 1-2-grams, sublinear TF-IDF, L2-normalised (scikit-learn); character n-grams cost 5x more for no gain.

    One prompt (the serving path) is featurised without scikit-learn's per-call validation: the same analyzer,
    vocabulary, ``1 + log(tf)``, idf and L2 norm, built straight into a one-row sparse matrix (about twice as fast).
    """

    max_features: int = 20_000
    vectorizer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"max_features": self.max_features, "vectorizer": self.vectorizer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Fit the vocabulary on the training prompts."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                          max_features=self.max_features, dtype=np.float32)
        return self.vectorizer.fit_transform(_cut(texts))

    def transform(self, texts: Sequence[str]) -> Any:
        """Features of new prompts with the fitted vocabulary."""
        if len(texts) == 1:
            return self._one(texts[0][:MAX_PROMPT_CHARS])
        return self.vectorizer.transform(_cut(texts))

    def _one(self, text: str) -> Any:
        from scipy.sparse import csr_matrix

        cache = self.__dict__.get("_serving")
        if cache is None:
            cache = self.__dict__["_serving"] = (self.vectorizer.build_analyzer(), self.vectorizer.vocabulary_,
                                                 np.asarray(self.vectorizer.idf_, dtype=np.float64))
        analyzer, vocabulary, idf = cache
        counts: dict[int, int] = {}
        for token in analyzer(text):
            j = vocabulary.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        tf = np.fromiter((counts[j] for j in cols), dtype=np.float64, count=len(cols))
        values = (1.0 + np.log(tf)) * idf[cols] if cols.size else tf
        norm = float(np.sqrt((values * values).sum()))
        if norm > 0:
            values = values / norm
        return csr_matrix((values.astype(np.float32), cols, np.array([0, cols.size])), shape=(1, len(idf)))


FEATURES: dict[str, Callable[[], Featurizer]] = {"tfidf": Tfidf}
"""Feature extractors by name."""


class Router(Protocol):
    """Predicts, per model, the probability that it answers an item correctly."""

    def fit(self, x: Any, correct: np.ndarray) -> Router:
        """Fit on features ``x`` and the ``(n, n_models)`` correctness matrix."""
        ...

    def predict(self, x: Any) -> np.ndarray:
        """``(n, n_models)`` probabilities."""
        ...


@dataclass
class LogRegRouter:
    """One L2 logistic regression per model, kept as one weight matrix so a request costs one sparse product.

    A model always right (or always wrong) in training gets that constant probability.
    """

    c: float = 1.0
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    constant: dict[int, float] = field(default_factory=dict)

    def fit(self, x: Any, correct: np.ndarray) -> LogRegRouter:
        """Fit one classifier per column."""
        from sklearn.linear_model import LogisticRegression

        labels = correct >= 0.5
        self.weights = np.zeros((x.shape[1], labels.shape[1]))
        self.bias = np.zeros(labels.shape[1])
        self.constant = {}
        for j in range(labels.shape[1]):
            y = labels[:, j]
            if y.all() or not y.any():
                self.constant[j] = float(y.mean())
                continue
            fitted = LogisticRegression(C=self.c, solver="liblinear").fit(x, y)
            self.weights[:, j] = fitted.coef_[0]
            self.bias[j] = fitted.intercept_[0]
        return self

    def predict(self, x: Any) -> np.ndarray:
        """P(correct) per model."""
        z = np.asarray(x @ self.weights) + self.bias
        probs: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        for j, value in self.constant.items():
            probs[:, j] = value
        return probs


@dataclass
class KnnRouter:
    """Share of the ``k`` most similar training prompts each model got right, shrunk to its mean accuracy.

    Similarity is the dot product of the L2-normalised feature rows (cosine), one sparse product per request.
    """

    k: int = 25
    prior_weight: float = 2.0
    rows: Any = None
    correct: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def fit(self, x: Any, correct: np.ndarray) -> KnnRouter:
        """Keep the (normalised) training rows and their outcomes."""
        from sklearn.preprocessing import normalize

        self.correct = np.asarray(correct, dtype=float)
        self.rows = normalize(x).T.tocsr()
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Smoothed neighbour accuracy per model."""
        sims = np.asarray((x @ self.rows).todense())  # TF-IDF rows are L2-normalised already
        k = min(self.k, sims.shape[1])
        neighbours = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        hits = self.correct[neighbours].sum(axis=1)
        prior = self.correct.mean(axis=0)
        return np.asarray((hits + self.prior_weight * prior) / (k + self.prior_weight))


ROUTERS: dict[str, Callable[[], Router]] = {"logreg": LogRegRouter, "knn": KnnRouter}
"""Predictive routers by name."""


def out_of_fold(router: str, x: Any, correct: np.ndarray, *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Probabilities for every training item from routers that did not see its label (k-fold), to choose by.

    The features are fitted once on all the items (no labels are used for them); only the routers are refitted.
    """
    from sklearn.model_selection import KFold

    out = np.zeros(correct.shape, dtype=float)
    splitter = KFold(n_splits=min(folds, x.shape[0]), shuffle=True, random_state=seed)
    for fit_idx, held in splitter.split(np.arange(x.shape[0])):
        out[held] = ROUTERS[router]().fit(x[fit_idx], correct[fit_idx]).predict(x[held])
    return out


__all__ = ["FEATURES", "MAX_PROMPT_CHARS", "ROUTERS", "Featurizer", "KnnRouter", "LogRegRouter", "Router", "Tfidf",
           "out_of_fold"]
