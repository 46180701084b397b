"""The audit trail: append an event in the caller's transaction, chained by SHA-256 or SM3; verify it.

Each event stores the hash of the previous event and its own hash over a canonical JSON encoding
of its content (its id and the previous hash included, so a changed, deleted, renumbered or
reordered row breaks the chain). Appends are serialised by locking the single chain-head row
(FOR UPDATE on PostgreSQL; SQLite's single writer serialises already), so concurrent writers
never fork the chain. The database refuses UPDATE and DELETE of audit rows (triggers in the
baseline migration); `registry.audit.guard` refuses bulk ORM DML that would escape the trail
unless it runs inside `bulk_allowed`, which records it.

The hash function is chosen per event (REGISTRY_AUDIT_HASH: sha256, the default, or sm3) and
stored with it (`hash_alg`), so a chain may switch; an SM3 event's encoding also names its
function, so relabelling an event changes what is hashed. The chain head is anchored with
HMAC-SM3 under REGISTRY_AUDIT_ANCHOR_KEY (a key kept apart from the database): whoever rewrites
the tail and the head together cannot renew the anchor without the key. Both settings reach the
trail through the session (`ChainConfig` in `session.info`, set by the app's session factory).

Verify lets the database write each event's canonical encoding from the stored columns and only
hashes it (`_quick_sql`; `changes` is stored as canonical text, see `CanonicalJSON`); an event
whose text does not hash to its hash is re-encoded from its columns in Python, which names it
exactly as verify always has (issue 19; what is hashed is unchanged, so existing chains verify).
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit.models import AuditChainHead, AuditEvent
from registry.domain.actors import Actor
from registry.domain.personal import CONTACT_FIELDS, mask_changes
from registry.platform.bulkwrite import insert_rows
from registry.platform.digests import ALGORITHMS, HEX_DIGESTS, SHA256, hmac_sm3_hex, same

GENESIS = "0" * 64
MIN_RETENTION_DAYS = 180  #: 等保 level 3: audit records kept at least six months (REGISTRY_AUDIT_RETENTION_DAYS)
_INSERT = sa.insert(AuditEvent)
_EVENTS = AuditEvent.__table__  # record_many writes by the driver's bulk path (registry/platform/bulkwrite.py)
_LOCK_HEAD = sa.select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
HASHED_FIELDS = (
    "id", "occurred_at", "actor_kind", "actor_name", "actor_user_id", "action", "entity_type",
    "entity_id", "enterprise_id", "region_code", "changes", "reason_code", "document_no", "note",
    "request_id", "ip", "prev_hash",
)
BULK_KEY = "registry.audit.bulk_permits"
#: json.dumps(…, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) made once:
#: dumps with non-default options builds a new encoder on every call (a third of verify's encoding).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_AS_IS = frozenset({str, int, bool})  #: exact types `plain` returns unchanged (not subclasses: StrEnum)


def plain(value: Any) -> Any:
    """Turn a value into what JSON stores and gives back: ISO dates, decimals as strings, enums by value.

    Nested lists and dicts are converted throughout (dict keys become strings, tuples lists), so
    the encoding hashed when an event is written equals the one recomputed from the stored row.
    """
    if value is None or type(value) in _AS_IS:  # the common case first: bulk imports hash 10⁵ events
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/Infinity (PostgreSQL refuses them)
    if isinstance(value, list | tuple):  # before Mapping: an ABC check is slow
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


#: the records whose contact fields are personal information: their events store them masked (issue 16 §6)
PERSONAL_ENTITIES = frozenset({"enterprise"})


def redacted(entity_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    """An event's changes as the trail stores them: an enterprise's contact name, phone and e-mail masked
    (138****1234), never in clear — the trail is read by roles that must not see them, and kept for years."""
    if entity_type in PERSONAL_ENTITIES and CONTACT_FIELDS.keys() & changes.keys():
        return mask_changes(changes)
    return changes


def diff(obj: object, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set attributes from `data` on `obj`; return {field: [before, after]} for those that changed."""
    changes: dict[str, list[Any]] = {}
    for key, new in data.items():
        old = getattr(obj, key)
        if plain(old) != plain(new):
            changes[key] = [plain(old), plain(new)]
            setattr(obj, key, new)
    return changes


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Return {field: [None, value]} for a created record."""
    return {f: [None, plain(getattr(obj, f))] for f in fields if getattr(obj, f) is not None}


def created(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """`snapshot` of a record given as a dict of its values (the bulk writers build no objects): plain values."""
    as_is = _AS_IS
    return {f: [None, v if v.__class__ in as_is else plain(v)] for f in fields if (v := row[f]) is not None}


def canonical(values: Mapping[str, Any], alg: str = SHA256) -> bytes:
    """Encode an event's content canonically: sorted keys at every depth, no spaces, UTF-8.

    An event hashed with anything but SHA-256 also encodes its `hash_alg` (SHA-256 events keep the
    encoding they had before the algorithm became a setting, so existing chains still verify).
    """
    content = {k: plain(values[k]) for k in HASHED_FIELDS}
    if alg != SHA256:
        content["hash_alg"] = alg
    return _CANONICAL.encode(content).encode()


def event_hash(values: Mapping[str, Any], alg: str = SHA256) -> str:
    """Return the hash (`alg`: sha256 or sm3) of an event's canonical encoding."""
    return HEX_DIGESTS[alg](canonical(values, alg))


