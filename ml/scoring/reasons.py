"""Per-customer top factors: the model inputs that push this customer's churn probability up most.

A factor's impact is a what-if: the probability minus the probability with that one input set to
its training median (numeric) or mode (categorical). For a linear model or an RBF SVC behind
Platt calibration it is computed exactly from the fitted parameters without re-predicting
(`_ExactPath`; checked against the model's own probabilities on every chunk); for any other
model by re-predicting the chunk once per input. Phrases come from the rule file
(ml/segments.py, config/segments.yaml); they are stored once per rule version
(scoring.factor_phrases), not in every score row, and the BI view joins them in.
Measured here: logreg ≈ 1.2M explained rows/s, RBF SVC ≈ 16k (what-if: 2.8k), boosting ≈ 21k.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ml import features, segments

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)


@functools.cache
def _impact_texts() -> tuple[np.ndarray, np.ndarray]:
    """("0." and "1.", the four-decimal texts 0000…9999): formatting an impact is a lookup."""
    import numpy as np

    return np.array(["0.", "1."], dtype=object), np.array([f"{i:04d}" for i in range(10_000)], dtype=object)


class Explainer:
    """What-if impacts of each model input on the probability, and readable top factors.

    `method`: 'linear' or 'rbf-svc' (exact shortcuts, see `_ExactPath`) or 'what-if' (one
    re-prediction of the chunk per input; any model). `allow_exact=False` forces what-if, the
    reference the exact shortcuts must agree with.
    """

    def __init__(
        self, model: Any, baseline: Mapping[str, Any], rules: segments.Rules, allow_exact: bool = True
    ) -> None:
        import pandas as pd

        self.model = model
        self.rules = rules
        self.columns = list(features.FEATURES)
        self.baseline = dict(baseline)
        self.baseline_frame = features.to_model_input(pd.DataFrame([{c: self.baseline[c] for c in self.columns}]))
        self.exact = _ExactPath.build(model, self.baseline_frame, self.columns) if allow_exact else None
        self.method = self.exact.name if self.exact is not None else "what-if"
        self._fragments: dict[tuple[int, str], str] = {}

    def impacts(self, X: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        """n × k: probability minus the probability with input j at its baseline (> 0 = pushes up)."""
        if self.exact is not None:
            result = self.exact.impacts(X, proba)
            if result is not None:
                return result
            log.warning(
                "%s explanation does not reproduce the model's probabilities: using what-if re-predictions", self.method
            )
            self.exact, self.method = None, "what-if"
        return self._what_if(X, proba)

    def _what_if(self, X: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        import numpy as np

        out = np.empty((len(X), len(self.columns)))
        work = X.copy()
        for j, column in enumerate(self.columns):
            saved = work[column]
            work[column] = self.baseline_frame[column].iloc[0]
            out[:, j] = proba - self.model.predict_proba(work)[:, 1]
            work[column] = saved
        return out

    def top_factors(self, X: pd.DataFrame, impacts: np.ndarray) -> list[str]:
        """Per row a JSON array [{feature, direction, impact} (+ value for a category)], strongest
        first; the readable text is `segments.factor_text` of it (BI: mart.churn_scores_latest).

        numpy picks each row's factors and codes them (input × direction or value); the JSON
        of a code is made once, an impact's text is a lookup in the 10 000 four-decimal texts,
        and only the final joins are Python, as list comprehensions.
        """
        import numpy as np

        whole, decimals = _impact_texts()
        count = min(self.rules.factor_count, impacts.shape[1])
        if len(X) == 0 or count == 0:
            return ["[]"] * len(X)
        order = np.argsort(-impacts, axis=1, kind="stable")[:, :count]
        top = np.take_along_axis(impacts, order, axis=1)
        # kept factors are a prefix of each row: `top` is sorted, the thresholds are fixed
        kept = ((top > 0) & (top >= self.rules.factor_min_impact)).sum(axis=1).tolist()
        codes, fragments = self._codes(X)
        chosen = np.take_along_axis(codes, order, axis=1)
        ten_thousandths = np.rint(np.clip(top, 0, None) * 10_000).astype(np.int64)
        impact_text = whole[np.minimum(ten_thousandths // 10_000, 1)] + decimals[ten_thousandths % 10_000]
        pieces = [
            [f + i + "}" for f, i in zip(fragments[chosen[:, r]].tolist(), impact_text[:, r].tolist())]
            for r in range(count)
        ]
        return ["[" + ", ".join(row[:k]) + "]" for row, k in zip(zip(*pieces), kept)]

    def _codes(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(rows × inputs codes, the JSON fragment of each code): a numeric input's code says
        low or high against the baseline, a categorical one's the value."""
        import numpy as np
        import pandas as pd

        codes = np.empty((len(X), len(self.columns)), dtype=np.int64)
        texts: list[str] = []
        for j, column in enumerate(self.columns):
            values = X[column].to_numpy()
            if column in features.CATEGORICAL:
                local, uniques = pd.factorize(values, use_na_sentinel=False)  # a missing value is a key too
                keys = [str(u) for u in uniques]
            else:
                local = (values < self.baseline[column]).astype(np.int64)
                keys = ["high", "low"]
            codes[:, j] = len(texts) + local.reshape(-1)
            texts.extend(self._fragment(j, key) for key in keys)
        return codes, np.array(texts, dtype=object)

    def _fragment(self, j: int, key: str) -> str:
        """`{"feature": …, "direction": …, "impact": ` (cached per input and direction; the
        phrase is not stored per row but once per rule version, scoring.factor_phrases)."""
        fragment = self._fragments.get((j, key))
        if fragment is None:
            column = self.columns[j]
            if column in features.CATEGORICAL:
                entry = {"feature": column, "direction": "value", "value": key}
            else:
                entry = {"feature": column, "direction": key}
            fragment = json.dumps(entry, ensure_ascii=False)[:-1] + ', "impact": '
            self._fragments[(j, key)] = fragment
        return fragment


