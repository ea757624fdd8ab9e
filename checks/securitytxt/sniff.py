"""Is what answered at /.well-known/security.txt a security.txt at all?

Many small-business sites run on a CMS or a site builder that answers every unknown path with
its home page or a friendly "page not found" page, with status 200 (a "soft 404"). Validating
such a page would report dozens of RFC errors for a file that was never published: the company
would be told to fix a file it does not have. So the check first asks whether the body is a
security.txt at all; an HTML page, an empty body or text without a single security.txt field is
`securitytxt.missing`, with the reason in the evidence.

A file that is clearly meant as a security.txt (it has a Contact, Expires, … field, or is a
signed message) is validated, whatever its Content-Type: a real security.txt sent as text/html
is `invalid` (`invalid_media`), not missing.
"""

from __future__ import annotations

import re

from checks.securitytxt.validator import BEGIN_SIGNED, KNOWN_FIELDS

#: How far into the body the sniffing looks (enough for any HTML head, cheap on 100 KiB).
SNIFF_BYTES = 4096

_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|link|script|style|div|p|h[1-6]|table|form|"
    r"span|a|br|img|iframe|noscript|!--)[\s>/]",
    re.IGNORECASE,
)
_FIELD = re.compile(
    r"^(?:- )?(?P<name>" + "|".join(re.escape(n) for n in sorted(KNOWN_FIELDS)) + r")\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_html(text: str) -> bool:
    """An HTML (or XML) document: it opens with a tag and contains a typical HTML element."""
    head = text[:SNIFF_BYTES].lstrip("\ufeff \t\r\n")
    if not head.startswith("<"):
        return False
    return bool(_HTML_TAG.search(head)) or head.lower().startswith("<?xml")


def has_security_txt_fields(text: str) -> bool:
    """At least one RFC 9116 field at the start of a line, or an OpenPGP signed message."""
    if BEGIN_SIGNED in text[:SNIFF_BYTES]:
        return True
    return _FIELD.search(text) is not None


def is_blank(text: str) -> bool:
    return not text.strip("\ufeff \t\r\n")
