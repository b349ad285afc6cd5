"""Personal-information primitives (PIPL): encryption, blind index and masking.

Phone and licence numbers are stored AES-256-GCM encrypted (``cryptography``) for the few roles
that may reveal them, plus an HMAC-SHA256 blind index so matching and look-ups never decrypt.
Keys are derived from ``OMNIHCP_PI_KEY`` (or SECRET_KEY) with HKDF, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE_BYTES = 12


@cache
def _key(purpose: bytes) -> bytes:
    master = (settings.OMNIHCP_PI_KEY or settings.SECRET_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"omnihcp-pi", info=purpose).derive(
        master
    )


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(b"encrypt")).encrypt(nonce, plaintext.encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(_key(b"encrypt")).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()


def blind_index(value: str) -> str:
    """Keyed hash of a normalised value: equal inputs give equal hashes, nothing reverses it."""
    if not value:
        return ""
    return hmac.new(_key(b"blind-index"), value.encode(), hashlib.sha256).hexdigest()[:40]


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_email(email: str) -> str:
    """zhang.wei@hospital.cn → zh***@hospital.cn"""
    local, at, domain = email.partition("@")
    if not at:
        return "*" * len(email)
    return f"{local[:2]}***@{domain}"


def mask_licence(licence: str) -> str:
    if len(licence) <= 4:
        return "*" * len(licence)
    return f"{licence[:2]}{'*' * (len(licence) - 6)}{licence[-4:]}"