CHAIN_KEY = "registry.audit.trail.chain"  #: session.info key of the ChainConfig


@dataclass(frozen=True)
class ChainConfig:
    """How this deployment chains: the hash function of new events and the anchor's HMAC-SM3 key."""

    algorithm: str = SHA256
    anchor_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown audit hash algorithm {self.algorithm!r}")

    @classmethod
    def of(cls, settings: Any) -> ChainConfig:
        """Read REGISTRY_AUDIT_HASH and REGISTRY_AUDIT_ANCHOR_KEY from the app settings."""
        key = getattr(settings, "audit_anchor_key", "")
        return cls(getattr(settings, "audit_hash", SHA256), key.encode() if key else None)


DEFAULT_CHAIN = ChainConfig()


def chain_config(session: Session) -> ChainConfig:
    """Return the chain settings the session was made with (SHA-256, no anchor key by default)."""
    return session.info.get(CHAIN_KEY, DEFAULT_CHAIN)


def anchor_of(key: bytes, base_id: int | None, base_hash: str, last_id: int | None, last_hash: str) -> str:
    """Return the HMAC-SM3 anchor of a chain from its base (the last archived event) to its head."""
    message = f"registry-audit-anchor/1|{base_id or 0}|{base_hash}|{last_id or 0}|{last_hash}"
    return hmac_sm3_hex(key, message.encode())


def _anchor_head(head: AuditChainHead, config: ChainConfig) -> None:
    """Renew the head's anchor (left as it is when no key is configured: verify with the key then fails)."""
    if config.anchor_key is not None:
        head.anchor = anchor_of(config.anchor_key, head.base_event_id, head.base_hash or GENESIS,
                                head.last_event_id, head.last_hash)


@dataclass(frozen=True)
class Why:
    """Why a change was made: a reason code, the basis document (文号) and a note."""

    reason_code: str | None = None
    document_no: str | None = None
    note: str | None = None


NO_WHY = Why()  #: no reason, document or note given


def _lock_head(session: Session) -> AuditChainHead:
    # populate_existing: a head object left in the identity map by an earlier transaction
    # (expire_on_commit=False) must not hide the row another writer committed meanwhile.
    return session.execute(_LOCK_HEAD, execution_options={"populate_existing": True}).scalar_one()


@dataclass(frozen=True)
class Entry:
    """One event for `record_many`: what `record` takes, less the session, actor and clock."""

    action: str
    entity_type: str
    entity_id: int | None
    changes: Mapping[str, Any]
    enterprise_id: int | None = None
    region_code: str | None = None
    why: Why = Why()
    #: the changes are already {field: [before, after]} of `plain` values (as bulk writers build them)
    plain: bool = False


def _chained(actor: Actor, at: datetime, event_id: int, prev_hash: str, entry: Entry,
             alg: str = SHA256) -> dict[str, Any]:
    """Return an event's row, hash included, linked to the event before it."""
    values: dict[str, Any] = dict(
        id=event_id, occurred_at=at.astimezone(UTC), actor_kind=actor.kind, actor_name=actor.name,
        actor_user_id=actor.user_id, action=entry.action, entity_type=entry.entity_type,
        entity_id=entry.entity_id, enterprise_id=entry.enterprise_id, region_code=entry.region_code,
        changes=redacted(entry.entity_type, plain(dict(entry.changes))), reason_code=entry.why.reason_code,
        document_no=entry.why.document_no, note=entry.why.note,
        request_id=actor.request_id, ip=actor.ip, prev_hash=prev_hash, hash_alg=alg,
    )
    values["hash"] = event_hash(values, alg)
    return values


def record(session: Session, *, actor: Actor, action: str, entity_type: str,
           entity_id: int | None, changes: Mapping[str, Any], at: datetime,
           enterprise_id: int | None = None, region_code: str | None = None,
           why: Why = Why()) -> int:
    """Append one event to the chain in the caller's transaction and return its id."""
    if at.tzinfo is None:
        raise ValueError("audit.record needs an aware datetime (UTC)")
    session.flush()
    config = chain_config(session)
    head = _lock_head(session)
    next_id = (head.last_event_id or 0) + 1
    values = _chained(actor, at, next_id, head.last_hash,
                      Entry(action, entity_type, entity_id, changes, enterprise_id, region_code, why),
                      config.algorithm)
    session.execute(_INSERT, [values])  # one cached statement, values bound as parameters
    head.last_event_id, head.last_hash = next_id, values["hash"]
    _anchor_head(head, config)
    session.flush()
    return next_id


def _plain_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """plain(dict(changes)), quicker for what bulk writers pass: {field: [before, after]} of plain scalars."""
    out: dict[str, Any] = {}
    for key, pair in changes.items():
        if (key.__class__ is str and pair.__class__ is list and len(pair) == 2
                and (pair[0] is None or pair[0].__class__ in _AS_IS)
                and (pair[1] is None or pair[1].__class__ in _AS_IS)):
            out[key] = [pair[0], pair[1]]
        else:
            out[str(key)] = plain(pair)
    return out


#: the hashed fields whose keys sort before "changes" (the canonical encoding sorts keys): an event's
#: encoding is these, then "changes", then the rest — see record_many
_BEFORE_CHANGES = tuple(k for k in sorted(HASHED_FIELDS) if k < "changes")


