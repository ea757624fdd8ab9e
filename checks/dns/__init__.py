"""dns: the DNSSEC family (`dns.dnssec.*`)."""
