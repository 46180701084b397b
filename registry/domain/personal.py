"""Personal information (个人信息保护法 §6, §51): which fields hold it, how they are masked, how they are matched.

An enterprise's contact person — name, phone, e-mail — is personal information. It is stored
encrypted (registry/platform/pi_crypto.py), shown masked unless a role that needs it asks to see
it (an audited action, docs/security.md), and found by an exact phone or e-mail through a blind
index of the normalised value. Masking keeps what lets a person recognise the record without
disclosing it: 138****1234, z***@example.org, 张*. A masked value is masked again unchanged, so
a value that already went through here (an audit event written masked) shows the same.
"""

from __future__ import annotations

import re

MASK = "*"
#: the enterprise's personal-data fields and the kind of each (how it is masked and indexed)
CONTACT_FIELDS = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}
#: the fields found by an exact value through a blind index
INDEXED = ("contact_phone", "contact_email")
_PHONE_TEXT = re.compile(r"^[0-9+\-()（）\s]{7,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def mask_phone(value: str) -> str:
    """138****1234: the first three and last four digits (formatting dropped); fewer than 8 digits keep
    only the last two."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-2:]}" if len(digits) > 2 else "****"


def mask_email(value: str) -> str:
    """z***@example.org: the first character of the local part, the domain whole."""
    local, at, domain = value.strip().partition("@")
    if not at:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_name(value: str) -> str:
    """张*, 欧***: the first character, a star for each of the others."""
    text = value.strip()
    if len(text) <= 1:
        return MASK
    return text[0] + MASK * (len(text) - 1)


def mask_text(value: str) -> str:
    """A contact of unknown shape (an objector's 联系方式): as an e-mail or a phone when it is one, else
    its first character and three stars."""
    text = value.strip()
    if _EMAIL.match(text):
        return mask_email(text)
    if _PHONE_TEXT.match(text):
        return mask_phone(text)
    return f"{text[:1]}***" if text else text


_MASKERS = {"name": mask_name, "phone": mask_phone, "email": mask_email, "text": mask_text}


def mask(kind: str, value: object) -> object:
    """Mask `value` as a `kind` (name, phone, email, text); None and "" stay; a masked value stays as it is."""
    if not isinstance(value, str) or not value or MASK in value:
        return value
    return _MASKERS[kind](value)


def mask_field(field: str, value: object) -> object:
    """Mask a contact field's value by its kind; any other field's value is returned unchanged."""
    kind = CONTACT_FIELDS.get(field)
    return value if kind is None else mask(kind, value)


def mask_changes(changes: dict[str, object]) -> dict[str, object]:
    """Return an audit event's {field: [before, after]} with the contact fields masked."""
    out = dict(changes)
    for field in CONTACT_FIELDS.keys() & out.keys():
        pair = out[field]
        if isinstance(pair, list | tuple):
            out[field] = [mask_field(field, v) for v in pair]
        else:
            out[field] = mask_field(field, pair)
    return out


def normalize_phone(value: str) -> str:
    """The digits of a phone number, without a leading +86 / 86 country code on an 11-digit mobile."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def normalize_email(value: str) -> str:
    """An e-mail address as matched: trimmed and lower-cased."""
    return value.strip().lower()


NORMALIZERS = {"phone": normalize_phone, "email": normalize_email}


def looks_like_phone(text: str) -> bool:
    """Tell whether a search text is a phone number (7–32 digits and phone punctuation)."""
    return bool(_PHONE_TEXT.match(text.strip())) and len(normalize_phone(text)) >= 7


def looks_like_email(text: str) -> bool:
    """Tell whether a search text is an e-mail address."""
    return bool(_EMAIL.match(text.strip()))
