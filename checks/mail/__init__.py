"""mail: SPF, DMARC, DKIM, MX/STARTTLS, MTA-STS, TLS-RPT and DANE (`mail.*`)."""
