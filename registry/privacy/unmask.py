"""Masked by default, unmasked on request: the contact person of an enterprise in pages, API and exports.

Who may see the contact's name, phone and e-mail in full (docs/security.md, issue 16 §6): the
business roles that work the enterprise's case — `officer` and `admin`, in their own region (the
region scoping already hides other regions' enterprises) — and only when they ask: the 显示完整联系方式
button on the enterprise page, `?unmask=1` on GET /enterprises, GET /enterprises/{id} and the roster
exports. Each time is an audit event `pi.unmask` (who, which enterprises or which export filter,
which fields, for what). Everyone else — auditor (the inspector), leader, the three administrators —
sees 138****1234, z***@example.org, 张*, and asking is refused (403). The CLI's operator may unmask
an export with `--unmask` (audited the same way).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import ROLE_NAMES, Action, Actor, can
from registry.domain.errors import PermissionDenied
from registry.domain.personal import CONTACT_FIELDS

ACTION = "pi.unmask"
FIELD_NAMES = {"contact_name": "联系人", "contact_phone": "联系电话", "contact_email": "联系邮箱"}
YES = frozenset({"1", "true", "yes", "on"})


def asked() -> bool:
    """Tell whether the request asks for personal data in full (`?unmask=1`)."""
    return request.args.get("unmask", "").strip().lower() in YES


def may_unmask(actor: Actor) -> bool:
    """Tell whether the actor's role may see personal data in full when it asks."""
    return can(actor, Action.UNMASK_PI)


def check(actor: Actor, wanted: bool) -> bool:
    """Return `wanted` when the actor may unmask. :raises PermissionDenied: when asked by a role that may not."""
    if wanted and not may_unmask(actor):
        raise PermissionDenied(f"{ROLE_NAMES[actor.role]}无权查看完整的联系人信息（姓名、电话、邮箱按规定脱敏显示）"
                               f" / role {actor.role.value} may not unmask personal data")
    return wanted


def requested(actor: Actor) -> bool:
    """`check(actor, asked())`: whether this request unmasks. :raises PermissionDenied:"""
    return check(actor, asked())


def contacts(enterprise: object, unmasked: bool) -> dict[str, Any]:
    """The enterprise's contact fields as shown: in full (decrypted) when unmasked, else the masked forms stored
    beside the ciphertext (registry/enterprises/models.py), which a list reads without decrypting (issue 19)."""
    if unmasked:
        return {f: getattr(enterprise, f) for f in CONTACT_FIELDS}
    return {f: getattr(enterprise, f"{f}_masked") for f in CONTACT_FIELDS}


def record(session: Session, actor: Actor, *, purpose: str, at: datetime, enterprises: Iterable[Any] = (),
           region_code: str | None = None, detail: dict[str, Any] | None = None) -> int:
    """Append a `pi.unmask` event: who (the actor), what (the enterprises or the export's filter), which fields, why.

    Never commits (issue 15: one transaction owner): a view calls it through `recorded`, which writes
    the event in a short transaction of its own and commits it before the data is shown.
    """
    listed = [(e.id, e.region_code) for e in enterprises]
    one = listed[0] if len(listed) == 1 else None
    changes: dict[str, Any] = {"purpose": purpose, "fields": "、".join(FIELD_NAMES.values())}
    if listed:
        changes["enterprises"] = "、".join(f"#{i}" for i, _ in listed)
        changes["count"] = len(listed)
    changes.update(detail or {})
    values = dict(actor=actor, action=ACTION, entity_type="enterprise", entity_id=one[0] if one else None,
                  enterprise_id=one[0] if one else None, region_code=one[1] if one else (region_code or actor.region_code),
                  changes=changes, at=at)
    return audit.record(session, **values)
