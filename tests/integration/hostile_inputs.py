"""A catalogue of hostile values in copies of the real export, each with its documented outcome.

Beside the corruption catalogue (tests/integration/corruptions.py, broken exports), this one holds
values someone could plant or a tool could leave: SQL text, spreadsheet formulas, markup, huge
texts and numbers, control and invisible characters, homoglyphs, exchanged headers. Every case
starts from a fresh copy of ../shared/data/raw and changes one thing. The outcome is one of
- `rejected_by_loader`: `LoadError` naming the file, the CSV column and the file line(s);
- `rejected_by_gate`: the loader accepts (the value fits its column type) and the raw GX gate
  fails naming the raw table and column;
- `stored_as_plain_data`: a legitimate, if odd, spelling of a value; stored as that value.
Whatever the outcome, input is only ever data: no SQL from it runs, and messages show invisible
characters as escapes. `why` says why the outcome is the right one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import sqlalchemy as sa

from etl.ops.checksums import LAYER_TABLES, layer_checksums
from tests.helpers import rows
from tests.integration.corruptions import FILES, Csv, edit, replace_all

Outcome = Literal["rejected_by_loader", "rejected_by_gate", "stored_as_plain_data"]
MF, MM, MT, MO = FILES

SQL_TEXT = "'); DROP TABLE raw.money; --"
HYPERLINK = '=HYPERLINK("http://x")'
DDE = "+cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
LONG = 100_000


def raw_fingerprint(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every raw row of `snapshot_date`, per raw table."""
    return layer_checksums(engine, snapshot_date, {t: c for t, c in LAYER_TABLES.items() if t.startswith("raw.")})


def partitions(engine: sa.Engine, snapshot_date: dt.date) -> list[str]:
    """The raw partitions of `snapshot_date` that exist."""
    return [r["relname"] for r in rows(
        engine,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'raw' AND c.relname LIKE :suffix",
        suffix=f"%\\_p{snapshot_date:%Y%m%d}",
    )]


def put(file: str, header: str, line: int, change: Callable[[str], str] | str) -> Callable[[Path], None]:
    """Replace (or transform) the field of `header` on file line `line` (2 = first data row)."""
    def apply(t: Csv) -> None:
        row = t.rows[line - 2]
        row[t.col(header)] = change(row[t.col(header)]) if callable(change) else change
    return edit(file, apply)


def rename(file: str, header: str, new: str) -> Callable[[Path], None]:
    """The header name changed, the values left alone."""
    def apply(t: Csv) -> None:
        t.header[t.col(header)] = new
    return edit(file, apply)


def swap_headers(file: str, a: str, b: str) -> Callable[[Path], None]:
    """Header names of two columns exchanged, values unchanged (a botched export mapping)."""
    def apply(t: Csv) -> None:
        i, j = t.col(a), t.col(b)
        t.header[i], t.header[j] = b, a
    return edit(file, apply)


def csv_quoted(value: str) -> str:
    """How a spreadsheet writes a field that holds quotes: `"=X(""y"")"`."""
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True)
class Hostile:
    name: str
    outcome: Outcome
    file: str
    column: str | None           # CSV header (loader) or raw column (gate, stored); None: none to name
    change: Callable[[Path], None]
    why: str
    line: int | None = None      # file line a loader rejection names (a data line for stored values)
    hidden: str = ""             # invisible characters every message must show as escapes
    says: str = ""               # what a loader rejection must say the problem is
    table: str | None = None     # raw table (gate, stored)
    stored: object = None        # stored_as_plain_data: the value raw holds for that line's customer

    def apply(self, folder: Path) -> Path:
        self.change(folder)
        return folder


CATEGORY, SERVICE, PROMO = "Популярная_категория", "Тип сервиса", "Акционные_покупки"
LOADER, GATE, STORED = "rejected_by_loader", "rejected_by_gate", "stored_as_plain_data"

