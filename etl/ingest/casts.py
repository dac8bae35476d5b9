"""What a landing text value must look like, as SQL predicates, and the raw INSERT built from them.

Each check is a predicate true for a bad value (`checks`). The INSERT into a raw partition
converts every value behind a guard that accepts exactly what the checks accept (`converted`): a
bad value becomes NULL, which the raw table's NOT NULL refuses, or makes the cast fail. So a good
file is checked and converted in the one pass that writes it, and only a refused INSERT runs the
checks one by one to name the column, problem and lines (etl/ingest/loader.py). The checks are
stated here once, for both.

A number is accepted when it matches the number pattern and its value fits the column (a float
within FLOAT_LIMITS); its length alone refuses nothing, so a typed COPY (etl/ingest/typed_copy.py)
can accept exactly the same values. A refused text longer than MAX_NUMBER_CHARS is reported as
too long. `typed_check` is the CHECK that lets a typed COPY accept only such values.
"""

from __future__ import annotations

from psycopg2 import sql as pgsql

from etl.warehouse.sources import Column, Source

SPACES = " \t\r\n\f\v"  # what the integer and float casts skip (not NBSP or other Unicode spaces)
_SPACE = r"[ \t\r\n\f\v]*"
INT_PATTERN = rf"^{_SPACE}[-+]?[0-9]+{_SPACE}$"
FLOAT_PATTERN = rf"^{_SPACE}[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?{_SPACE}$"
MAX_NUMBER_CHARS = 100  # the export writes at most ~10; a double has 17 significant digits
FLOAT_LIMITS = (1e-300, 1e300)  # non-zero magnitudes outside these are refused
INT_MAX_DIGITS = {"customer_id": 18}  # bigint
DEFAULT_INT_MAX_DIGITS = 9  # fits `integer`


def checks(column: Column) -> list[tuple[pgsql.Composable, str]]:
    """(predicate true for a bad value, what is wrong) for one landing column, in reporting order."""
    value = pgsql.Identifier(column.name)
    sql = lambda text, **more: pgsql.SQL(text).format(v=value, **more)  # noqa: E731
    empty = sql("({v} IS NULL OR btrim({v}, {s}) = '')", s=pgsql.Literal(SPACES))
    if column.kind == "text":
        return [] if column.nullable else [(empty, "empty value")]
    long_text = sql("length({v}) > {n}", n=pgsql.Literal(MAX_NUMBER_CHARS))
    too_long = f"number text longer than {MAX_NUMBER_CHARS} characters"
    if column.kind == "int":
        digits = int_digits(column)
        pattern = pgsql.Literal(INT_PATTERN)
        not_whole = sql("({v} IS NULL OR {v} !~ {p})", p=pattern)
        too_large = sql(
            "({v} ~ {p} AND length(ltrim(btrim({v}, {s}), '+-0')) > {d})",
            p=pattern,
            s=pgsql.Literal(SPACES),
            d=pgsql.Literal(digits),
        )
        return [
            (not_whole, "value is not a whole number"),
            (pgsql.SQL("({} AND {})").format(long_text, too_large), too_long),
            (too_large, f"whole number too large for the column (over {digits} digits)"),
        ]
    number = sql("replace(btrim({v}, {s}), ',', '.')", s=pgsql.Literal(SPACES))
    low, high = (pgsql.Literal(limit) for limit in FLOAT_LIMITS)
    not_number = sql("({v} IS NULL OR replace({v}, ',', '.') !~ {p})", p=pgsql.Literal(FLOAT_PATTERN))
    out_of_range = pgsql.SQL(
        "(CASE WHEN {not_number} THEN false"
        " WHEN NOT pg_input_is_valid({x}, 'double precision') THEN true"
        " ELSE abs({x}::double precision) >= {high}::double precision"
        " OR ({x}::double precision <> 0 AND abs({x}::double precision) < {low}::double precision) END)"
    ).format(not_number=not_number, x=number, low=low, high=high)
    return [
        (not_number, "value is not a number"),
        (pgsql.SQL("({} AND {})").format(long_text, out_of_range), too_long),
        (out_of_range, "number a double precision cannot hold (|x| ≥ 1e300, or non-zero |x| < 1e-300)"),
    ]


def int_digits(column: Column) -> int:
    return INT_MAX_DIGITS.get(column.name, DEFAULT_INT_MAX_DIGITS)


