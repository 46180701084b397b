"""Personal information encrypted at rest: SM4-GCM with a key id, and an HMAC-SM3 blind index.

Algorithms (GB/T 39786-2021 application-and-data level: 商用密码 for confidentiality):
- **SM4-GCM** (GB/T 32907-2016 block cipher, GCM mode; pyca/cryptography's `algorithms.SM4` with
  `modes.GCM`, OpenSSL underneath): a fresh 96-bit nonce per value, a 128-bit tag. The associated
  data binds the ciphertext to its column and key id ("enterprises.contact_phone|k1"), so a value
  copied into another column, or relabelled with another key id, fails to decrypt.
- **HMAC-SM3** (GB/T 32905-2016) of the normalised value under a separate index key: the blind
  index that finds an enterprise by its exact phone or e-mail without decrypting the table.

Stored form: `sm4gcm:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id names the key
that encrypted the value, so keys rotate: a new REGISTRY_PI_KEY encrypts from then on (every new or
changed value), the old ones stay readable while listed in REGISTRY_PI_KEYS. A command re-encrypting
every row under the current key (so an old key can be retired) is not written yet. The index key is
not rotated with them (a new one would mean recomputing every index).

Keys come from the environment (config/settings.py): REGISTRY_PI_KEY `<id>:<32 hex>`,
REGISTRY_PI_KEYS `<id>:<hex>,…` for old keys, REGISTRY_PI_INDEX_KEY `<64 hex>`. In production
all but the old keys are required (the app refuses to start without them). Elsewhere — tests,
`make run` — a development keyring is generated once per checkout in instance/dev-pi-keys.json.

The model columns use `EncryptedText(column)`: the ORM and Core (selects, the import's bulk
writes) encrypt on the way in and decrypt on the way out, so the rest of the code sees plain text.
A column of this type cannot be compared or sorted in SQL (each value has its own nonce): search
goes through the blind index columns.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from registry.domain.personal import NORMALIZERS

PREFIX = "sm4gcm"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
NONCE_BYTES, TAG_BYTES, KEY_BYTES = 12, 16, 16
ROOT = Path(__file__).resolve().parent.parent.parent
DEV_FILE = ROOT / "instance" / "dev-pi-keys.json"


class PersonalKeyError(ValueError):
    """A personal-information key is missing or malformed, or a value cannot be decrypted."""


@dataclass(frozen=True)
class Keyring:
    """The SM4 keys by id (the current one encrypts; every one decrypts) and the blind-index key."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise PersonalKeyError(f"the current key id {self.current_id!r} has no key")
        for kid, key in self.keys.items():
            if not KEY_ID.match(kid) or len(key) != KEY_BYTES:
                raise PersonalKeyError(f"key {kid!r}: an id of letters/digits/_/- and a 128-bit SM4 key are required")
        if len(self.index_key) < 16:
            raise PersonalKeyError("the blind-index key must be at least 128 bits")

    def encrypt(self, plain: str, column: str) -> str:
        """Encrypt `plain` for `column` under the current key; return the stored text."""
        nonce = os.urandom(NONCE_BYTES)
        enc = Cipher(_sm4(self.keys[self.current_id]), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(_aad(column, self.current_id))
        body = enc.update(plain.encode()) + enc.finalize()
        packed = base64.urlsafe_b64encode(nonce + body + enc.tag).decode().rstrip("=")
        return f"{PREFIX}:{self.current_id}:{packed}"

    def encrypt_bytes(self, plain: bytes, column: str) -> bytes:
        """Encrypt a file's bytes for `column` under the current key: `sm4gcm:<id>:` then nonce, body, tag."""
        nonce = os.urandom(NONCE_BYTES)
        enc = Cipher(_sm4(self.keys[self.current_id]), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(_aad(column, self.current_id))
        body = enc.update(plain) + enc.finalize()
        return f"{PREFIX}:{self.current_id}:".encode() + nonce + body + enc.tag

    def decrypt_bytes(self, stored: bytes, column: str) -> bytes:
        """Decrypt a file stored by `encrypt_bytes`. :raises PersonalKeyError:"""
        head, sep, rest = stored.partition(b":")
        kid, sep2, raw = rest.partition(b":")
        if head != PREFIX.encode() or not sep or not sep2 or len(raw) < NONCE_BYTES + TAG_BYTES:
            raise PersonalKeyError(f"{column}: the stored file is not SM4-GCM ciphertext (migration 0021 not run?)")
        key = self.keys.get(kid.decode(errors="replace"))
        if key is None:
            raise PersonalKeyError(f"{column}: no key with id {kid!r} (add it to REGISTRY_PI_KEYS)")
        nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        dec = Cipher(_sm4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(_aad(column, kid.decode()))
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag:
            raise PersonalKeyError(f"{column}: the stored file does not decrypt (tampered, or another column's)") from None

    def decrypt(self, stored: str, column: str) -> str:
        """Decrypt a stored value of `column` with the key its id names. :raises PersonalKeyError:"""
        prefix, _, rest = stored.partition(":")
        kid, _, packed = rest.partition(":")
        if prefix != PREFIX or not packed:
            raise PersonalKeyError(f"{column}: the stored value is not SM4-GCM ciphertext (migration 0015 not run?)")
        key = self.keys.get(kid)
        if key is None:
            raise PersonalKeyError(f"{column}: no key with id {kid!r} (add it to REGISTRY_PI_KEYS)")
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        dec = Cipher(_sm4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(_aad(column, kid))
        try:
            return (dec.update(body) + dec.finalize()).decode()
        except InvalidTag:
            raise PersonalKeyError(f"{column}: the ciphertext fails its tag (altered, or another column's value)") from None

    def key_id_of(self, stored: str) -> str | None:
        """Return the key id a stored value names (None for anything else)."""
        prefix, _, rest = stored.partition(":")
        return rest.partition(":")[0] if prefix == PREFIX else None

    def blind_index(self, kind: str, value: str | None) -> str | None:
        """HMAC-SM3 of the normalised value (hex), under the index key; None for an empty value."""
        if value is None:
            return None
        normal = NORMALIZERS[kind](value)
        if not normal:
            return None
        mac = hmac.HMAC(self.index_key, hashes.SM3())
        mac.update(f"{kind}\x00{normal}".encode())
        return mac.finalize().hex()


def _aad(column: str, kid: str) -> bytes:
    return f"{column}|{kid}".encode()


@functools.lru_cache(maxsize=64)
def _sm4(key: bytes) -> algorithms.SM4:
    """The SM4 algorithm object of a key, made once: an export decrypts three contacts per row, and
    building it each time was a sixth of a decryption (issue 19)."""
    return algorithms.SM4(key)


def parse_key(text: str, name: str) -> tuple[str, bytes]:
    """Read `<id>:<32 hex>`. :raises PersonalKeyError: naming the variable."""
    kid, sep, hexkey = text.strip().partition(":")
    try:
        key = bytes.fromhex(hexkey)
    except ValueError:
        key = b""
    if not sep or not KEY_ID.match(kid) or len(key) != KEY_BYTES:
        raise PersonalKeyError(f"{name} must be <key id>:<32 hex digits> (an SM4 key of 128 bits), e.g. k1:00ff…")
    return kid, key


def parse_index_key(text: str, name: str = "REGISTRY_PI_INDEX_KEY") -> bytes:
    """Read the blind-index key: 32 to 128 hex digits. :raises PersonalKeyError:"""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if not 16 <= len(key) <= 64:
        raise PersonalKeyError(f"{name} must be 32 to 128 hex digits (an HMAC-SM3 key of 128 to 512 bits)")
    return key


def keyring_from(current: str, old: str = "", index: str = "") -> Keyring:
    """Build a keyring from the three settings' texts. :raises PersonalKeyError: naming the bad one."""
    kid, key = parse_key(current, "REGISTRY_PI_KEY")
    keys = {kid: key}
    for item in filter(None, (part.strip() for part in old.split(","))):
        old_id, old_key = parse_key(item, "REGISTRY_PI_KEYS")
        if old_id in keys and keys[old_id] != old_key:
            raise PersonalKeyError(f"REGISTRY_PI_KEYS: key id {old_id!r} is given twice with different keys")
        keys.setdefault(old_id, old_key)
    if not index:
        raise PersonalKeyError("REGISTRY_PI_INDEX_KEY is required with REGISTRY_PI_KEY")
    return Keyring(kid, keys, parse_index_key(index))


def development_keyring(path: Path = DEV_FILE) -> Keyring:
    """The checkout's development keyring (instance/dev-pi-keys.json), generated on first use.

    Written with O_EXCL, so two processes starting together (the web server and the scheduler,
    a test and the CLI it runs) end up with the same keys. Never used in production.
    """
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        made = {"current": "dev1", "keys": {"dev1": secrets.token_hex(KEY_BYTES)}, "index": secrets.token_hex(32)}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(made, out)
        except FileExistsError:
            pass
    for _ in range(50):  # another process may be between creating and writing the file
        try:
            data = json.loads(path.read_text())
            break
        except (json.JSONDecodeError, OSError):
            time.sleep(0.02)
    else:
        raise PersonalKeyError(f"{path} is not a development keyring; delete it to generate a new one")
    return Keyring(data["current"], {k: bytes.fromhex(v) for k, v in data["keys"].items()},
                   bytes.fromhex(data["index"]))


def keyring_for(*, production: bool, current: str = "", old: str = "", index: str = "") -> Keyring:
    """The keyring the settings name; the development one when none is set outside production.

    :raises PersonalKeyError: in production without REGISTRY_PI_KEY / REGISTRY_PI_INDEX_KEY.
    """
    if current or index:
        return keyring_from(current, old, index)
    if production:
        raise PersonalKeyError("REGISTRY_PI_KEY and REGISTRY_PI_INDEX_KEY are required when REGISTRY_ENV=production")
    return development_keyring()


_installed: list[Keyring] = []


def install(keyring: Keyring) -> None:
    """Make `keyring` the process's (create_app does, from the settings)."""
    _installed[:] = [keyring]


def current() -> Keyring:
    """The process's keyring: the installed one, else the environment's (the CLI, migrations)."""
    if not _installed:
        env = os.environ
        _installed.append(keyring_for(production=env.get("REGISTRY_ENV") == "production",
                                      current=env.get("REGISTRY_PI_KEY", ""), old=env.get("REGISTRY_PI_KEYS", ""),
                                      index=env.get("REGISTRY_PI_INDEX_KEY", "")))
    return _installed[0]


@contextmanager
def using(keyring: Keyring) -> Iterator[Keyring]:
    """Use `keyring` inside the block (tests of rotation), then the one before."""
    before = list(_installed)
    _installed[:] = [keyring]
    try:
        yield keyring
    finally:
        _installed[:] = before


def blind_index(kind: str, value: str | None) -> str | None:
    """The current keyring's blind index of `value` as a `kind` (phone, email)."""
    return current().blind_index(kind, value)


class EncryptedText(sa.types.TypeDecorator):
    """A text column stored as SM4-GCM ciphertext bound to its column name; plain text in Python."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:  # noqa: ANN401, ARG002
        """Encrypt on the way in."""
        return None if value is None else current().encrypt(str(value), self.column)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:  # noqa: ANN401, ARG002
        """Decrypt on the way out."""
        return None if value is None else current().decrypt(value, self.column)


class EncryptedBytes(sa.types.TypeDecorator):
    """A binary column (an uploaded roster file, its error workbook) stored as SM4-GCM ciphertext bound to its
    column name: the files hold contacts' names, phones and e-mails as uploaded (issue 16 §6)."""

    impl = sa.LargeBinary
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> bytes | None:  # noqa: ANN401, ARG002
        """Encrypt on the way in."""
        return None if value is None else current().encrypt_bytes(bytes(value), self.column)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> bytes | None:  # noqa: ANN401, ARG002
        """Decrypt on the way out."""
        return None if value is None else current().decrypt_bytes(bytes(value), self.column)
