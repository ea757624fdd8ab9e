"""The `web` family: HTTPS presence, the HTTP-to-HTTPS redirect and HSTS."""
