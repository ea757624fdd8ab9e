"""What the tls, web and security.txt families share: the site visit and the per-host fold."""