def converted(column: Column) -> pgsql.Composable:
    """The raw value of a landing column; for a value one of its `checks` refuses, NULL (which the
    raw column's NOT NULL refuses) or, for a number text without letters, an error of the cast:
    either way the INSERT is refused (nullable text: empty is NULL and allowed). The CASE tests
    the cheap conditions first; tests/integration/test_casts.py checks that it refuses exactly
    what `checks` refuses."""
    value = pgsql.Identifier(column.name)
    sql = lambda text, **more: pgsql.SQL(text).format(v=value, **more)  # noqa: E731
    spaces, longest = pgsql.Literal(SPACES), pgsql.Literal(MAX_NUMBER_CHARS)
    if column.kind == "text":
        if column.nullable:
            return sql("nullif(btrim({v}), '')")
        return sql("CASE WHEN btrim({v}, {s}) <> '' THEN btrim({v}) END", s=spaces)
    if column.kind == "int":
        digits = int_digits(column)
        target = pgsql.SQL("bigint" if digits > DEFAULT_INT_MAX_DIGITS else "integer")
        # A text no longer than `digits` cannot hold more digits: the digit count is read only
        # for longer texts (leading zeros, signs and spaces do not count).
        return sql(
            "CASE WHEN {v} !~ {p} THEN NULL"
            " WHEN length({v}) <= {d} OR length(ltrim(btrim({v}, {s}), '+-0')) <= {d}"
            " THEN btrim({v})::{t} END",
            p=pgsql.Literal(INT_PATTERN),
            d=pgsql.Literal(digits),
            s=spaces,
            t=target,
        )
    # The common case first: a text without letters (so without an exponent, NaN, Infinity or
    # hex) of at most MAX_NUMBER_CHARS characters is either a plain decimal well inside
    # FLOAT_LIMITS, which the cast accepts as the checks do, or no number, on which the cast
    # raises and the INSERT is refused just the same (the loader then names the value). Texts
    # with letters, and longer ones, take the pattern and range tests.
    number = sql("replace(btrim({v}, {s}), ',', '.')", s=spaces)
    low, high = (pgsql.Literal(limit) for limit in FLOAT_LIMITS)
    return pgsql.SQL(
        "CASE WHEN length({v}) <= {n} AND {v} !~ '[[:alpha:]]' THEN replace({v}, ',', '.')::double precision"
        " WHEN replace({v}, ',', '.') !~ {p} THEN NULL"
        " WHEN pg_input_is_valid({x}, 'double precision')"
        " AND abs({x}::double precision) < {high}::double precision"
        " AND ({x}::double precision = 0 OR abs({x}::double precision) >= {low}::double precision)"
        " THEN {x}::double precision END"
    ).format(v=value, n=longest, p=pgsql.Literal(FLOAT_PATTERN), x=number, low=low, high=high)


def typed_check(column: Column) -> pgsql.Composable:
    """True for a typed value that the checked path would accept from the same text and store
    unchanged: a typed COPY under this CHECK accepts a subset of what the checks accept (it may
    refuse more: texts with surrounding spaces, decimal commas; the checked path then decides).
    PostgreSQL's integer input also reads 1_000 and 0x1F, which a CHECK on the value cannot see:
    etl/ingest/typed_copy.py screens the file for them."""
    value = pgsql.Identifier(column.name)
    sql = lambda text, **more: pgsql.SQL(text).format(v=value, **more)  # noqa: E731
    if column.kind == "text":
        same = sql("{v} = btrim({v}) AND btrim({v}, {s}) <> ''", s=pgsql.Literal(SPACES))
        return pgsql.SQL("({v} IS NULL OR {same})").format(v=value, same=same) if column.nullable else same
    if column.kind == "int":
        bound = pgsql.Literal(10 ** int_digits(column))
        return sql("({v} > -{b} AND {v} < {b})", b=bound)
    low, high = (pgsql.Literal(limit) for limit in FLOAT_LIMITS)
    return sql("(abs({v}) < {high} AND ({v} = 0 OR abs({v}) >= {low}))", low=low, high=high)


def insert_statement(source: Source) -> pgsql.Composable:
    """INSERT the landing table into the raw partition, checking and converting in one pass
    (file order kept: a sequential scan returns the COPYed rows as written)."""
    return pgsql.SQL(
        "INSERT INTO {raw} (snapshot_date, {names}, source_file, loaded_at)\n"
        "SELECT %(snapshot_date)s, {values}, %(source_file)s, now()\nFROM {landing}"
    ).format(
        raw=pgsql.Identifier("raw", source.table),
        names=pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in source.columns),
        values=pgsql.SQL(",\n    ").join(converted(c) for c in source.columns),
        landing=pgsql.Identifier(f"load_{source.table}"),
    )
