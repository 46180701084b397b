"""One cleaning of user text, used by the API schemas, the page forms and the import.

`clean_text` NFC-normalises, drops control characters (except line breaks and tabs in multi-line
text), zero-width and other format characters (U+200B..U+200F, U+2060..U+2064, U+FEFF, bidi
embeddings/overrides/isolates U+202A..U+202E, U+2066..U+2069, soft hyphen, ...: every Unicode
category Cf character), surrogates, private-use and unassigned code points, line/paragraph
separators, and strips the ends. Full-width ASCII stays as written (NFKC would turn Chinese punctuation into
ASCII); identifiers (USCC, codes) get `clean_code`, which also folds full-width forms (NFKC) and
removes every space.

A value that is empty after cleaning is empty: a required field refuses it.
"""

from __future__ import annotations

import unicodedata

_KEEP_MULTILINE = frozenset("\n\t")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _keep(char: str, multiline: bool) -> bool:
    if char in _KEEP_MULTILINE:
        return multiline
    if char == "\r":
        return False
    return unicodedata.category(char) not in _DROP_CATEGORIES


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Return `value` NFC-normalised, without control/format/zero-width characters, ends stripped.

    Single-line text also has its runs of whitespace (including U+3000, NBSP) collapsed to one
    space; multi-line text keeps line breaks (CR LF becomes LF), tabs and inner spacing.
    """
    if value.isascii() and value.isprintable():  # the common case: nothing to remove
        return " ".join(value.split())
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    text = "".join(c for c in text if _keep(c, multiline))
    if multiline:
        return "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return " ".join(text.split())


def clean_code(value: str) -> str:
    """Return an identifier as typed: NFKC (full-width letters/digits fold to ASCII), no spaces."""
    return "".join(clean_text(unicodedata.normalize("NFKC", value)).split())