def record_many(session: Session, *, actor: Actor, entries: Iterable[Entry], at: datetime,
                chunk: int = 1000) -> int:
    """Append many events by one actor at one instant (bulk imports): one head lock, chunked inserts.

    The events are chained exactly as `record` chains them one by one (the same content and hashes),
    but what they share — the actor and the instant — is made plain and encoded once, each event's
    changes go through `plain` at most once (not at all when the entry says they are plain already)
    and are JSON-encoded once: the canonical encoding hashed is spliced from the shared head, the
    changes' text and the event's own fields (the same bytes as `canonical` of the whole event,
    sorted keys and all), and that same text of the changes is what is stored. A 100,000-row import
    appends 300,000 events. Returns how many were added.
    """
    if at.tzinfo is None:
        raise ValueError("audit.record_many needs an aware datetime (UTC)")
    session.flush()
    config = chain_config(session)
    alg, digest = config.algorithm, HEX_DIGESTS[config.algorithm]
    head = _lock_head(session)
    shared = dict(occurred_at=at.astimezone(UTC), actor_kind=actor.kind, actor_name=actor.name,
                  actor_user_id=actor.user_id, request_id=actor.request_id, ip=actor.ip, hash_alg=alg)
    shared_plain = {k: plain(v) for k, v in shared.items()}
    if alg == SHA256:  # = canonical(values, alg): only other functions' events encode their name
        del shared_plain["hash_alg"]
    first = {k: shared_plain.pop(k) for k in _BEFORE_CHANGES if k in shared_plain}  # the actor's fields
    encode, sha256, as_is = _CANONICAL.encode, hashlib.sha256, _AS_IS
    openings: dict[str, str] = {}  #: action → the encoding's opening, up to "changes"
    last_id, last_hash, batch, added = head.last_event_id or 0, head.last_hash, [], 0
    for entry in entries:
        last_id += 1
        why = entry.why
        own = dict(id=last_id, entity_type=entry.entity_type, entity_id=entry.entity_id,
                   enterprise_id=entry.enterprise_id, region_code=entry.region_code,
                   reason_code=why.reason_code, document_no=why.document_no, note=why.note, prev_hash=last_hash)
        changes = redacted(entry.entity_type, entry.changes if entry.plain else _plain_changes(entry.changes))
        text = encode(changes)
        opening = openings.get(entry.action)
        if opening is None:
            opening = openings[entry.action] = encode({"action": plain(entry.action), **first})[:-1]
        rest = {k: v if v is None or v.__class__ in as_is else plain(v) for k, v in own.items()}
        rest.update(shared_plain)
        encoded = f'{opening},"changes":{text},{encode(rest)[1:]}'.encode()
        last_hash = sha256(encoded).hexdigest() if alg == SHA256 else digest(encoded)
        batch.append({**own, "action": entry.action, **shared, "changes": text, "hash": last_hash})
        if len(batch) >= chunk:
            insert_rows(session, _EVENTS, batch, as_is=("changes",))
            added, batch = added + len(batch), []
    if batch:
        insert_rows(session, _EVENTS, batch, as_is=("changes",))
        added += len(batch)
    head.last_event_id, head.last_hash = last_id, last_hash
    _anchor_head(head, config)
    session.flush()
    return added


@dataclass(frozen=True)
class BulkPermit:
    """Leave to run bulk UPDATE/DELETE on audited tables; each statement is recorded as `action`."""

    actor: Actor
    action: str
    at: datetime
    why: Why = Why()
    region_code: str | None = None
    enterprise_id: int | None = None


@contextmanager
def bulk_allowed(session: Session, *, actor: Actor, action: str, at: datetime, why: Why = Why(),
                 region_code: str | None = None, enterprise_id: int | None = None) -> Iterator[BulkPermit]:
    """Allow bulk ORM UPDATE/DELETE on audited tables inside the block, recording each statement."""
    permit = BulkPermit(actor, action, at, why, region_code, enterprise_id)
    stack = session.info.setdefault(BULK_KEY, [])
    stack.append(permit)
    try:
        yield permit
    finally:
        stack.pop()


