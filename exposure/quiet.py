"""Third-party warnings that are not the user's business, silenced where they arise.

dnspython's DNSSEC module defines its DSA algorithm with `cryptography` types that recent
`cryptography` releases mark deprecated: importing it prints four `CryptographyDeprecationWarning:
DSA is deprecated` lines on every command, before its own output. We never sign with DSA and
judge a DSA-signed zone like any other; the warning is for dnspython's authors. Only that one
warning, only during that import, is silenced (`tests/exposure/test_quiet.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def dnssec_import() -> Iterator[None]:
    """Wrap `import dns.dnssec` (and `dns.dnssecalgs`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"dns\.dnssecalgs")
        yield