CATALOGUE: tuple[Hostile, ...] = (
    # ------------------------------------------------------------------- SQL, formulas, markup
    Hostile("sql_in_number_column", LOADER, MM, "Выручка", put(MM, "Выручка", 5, SQL_TEXT),
            "SQL text is data: not a number, refused by the loader; nothing of it runs.",
            line=5, says="not a number"),
    Hostile("sql_in_text_column", GATE, MF, "popular_category", put(MF, CATEGORY, 6, SQL_TEXT),
            "Any text fits a text column; the gate's category list refuses it. Bound parameters and COPY "
            "keep it data.", table="raw.market_file"),
    Hostile("hyperlink_formula_in_category", GATE, MF, "popular_category",
            put(MF, CATEGORY, 7, csv_quoted(HYPERLINK)),
            "A formula that a spreadsheet would run when the export is opened: not a category.",
            table="raw.market_file"),
    Hostile("dde_formula_in_profit", LOADER, MO, "Прибыль", put(MO, "Прибыль", 8, DDE),
            "A DDE payload in a number column: not a number.", line=8, says="not a number"),
    Hostile("script_in_category", GATE, MF, "popular_category", put(MF, CATEGORY, 9, SCRIPT),
            "Markup is plain text to the warehouse; the category list refuses it (Data Docs must "
            "escape it, etl/quality/).", table="raw.market_file"),
    # -------------------------------------------------------------------------- huge texts
    Hostile("long_text_in_category", GATE, MF, "popular_category", put(MF, CATEGORY, 10, "Ы" * LONG),
            "100k characters fit a text column; the category list refuses them, and messages cut "
            "the sample.", table="raw.market_file"),
    Hostile("long_digits_in_number_column", LOADER, MF, "Маркет_актив_6_мес",
            put(MF, "Маркет_актив_6_мес", 11, "9" * LONG),
            "A 100k-digit number: absurd text, refused before any cast (which would itself fail).",
            line=11, says="longer than"),
    # ------------------------------------------------------- numbers a double cannot hold
    Hostile("overflow_1e309", LOADER, MM, "Выручка", put(MM, "Выручка", 12, "1e309"),
            "Beyond double precision: the INSERT would fail with a bare database error.",
            line=12, says="double precision cannot hold"),
    Hostile("overflow_minus_1e400", LOADER, MO, "Прибыль", put(MO, "Прибыль", 13, "-1e400"),
            "Beyond double precision, negative.", line=13, says="double precision cannot hold"),
    Hostile("underflow_1e-400", LOADER, MF, PROMO, put(MF, PROMO, 14, "1e-400"),
            "Below the smallest double: the INSERT would fail with 'out of range' and no line.",
            line=14, says="double precision cannot hold"),
    Hostile("absurd_exponent_1e-99999", LOADER, MF, PROMO, put(MF, PROMO, 15, "1e-99999"),
            "An exponent even `numeric` cannot hold: the check must not crash on it.",
            line=15, says="double precision cannot hold"),
    Hostile("digits_123_in_tenure", LOADER, MF, "Длительность", put(MF, "Длительность", 16, "7" * 123),
            "123 digits do not fit an integer (and are absurd as a number text).", line=16,
            says="longer than"),
    Hostile("tiny_promo_share", STORED, MF, "promo_share", put(MF, PROMO, 17, "1e-299"),
            "Tiny but a double holds it, and it lies in 0..1: plain data.", line=17,
            table="raw.market_file", stored=1e-299),
    Hostile("leading_zeros_in_minutes", STORED, MT, "minutes", put(MT, "минут", 18, "0" * 20 + "15"),
            "Leading zeros are a spelling of the same whole number.", line=18, table="raw.market_time",
            stored=15),
    # ------------------------------------------------------ control and invisible characters
    Hostile("control_char_in_category", GATE, MF, "popular_category", put(MF, CATEGORY, 19, lambda v: v + "\x01"),
            "A control character makes the value an unknown category.", hidden="\x01",
            table="raw.market_file"),
    Hostile("ansi_escape_in_minutes", LOADER, MT, "минут", put(MT, "минут", 20, lambda v: "\x1b[31m" + v),
            "An ANSI colour code could repaint a terminal showing the log: not a number, shown escaped.",
            line=20, hidden="\x1b", says="not a whole number"),
    Hostile("en_space_in_minutes", LOADER, MT, "минут", put(MT, "минут", 21, lambda v: v + "\u2002"),
            "A Unicode space after the digits: not a whole number (the cast would fail on it at INSERT).",
            line=21, hidden="\u2002", says="not a whole number"),
    Hostile("nbsp_thousands_in_revenue", LOADER, MM, "Выручка", put(MM, "Выручка", 22, "5\u00a0216.0"),
            "A spreadsheet's thousands separator (NBSP): not a number in the export's format.",
            line=22, hidden="\u00a0", says="not a number"),
    Hostile("nbsp_in_category", GATE, MF, "popular_category",
            put(MF, CATEGORY, 23, lambda v: v.replace(" ", "\u00a0", 1)),
            "Looks exactly like an allowed category but is another text: the gate refuses it.",
            hidden="\u00a0", table="raw.market_file"),
    Hostile("zwsp_in_category", GATE, MF, "popular_category",
            put(MF, CATEGORY, 24, lambda v: v.replace(" ", " \u200b", 1)),
            "A zero-width space: invisible, yet another category.", hidden="\u200b", table="raw.market_file"),
    Hostile("nul_in_category", LOADER, MF, CATEGORY, put(MF, CATEGORY, 25, lambda v: v[:3] + "\x00" + v[3:]),
            "A NUL byte is binary data, never text (PostgreSQL text cannot hold it).", line=25,
            hidden="\x00", says="NUL byte"),
    Hostile("nul_in_header", LOADER, MF, "Тип\x00сервиса", rename(MF, SERVICE, "Тип\x00сервиса"),
            "A NUL byte in the header line.", line=1, hidden="\x00", says="NUL byte"),
    Hostile("nbsp_in_header", LOADER, MF, "Тип\u00a0сервиса", rename(MF, SERVICE, "Тип\u00a0сервиса"),
            "Looks like «Тип сервиса» but is an unknown column.", line=1, hidden="\u00a0", says="unknown column"),
    Hostile("zwsp_in_header", LOADER, MF, "Ошибка_\u200bсервиса", rename(MF, "Ошибка_сервиса", "Ошибка_\u200bсервиса"),
            "A zero-width space inside a column name.", line=1, hidden="\u200b", says="unknown column"),
    Hostile("bom_inside_header", LOADER, MM, "\ufeffВыручка", rename(MM, "Выручка", "\ufeffВыручка"),
            "A byte order mark before a later column (two files pasted together): unknown column.",
            line=1, hidden="\ufeff", says="unknown column"),
    # ----------------------------------------------------------------------------- homoglyphs
    Hostile("latin_c_in_service_type", GATE, MF, "service_type", replace_all(MF, SERVICE, "стандарт", "cтандарт"),
            "Latin 'c' for Cyrillic 'с': looks the same, is another value; the gate's list refuses it.",
            table="raw.market_file"),
    Hostile("latin_letters_in_header", LOADER, MF, "Тип cервиса", rename(MF, SERVICE, "Тип cервиса"),
            "Latin 'c' in a column name: unknown column, and the message names the Latin letter.",
            line=1, says="U+0063"),
    # ------------------------------------------------------------------------- header shape
    Hostile("header_with_line_break", LOADER, MF, None, rename(MF, SERVICE, '"Тип\nсервиса"'),
            "A quoted column name holding a line break: the header spans two lines.", line=1,
            says="header spans several lines"),
    Hostile("swapped_headers", LOADER, MF, "Ошибка_сервиса",
            swap_headers(MF, "Ошибка_сервиса", "Страниц_за_визит"),
            "Two whole-number columns with exchanged names: types and ranges pass, only their "
            "distributions against the previous snapshot give it away.", says="look swapped"),
)

CASES = {c.name: c for c in CATALOGUE}
assert len(CASES) == len(CATALOGUE), "case names must be unique"
