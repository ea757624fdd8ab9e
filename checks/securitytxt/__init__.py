"""The security.txt family (RFC 9116): `securitytxt.missing`, `.invalid` and `.expired`.

- `validator`: the pure RFC 9116 validator (`validate`, `validate_file`, `Validation`);
- `messages`: Dutch and English words and a one-line fix for every code;
- `sniff`: "is this a security.txt at all?" (catch-all HTML pages are not);
- `check`: the family check (`SecurityTxtCheck`), registered as the entry point `securitytxt`.
"""

from checks.securitytxt.check import SecurityTxtCheck, emails_from_evidence
from checks.securitytxt.validator import Validation, mailto_addresses, validate, validate_file

__all__ = [
    "SecurityTxtCheck",
    "Validation",
    "emails_from_evidence",
    "mailto_addresses",
    "validate",
    "validate_file",
]
