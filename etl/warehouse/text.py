"""Show text from an export so a person sees exactly what is in it.

Error messages, logs and reports quote values from the files. A non-breaking space, a zero-width
space, a BOM or a control character looks like nothing (or like a plain space) on screen, so the
quoted value would look correct while it is not; such characters are shown as escapes instead.
"""

from __future__ import annotations

# Shown as \uXXXX though Python calls some of them printable: they look like a plain space or nothing.
_LOOK_ALIKE_SPACES = {"\u00a0", "\u2007", "\u202f", "\u3000", "\u1680"} | {chr(c) for c in range(0x2000, 0x200B)}
_DEFAULT_LIMIT = 200


def visible(value: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`value` as text with invisible and look-alike characters escaped, cut to `limit` chars.

    'Тип<NBSP>сервиса' → 'Тип\\xa0сервиса'; '\\x00' → '\\x00'; a plain space stays a space.
    """
    text = value if isinstance(value, str) else str(value)
    out = []
    for char in text:
        if char == " " or (char.isprintable() and char not in _LOOK_ALIKE_SPACES):
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    shown = "".join(out)
    if len(shown) > limit:
        shown = shown[: limit - 1] + f"… ({len(text)} chars)"
    return shown


def quoted(value: object, limit: int = _DEFAULT_LIMIT) -> str:
    """`visible(value)` in single quotes, for samples in a message; None stays None."""
    return "None" if value is None else "'" + visible(value, limit) + "'"


def has_hidden_characters(value: str) -> bool:
    """True when `visible` would change the text (an invisible or look-alike character)."""
    return visible(value, limit=len(value) * 6 + 1) != value
