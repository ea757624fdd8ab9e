"""Discovery: the internet-facing hosts of a member that its member list does not name (#22).

Passive sources only (what anyone can look up): the member's own DNS (`dns`), certificate
transparency (`ct`) and Shodan's search (`shodan_search`). Each is a `Discoverer` with its own
time-out and pace whose answers are cached like the Shodan answers; `hosting` recognises shared
hosting, CDN and cloud front ends, which never become IP targets; `run` asks the sources for one
company and turns what they name into `Sighting`s for the store, which proposes them. Nothing
found here is scanned until it is confirmed (`exposure.store.discovery`).
"""