def current_permit(session: Session) -> BulkPermit | None:
    """Return the innermost bulk permit active on `session`, if any."""
    stack = session.info.get(BULK_KEY)
    return stack[-1] if stack else None


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain."""

    ok: bool
    checked: int
    first_bad_id: int | None
    problem: str | None = None
    head_id: int | None = None
    head_hash: str | None = None
    anchored: bool = False  #: the head's HMAC-SM3 anchor was checked with the key and fits
    base_id: int | None = None  #: the last archived event the walk started from (None: the genesis)


_PAGE_SIZE = 10_000
_OCCURRED_AT, _CHANGES, _PREV_HASH, _HASH = (HASHED_FIELDS.index("occurred_at"), HASHED_FIELDS.index("changes"),
                                            HASHED_FIELDS.index("prev_hash"), len(HASHED_FIELDS))
_ALG = _HASH + 1  #: a page row: the hashed fields, the hash, its algorithm


def _stored(name: str) -> sa.ColumnElement[Any]:
    """A column as the driver returns it: the timestamp unconverted, the JSON as its text.

    The ORM's per-row conversions (UTCDateTime, psycopg's JSON loader) cost more than hashing;
    `stored_canonical` applies the same conversions itself, in C where it can.
    """
    column = AuditEvent.__table__.c[name]
    if name == "occurred_at":
        return sa.type_coerce(column, sa.types.NullType()).label(name)
    if name == "changes":
        return sa.cast(column, sa.Text).label(name)
    return column


_PAGE = (sa.select(*[_stored(f) for f in (*HASHED_FIELDS, "hash", "hash_alg")])
         .where(AuditEvent.__table__.c.id > sa.bindparam("after")).order_by(AuditEvent.__table__.c.id)
         .limit(sa.bindparam("size")))


def _execute(cursor: Any, compiled: Any, values: Mapping[str, Any]) -> None:
    """Run a compiled statement on a driver cursor with these bound values."""
    params = compiled.construct_params(values)
    cursor.execute(compiled.string, [params[k] for k in compiled.positiontup or ()]
                   if compiled.positional else params)


def _fetch(cursor: Any, compiled: Any, after: int, size: int) -> list[tuple[Any, ...]]:
    """One keyset page of a compiled page query: the rows after id `after`, `size` at most.

    SQLite: a text that is no UTF-8 (only a tampered row holds one; the driver refuses to decode it and the
    walk stopped with its error) is read again as its bytes, which never re-encode to a stored hash: named."""
    _execute(cursor, compiled, {"after": after, "size": size})
    try:
        return cursor.fetchall()
    except Exception as exc:
        connection = getattr(cursor, "connection", None)
        if "decode" not in str(exc) or not hasattr(connection, "text_factory"):
            raise
    usual = connection.text_factory
    connection.text_factory = _text_or_bytes
    try:
        _execute(cursor, compiled, {"after": after, "size": size})
        return cursor.fetchall()
    finally:
        connection.text_factory = usual


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def pages(session: Session, after: int = 0) -> Iterator[list[tuple[Any, ...]]]:
    """The events after `after` as the driver's tuples, in id order, a page at a time.

    On the session's connection and transaction, but below SQLAlchemy's result rows (building a
    Row per event cost a fifth of the walk); keyset pages, so no cursor stays open between them.
    """
    conn = session.connection()
    compiled = _PAGE.compile(dialect=conn.dialect)
    cursor, last = conn.connection.dbapi_connection.cursor(), after  # type: ignore[union-attr]
    try:
        while rows := _fetch(cursor, compiled, last, _PAGE_SIZE):
            yield rows
            last = rows[-1][0]
    finally:
        cursor.close()


# The hashed bytes built by the database (verify's quick path) -----------------------------------
#
# canonical() of an event is a JSON object with the hashed fields in sorted order. The database
# writes the same bytes from the stored columns (`_sqlite_text`: json_object, which escapes as
# Python's encoder does with ensure_ascii=False — \" \\ \b \f \n \r \t, other controls \u00xx;
# `_postgresql_text`: one format() call, see there): integers as digits, NULL as null, the
# timestamp as isoformat() of the UTC instant, and the `changes` text as it is stored
# (CanonicalJSON writes it canonically). No two different stored values give the same piece (a
# real never gives the digits of an integer; a blob or a timestamp in another form gives NULL:
# re-encode), and the pieces around the `changes` text are found in the bytes whatever that text
# holds (`_sqlite_text`; PostgreSQL's json type holds JSON only), so the whole is parsed one way
# only: bytes that hash to the stored hash come from the very column values that were hashed.
# When they do not hash to it — an event written before `changes` was stored canonically, or by
# another path, or a tampered one — verify re-encodes that event from its columns in Python
# (`stored_canonical`), exactly as before, and reports what that finds: the quick path can only
# accept an event the Python path accepts too.
#
# On PostgreSQL the check runs as one statement a span of ids (`_sparse_sql`): the database hashes
# each event's text (sha256()), checks its link to the event numbered one before it, and returns
# only the events that do not fit — plus the last one, and any anchored — each with the id and
# hash of the event before it, so Python touches no event that verifies. SQLite sends
# the texts in keyset pages and Python hashes them (a window over the whole table, or hashlib
# called from SQL, cost SQLite more than that).

_KEYS = sorted((*HASHED_FIELDS, "hash_alg"))  #: the canonical order (hash_alg only for non-SHA-256 events)
_SQLITE_ISO = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"


def _sqlite_text() -> str:
    """An event's canonical text on SQLite (NULL: re-encode in Python).

    Two json_object() calls, for the keys before `changes` and those after it, with the stored
    `changes` text spliced between them (json_object writes each value as json_quote does). NULL
    unless `changes` is text and the timestamp has the form SQLAlchemy stores
    ('YYYY-MM-DD HH:MM:SS.ffffff', UTC): isoformat() of it is the same digits with a T, the
    fraction dropped when it is zero, and +00:00.

    `changes` need not be JSON (json_valid cost as much as hashing): a spliced text cannot
    realign the rest. Inside a json_object() or canonical() string a double quote is always
    escaped, so the bytes `,"` occur in the part before `changes` and in the part after it only
    where a key begins. The text before is therefore the bytes up to the first `,"changes":`,
    and the text after is the suffix that starts with `,"document_no":` (the first key after
    `changes`; of two such suffixes of the same bytes, the longer would hold `,"document_no":`
    a second time, at a key): equal bytes give equal parts before and after, hence an equal
    `changes` text between them, whatever it holds. (Tests: `test_quick_verify.py`.) What it does
    not do is name an event whose `changes` was rewritten *and* its hash recomputed to fit: its
    text hashes, so the break shows at the next event's link (or, for a rewritten tail and head,
    at the anchor), where the Python path names the event itself; so it was for a `changes` that is
    JSON but not canonical before json_valid was dropped.
    """
    def pairs(keys: Iterable[str]) -> str:
        return ", ".join(f"'{key}', " + ("replace(replace(occurred_at, ' ', 'T'), '.000000', '') || '+00:00'"
                                         if key == "occurred_at" else key) for key in keys)
    guard = f"typeof(changes) = 'text' AND occurred_at GLOB '{_SQLITE_ISO}'"
    after = [key for key in _KEYS if key > "changes"]
    # (the last value before "changes" is actor_user_id's: a number or null, never ending in "}")
    return (f"CASE WHEN {guard} THEN rtrim(json_object({pairs(k for k in _KEYS if k < 'changes')}), '}}') || "
            f"',\"changes\":' || changes || ',' || substr(CASE WHEN hash_alg = '{SHA256}' "
            f"THEN json_object({pairs(k for k in after if k != 'hash_alg')}) ELSE json_object({pairs(after)}) END, 2) END")


_FREE_TEXT = frozenset({"note", "document_no"})  #: typed by people: line breaks expected, escaped by to_json


def _postgresql_text() -> tuple[str, str]:
    """An event's canonical text on PostgreSQL (NULL: re-encode in Python), and the FROM it needs.

    One format() call writes the object (its arguments all text, so it looks up one output
    function): integers as digits, the json `changes` as it is stored, the timestamp as
    isoformat() of its UTC instant, strings quoted with their backslashes and double quotes
    escaped. That is JSON's escaping for every string without control characters (a third
    cheaper than to_json); a string with one keeps it raw, so the text is no JSON at all and
    cannot hash to any event's hash: Python re-encodes that event. The free text (a note, a
    document number), where a line break is to be expected, goes through to_json. NULL for a
    time Python's datetime cannot hold (BC, infinity).
    """
    def piece(key: str) -> str:
        if key in _FREE_TEXT:
            return f"COALESCE(to_json(e.{key})::text, 'null')"
        if key == "occurred_at":
            return "COALESCE('\"' || t.iso || '\"', 'null')"
        if key == "changes" or isinstance(AuditEvent.__table__.c[key].type, sa.Integer):
            return f"COALESCE(e.{key}::text, 'null')"
        return f"COALESCE('\"' || replace(replace(e.{key}, '\\', '\\\\'), '\"', '\\\"') || '\"', 'null')"

    def object_sql(keys: list[str]) -> str:
        template = ",".join(f'"{key}":%s' for key in keys)  # (no key holds a % sign)
        return f"format('{{{template}}}', {', '.join(piece(key) for key in keys)})"
    iso = ("CASE WHEN isfinite(e.occurred_at) AND e.occurred_at AT TIME ZONE 'UTC' >= '0001-01-01' THEN "
           "replace(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') "
           "|| '+00:00' END")
    text = (f"CASE WHEN e.occurred_at IS NOT NULL AND t.iso IS NULL THEN NULL WHEN e.hash_alg = '{SHA256}' "
            f"THEN {object_sql([k for k in _KEYS if k != 'hash_alg'])} ELSE {object_sql(_KEYS)} END")
    return text, f"audit_events AS e, LATERAL (SELECT {iso} AS iso) AS t"


def _text_sql(dialect: sa.Dialect) -> tuple[str, str] | None:
    """(an event's canonical text, the FROM it needs, audit_events as e) on this backend; None: none."""
    if dialect.name == "sqlite":
        return _sqlite_text(), "audit_events AS e"
    if dialect.name == "postgresql":
        return _postgresql_text()
    return None


def _hashed_sql(dialect: sa.Dialect) -> tuple[str, str, str] | None:
    """(the text sent to Python, whether the database found the text's SHA-256 equal to the hash, FROM).

    PostgreSQL hashes SHA-256 events itself (no text crosses the wire) and sends the text of the
    others (SM3, or an unknown function) for Python to hash. SQLite sends every text as its UTF-8
    bytes (no decoding into str to encode again): Python hashes them quicker than a SQL function
    calling hashlib would.
    """
    if (text_sql := _text_sql(dialect)) is None:
        return None
    text, source = text_sql
    if dialect.name == "sqlite":
        return f"CAST({text} AS BLOB)", "0", source
    return (f"CASE WHEN e.hash_alg = '{SHA256}' THEN NULL ELSE {text} END",
            f"e.hash_alg = '{SHA256}' AND encode(sha256(convert_to({text}, 'UTF8')), 'hex') = e.hash", source)


def _quick_sql(dialect: sa.Dialect) -> sa.TextClause | None:
    """The quick path's page query (None: this backend has none).

    Its rows: id, prev_hash, hash, hash_alg, the canonical text when Python must hash it, whether
    the database found the text's SHA-256 equal to the hash, and two NULLs (see `_sparse_sql`).
    """
    if (hashed := _hashed_sql(dialect)) is None:
        return None
    text, fits, source = hashed
    return sa.text(f"SELECT e.id, e.prev_hash, e.hash, e.hash_alg, {text}, {fits}, NULL, NULL FROM {source} "
                   "WHERE e.id > :after ORDER BY e.id LIMIT :size")


def _sparse_sql(dialect: sa.Dialect, anchored: Iterable[int]) -> sa.TextClause | None:
    """The quick check of the events after id :after up to id :upto in one statement: only those that do not fit.

    Rows as the quick page query's, for each event whose text the database did not find hashing
    to its hash, or that does not link to the hash of the event numbered one before it (so also
    the first after a gap) — and for the last event up to :upto and the `anchored` ones — with the id and
    hash of the event before it (NULL for the first after :after). An event it leaves out is one
    `_Walk.quick` would pass over: it fits, and so does its link to the event one before it. No
    row depends on another, so PostgreSQL may share the scan among parallel workers; the
    subqueries run only for the few rows returned, on the primary key.
    """
    if dialect.name != "postgresql" or (hashed := _hashed_sql(dialect)) is None:
        return None  # (SQLite: Python's walk over the pages cost it less than the same in SQL)
    text, fits, source = hashed
    anchors = "".join(f", {int(event_id)}" for event_id in sorted(anchored))
    join = "audit_events AS e LEFT JOIN audit_events AS p ON p.id = e.id - 1 AND p.id >= :after AND p.id < :upto"
    return sa.text(
        f"SELECT e.id, e.prev_hash, e.hash, e.hash_alg, {text}, {fits}, p.id, p.hash "
        f"FROM {source.replace('audit_events AS e', join)} WHERE e.id > :after AND e.id <= :upto "
        f"AND (({fits}) IS NOT TRUE OR p.hash IS DISTINCT FROM e.prev_hash OR e.id IN (:last{anchors})) ORDER BY e.id")


def _utc_iso(value: datetime | str | None) -> str | None:
    """What `plain` makes of the stored timestamp once UTCDateTime has read it (SQLite stores text)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


_SCAN_JSON = json.scanner.make_scanner(json.JSONDecoder())  #: json.loads without its wrapper's regexes


def _loads(text: str) -> Any:
    """json.loads(text), a little faster (text as SQLAlchemy stores it: no surrounding whitespace)."""
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:  # not JSON at all: json.loads says so properly (ValueError)
        end = -1
    return value if end == len(text) else json.loads(text)  # json.loads decides about anything else


def stored_canonical(row: Sequence[Any], _loads: Any = _loads, _encode: Any = _CANONICAL.encode,
                     alg: str = SHA256) -> bytes | None:
    """The canonical encoding of a row as `pages` reads it (None: it cannot be read back at all).

    The same bytes as `canonical` of the ORM's values: decoded JSON is already plain (only a
    non-finite number is not, and the encoder refuses it: then `plain` does the work).
    """
    values = list(row[:_HASH])
    try:
        values[_OCCURRED_AT] = _utc_iso(values[_OCCURRED_AT])
        if values[_CHANGES] is not None:
            values[_CHANGES] = _loads(values[_CHANGES])
        content = dict(zip(HASHED_FIELDS, values, strict=False))
        if alg != SHA256:
            content["hash_alg"] = alg
        return _encode(content).encode()
    except (AttributeError, TypeError, ValueError):  # a NaN in the JSON, or a value tampered into another type
        try:
            return canonical(dict(zip(HASHED_FIELDS, values, strict=False)), alg)
        except (TypeError, ValueError):
            return None


def _hash_of(row: Sequence[Any], _sha256: Any = hashlib.sha256) -> str | None:
    """The hash of a stored row's canonical encoding, by the function the row names (None: unknown one)."""
    alg = row[_ALG] if len(row) > _ALG else SHA256
    if alg == SHA256:  # the common case, kept as quick as it was
        encoded = stored_canonical(row)
        return None if encoded is None else _sha256(encoded).hexdigest()
    if alg not in HEX_DIGESTS:
        return None
    encoded = stored_canonical(row, alg=alg)
    return None if encoded is None else HEX_DIGESTS[alg](encoded)


