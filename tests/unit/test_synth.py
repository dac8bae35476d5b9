"""The synthetic snapshot must be indistinguishable in format from the real export, carry its
quirks at realistic rates, and have a label a standard model can learn about as well as the real one.

Formats are checked against the real files themselves (headers, per-column value patterns that
must match every real value), so a drift in either side fails here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import synth

FILES = ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")
ROWS_PER_ID = {"market_file.csv": 1, "market_money.csv": 3, "market_time.csv": 2, "money.csv": 1}
N = 3000
SEED = 11


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("synth")
    return out, synth.generate_snapshot(out, N, seed=SEED)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """20k customers: enough for the rare quirks' rates to be measurable."""
    out = tmp_path_factory.mktemp("synth_large")
    synth.generate_snapshot(out, 20_000, seed=5, chunk_size=7_000)
    return wide(out)


def rows(path: Path) -> list[list[str]]:
    """Raw fields as text, header excluded; money.csv is ';'-separated."""
    delimiter = ";" if path.name == "money.csv" else ","
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))[1:]


def wide(folder: Path) -> pd.DataFrame:
    """One row per customer, periods as columns, the way the real export is read for modelling."""
    market = pd.read_csv(folder / "market_file.csv").set_index("id")
    money = pd.read_csv(folder / "market_money.csv").pivot(index="id", columns="Период", values="Выручка")
    money.columns = ["rev_" + c for c in money.columns]
    time = pd.read_csv(folder / "market_time.csv").pivot(index="id", columns="Период", values="минут")
    time.columns = ["min_" + c for c in time.columns]
    profit = pd.read_csv(folder / "money.csv", sep=";", decimal=",").set_index("id")
    frame = market.join(money).join(time).join(profit)
    frame["y"] = (frame["Покупательская активность"] == "Снизилась").astype(int)
    return frame


CATEGORICAL = ["Тип сервиса", "Разрешить сообщать", "Популярная_категория"]


def label_model(X: pd.DataFrame):
    """The «reasonable model» of the brief: standard-scaled LogisticRegression, one-hot categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in X.columns if c not in CATEGORICAL]
    return make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), numeric),
                ("cat", OneHotEncoder(drop="first", handle_unknown="ignore"), CATEGORICAL),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )


def modelling_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Active-3-months customers, typo fixed, current revenue capped (the outlier rule's stand-in)."""
    active = frame[(frame["rev_препредыдущий_месяц"] > 0) & (frame["rev_предыдущий_месяц"] > 0)]
    X = active.drop(columns=["Покупательская активность", "y"]).copy()
    X["Тип сервиса"] = X["Тип сервиса"].replace("стандартт", "стандарт")
    X["rev_текущий_месяц"] = X["rev_текущий_месяц"].clip(upper=10_000)
    return X, active["y"]


# ------------------------------------------------------------------------------------ format
def test_headers_equal_the_real_ones(snapshot, real_data_dir: Path) -> None:
    out, _ = snapshot
    for name in FILES:
        real_header = (real_data_dir / name).read_bytes().split(b"\n", 1)[0]
        ours = (out / name).read_bytes().split(b"\n", 1)[0]
        assert ours == real_header, name


def test_byte_conventions_match_the_real_export(snapshot, real_data_dir: Path) -> None:
    out, _ = snapshot
    for folder in (real_data_dir, out):  # the real export is the reference for each convention
        for name in FILES:
            data = (folder / name).read_bytes()
            assert not data.startswith(b"\xef\xbb\xbf"), f"{folder}/{name}: BOM"
            assert b"\r" not in data, f"{folder}/{name}: CR"
            assert data.endswith(b"\n") and not data.endswith(b"\n\n"), f"{folder}/{name}: final newline"
            data.decode("utf-8")


# Pattern per column; each must hold for every real value too, so it is the real format.
COLUMN_PATTERNS = {
    "market_file.csv": [
        r"\d{6,}",
        r"Снизилась|Прежний уровень",
        r"премиум|стандарт|стандартт",
        r"да|нет",
        r"\d\.\d",
        r"[345]",
        r"\d{3,4}",
        r"0\.\d\d?",
        r"[А-Яа-я ]+",
        r"\d",
        r"\d\d?",
        r"\d",
        r"\d\d?",
    ],
    "market_money.csv": [r"\d{6,}", r"препредыдущий_месяц|предыдущий_месяц|текущий_месяц", r"\d+\.\d"],
    "market_time.csv": [r"\d{6,}", r"текущий_месяц|предыдцщий_месяц", r"\d\d?"],
    "money.csv": [r"\d{6,}", r"\d(,\d\d?)?"],
}


