"""A catalogue of corrupted versions of the real export, each with its documented outcome.

Every case starts from a fresh copy of ../shared/data/raw in a temporary folder (never a
committed copy) and changes it in one way a real export can go wrong. The outcome is one of
- `rejected_by_loader`: `etl.ingest.loader.LoadError` naming the file (and the CSV column when the problem
  is in one);
- `rejected_by_gate`: the loader accepts the file (it is well-formed) but the raw GX gate fails
  with `QualityGateFailed` naming the raw table, its CSV file and the column;
- `accepted`: a known variant; both gates pass. `same_features` says whether the features must
  equal those of the untouched export (format variants) or legitimately differ.
`why` says why that outcome is the right one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

Outcome = Literal["rejected_by_loader", "rejected_by_gate", "accepted"]
FILES = ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")


# ------------------------------------------------------------------ editing a CSV of the export
@dataclass
class Csv:
    """A CSV of the export as header + rows of text fields (the export quotes nothing)."""

    path: Path
    sep: str
    header: list[str]
    rows: list[list[str]]

    @classmethod
    def read(cls, path: Path) -> Csv:
        sep = ";" if path.name == "money.csv" else ","
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(path, sep, lines[0].split(sep), [line.split(sep) for line in lines[1:]])

    def write(self) -> None:
        lines = [self.sep.join(self.header)] + [self.sep.join(row) for row in self.rows]
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def col(self, header: str) -> int:
        return self.header.index(header)

    def find(self, **where: str) -> int:
        """Index of the first row whose fields equal `where` (keys: header names, `id` included)."""
        for i, row in enumerate(self.rows):
            if all(row[self.col(h)] == v for h, v in where.items()):
                return i
        raise LookupError(f"{self.path.name}: no row with {where}")


def edit(file: str, change: Callable[[Csv], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        table = Csv.read(folder / file)
        change(table)
        table.write()
    return apply


def set_value(file: str, header: str, value: str, **where: str) -> Callable[[Path], None]:
    """One field of one row (the first row matching `where`, else the first data row)."""
    def change(t: Csv) -> None:
        t.rows[t.find(**where) if where else 0][t.col(header)] = value
    return edit(file, change)


def replace_all(file: str, header: str, old: str, new: str) -> Callable[[Path], None]:
    def change(t: Csv) -> None:
        column = t.col(header)
        hits = [row for row in t.rows if row[column] == old]
        assert hits, f"{file}: no {header} = {old!r}"
        for row in hits:
            row[column] = new
    return edit(file, change)


def swap_columns_values(file: str, a: str, b: str) -> Callable[[Path], None]:
    """Values of two columns exchanged under an unchanged header (a botched export mapping)."""
    def change(t: Csv) -> None:
        i, j = t.col(a), t.col(b)
        for row in t.rows:
            row[i], row[j] = row[j], row[i]
    return edit(file, change)


def reorder_columns(file: str, order: list[str]) -> Callable[[Path], None]:
    def change(t: Csv) -> None:
        index = [t.col(h) for h in order]
        t.header = [t.header[i] for i in index]
        t.rows = [[row[i] for i in index] for row in t.rows]
    return edit(file, change)


def rewrite_bytes(change: Callable[[bytes], bytes], *files: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for name in files or FILES:
            path = folder / name
            path.write_bytes(change(path.read_bytes()))
    return apply


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for change in changes:
            change(folder)
    return apply


def _money_comma_dot(t: Csv) -> None:
    t.sep = ","
    for row in t.rows:
        row[1] = row[1].replace(",", ".")


def _money_quoted(t: Csv) -> None:
    t.sep = ","
    for row in t.rows:
        row[1] = f'"{row[1]}"'


def _money_two_decimals(t: Csv) -> None:
    """'5' → '5,00', '0,9' → '0,90' (the real export already writes whole profits as '5')."""
    for row in t.rows:
        whole, _, fraction = row[1].partition(",")
        row[1] = f"{whole},{fraction.ljust(2, '0')}"


def _drop_column(file: str, header: str) -> Callable[[Path], None]:
    def change(t: Csv) -> None:
        index = t.col(header)
        for row in [t.header, *t.rows]:
            row.pop(index)
    return edit(file, change)


def _duplicate_row(file: str, index: int) -> Callable[[Path], None]:
    return edit(file, lambda t: t.rows.insert(index + 1, list(t.rows[index])))


def _delete_row(file: str, **where: str) -> Callable[[Path], None]:
    return edit(file, lambda t: t.rows.pop(t.find(**where)))


def _append_row(file: str, *fields: str) -> Callable[[Path], None]:
    return edit(file, lambda t: t.rows.append(list(fields)))


def _truncate_last_line(file: str, keep_chars: int) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / file
        text = path.read_text(encoding="utf-8").rstrip("\n")
        head, last = text.rsplit("\n", 1)
        path.write_text(head + "\n" + last[:keep_chars], encoding="utf-8")  # cut mid-line, no newline
    return apply


def _change_id(file: str, old: str, new: str) -> Callable[[Path], None]:
    return replace_all(file, "id", old, new)


def _unlabel_all(t: Csv) -> None:
    column = t.col("Покупательская активность")
    for row in t.rows:
        row[column] = ""


def _separator(file: str, new: str) -> Callable[[Path], None]:
    def change(t: Csv) -> None:
        t.sep = new
    return edit(file, change)


# ------------------------------------------------------------------------------- the catalogue
@dataclass(frozen=True)
class Corruption:
    name: str
    outcome: Outcome
    file: str            # the file changed; rejections must name it
    column: str | None   # the column a rejection must name (CSV header for the loader, raw column for the gate)
    change: Callable[[Path], None]
    why: str
    table: str | None = None      # raw table a gate rejection must name
    same_features: bool = False   # accepted: features identical to the untouched export's

    def apply(self, folder: Path) -> Path:
        self.change(folder)
        return folder


MF, MM, MT, MO = FILES
ALL = "all four files"

CATALOGUE: tuple[Corruption, ...] = (
    # ----------------------------------------------------------------- rejected by the gate
    Corruption("promo_share_out_of_range", "rejected_by_gate", MF, "promo_share",
               set_value(MF, "Акционные_покупки", "1.5", id="215350"),
               "A share above 1 parses as a number, so only the range check can stop it.", "raw.market_file"),
    Corruption("negative_revenue", "rejected_by_gate", MM, "revenue",
               set_value(MM, "Выручка", "-4971.6", id="215350", Период="текущий_месяц"),
               "Revenue is never negative; a sign error would pass the loader.", "raw.market_money"),
    Corruption("huge_revenue", "rejected_by_gate", MM, "revenue",
               set_value(MM, "Выручка", "55009230000.0", id="215351", Период="предыдущий_месяц"),
               "Far above the 1,000,000 sanity bound (the known outlier 106862.2 is only a warning).",
               "raw.market_money"),
    Corruption("huge_minutes", "rejected_by_gate", MT, "minutes",
               set_value(MT, "минут", "120000", id="215352", Период="текущий_месяц"),
               "More minutes than a month has (44640).", "raw.market_time"),
    Corruption("negative_tenure", "rejected_by_gate", MF, "tenure_days",
               set_value(MF, "Длительность", "-819", id="215349"),
               "Days since registration cannot be negative.", "raw.market_file"),
    Corruption("unknown_category", "rejected_by_gate", MF, "popular_category",
               set_value(MF, "Популярная_категория", "Книги", id="215360"),
               "A category the model has never seen; staging would pass it through unmapped.",
               "raw.market_file"),
    Corruption("unknown_service_type", "rejected_by_gate", MF, "service_type",
               replace_all(MF, "Тип сервиса", "премиум", "vip"),
               "Only премиум / стандарт (and the known typo стандартт) exist.", "raw.market_file"),
    Corruption("unknown_label", "rejected_by_gate", MF, "activity",
               set_value(MF, "Покупательская активность", "Выросла", id="215355"),
               "The label has two values; a third would become NULL in staging.", "raw.market_file"),
    Corruption("empty_label", "rejected_by_gate", MF, "activity",
               set_value(MF, "Покупательская активность", "", id="215356"),
               "One empty label in a labelled snapshot is a broken export (a snapshot is either fully "
               "labelled or fully unlabelled).", "raw.market_file"),
    Corruption("duplicated_id", "rejected_by_gate", MF, "customer_id",
               _duplicate_row(MF, 10),
               "The same customer twice; every id must be unique in market_file.", "raw.market_file"),
    Corruption("id_missing_from_money", "rejected_by_gate", MO, "customer_id",
               _delete_row(MO, id="215400"),
               "Every id is in all four files; the feature join would silently drop the customer.",
               "raw.money"),
    Corruption("id_only_in_market_time", "rejected_by_gate", MT, "customer_id",
               _change_id(MT, "215401", "999999"),
               "market_time has an id market_file does not know (and lacks 215401).", "raw.market_time"),
    Corruption("revenue_period_missing", "rejected_by_gate", MM, "period",
               _delete_row(MM, id="215402", Период="предыдущий_месяц"),
               "Each customer needs exactly 3 revenue months; the pivot would drop the customer.",
               "raw.market_money"),
    Corruption("fourth_revenue_period", "rejected_by_gate", MM, "period",
               _append_row(MM, "215403", "предпредыдущий_месяц", "4800.0"),
               "A fourth month is unknown to staging and breaks 'exactly 3 rows per customer'.",
               "raw.market_money"),
    Corruption("same_minutes_month_twice", "rejected_by_gate", MT, "period",
               set_value(MT, "Период", "текущий_месяц", id="215404", Период="предыдцщий_месяц"),
               "Two rows, but both the current month: the row count is right, the months are not.",
               "raw.market_time"),
    Corruption("same_revenue_month_twice", "rejected_by_gate", MM, "period",
               set_value(MM, "Период", "текущий_месяц", id="215405", Период="предыдущий_месяц"),
               "Three rows, but the current month twice and last month missing.", "raw.market_money"),
    Corruption("repeated_minutes_row", "rejected_by_gate", MT, "period",
               _duplicate_row(MT, 20),
               "The same (id, month) twice would break the staging key.", "raw.market_time"),
    Corruption("swapped_text_columns", "rejected_by_gate", MF, "service_type",
               swap_columns_values(MF, "Тип сервиса", "Разрешить сообщать"),
               "Values of «Тип сервиса» and «Разрешить сообщать» exchanged under the right header: "
               "both are text, so only the allowed-values checks see it.", "raw.market_file"),
    # --------------------------------------------------------------- rejected by the loader
    Corruption("text_revenue", "rejected_by_loader", MM, "Выручка",
               set_value(MM, "Выручка", "5216.0 руб.", id="215349", Период="текущий_месяц"),
               "Not a number: the raw column is typed, so the loader refuses it with file, column, line."),
    Corruption("swapped_numeric_columns", "rejected_by_loader", MM, "Выручка",
               swap_columns_values(MM, "Период", "Выручка"),
               "Period text lands in the numeric revenue column."),
    Corruption("truncated_last_line", "rejected_by_loader", MF, "Тип сервиса",
               _truncate_last_line(MF, 20),
               "An interrupted transfer: the last row lacks fields (first missing: «Тип сервиса»)."),
    Corruption("wrong_separator", "rejected_by_loader", MM, "id|Период|Выручка",
               _separator(MM, "|"),
               "A '|'-separated re-save: the header is a single unknown column, named in the message."),
    Corruption("integer_overflow", "rejected_by_loader", MF, "Длительность",
               set_value(MF, "Длительность", "99999999999", id="215348"),
               "Does not fit the integer column: refused by the loader before the gate."),
    Corruption("fractional_contacts", "rejected_by_loader", MF, "Маркет_актив_тек_мес",
               set_value(MF, "Маркет_актив_тек_мес", "4.5", id="215348"),
               "A count with a fraction: not a whole number."),
    Corruption("empty_minutes", "rejected_by_loader", MT, "минут",
               set_value(MT, "минут", "", id="215350", Период="текущий_месяц"),
               "Only the label may be empty."),
    Corruption("missing_column", "rejected_by_loader", MF, "Ошибка_сервиса",
               _drop_column(MF, "Ошибка_сервиса"),
               "A column dropped from the export."),
    Corruption("missing_file", "rejected_by_loader", MO, None,
               lambda folder: (folder / MO).unlink(),
               "money.csv not delivered: no column to name, the message names the file."),
    Corruption("other_encoding", "rejected_by_loader", MF, None,
               rewrite_bytes(lambda b: b.decode("utf-8").encode("cp1251"), MF),
               "Re-saved as Windows-1251: not UTF-8 (the header already fails, so no single column)."),
    # ------------------------------------------------------------------ accepted variants
    Corruption("crlf_line_endings", "accepted", ALL, None,
               rewrite_bytes(lambda b: b.replace(b"\n", b"\r\n")),
               "Windows line endings: a known variant (etl/ingest/README.md, The export).", same_features=True),
    Corruption("no_final_newline", "accepted", ALL, None,
               rewrite_bytes(lambda b: b.rstrip(b"\n")),
               "Missing final newline: a known variant.", same_features=True),
    Corruption("utf8_bom", "accepted", ALL, None,
               rewrite_bytes(lambda b: b"\xef\xbb\xbf" + b),
               "A UTF-8 byte order mark: a known variant.", same_features=True),
    Corruption("money_comma_and_dot", "accepted", MO, None, edit(MO, _money_comma_dot),
               "money.csv re-saved with ',' and '.': a known variant.", same_features=True),
    Corruption("money_quoted_decimal_comma", "accepted", MO, None, edit(MO, _money_quoted),
               "money.csv with ',' and quoted \"0,98\": a known variant.", same_features=True),
    Corruption("money_two_decimals", "accepted", MO, None, edit(MO, _money_two_decimals),
               "Profits padded to two decimals ('5,00' where the export writes '5'): same numbers.",
               same_features=True),
    Corruption("columns_reordered", "accepted", MF, None,
               reorder_columns(MF, ["Тип сервиса", "id", "Популярная_категория",
                                    *[h for h in ("Покупательская активность", "Разрешить сообщать",
                                                  "Маркет_актив_6_мес", "Маркет_актив_тек_мес", "Длительность",
                                                  "Акционные_покупки", "Средний_просмотр_категорий_за_визит",
                                                  "Неоплаченные_продукты_штук_квартал", "Ошибка_сервиса",
                                                  "Страниц_за_визит")]]),
               "Columns in another order under their headers: the loader maps by header.", same_features=True),
    Corruption("semicolon_separator", "accepted", MT, None, _separator(MT, ";"),
               "market_time.csv re-saved with ';' (no decimals in it): the loader detects the separator "
               "from the header and the values are unchanged.", same_features=True),
    Corruption("typos_corrected", "accepted", ALL, None,
               both(replace_all(MF, "Тип сервиса", "стандартт", "стандарт"),
                    replace_all(MF, "Популярная_категория", "Косметика и аксесуары", "Косметика и аксессуары"),
                    replace_all(MT, "Период", "предыдцщий_месяц", "предыдущий_месяц")),
               "A future export with the typos fixed: staging maps both spellings to the same values.",
               same_features=True),
    Corruption("unlabelled_snapshot", "accepted", MF, None, edit(MF, _unlabel_all),
               "A fully unlabelled snapshot (labels not known yet) is scored, not trained on: "
               "features carry churn_label NULL."),
    Corruption("second_revenue_outlier", "accepted", MM, None,
               set_value(MM, "Выручка", "98765.4", id="215500", Период="текущий_месяц"),
               "Another entry error like id 215380's: a warning (staging imputes it), not a failure."),
)

CASES = {c.name: c for c in CATALOGUE}
assert len(CASES) == len(CATALOGUE), "case names must be unique"