def _utf8(text: bytes | str) -> bytes:
    return text if text.__class__ is bytes else text.encode()  # type: ignore[union-attr]


_MISSING = "事件 #{0} 缺失 / event {0} is missing"
_UNLINKED = "与前一事件的哈希链接断开 / previous-hash link broken"
_ALTERED = "内容与其哈希不符（记录被改动） / content does not match its hash"
_UNANCHORED = "哈希与外部留存的锚点不符（链尾被重算） / hash differs from the anchored value"


class _Walk:
    """The expected next link while walking the chain from the genesis."""

    def __init__(self, anchors: Mapping[int, str], base_id: int = 0, base_hash: str = GENESIS) -> None:
        self.anchors, self.last_id, self.last_hash = dict(anchors), base_id, base_hash
        self.base_id = base_id

    def bad(self, event_id: int | None, problem: str) -> Verification:
        return Verification(False, self.last_id - self.base_id, event_id, problem)

    def steps(self, rows: Iterable[Sequence[Any]]) -> Verification | None:
        """Walk on through `rows` (as `pages` gives them); the first that does not fit ends the walk."""
        anchors, hash_of = self.anchors, _hash_of
        for row in rows:
            event_id, stored, expected = row[0], row[_HASH], self.last_id + 1
            problem = None
            if event_id != expected:
                event_id, problem = expected, _MISSING.format(expected)
            elif row[_PREV_HASH] != self.last_hash:
                problem = _UNLINKED
            elif hash_of(row) != stored:
                problem = _ALTERED
            elif anchors and anchors.pop(event_id, stored) != stored:
                problem = _UNANCHORED
            if problem is not None:
                return self.bad(event_id, problem)
            self.last_id, self.last_hash = event_id, stored
        return None

    def quick(self, rows: Iterable[tuple[Any, ...]]) -> Verification | int | None:
        """Walk on through rows of the quick queries (id, prev_hash, hash, hash_alg, canonical text, hashed,
        and the id and hash of the event before it when the rows between were left out as fitting).

        Returns the Verification of the first row that is missing, unlinked or off its anchor as
        `steps` would; the id of the first whose text does not hash to its hash (its columns are
        then re-encoded in Python by `steps`, which decides); None when every row fits.
        """
        anchors, sha256, digests = self.anchors, hashlib.sha256, HEX_DIGESTS
        last_id, last_hash, outcome = self.last_id, self.last_hash, None
        for event_id, prev_hash, stored, alg, text, hashed, before_id, before_hash in rows:
            if before_id is not None:  # (`_sparse_sql`: every event up to that one fits)
                last_id, last_hash = before_id, before_hash
            if event_id != last_id + 1:
                outcome = (last_id + 1, _MISSING.format(last_id + 1))
            elif prev_hash != last_hash:
                outcome = (event_id, _UNLINKED)
            elif not hashed and (text is None or (sha256(_utf8(text)).hexdigest() != stored if alg == SHA256 else
                                                  alg not in digests or digests[alg](_utf8(text)) != stored)):
                outcome = event_id  # (hashed: the database found the text's SHA-256 equal to the hash)
            elif anchors and anchors.pop(event_id, stored) != stored:
                outcome = (event_id, _UNANCHORED)
            if outcome is not None:
                break
            last_id, last_hash = event_id, stored
        self.last_id, self.last_hash = last_id, last_hash
        return self.bad(*outcome) if isinstance(outcome, tuple) else outcome

    def finish(self, head_id: int, head_hash: str) -> Verification:
        if head_id > self.last_id:
            return self.bad(self.last_id + 1, f"事件 #{self.last_id + 1} 至 #{head_id} 缺失"
                                              f" / events after {self.last_id} are missing")
        if head_id < self.last_id:
            return self.bad(head_id + 1, f"链头停在 #{head_id}，其后的事件不属于本链"
                                         f" / events after the chain head {head_id}")
        if head_hash != self.last_hash:
            return self.bad(self.last_id or None, "链头哈希与最后一条事件不符（链尾被重算）"
                                                  " / chain head hash does not match the last event")
        if self.anchors:
            first = min(self.anchors)
            return self.bad(first, f"锚定的事件 #{first} 不存在 / anchored event {first} is missing")
        return Verification(True, self.last_id - self.base_id, None, head_id=head_id, head_hash=head_hash,
                            base_id=self.base_id or None)


