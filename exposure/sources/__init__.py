"""Sources: what checks ask instead of the target itself (Shodan), shared by a whole run.

A source is built once per run by the orchestrator and handed to checks in the `CheckContext`.
It owns what must be shared process-wide (a rate limit, a run memo of answers, a persistent
cache across runs) so that no check has to, and no module keeps it in a global.

`kev.py` is the one source that is data, not a service: CISA's Known Exploited Vulnerabilities
catalogue, a shipped snapshot that `exposure update-kev` refreshes.
"""
