"""A synthetic history must be a sequence of real-looking snapshots of the same customers whose
labels settle periods that started `horizon` snapshots earlier, and whose offers work exactly as
recorded: that is what lets the pipeline's feedback loop (score → offer → outcome) be tested.

The label model is re-implemented here from the CSVs (not taken from the generator's code), so
a generator that drew labels from the wrong snapshot, or let treatments touch the random draws,
fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from etl import synth
from etl.synth import model
from etl.synth.history import REVENUE_DROP, History, HistorySpec
from tests.unit.test_synth import COLUMN_PATTERNS, FILES, ROWS_PER_ID, rows, wide

pytestmark = pytest.mark.unit

N = 4000
SEED = 7
H = 3
K = 10  # snapshots 0..K-1 in the shared fixture
IDS = np.arange(synth.REAL_FIRST_ID, synth.REAL_FIRST_ID + N)

# LABEL_NUMERIC's names → the column of the wide frame that holds that feature
COLUMNS = {
    "pages": "Страниц_за_визит",
    "minutes_prev": "min_предыдцщий_месяц",
    "categories_per_visit": "Средний_просмотр_категорий_за_визит",
    "promo": "Акционные_покупки",
    "minutes_cur": "min_текущий_месяц",
    "unpaid": "Неоплаченные_продукты_штук_квартал",
    "marketing_6m": "Маркет_актив_6_мес",
    "revenue_prev": "rev_предыдущий_месяц",
    "revenue_prev2": "rev_препредыдущий_месяц",
    "revenue_cur": "rev_текущий_месяц",
    "tenure": "Длительность",
    "errors": "Ошибка_сервиса",
}


def a_logit(frame: pd.DataFrame) -> np.ndarray:
    """Mechanism A's true logit, computed from what a snapshot's CSVs show."""
    score = np.zeros(len(frame))
    for name, (mean, sd, coef) in model.LABEL_NUMERIC.items():
        score += coef * (frame[COLUMNS[name]].to_numpy() - mean) / sd
    category = frame["Популярная_категория"].map({c: i for i, c in enumerate(model.CATEGORIES)})
    score += np.asarray(model.LABEL_CATEGORY)[category.to_numpy()]
    score += model.LABEL_STANDARD * (frame["Тип сервиса"] != "премиум").to_numpy()
    score += model.LABEL_NO_MESSAGES * (frame["Разрешить сообщать"] == "нет").to_numpy()
    return model.LABEL_INTERCEPT + model.LABEL_SCALE * score


def read_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, dict[str, int]]]:
    root = tmp_path_factory.mktemp("history")
    history = History(HistorySpec(N, seed=SEED, horizon=H))
    return root, {k: history.write(k, root / f"s{k}") for k in range(K)}


@pytest.fixture(scope="module")
def frames(written) -> dict[int, pd.DataFrame]:
    root, _ = written
    return {k: wide(root / f"s{k}").sort_index() for k in range(K)}


# ------------------------------------------------------------------------------------ format, ids
def test_every_snapshot_has_the_same_customers_in_the_export_format(written, frames, tmp_path: Path) -> None:
    root, counts = written
    synth.generate_snapshot(tmp_path, 200, seed=1)
    patterns = {name: [re.compile(p) for p in COLUMN_PATTERNS[name]] for name in FILES}
    for k in range(K):
        folder = root / f"s{k}"
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)  # no *.part left
        assert counts[k] == {name: N * ROWS_PER_ID[name] for name in FILES}
        assert (frames[k].index.to_numpy() == IDS).all()
        for name in FILES:
            assert read_bytes(folder)[name].split(b"\n", 1)[0] == read_bytes(tmp_path)[name].split(b"\n", 1)[0]
            kwargs = {"sep": ";", "decimal": ","} if name == "money.csv" else {}
            assert (
                pd.read_csv(folder / name, **kwargs).dtypes.to_dict()
                == pd.read_csv(tmp_path / name, **kwargs).dtypes.to_dict()
            ), name
    for k in (0, K - 1):
        for name in FILES:
            for fields in rows(root / f"s{k}" / name):
                assert all(p.fullmatch(f) for f, p in zip(fields, patterns[name])), (k, name, fields)


def test_values_stay_inside_the_single_snapshot_ranges(frames, tmp_path: Path) -> None:
    late = History(HistorySpec(N, seed=SEED))
    late.write(24, tmp_path)  # tenure has grown for two years, engagement drifted by 24 steps
    for k, f in [*frames.items(), (24, wide(tmp_path))]:
        assert f["Длительность"].between(110, 1079).all(), k
        for column in ("min_текущий_месяц", "min_предыдцщий_месяц"):
            assert f[column].between(4, 23).all(), k
        assert f["Акционные_покупки"].between(0, 0.99).all()
        assert f["Маркет_актив_6_мес"].between(0.9, 6.6).all() and f["Маркет_актив_тек_мес"].isin([3, 4, 5]).all()
        assert f["Прибыль"].between(0.86, 7.43).all()
        assert (
            f["Страниц_за_визит"].between(1, 20).all() and f["Средний_просмотр_категорий_за_визит"].between(1, 6).all()
        )
        assert f["Неоплаченные_продукты_штук_квартал"].between(0, 10).all() and f["Ошибка_сервиса"].between(0, 9).all()
        prev2, prev = f["rev_препредыдущий_месяц"], f["rev_предыдущий_месяц"]
        assert ((prev2 == 0) | prev2.between(4000, 5700)).all() and ((prev == 0) | prev.between(2800, 7000)).all()
        assert (prev * 2 == (prev * 2).round()).all()  # halves, also after a revenue drop
        assert (f["rev_текущий_месяц"] >= 2000).all()
        assert set(f["Тип сервиса"]) <= set(model.SERVICE_TYPES)
        assert set(f["Популярная_категория"]) <= set(model.CATEGORIES)


# ------------------------------------------------------------------------------------ evolution
def test_features_persist_month_to_month_but_not_forever(frames) -> None:
    for column in ("Страниц_за_визит", "min_предыдцщий_месяц", "min_текущий_месяц"):
        lag1 = [np.corrcoef(frames[k][column], frames[k + 1][column])[0, 1] for k in range(K - 1)]
        lag4 = [np.corrcoef(frames[k][column], frames[k + 4][column])[0, 1] for k in range(K - 4)]
        assert 0.7 < min(lag1) and max(lag1) < 0.97, (column, lag1)
        assert max(lag4) < min(lag1) - 0.2, (column, lag4)
    for column in ("Популярная_категория", "Тип сервиса", "Разрешить сообщать", "Прибыль"):
        changed = (frames[4][column] != frames[5][column]).mean()
        assert 0.002 < changed < 0.04, (column, changed)
    step = frames[5]["Длительность"] - frames[4]["Длительность"]
    assert ((step == 30) | (frames[5]["Длительность"] == 1079)).all()
    assert (frames[0]["Длительность"] < 1079).mean() > 0.95 > (frames[K - 1]["Длительность"] < 1079).mean()
    # the engagement drift: customers slowly visit fewer pages
    pages = [frames[k]["Страниц_за_визит"].mean() for k in range(K)]
    assert pages[-1] < pages[0] - 0.3 and pages[K // 2] < pages[0]


def test_fresh_quirks_every_snapshot(written) -> None:
    root, _ = written
    orders = [
        pd.read_csv(root / f"s{k}" / "market_money.csv").groupby("id", sort=False)["Период"].first() for k in (0, 1)
    ]
    assert 0.4 < (orders[0] != orders[1]).mean() < 0.9  # row orders are re-drawn, not copied


def test_label_share_of_every_snapshot(frames) -> None:
    shares = [frames[k]["y"].mean() for k in range(K)]
    assert all(0.25 <= s <= 0.50 for s in shares), shares


# ------------------------------------------------------------------------------------ labels
def test_labels_are_caused_by_the_features_horizon_snapshots_earlier(frames) -> None:
    for k in range(H):  # before any score could exist: the snapshot's own features
        assert roc_auc_score(frames[k]["y"], a_logit(frames[k])) > 0.8
    for k in range(H, K):
        then = roc_auc_score(frames[k]["y"], a_logit(frames[k - H]))
        now = roc_auc_score(frames[k]["y"], a_logit(frames[k]))
        assert then > 0.8 and then > now + 0.08, (k, then, now)


def test_mechanism_b_is_what_an_a_model_ranks_poorly(written, tmp_path: Path) -> None:
    root, _ = written
    change = 4
    history = History(HistorySpec(N, seed=SEED, horizon=H, mechanism_change_at=change))
    got = {}
    for k in range(K):
        history.write(k, tmp_path / f"s{k}")
        got[k] = wide(tmp_path / f"s{k}").sort_index()
        same = read_bytes(tmp_path / f"s{k}") == read_bytes(root / f"s{k}")
        assert same == (k < change + H), k  # only labels of periods starting at >= change differ
    before = roc_auc_score(got[change + H - 1]["y"], a_logit(got[change - 1]))
    assert before > 0.8
    for k in range(change + H, K):
        auc = roc_auc_score(got[k]["y"], a_logit(got[k - H]))
        assert auc < 0.6, (k, auc)
        assert 0.30 <= got[k]["y"].mean() <= 0.45


# ------------------------------------------------------------------------------------ treatments
def test_a_treatment_lowers_the_settling_label_by_its_effect_and_nothing_else(tmp_path: Path) -> None:
    start = 2
    history = History(HistorySpec(N, seed=SEED, horizon=H))
    untreated = {k: history.write(k, tmp_path / f"u{k}") for k in (start, start + H - 1, start + H, start + H + 1)}
    p0 = history.label_probability(start + H)
    treated = np.random.default_rng(0).permutation(N) < N // 2
    history.record_treatment(start, {int(i): 0.2 for i in IDS[treated]})
    for k in untreated:
        history.write(k, tmp_path / f"t{k}")
        if k != start + H:  # a treatment of `start` settles in start + horizon only
            assert read_bytes(tmp_path / f"t{k}") == read_bytes(tmp_path / f"u{k}"), k
    p1 = history.label_probability(start + H)
    assert np.allclose(p1, np.where(treated, np.clip(p0 - 0.2, 0, 1), p0))

    k = start + H
    before, after = wide(tmp_path / f"u{k}").sort_index(), wide(tmp_path / f"t{k}").sort_index()
    y0, y1 = before["y"].to_numpy(), after["y"].to_numpy()
    assert (y1 <= y0).all() and (y1[~treated] == y0[~treated]).all()  # same u: only 1 → 0, only treated
    drop, expected = (y0 - y1)[treated].mean(), (p0 - p1)[treated].mean()
    assert expected > 0.12 and abs(drop - expected) < 4 * np.sqrt(expected / treated.sum())
    # vs the others: the treated rate is the untreated one minus the (clipped at 0) effect
    gap = y1[treated].mean() - y1[~treated].mean()
    expected_gap = p1[treated].mean() - p1[~treated].mean()
    assert abs(gap - expected_gap) < 4 * np.sqrt(0.25 / treated.sum() * 2)
    # the prevented drop shows in revenue; what does not depend on the label stays byte-identical
    saved = (y0 == 1) & (y1 == 0)
    cur0, cur1 = before["rev_текущий_месяц"][saved], after["rev_текущий_месяц"][saved]
    assert (cur1 >= cur0).all() and (cur1 > cur0).mean() > 0.95
    ratio = cur0 / cur1  # × REVENUE_DROP, except a few held at the generator's floor
    assert ratio.between(REVENUE_DROP - 0.002, 1).all() and ratio.median() == pytest.approx(REVENUE_DROP, abs=0.002)
    for name in ("market_time.csv", "money.csv"):
        assert (tmp_path / f"t{k}" / name).read_bytes() == (tmp_path / f"u{k}" / name).read_bytes()
    # idempotent: recording again replaces; an empty mapping undoes it
    history.record_treatment(start, {int(i): 0.2 for i in IDS[treated]})
    history.write(k, tmp_path / "again")
    assert read_bytes(tmp_path / "again") == read_bytes(tmp_path / f"t{k}")
    history.record_treatment(start, {})
    history.write(k, tmp_path / "undone")
    assert read_bytes(tmp_path / "undone") == read_bytes(tmp_path / f"u{k}")


# ------------------------------------------------------------------------------------ determinism
def test_bytes_depend_on_the_spec_only_not_on_call_order(written, tmp_path: Path) -> None:
    root, _ = written
    backwards = History(HistorySpec(N, seed=SEED, horizon=H))
    for k in (7, 2, 5, 5, 0):
        backwards.write(k, tmp_path / f"b{k}")
        assert read_bytes(tmp_path / f"b{k}") == read_bytes(root / f"s{k}"), k
    assert np.array_equal(backwards.label_probability(7), History(HistorySpec(N, seed=SEED)).label_probability(7))
    History(HistorySpec(N, seed=SEED + 1, horizon=H)).write(5, tmp_path / "other")
    other, ours = read_bytes(tmp_path / "other"), read_bytes(root / "s5")
    assert all(other[name] != ours[name] for name in FILES)


def test_invalid_specs_and_treatments_are_refused() -> None:
    for bad in (
        {"customers": 0},
        {"customers": 5, "horizon": 0},
        {"customers": 5, "persistence": 1.5},
        {"customers": 5, "mechanism_change_at": -1},
    ):
        with pytest.raises(ValueError):
            HistorySpec(**bad)
    history = History(HistorySpec(5))
    with pytest.raises(ValueError):
        history.record_treatment(0, {synth.REAL_FIRST_ID + 5: 0.1})
    with pytest.raises(ValueError):
        history.record_treatment(0, {synth.REAL_FIRST_ID: float("nan")})
    with pytest.raises(ValueError):
        history.label_probability(-1)


def test_cli_writes_numbered_snapshot_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = synth.main(
        ["--customers", "40", "--seed", "2", "--out", str(tmp_path), "--snapshots", "3", "--start-id", "900000"]
    )
    assert sorted(counts) == ["snapshot-01", "snapshot-02", "snapshot-03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(counts)
    assert '"snapshot-03": {' in capsys.readouterr().out
    history = History(HistorySpec(40, seed=2, start_id=900000))
    for k, folder in enumerate(sorted(counts)):
        history.write(k, tmp_path / "check")
        assert read_bytes(tmp_path / folder) == read_bytes(tmp_path / "check")
        assert [int(f[0]) for f in rows(tmp_path / folder / "money.csv")] == list(range(900000, 900040))