@pytest.mark.parametrize("name", FILES)
def test_every_value_is_written_like_the_real_export(snapshot, real_data_dir: Path, name: str) -> None:
    out, _ = snapshot
    patterns = [re.compile(p) for p in COLUMN_PATTERNS[name]]
    for folder in (real_data_dir, out):
        for line_no, fields in enumerate(rows(folder / name), start=2):
            assert len(fields) == len(patterns), f"{folder}/{name}:{line_no}"
            bad = [f for f, p in zip(fields, patterns) if not p.fullmatch(f)]
            assert not bad, f"{folder}/{name}:{line_no}: {bad}"


def test_money_uses_semicolons_and_decimal_commas(snapshot) -> None:
    out, _ = snapshot
    text = (out / "money.csv").read_text(encoding="utf-8")
    body = text.splitlines()[1:]
    assert all(";" in line and "." not in line for line in body)
    assert sum("," in line for line in body) > 0.9 * len(body)  # most profits have decimals
    assert any("," not in line for line in body)  # whole profits are written `5`, as exported
    profits = pd.read_csv(out / "money.csv", sep=";", decimal=",")["Прибыль"]
    assert profits.dtype == float and profits.between(0.86, 7.43).all()


def test_files_parse_to_the_same_dtypes_as_the_real_export(snapshot, real_data_dir: Path) -> None:
    out, _ = snapshot
    for name in FILES:
        kwargs = {"sep": ";", "decimal": ","} if name == "money.csv" else {}
        real = pd.read_csv(real_data_dir / name, **kwargs).dtypes
        ours = pd.read_csv(out / name, **kwargs).dtypes
        assert ours.to_dict() == real.to_dict(), name


# ------------------------------------------------------------------------------------ layout
def test_rows_per_file_and_ids(snapshot) -> None:
    out, counts = snapshot
    assert counts == {name: N * ROWS_PER_ID[name] for name in FILES}
    expected_ids = list(range(synth.REAL_FIRST_ID, synth.REAL_FIRST_ID + N))
    for name in FILES:
        fields = rows(out / name)
        assert len(fields) == counts[name]
        ids = [int(f[0]) for f in fields]
        assert sorted(set(ids)) == expected_ids
        assert all(ids.count(i) == ROWS_PER_ID[name] for i in expected_ids[:50])
    money = pd.read_csv(out / "market_money.csv")
    assert (money.groupby("id")["Период"].nunique() == 3).all()
    time = pd.read_csv(out / "market_time.csv")
    assert (time.groupby("id")["Период"].nunique() == 2).all()


def test_period_order_varies_per_id_like_the_export(snapshot) -> None:
    out, _ = snapshot
    money = pd.read_csv(out / "market_money.csv")
    orders = money.groupby("id", sort=False)["Период"].agg(tuple).value_counts(normalize=True)
    assert len(orders) == 6 and orders.max() < 0.35
    time = pd.read_csv(out / "market_time.csv")
    first = time.groupby("id", sort=False)["Период"].first().value_counts(normalize=True)
    assert set(first.index) == {"текущий_месяц", "предыдцщий_месяц"} and first.min() > 0.4


# ------------------------------------------------------------------------------------ determinism, chunking
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    synth.generate_snapshot(tmp_path / "a", 400, seed=3)
    synth.generate_snapshot(tmp_path / "b", 400, seed=3)
    synth.generate_snapshot(tmp_path / "c", 400, seed=4)
    for name in FILES:
        a = (tmp_path / "a" / name).read_bytes()
        assert a == (tmp_path / "b" / name).read_bytes(), name
        assert a != (tmp_path / "c" / name).read_bytes(), name


def test_chunk_size_changes_nothing_but_memory(snapshot, tmp_path: Path) -> None:
    out, counts = snapshot
    # 777 < BLOCK_SIZE < N: chunks cut through blocks and the last chunk is short
    small = synth.generate_snapshot(tmp_path, N, seed=SEED, chunk_size=777)
    assert small == counts
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_chunks_are_bounded_and_ids_unique(tmp_path: Path) -> None:
    sizes = [c["pages"].size for c in synth.iter_chunks(2_500, seed=1, chunk_size=600)]
    assert sizes == [600, 600, 600, 600, 100]
    counts = synth.generate_snapshot(tmp_path, 2_500, seed=1, start_id=1, chunk_size=600)
    assert counts["market_money.csv"] == 7_500
    ids = [int(f[0]) for f in rows(tmp_path / "market_file.csv")]
    assert ids == list(range(1, 2_501))


def test_only_complete_files_are_left_behind(tmp_path: Path) -> None:
    synth.generate_snapshot(tmp_path / "ok", 30, seed=1)
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(FILES)
    with pytest.raises(ValueError):  # fails mid-write, after the files were opened
        synth.generate_snapshot(tmp_path / "broken", 30, seed=1, chunk_size=0)
    assert list((tmp_path / "broken").iterdir()) == []


def test_cli_writes_a_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = synth.main(["--customers", "50", "--seed", "2", "--out", str(tmp_path), "--start-id", "900000"])
    assert counts["market_time.csv"] == 100
    assert '"market_money.csv": 150' in capsys.readouterr().out
    assert rows(tmp_path / "money.csv")[0][0] == "900000"


