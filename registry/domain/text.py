"""One cleaning of user text, used by the API schemas, the page forms and the import.

`clean_text` NFC-normalises, removes control characters, zero-width and other format characters
(U+200B..U+200F, U+2060..U+2064, U+FEFF, the bidi embeddings/overrides/isolates U+202A..U+202E
and U+2066..U+2069, soft hyphen, …: every character of Unicode category Cc, Cf or Cs) and the
line/paragraph separators U+2028/U+2029, and strips the ends. Single-line text has its runs of
whitespace (tab, line break, U+3000, NBSP) collapsed to one space; multi-line text keeps its
line breaks (CR LF and CR become LF) and tabs.

Kept on purpose: private-use characters (some rare hanzi in names only exist there, e.g. via
GB18030) and full-width forms (NFKC would turn Chinese punctuation into ASCII); identifiers use
`clean_code`, which folds full-width letters and digits (NFKC) and removes every space.

A value that is empty after cleaning is empty: a required field refuses it.
"""

from __future__ import annotations

import re
import sys
import unicodedata

_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEEP = frozenset("\t\n\r")  # whitespace: collapsed (single line) or kept (multi-line), not deleted


#: Every character of category Cc, Cf, Cs, Zl or Zp except tab, LF and CR, as code point ranges
#: (Unicode 14, Python 3.11's database; tests/domain/test_text.py recomputes it from `unicodedata`).
UNSAFE_RANGES = (
    (0x0000, 0x0008), (0x000B, 0x000C), (0x000E, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def unsafe_ranges() -> list[tuple[int, int]]:
    """Compute UNSAFE_RANGES from the running Unicode database (for the test that keeps them in step)."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char in _KEEP or unicodedata.category(char) not in _DROP_CATEGORIES:
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


_UNSAFE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in UNSAFE_RANGES) + "]+")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Return `value` NFC-normalised, without control/format/zero-width characters, ends stripped."""
    if not (value.isascii() and value.isprintable()):  # the common ASCII case has nothing to delete
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        value = _UNSAFE.sub("", value)
        if multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        return "\n".join(line.rstrip() for line in value.split("\n")).strip()
    return " ".join(value.split())


def clean_code(value: str) -> str:
    """Return an identifier as typed: NFKC (full-width letters/digits fold to ASCII), no spaces."""
    return "".join(clean_text(unicodedata.normalize("NFKC", value)).split())


#: full-width digits and Latin letters (U+FF10..U+FF19, U+FF21..U+FF3A, U+FF41..U+FF5A) and the
#: ideographic space fold to ASCII; full-width punctuation stays (a name's （） is part of it)
_NARROW = {0x3000: " ", **{c: chr(c - 0xFEE0) for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                             for c in range(r[0], r[1] + 1)}}
_WIDE = {ord(v): chr(k) for k, v in _NARROW.items() if k != 0x3000}


def narrow(value: str) -> str:
    """Fold full-width digits, Latin letters and the ideographic space to ASCII (ＡＢＣ１２３ → ABC123)."""
    return value.translate(_NARROW)


def widen(value: str) -> str:
    """The reverse of `narrow` for digits and Latin letters (ABC123 → ＡＢＣ１２３)."""
    return value.translate(_WIDE)


def search_terms(q: str | None) -> list[str]:
    """The words of a search box, the one normaliser of the API `q`, the roster page and the export filter.

    Cleaned like any text (control and zero-width characters dropped), full-width digits, letters and
    spaces folded (`narrow`), split on whitespace; duplicates dropped, order kept. Every word must match
    (registry/enterprises/queries.py); SQL wildcards in a word are literal there.
    """
    words = narrow(clean_text(q or "")).split()
    return list(dict.fromkeys(words))


#: working marks the policy files carry in their source texts, not meant for a reader: "(public)",
#: "（public：公开文本，seeds 未收录原文；…）", "(verify)", …
SOURCE_MARKS = re.compile(r"\s*[（(](?:public|verify|unverified|assumed|todo)(?:[：:，,；;][^（()）]*)?[)）]", re.I)


def plain_source(text: str | None) -> str:
    """Return a policy source or basis as a reader sees it: without the files' working marks."""
    return SOURCE_MARKS.sub("", text or "").strip()