_SPARSE_SPAN = 100_000  #: ids the sparse statement covers at a time
_PROBE_SIZE = 100  #: a quick page after one the Python path had to finish: events written before come in runs


def _walk_on(session: Session, walk: _Walk) -> Verification | None:
    """Walk on from `walk.last_id` through the last event (None: every one fits).

    PostgreSQL: the sparse statement (`_sparse_sql`: the database writes and hashes each event's
    canonical text and checks its link; only what does not fit reaches Python).
    SQLite: quick pages (the database writes each event's canonical text, Python hashes it). From
    an event whose text does not hash to its hash, the events are re-encoded from their columns in
    Python (`pages`' rows, `_Walk.steps`), which accepts or names each exactly as verify always
    has — one event at first, a page of them when they come in a run — then the quick way on.
    """
    conn = session.connection()
    dialect = conn.dialect
    full, quick = _PAGE.compile(dialect=dialect), _quick_sql(dialect)
    sparse = None if quick is None else _sparse_sql(dialect, ())
    dbapi = conn.connection.dbapi_connection  # type: ignore[union-attr]
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        if quick is None:
            while rows := _fetch(cursor, full, walk.last_id, _PAGE_SIZE):
                if (bad := walk.steps(rows)) is not None:
                    return bad
            return None
        quick_page, size, python_size = quick.compile(dialect=dialect), _PAGE_SIZE, 1
        # SQLite's json_object refuses a blob (only a tampered row holds one): re-encode in Python
        refused = dialect.loaded_dbapi.OperationalError if dialect.name == "sqlite" else ()
        while True:
            start = walk.last_id
            try:
                if sparse is not None:
                    outcome = _sparse(conn, cursor, _sparse_sql(dialect, walk.anchors).compile(dialect=dialect), walk)
                elif rows := _fetch(cursor, quick_page, walk.last_id, size):
                    outcome = walk.quick(rows)
                else:
                    return None
            except refused:
                outcome = walk.last_id + 1
            if isinstance(outcome, Verification):
                return outcome
            if outcome is None:
                if sparse is not None:
                    return None
                size = _PAGE_SIZE
                continue
            # one event (a page when the last re-encoding was followed at once by another) in Python
            python_size = min(python_size * 2, _PAGE_SIZE) if walk.last_id == start else 1
            if (bad := walk.steps(_fetch(cursor, full, walk.last_id, python_size))) is not None:
                return bad
            size = _PROBE_SIZE
    finally:
        cursor.close()


