"""Enterprise names as a published list writes them, compared with the registry's (pure rules).

A ministry or provincial 公告名单 carries names typed by many hands: full-width or half-width
brackets, letters and digits, 有限责任公司 where the register says 有限公司, spaces. `name_key`
folds those differences away, so two spellings of one name have one key:

- NFKC: full-width letters, digits, brackets and the ideographic space fold to ASCII;
- every kind of bracket (（）()【】[]〔〕) becomes ( and );
- whitespace is removed, Latin letters are lower-cased;
- 有限责任公司 reads as 有限公司 (the two forms of a limited company in everyday lists).

`lookup_forms` gives the spellings a registry may store for a name (for an exact, indexed lookup);
`search_words` the distinctive parts of a name to look for similar ones; `similarity` a 0–1 score.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from difflib import SequenceMatcher

from registry.domain.text import clean_text, narrow, widen

_OPEN = "（(【[〔"
_CLOSE = "）)】]〕"
_BRACKETS = str.maketrans({**{c: "(" for c in _OPEN}, **{c: ")" for c in _CLOSE}})
LONG_FORM, SHORT_FORM = "有限责任公司", "有限公司"
#: company-form words dropped before looking for similar names: they occur in nearly every name
_FORM_WORDS = re.compile(r"股份有限公司|有限责任公司|有限公司|股份公司|集团|公司|有限|股份")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
#: the longest lookup_forms list (2 widths × 2 bracket styles × 2 company forms × spaces kept or not)
MAX_FORMS = 16


def name_key(name: str) -> str:
    """Return the comparison key of an enterprise name (see the module doc)."""
    text = unicodedata.normalize("NFKC", name or "").translate(_BRACKETS)
    text = "".join(text.split()).lower()
    return text.replace(LONG_FORM, SHORT_FORM)


def lookup_forms(name: str) -> list[str]:
    """Return the spellings a registry may hold for `name` (stored names are cleaned, not folded).

    Half- and full-width letters and digits, （） and (), 有限公司 and 有限责任公司, with and without
    spaces: at most MAX_FORMS, the name as written first.
    """
    written = clean_text(name or "")
    widths = dict.fromkeys([written, narrow(written), widen(narrow(written))])
    forms: dict[str, None] = {written: None}
    for base, brackets, spaces in itertools.product(widths, ("full", "half"), (True, False)):
        text = base.translate(_FULL if brackets == "full" else _HALF)
        if not spaces:
            text = "".join(text.split())
        for company in _company_forms(text):
            forms.setdefault(company, None)
    return [f for f in forms if f][:MAX_FORMS]


_FULL = str.maketrans({**{c: "（" for c in _OPEN}, **{c: "）" for c in _CLOSE}})
_HALF = str.maketrans({**{c: "(" for c in _OPEN}, **{c: ")" for c in _CLOSE}})


def _company_forms(text: str) -> list[str]:
    if text.endswith(LONG_FORM):
        return [text, text[: -len(LONG_FORM)] + SHORT_FORM]
    if text.endswith(SHORT_FORM) and not text.endswith("股份" + SHORT_FORM):
        return [text, text[: -len(SHORT_FORM)] + LONG_FORM]
    return [text]


def search_words(name: str, limit: int = 4) -> list[str]:
    """Return up to `limit` distinctive runs of Chinese characters of `name` (two or more characters each),
    longest first, without the company-form words: what a similar name most likely shares.

    A run of four characters or more also gives its two halves, so a changed character or a space in
    the register's spelling still leaves a part to find it by.
    """
    key = _FORM_WORDS.sub(" ", unicodedata.normalize("NFKC", name or "").translate(_BRACKETS))
    runs = sorted({r for r in _HAN_RUN.findall(key) if len(r) >= 2}, key=lambda r: (-len(r), r))
    words: list[str] = []
    for run in runs:
        words.append(run)
        if len(run) >= 4:
            half = len(run) // 2
            words.extend([run[:half], run[half:]])
    return list(dict.fromkeys(words))[:limit]


def similarity(a: str, b: str) -> float:
    """Return how alike two names are, 0 to 1, compared by their keys (1.0: the same key)."""
    return key_similarity(name_key(a), name_key(b))


def bigram_overlap(left: str, right: str) -> float:
    """Return the Dice coefficient of two keys' character pairs, 0 to 1: a cheap first sort of many names
    before `key_similarity` compares the closest few."""
    a, b = {left[i:i + 2] for i in range(len(left) - 1)}, {right[i:i + 2] for i in range(len(right) - 1)}
    if not a or not b:
        return 1.0 if left == right else 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def key_similarity(left: str, right: str, at_least: float = 0.0) -> float:
    """Return how alike two name keys are (difflib's ratio); 0.0 for a pair that cannot reach `at_least`
    (told by difflib's cheap upper bounds, without the full comparison)."""
    if left == right:
        return 1.0
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    if at_least and (matcher.real_quick_ratio() < at_least or matcher.quick_ratio() < at_least):
        return 0.0
    return matcher.ratio()
