"""Candidate families: a scikit-learn Pipeline (ColumnTransformer → model) and its search space.

Every family searches over the encoder of the categorical columns (one-hot / ordinal) and — for
the scale-sensitive models — the scaler of the numeric ones (standard / min-max / robust); trees
get no scaler. Parameters are kept as plain JSON values (`{"encoder": "onehot", "scaler":
"standard", "model__C": 0.3}`) so the registry can store them and `build_pipeline(family, params)`
can rebuild exactly the same unfitted pipeline.

Search budgets (env CHURN_SEARCH_BUDGET or the DAG param `search_budget`):
- full:    per-family n_iter (below), search CV 5 folds × 2 repeats, evaluation 5 × 5 = 25 folds;
- reduced: 4 draws per family, search CV 3 × 1, evaluation 3 × 2 — for dag.test()/CI smoke runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from etl.warehouse import settings
from ml.features import CATEGORICAL, NUMERIC_INPUT

FAMILIES: tuple[str, ...] = ("logreg", "svc", "knn", "tree", "forest", "boosting")
SEARCH_SEED = 0  # search folds use seeds 0, 1, …
EVAL_SEED = 1000  # evaluation folds use other partitions than the search: less selection bias


@dataclass(frozen=True)
class Budget:
    name: str
    n_iter_scale: float  # share of each family's full n_iter (at least min_iter)
    min_iter: int
    search_splits: int
    search_repeats: int
    eval_splits: int
    eval_repeats: int


BUDGETS: dict[str, Budget] = {
    "full": Budget("full", 1.0, 1, 5, 2, 5, 5),
    # `full` for a training set above LARGE_SET_ROWS: each fit costs more and each fold's ROC-AUC
    # is less noisy (its standard error shrinks with the rows), so fewer draws and folds suffice.
    "large": Budget("large", 0.25, 4, 3, 1, 3, 2),
    "reduced": Budget("reduced", 0.0, 4, 3, 1, 3, 2),
}
LARGE_SET_ROWS = 5_000


def budget(name: str | None = None) -> Budget:
    """The named budget; default the setting CHURN_SEARCH_BUDGET ('full' unless set)."""
    name = name or settings.current().CHURN_SEARCH_BUDGET
    if name not in BUDGETS:
        raise ValueError(f"unknown search budget {name!r}; choose one of {', '.join(BUDGETS)}")
    return BUDGETS[name]


def _onehot():
    from sklearn.preprocessing import OneHotEncoder

    return OneHotEncoder(handle_unknown="ignore", drop="if_binary", sparse_output=False)


def _ordinal():
    from sklearn.preprocessing import OrdinalEncoder

    return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)


def _standard():
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def _minmax():
    from sklearn.preprocessing import MinMaxScaler

    return MinMaxScaler()


def _robust():
    from sklearn.preprocessing import RobustScaler

    return RobustScaler()


ENCODERS: dict[str, Callable[[], Any]] = {"onehot": _onehot, "ordinal": _ordinal}
SCALERS: dict[str, Callable[[], Any]] = {
    "standard": _standard,
    "minmax": _minmax,
    "robust": _robust,
    "none": lambda: "passthrough",
}
SCALED = ["standard", "minmax", "robust"]


@dataclass(frozen=True)
class Family:
    name: str
    estimator: str  # class name of the final estimator
    make_model: Callable[[], Any]
    space: Callable[[], dict[str, Any]]  # plain-value distributions (lists or scipy.stats)
    n_iter: int  # draws in the full budget
    # Training rows above which the family is left out of a run: SVC's fit and KNN's predict
    # grow with the square of the rows (ml/README.md, "Training at scale").
    max_rows: int | None = None


def _logreg():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(solver="saga", max_iter=5000, random_state=0)


def _logreg_space() -> dict[str, Any]:
    from scipy.stats import loguniform

    return {
        "encoder": ["onehot", "ordinal"],
        "scaler": SCALED,
        "model__C": loguniform(1e-3, 10),
        "model__l1_ratio": [0.0, 0.5, 1.0],
        "model__class_weight": [None, "balanced"],
    }


def _svc():
    from sklearn.svm import SVC

    return SVC(kernel="rbf", random_state=0)


def _svc_space() -> dict[str, Any]:
    from scipy.stats import loguniform

    return {
        "encoder": ["onehot", "ordinal"],
        "scaler": SCALED,
        "model__C": loguniform(0.05, 20),
        "model__gamma": loguniform(1e-3, 0.5),
    }


def _knn():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier()


def _knn_space() -> dict[str, Any]:
    """Uniform weights only: distance weighting gives a training customer weight ∞ on itself, so
    scoring customers who were in the training set (the usual case here) would just echo their
    label (p = 0 or 1). Under CV both reach the same ROC-AUC (≈ 0.911)."""
    from scipy.stats import randint

    return {
        "encoder": ["onehot", "ordinal"],
        "scaler": SCALED,
        "model__n_neighbors": randint(10, 101),
        "model__weights": ["uniform"],
        "model__p": [1, 2],
    }


def _tree():
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=0)


def _tree_space() -> dict[str, Any]:
    from scipy.stats import loguniform, randint

    return {
        "encoder": ["onehot", "ordinal"],
        "scaler": ["none"],
        "model__max_depth": randint(2, 11),
        "model__min_samples_leaf": randint(5, 61),
        "model__criterion": ["gini", "entropy"],
        "model__ccp_alpha": loguniform(1e-5, 1e-2),
    }


def _forest():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=200, n_jobs=1, random_state=0)


def _forest_space() -> dict[str, Any]:
    from scipy.stats import randint

    return {
        "encoder": ["onehot", "ordinal"],
        "scaler": ["none"],
        "model__max_depth": [None, 6, 8, 12],
        "model__min_samples_leaf": randint(1, 21),
        "model__max_features": ["sqrt", 0.3, 0.5],
    }


def _boosting():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(early_stopping=False, random_state=0)


def _boosting_space() -> dict[str, Any]:
    from scipy.stats import loguniform, randint

    return {
        "encoder": ["ordinal"],
        "scaler": ["none"],
        "model__learning_rate": loguniform(0.01, 0.2),
        "model__max_iter": randint(50, 301),
        "model__max_leaf_nodes": randint(4, 32),
        "model__min_samples_leaf": randint(10, 81),
        "model__l2_regularization": loguniform(1e-3, 10),
    }


FAMILY_SPECS: dict[str, Family] = {
    "logreg": Family("logreg", "LogisticRegression", _logreg, _logreg_space, 40),
    "svc": Family("svc", "SVC", _svc, _svc_space, 40, max_rows=5_000),
    "knn": Family("knn", "KNeighborsClassifier", _knn, _knn_space, 40, max_rows=10_000),
    "tree": Family("tree", "DecisionTreeClassifier", _tree, _tree_space, 40),
    "forest": Family("forest", "RandomForestClassifier", _forest, _forest_space, 12),
    "boosting": Family("boosting", "HistGradientBoostingClassifier", _boosting, _boosting_space, 20),
}


def family(name: str) -> Family:
    if name not in FAMILY_SPECS:
        raise ValueError(f"unknown candidate family {name!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILY_SPECS[name]


def budget_for(chosen: Budget, rows: int) -> Budget:
    """The budget a run of `rows` training rows uses: `full` becomes `large` above LARGE_SET_ROWS."""
    return BUDGETS["large"] if chosen.name == "full" and rows > LARGE_SET_ROWS else chosen


def families_for(names: Sequence[str], rows: int) -> tuple[list[str], list[str]]:
    """(families that train on `rows` training rows, families left out because of their max_rows)."""
    kept = [n for n in names if family(n).max_rows is None or rows <= family(n).max_rows]
    return kept, [n for n in names if n not in kept]


def n_iter(name: str, chosen: Budget) -> int:
    return max(chosen.min_iter, round(family(name).n_iter * chosen.n_iter_scale))


def build_pipeline(name: str, params: Mapping[str, Any] | None = None) -> Any:
    """Unfitted Pipeline(prep → model) of a family with plain params applied."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    spec = family(name)
    params = dict(params or {})
    encoder = params.pop("encoder", "onehot")
    scaler = params.pop("scaler", "standard" if "standard" in spec.space()["scaler"] else "none")
    prep = ColumnTransformer(
        [("cat", ENCODERS[encoder](), list(CATEGORICAL)), ("num", SCALERS[scaler](), list(NUMERIC_INPUT))],
        verbose_feature_names_out=True,
    )
    pipeline = Pipeline([("prep", prep), ("model", spec.make_model())])
    if params:
        pipeline.set_params(**params)
    return pipeline


def plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """numpy scalars → Python values, so params are JSON for XCom and the registry."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if hasattr(value, "item"):
            value = value.item()
        out[key] = value
    return out


def sample_params(name: str, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` plain parameter draws from the family's space (reproducible by seed)."""
    from sklearn.model_selection import ParameterSampler

    return [plain(p) for p in ParameterSampler(family(name).space(), n_iter=count, random_state=seed)]