_ID = AuditEvent.__table__.c.id
_LAST = sa.select(sa.func.max(_ID)).where(_ID > sa.bindparam("after"))
_SPAN_LAST = _LAST.where(_ID <= sa.bindparam("upto"))
_BEFORE = (sa.select(_ID, AuditEvent.__table__.c.hash).where(_ID < sa.bindparam("id"), _ID > sa.bindparam("after"))
           .order_by(_ID.desc()).limit(1))


def _sparse(conn: sa.Connection, cursor: Any, compiled: Any, walk: _Walk) -> Verification | int | None:
    """Run the sparse statement after `walk.last_id`, `_SPARSE_SPAN` ids at a time, and walk its rows
    (what `_Walk.quick` returns). Each span is read whole (PostgreSQL runs no parallel workers for
    a server-side cursor), so the span bounds what the client holds when every event is handed
    over (SM3 texts). An event after a gap gets the event before it here (the statement joins
    only the event numbered one before). (On the connection: no region scoping of the session applies.)
    """
    last = conn.execute(_LAST, {"after": walk.last_id}).scalar()  # (events appended later: verify walks on)
    upto = walk.last_id
    while last is not None and upto < last:
        after, upto = walk.last_id, min(last, upto + _SPARSE_SPAN)  # (a span ends at its last event: none rescanned)
        if (span_last := conn.execute(_SPAN_LAST, {"after": after, "upto": upto}).scalar()) is None:
            continue
        _execute(cursor, compiled, {"after": after, "upto": upto, "last": span_last})
        rows = cursor.fetchall()
        for n, row in enumerate(rows):
            if row[6] is None and row[0] - 1 > after:
                rows[n] = (*row[:6], *(conn.execute(_BEFORE, {"id": row[0], "after": after}).one_or_none()
                                       or (None, None)))
        if (outcome := walk.quick(rows)) is not None:
            return outcome
    return None


