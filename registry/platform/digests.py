"""Hash functions the trail and its anchor use: SHA-256 and SM3 (GB/T 32905-2016), HMAC-SM3.

SM3 comes from pyca/cryptography (`hashes.SM3`, OpenSSL's implementation; cryptography is pinned
in requirements.txt). `sm3_available()` says whether the installed OpenSSL offers it; a build
without it fails loudly at the first use rather than hashing with something else.
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

SHA256 = "sha256"
SM3 = "sm3"
ALGORITHMS = (SHA256, SM3)  #: the values of REGISTRY_AUDIT_HASH and of audit_events.hash_alg


def sm3_hex(data: bytes) -> str:
    """Return the SM3 digest of `data` as 64 hex digits."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 digest of `data` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


HEX_DIGESTS: dict[str, Callable[[bytes], str]] = {SHA256: sha256_hex, SM3: sm3_hex}


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    """Return HMAC-SM3 (GB/T 15852.2 construction over SM3) of `data` under `key`, 64 hex digits."""
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def same(a: str | None, b: str | None) -> bool:
    """Compare two hex digests in constant time (None equals nothing)."""
    return a is not None and b is not None and std_hmac.compare_digest(a, b)


def sm3_available() -> bool:
    """True when the installed cryptography/OpenSSL computes SM3 (the GB/T 32905 test vector)."""
    try:
        return sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    except Exception:  # noqa: BLE001  UnsupportedAlgorithm on a build without SM3
        return False
