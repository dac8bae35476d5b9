"""etl.warehouse.text shows values from an export so that invisible and look-alike characters can be seen."""

from __future__ import annotations

import pytest

from etl.warehouse.text import has_hidden_characters, quoted, visible


@pytest.mark.parametrize(
    "text",
    [
        "Товары для детей",
        "Покупательская активность",
        "id",
        "5216.0",
        "0,98",
        '=HYPERLINK("x")',
        "'); DROP TABLE raw.money; --",
        "<script>alert(1)</script>",
        "Тип cервиса",
        "",
    ],
)
def test_visible_text_is_unchanged(text):
    assert visible(text) == text
    assert not has_hidden_characters(text)


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "\\x00"),  # NUL
        ("\x01", "\\x01"),  # control
        ("\x1b", "\\x1b"),  # ESC, starts ANSI colour codes
        ("\t", "\\x09"),
        ("\n", "\\x0a"),
        ("\r", "\\x0d"),
        ("\x7f", "\\x7f"),  # DEL
        ("\x85", "\\x85"),  # NEXT LINE
        ("\u00a0", "\\xa0"),  # NO-BREAK SPACE: printable to Python, looks like a space
        ("\u00ad", "\\xad"),  # SOFT HYPHEN
        ("\u1680", "\\u1680"),  # OGHAM SPACE MARK
        ("\u2002", "\\u2002"),  # EN SPACE
        ("\u2007", "\\u2007"),  # FIGURE SPACE
        ("\u200a", "\\u200a"),  # HAIR SPACE
        ("\u200b", "\\u200b"),  # ZERO WIDTH SPACE
        ("\u200d", "\\u200d"),  # ZERO WIDTH JOINER
        ("\u2028", "\\u2028"),  # LINE SEPARATOR
        ("\u202e", "\\u202e"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u202f", "\\u202f"),  # NARROW NO-BREAK SPACE
        ("\u3000", "\\u3000"),  # IDEOGRAPHIC SPACE
        ("\ufeff", "\\ufeff"),  # BOM / ZERO WIDTH NO-BREAK SPACE
    ],
)
def test_invisible_characters_are_escaped(char, shown):
    assert visible(char) == shown
    assert visible(f"Тип{char}сервиса") == f"Тип{shown}сервиса"
    assert has_hidden_characters(f"Тип{char}сервиса")


def test_plain_space_stays_a_space():
    assert visible("Тип сервиса") == "Тип сервиса"
    assert visible(" a ") == " a "


def test_a_backslash_in_the_text_is_kept_as_typed():
    # only characters are escaped; an escape sequence typed into the export stays as text
    assert visible("a\\xa0b") == "a\\xa0b"
    assert not has_hidden_characters("a\\xa0b")


def test_non_text_values_are_shown_as_their_text():
    assert visible(5216.0) == "5216.0"
    assert visible(None) == "None"
    assert visible(b"\x00") == "b'\\x00'"


def test_long_text_is_cut_and_says_how_long_it_was():
    shown = visible("Ы" * 100_000, limit=50)
    assert shown == "Ы" * 49 + "… (100000 chars)"
    assert visible("Ы" * 50, limit=50) == "Ы" * 50


def test_the_limit_counts_the_escapes_not_the_characters():
    shown = visible("\x00" * 30, limit=20)
    assert shown.startswith("\\x00" * 4) and shown.endswith("… (30 chars)")
    assert "\x00" not in shown


def test_default_limit_is_200():
    assert len(visible("a" * 200)) == 200
    assert visible("a" * 201) == "a" * 199 + "… (201 chars)"


def test_quoted_wraps_in_single_quotes_and_keeps_none():
    assert quoted("Тип\u00a0сервиса") == "'Тип\\xa0сервиса'"
    assert quoted("") == "''"
    assert quoted(None) == "None"
    assert quoted("Ы" * 300, limit=10) == "'" + "Ы" * 9 + "… (300 chars)'"


def test_quoted_does_not_escape_quotes_inside():
    # the value is shown as it is between the quotes, unlike repr() which switches quote style
    assert quoted("'); DROP TABLE raw.money; --") == "''); DROP TABLE raw.money; --'"


def test_has_hidden_characters_looks_at_the_whole_text():
    long_clean = "a" * 10_000
    assert not has_hidden_characters(long_clean)
    assert has_hidden_characters(long_clean + "\u200b")
    assert has_hidden_characters("\ufeff" + long_clean)


def test_homoglyphs_are_not_hidden_characters():
    # a Latin 'c' in a Cyrillic word is a visible letter; catching it is the caller's job
    assert visible("cтандарт") == "cтандарт"
    assert not has_hidden_characters("cтандарт")