class _ExactPath:
    """Exact what-if impacts without re-predicting, for Platt-calibrated pipelines
    prep (ColumnTransformer, column-wise) → a model whose decision function decomposes by column.

    Setting input j to its baseline changes only j's transformed columns C_j (Z → Z with C_j
    taken from Zb, the transformed baseline row), so the decision with input j at baseline is
    computed from quantities of the whole chunk:
    - linear (`coef_`):  d_j = d − Σ_{c∈C_j} w_c (Z_c − Zb_c)
    - RBF SVC:           K_j = K ⊙ exp(−γ Σ_{c∈C_j} [(Zb_c − S_c)² − (Z_c − S_c)²]),
                         d_j = K_j · α + b   (S support vectors, α dual coefficients)
    and the probability is the sigmoid calibrator applied to d_j. Every chunk first checks that
    the path reproduces the model's own probabilities (else the Explainer falls back to what-if).
    """

    name = "exact"
    TOLERANCE = 1e-9

    def __init__(self, prep: Any, estimator: Any, calibrator: Any, groups: np.ndarray, zb: np.ndarray) -> None:
        self.prep, self.estimator, self.calibrator, self.groups, self.zb = prep, estimator, calibrator, groups, zb

    @staticmethod
    def build(model: Any, baseline_frame: pd.DataFrame, columns: Sequence[str]) -> _ExactPath | None:
        import numpy as np
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model._base import LinearClassifierMixin
        from sklearn.pipeline import Pipeline
        from sklearn.svm import SVC

        if not isinstance(model, CalibratedClassifierCV):
            return None
        calibrated = getattr(model, "calibrated_classifiers_", None) or []
        if (
            len(calibrated) != 1
            or getattr(calibrated[0], "method", None) != "sigmoid"
            or len(calibrated[0].calibrators) != 1
        ):
            return None
        base = calibrated[0].estimator
        if not isinstance(base, Pipeline) or len(base.steps) != 2:
            return None
        prep, estimator = base.steps[0][1], base.steps[1][1]
        if not isinstance(prep, ColumnTransformer) or list(getattr(estimator, "classes_", [])) != [0, 1]:
            return None
        if isinstance(estimator, LinearClassifierMixin) and np.asarray(estimator.coef_).shape[0] == 1:
            kind: type[_ExactPath] = _LinearPath
        elif (
            isinstance(estimator, SVC) and estimator.kernel == "rbf" and np.asarray(estimator.dual_coef_).shape[0] == 1
        ):
            kind = _RbfSvcPath
        else:
            return None
        n_outputs = _dense(prep.transform(baseline_frame)).shape[1]
        groups = _output_groups(prep, columns, n_outputs)
        if groups is None:
            return None
        zb = _dense(prep.transform(baseline_frame))[0]
        return kind(prep, estimator, calibrated[0].calibrators[0], groups, zb)

    def impacts(self, X: pd.DataFrame, proba: np.ndarray) -> np.ndarray | None:
        import numpy as np

        Z = _dense(self.prep.transform(X))
        decision, without = self._decisions(Z)
        if not np.allclose(self.calibrator.predict(decision), proba, rtol=0, atol=self.TOLERANCE):
            return None
        p_without = self.calibrator.predict(without.ravel()).reshape(without.shape)
        return proba[:, None] - p_without

    def _decisions(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(decision per row, n × k decisions with each input at its baseline)."""
        raise NotImplementedError


class _LinearPath(_ExactPath):
    name = "linear"

    def _decisions(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        coef = np.asarray(self.estimator.coef_, dtype=float)[0]
        decision = Z @ coef + float(np.ravel(self.estimator.intercept_)[0])
        delta = ((Z - self.zb) * coef) @ self.groups
        return decision, decision[:, None] - delta


class _RbfSvcPath(_ExactPath):
    name = "rbf-svc"
    BLOCK_CELLS = 2_000_000  # rows × support vectors per block: ~16 MB per matrix

    def _decisions(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        S = np.asarray(self.estimator.support_vectors_, dtype=float)
        alpha = np.asarray(self.estimator.dual_coef_, dtype=float)[0]
        bias = float(np.ravel(self.estimator.intercept_)[0])
        gamma = float(self.estimator._gamma)
        members = [np.flatnonzero(self.groups[:, j]) for j in range(self.groups.shape[1])]
        base_terms = (self.zb[None, :] - S) ** 2  # s × m: (Zb_c − S_c)²
        decision = np.empty(len(Z))
        without = np.empty((len(Z), len(members)))
        step = max(1, self.BLOCK_CELLS // max(len(S), 1))
        for start in range(0, len(Z), step):
            block = Z[start : start + step]
            sq = (block**2).sum(1)[:, None] + (S**2).sum(1)[None, :] - 2.0 * block @ S.T
            K = np.exp(-gamma * np.maximum(sq, 0.0))
            decision[start : start + step] = K @ alpha + bias
            for j, cols in enumerate(members):
                if len(cols) == 0:
                    without[start : start + step, j] = decision[start : start + step]
                    continue
                change = np.broadcast_to(base_terms[:, cols].sum(1), K.shape).copy()
                for c in cols:  # one transformed column at a time keeps blocks small
                    change -= (block[:, c, None] - S[None, :, c]) ** 2
                without[start : start + step, j] = (K * np.exp(-gamma * change)) @ alpha + bias
        return decision, without


def _dense(matrix: Any) -> np.ndarray:
    import numpy as np

    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _output_groups(prep: Any, columns: Sequence[str], n_outputs: int) -> np.ndarray | None:
    """m × k 0/1 matrix: which transformed column comes from which input (None: unknown layout)."""
    import numpy as np
    from sklearn.preprocessing import OneHotEncoder

    groups = np.zeros((n_outputs, len(columns)))
    index = {c: j for j, c in enumerate(columns)}
    covered = 0
    for name, transformer, cols in prep.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        span = prep.output_indices_[name]
        if span.stop == span.start:
            continue
        cols = [cols] if isinstance(cols, str) else list(cols)
        if any(c not in index for c in cols):
            return None
        if isinstance(transformer, OneHotEncoder):
            if any(x is not None for x in (getattr(transformer, "infrequent_categories_", None) or [])):
                return None
            drops = transformer.drop_idx_ if transformer.drop_idx_ is not None else [None] * len(cols)
            sizes = [len(cats) - (0 if drop is None else 1) for cats, drop in zip(transformer.categories_, drops)]
        else:
            sizes = [1] * len(cols)
        if sum(sizes) != span.stop - span.start:
            return None
        start = span.start
        for column, size in zip(cols, sizes):
            groups[start : start + size, index[column]] = 1.0
            start += size
        covered += span.stop - span.start
    return groups if covered == n_outputs else None
