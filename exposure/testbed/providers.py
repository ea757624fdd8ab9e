"""The port area's mail provider, shared by the demo and the scenario areas: its MX hosts and
the SPF records its customers include."""

from __future__ import annotations

from exposure.testbed.scenario import Record
from exposure.testbed.smtp import MailHostSpec

MAIL_PROVIDER = (
    MailHostSpec("mx1.havenmail.test"),
    MailHostSpec("mx2.havenmail.test"),
)
PROVIDER_RECORDS = (
    Record("_spf.havenmail.test.", "TXT", "v=spf1 include:_spf2.havenmail.test ~all"),
    Record("_spf2.havenmail.test.", "TXT", "v=spf1 ip4:127.0.0.0/8 -all"),
)
MX_PROVIDER = ("10 mx1.havenmail.test", "20 mx2.havenmail.test")