# ------------------------------------------------------------------------------------ values and quirks
def test_value_ranges_and_sets(snapshot, real_data_dir: Path) -> None:
    out, _ = snapshot
    ours, real = wide(out), wide(real_data_dir)
    assert ours["Акционные_покупки"].between(0, 0.99).all()
    assert ours["Маркет_актив_тек_мес"].isin([3, 4, 5]).all()
    assert ours["Маркет_актив_6_мес"].between(0.9, 6.6).all()
    assert ours["Длительность"].between(110, 1079).all()
    for column in ("min_текущий_месяц", "min_предыдцщий_месяц"):
        assert ours[column].between(4, 23).all()
    assert ours["Прибыль"].between(0.86, 7.43).all()
    for column in (
        "Средний_просмотр_категорий_за_визит",
        "Неоплаченные_продукты_штук_квартал",
        "Ошибка_сервиса",
        "Страниц_за_визит",
    ):
        assert ours[column].between(real[column].min(), real[column].max()).all(), column
    for column in ("Популярная_категория", "Разрешить сообщать", "Покупательская активность"):
        assert set(ours[column]) == set(real[column]), column
    assert set(ours.columns) == set(real.columns)  # same period names, typo included


def test_marginals_are_close_to_the_real_ones(snapshot, real_data_dir: Path) -> None:
    ours, real = wide(snapshot[0]), wide(real_data_dir)
    numeric = [c for c in real.select_dtypes("number").columns if not c.startswith("rev_текущий")]
    for column in numeric:
        scale = real[column].std()
        assert abs(ours[column].mean() - real[column].mean()) < 0.15 * scale, column
        assert 0.8 < ours[column].std() / scale < 1.25, column
    promo = ours["Акционные_покупки"]
    assert 0.08 < (promo > 0.8).mean() < 0.2 and (promo <= 0.5).mean() > 0.8  # bimodal
    shares = ours["Популярная_категория"].value_counts(normalize=True)
    real_shares = real["Популярная_категория"].value_counts(normalize=True)
    assert (shares - real_shares).abs().max() < 0.03


def test_quirks_at_realistic_rates(large: pd.DataFrame) -> None:
    n = len(large)
    typo = (large["Тип сервиса"] == "стандартт").mean()
    assert 0.004 < typo < 0.013
    assert (large["Популярная_категория"] == "Косметика и аксесуары").mean() > 0.1
    assert "Косметика и аксессуары" not in set(large["Популярная_категория"])
    inactive = (large["rev_препредыдущий_месяц"] == 0) & (large["rev_предыдущий_месяц"] == 0)
    assert 0.001 < inactive.mean() < 0.005
    assert ((large["rev_препредыдущий_месяц"] == 0) == inactive).all()  # zeros only come in pairs
    assert (large["rev_текущий_месяц"] > 0).all()
    huge = large["rev_текущий_месяц"] > 20_000
    assert 3 <= huge.sum() <= 40  # ≈ n / 1300
    assert (large.loc[huge, "rev_текущий_месяц"] > 10 * large.loc[huge, "rev_предыдущий_месяц"]).all()
    assert large.loc[~huge, "rev_текущий_месяц"].max() < 12_000
    assert 0.34 < large["y"].mean() < 0.42
    assert n == 20_000


def test_market_time_previous_period_is_always_the_typo(snapshot) -> None:
    text = (snapshot[0] / "market_time.csv").read_text(encoding="utf-8")
    assert text.count(",предыдцщий_месяц,") == N
    assert "предыдущий_месяц" not in text


# ------------------------------------------------------------------------------------ label
def test_label_is_learnable_like_the_real_one(snapshot) -> None:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = modelling_frame(wide(snapshot[0]))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(label_model(X), X, y, cv=cv, scoring="roc_auc").mean()
    assert 0.8 <= auc <= 0.95


def test_label_depends_on_features_with_the_real_signs(large: pd.DataFrame, real_data_dir: Path) -> None:
    """Features that matter on the real export matter the same way (sign) on synthetic data."""
    coefs = {}
    for key, frame in (("real", wide(real_data_dir)), ("synth", large)):
        X, y = modelling_frame(frame)
        model = label_model(X).fit(X, y)
        coefs[key] = pd.Series(model[-1].coef_[0], index=model[0].get_feature_names_out())
    strong = coefs["real"][coefs["real"].abs() > 0.3].index
    assert len(strong) >= 8
    assert (np.sign(coefs["real"][strong]) == np.sign(coefs["synth"][strong])).all(), pd.DataFrame(coefs).loc[strong]
    # the strongest drivers stay the strongest (not just the right sign)
    assert (coefs["synth"][strong].abs() > 0.15).all()
    assert coefs["synth"]["num__Страниц_за_визит"] < 0 and coefs["synth"]["num__Акционные_покупки"] > 0
