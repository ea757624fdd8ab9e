"""The `exposure.*` family: exposed cameras and services, from what Shodan already saw.

Modules: `check` (the family check, `ShodanCheck`), `analysis` (an address's data to findings),
`fingerprints` (the camera table), `services` (the service-class table), `camera`, `vulns`,
`compromised` (one catalogue id each, with its texts), `banners` (Shodan's JSON as values),
`evidence`, `hosting` (shared-hosting detection) and `ports`.
"""
