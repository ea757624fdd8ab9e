"""Why a check could not test, from why the network said no: the one table for every probe.

A TLS probe (`exposure.net.tls.ProbeFailure`) and a fetch (`exposure.net.http.FetchError`) fail in
their own words; a check reports one `FailureReason` ("could not test", never a finding and never a
pass). Keeping the translation here means the tls, web and security.txt checks cannot drift apart
on what, say, a reset during the handshake means for the report.
"""

from __future__ import annotations

from collections.abc import Mapping

from exposure.contract import FailureReason
from exposure.net.http import FetchError
from exposure.net.tls import ProbeFailure

PROBE_REASONS: Mapping[ProbeFailure, FailureReason] = {
    ProbeFailure.TIMEOUT: FailureReason.TIMEOUT,
    ProbeFailure.REFUSED: FailureReason.REFUSED,
    ProbeFailure.UNREACHABLE: FailureReason.UNREACHABLE,
    ProbeFailure.OUT_OF_SCOPE: FailureReason.OUT_OF_SCOPE,
    ProbeFailure.STARTTLS: FailureReason.PROTOCOL,
    ProbeFailure.LOCAL_LIMIT: FailureReason.LOCAL_LIMIT,
}

FETCH_REASONS: Mapping[FetchError, FailureReason] = {
    FetchError.TIMEOUT: FailureReason.TIMEOUT,
    FetchError.REFUSED: FailureReason.REFUSED,
    FetchError.UNREACHABLE: FailureReason.UNREACHABLE,
    FetchError.RESET: FailureReason.PROTOCOL,
    FetchError.TLS: FailureReason.PROTOCOL,
    FetchError.LOCAL_LIMIT: FailureReason.LOCAL_LIMIT,
    FetchError.CERTIFICATE: FailureReason.PROTOCOL,
    FetchError.PROTOCOL: FailureReason.PROTOCOL,
    FetchError.NO_ADDRESS: FailureReason.DNS_ERROR,
    FetchError.DNS: FailureReason.DNS_ERROR,
    FetchError.OUT_OF_SCOPE: FailureReason.OUT_OF_SCOPE,
    FetchError.TOO_MANY_REDIRECTS: FailureReason.PROTOCOL,
    FetchError.BAD_REDIRECT: FailureReason.PROTOCOL,
    FetchError.INSECURE_REDIRECT: FailureReason.PROTOCOL,
    FetchError.BAD_URL: FailureReason.BUG,
}


def could_not_test(failure: ProbeFailure | FetchError | None) -> FailureReason:
    """The reason to report for a probe or fetch that did not complete. None (a probe that was
    reset or closed during every handshake, with no finer cause) is a protocol error."""
    if isinstance(failure, FetchError):
        return FETCH_REASONS[failure]
    if isinstance(failure, ProbeFailure):
        return PROBE_REASONS[failure]
    return FailureReason.PROTOCOL
