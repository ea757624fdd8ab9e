"""Limits on guessing the Meldpunt's password that neither address rotation nor a shared address
defeats.

Per address, every attempt counts (`portal_login_rate` a minute). Per account, failed attempts
from all addresses together count (`portal_login_account_rate` an hour), so rotating addresses
buys no more guesses. A hard per-account limit would let an attacker lock the Meldpunt out, so
a browser that logged in successfully before carries a device cookie (an HMAC keyed with the
password hash: it survives restarts and dies with a password change) and may still try while
the account limit holds; it still counts against its address's limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_DAYS = 365


def _mac(key: str, nonce: str) -> str:
    return hmac.new(
        key.encode("utf-8"), b"device:" + nonce.encode("ascii"), hashlib.sha256
    ).hexdigest()


def new_device_token(key: str) -> str:
    """A cookie value that proves this browser logged in with the password of `key`."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_mac(key, nonce)}"


def known_device(key: str | None, value: str | None) -> bool:
    """Did this browser log in before, under the current password?"""
    if not key or not value or len(value) > 200 or "." not in value:
        return False
    nonce, mac = value.split(".", 1)
    try:
        expected = _mac(key, nonce)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace"))
