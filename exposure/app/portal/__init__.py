"""The company portal (`exposure serve`): each company its own live report, the Meldpunt all.

- `app.create_app(settings, engine)`: the Starlette application;
- `auth`: access links, sessions, CSRF tokens, the Meldpunt's password;
- `security`: headers, size limit, rate limits, the access log without tokens;
- `company_routes`, `meldpunt_routes`: the pages.
"""