_UNSET: Any = object()
_HEAD = sa.select(AuditChainHead.last_event_id, AuditChainHead.last_hash, AuditChainHead.base_event_id,
                  AuditChainHead.base_hash, AuditChainHead.anchor).where(AuditChainHead.id == 1)


def verify(session: Session, anchors: Mapping[int, str] | None = None, *,
           anchor_key: bytes | None = _UNSET) -> Verification:
    """Recompute the chain from its base (the genesis, or the last archived event); name the first
    event that does not fit; then check the head's HMAC-SM3 anchor.

    `anchors` ({event id: hash}, kept outside the database) catch a tail rewritten together with
    the chain head; so does the anchor key (by default the session's, REGISTRY_AUDIT_ANCHOR_KEY):
    with a key, a head whose anchor is missing or does not fit fails. Without one the anchor is not
    checked (`anchored` stays False). The events are read below the ORM, so a region-scoped session
    sees them all too. Events committed while the walk runs are walked too, so concurrent writers
    cause no alarm.
    """
    key = chain_config(session).anchor_key if anchor_key is _UNSET else anchor_key
    walk, seen_head = None, -1
    while True:
        # The head first, then the events: the head moves in the same commit as its events, so every
        # event up to the head read here is visible to the event query that follows it.
        head = session.execute(_HEAD).one_or_none()
        if head is None:
            return _Walk({}).bad(None, "链头记录缺失 / the chain head row is missing")
        if walk is None:
            walk = _Walk(anchors or {}, head.base_event_id or 0, head.base_hash or GENESIS)
        head_id = head.last_event_id or 0
        if (bad := _walk_on(session, walk)) is not None:
            return bad
        if walk.last_id > head_id != seen_head:
            seen_head = head_id
            continue  # appended while we walked: read the newer head and walk on (a head that
            # stays behind the events on a second look is reported by finish)
        result = walk.finish(head_id, head.last_hash)
        if not result.ok or key is None or (head.anchor is None and head_id == 0):
            return result  # (an empty chain has nothing to anchor yet)
        if head.anchor is None:
            return walk.bad(head_id or None, "链头没有 HMAC-SM3 锚点（配置密钥后须先运行 flask audit anchor）"
                                             " / the chain head is not anchored")
        expected = anchor_of(key, head.base_event_id, head.base_hash or GENESIS, head.last_event_id, head.last_hash)
        if not same(head.anchor, expected):
            return walk.bad(head_id or None, "链头的 HMAC-SM3 锚点不符（锚点密钥不对，或链头被改写）"
                                             " / the chain head's anchor does not match")
        return replace(result, anchored=True)


class RetentionError(ValueError):
    """A removal of audit events that the retention setting forbids."""


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Return the instant before which events may be archived: `retention_days` (≥ 180) before `now`.

    The trail is append-only; the one command that removes events, `flask audit archive`
    (registry/audit/archive.py), takes its cutoff from here — with the REGISTRY_AUDIT_RETENTION_DAYS
    setting — and verifies the chain and its anchor first.
    :raises RetentionError: a period under 180 days (等保 level 3) or a naive instant.
    """
    if retention_days < MIN_RETENTION_DAYS:
        raise RetentionError(f"审计日志保存期限不得少于 {MIN_RETENTION_DAYS} 天（设定为 {retention_days} 天）")
    if now.tzinfo is None:
        raise RetentionError("retention_cutoff needs an aware datetime (UTC)")
    return (now - timedelta(days=retention_days)).astimezone(UTC)
