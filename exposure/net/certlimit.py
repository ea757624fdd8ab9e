"""Take the certificates real servers send: raise OpenSSL's limit on the certificate message.

OpenSSL refuses a server's certificate message larger than 100 KB by default ("excessive message
size"), and the biggest public certificates (thousands of names, ~150 KB and more) are larger.
The refusal is ours, not the server's: without this a valid site would look as if it offered
no working HTTPS. Python's `ssl` has no setting for it, so the limit is set on the context's
`SSL_CTX` through OpenSSL's own `SSL_CTX_ctrl`, from the libssl Python is linked against. Where
that is not possible (another build), the default stays, and a handshake that hits the limit
is "could not test" (`exposure.net.tls`), never a verdict.
"""

from __future__ import annotations

import ctypes
import logging
import ssl
import sys
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

#: What we take (bytes of the whole certificate message). The biggest public certificates hold a
#: few thousand names in 150-250 KB; 1 MB leaves room and still bounds what one server costs.
MAX_CERT_LIST = 1024 * 1024

_SSL_CTRL_GET_MAX_CERT_LIST = 50  # OpenSSL's ssl.h
_SSL_CTRL_SET_MAX_CERT_LIST = 51


@cache
def _ssl_ctx_ctrl() -> Any:
    """OpenSSL's `SSL_CTX_ctrl`, looked up through the `_ssl` module (its libssl), or None."""
    try:
        import _ssl

        library = ctypes.CDLL(_ssl.__file__)
        ctrl = library.SSL_CTX_ctrl
    except (AttributeError, OSError) as exc:
        log.debug("SSL_CTX_ctrl not found: %s", exc)
        return None
    ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    ctrl.restype = ctypes.c_long
    return ctrl


def _ssl_ctx_pointer(context: ssl.SSLContext) -> int | None:
    """The `SSL_CTX *` of a CPython `ssl.SSLContext`: the first field after the object head."""
    if sys.implementation.name != "cpython":
        return None
    head = object.__basicsize__  # PyObject_HEAD: refcount and type
    pointer = ctypes.c_void_p.from_address(id(context) + head).value
    return pointer or None


def allow_certificates(context: ssl.SSLContext, limit: int | None = None) -> bool:
    """Let `context` take certificate messages up to `limit` bytes (default `MAX_CERT_LIST`).
    False when it could not be set (the default, 100 KB, then stays)."""
    limit = MAX_CERT_LIST if limit is None else limit
    if limit <= 0:
        raise ValueError(f"a certificate message limit must be positive, not {limit}")
    ctrl = _ssl_ctx_ctrl()
    pointer = _ssl_ctx_pointer(context)
    if ctrl is None or pointer is None:
        return False
    # SSL_CTX_get_max_cert_list first: a plausible answer says the pointer is an SSL_CTX
    current = ctrl(pointer, _SSL_CTRL_GET_MAX_CERT_LIST, 0, None)
    if not 0 < current <= 1 << 30:
        return False
    ctrl(pointer, _SSL_CTRL_SET_MAX_CERT_LIST, limit, None)
    return bool(ctrl(pointer, _SSL_CTRL_GET_MAX_CERT_LIST, 0, None) == limit)


def is_local_limit(exc: BaseException) -> bool:
    """The handshake broke on a limit of ours (the server's message was too big), not on the
    server refusing it."""
    reason = (getattr(exc, "reason", None) or "").upper()
    return reason in {"EXCESSIVE_MESSAGE_SIZE", "CERT_LENGTH_MISMATCH"} or (
        isinstance(exc, ssl.SSLError) and "excessive message size" in str(exc).lower()
    )
