"""One bounded JSON GET over httpx: what the Shodan source and the discovery fetcher share.

The whole exchange (connect, headers, body) is bounded by `within` seconds; the body is read in
chunks and refused past `max_bytes`. Transport faults come back as a `GetFailure` (the
source's fault, never a member's); any HTTP status comes back as a `JsonReply` for the
caller to judge. An API key in the query string is redacted from error text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from exposure.contract import FailureReason


@dataclass(frozen=True, slots=True)
class JsonReply:
    status: int
    body: Any  # parsed JSON (None when empty or not JSON)
    text: str  # the head of the body, for messages
    retry_after: float | None


@dataclass(frozen=True, slots=True)
class GetFailure:
    reason: FailureReason
    message: str


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    what: str,
    *,
    within: float,
    max_bytes: int,
    head_chars: int = 300,
) -> JsonReply | GetFailure:
    try:
        async with asyncio.timeout(within):
            async with client.stream("GET", url, params=params) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return GetFailure(
                            FailureReason.PROTOCOL, f"{what}: answer larger than {max_bytes} bytes"
                        )
                    chunks.append(chunk)
                status = response.status_code
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
    except (TimeoutError, httpx.TimeoutException):
        return GetFailure(FailureReason.TIMEOUT, f"{what}: no answer within {within:g} s")
    except httpx.ConnectError as exc:
        return GetFailure(
            FailureReason.UNREACHABLE, f"{what}: cannot connect ({type(exc).__name__})"
        )
    except httpx.HTTPError as exc:
        return GetFailure(
            FailureReason.PROTOCOL, f"{what}: {type(exc).__name__}: {redact(str(exc))[:200]}"
        )
    body = b"".join(chunks)
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return JsonReply(status, parsed, body[:head_chars].decode("utf-8", "replace"), retry_after)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the date form is not used by these services)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


_KEY_PARAM = re.compile(r"([?&]key=)[^&\s\"'>]+", re.IGNORECASE)


def redact(text: str) -> str:
    """`?key=SECRET` -> `?key=REDACTED`: the API key travels in the query string."""
    return _KEY_PARAM.sub(r"\1REDACTED", text)


class _RedactKeyFilter(logging.Filter):
    """httpx logs every request's URL at INFO, query string (and so the API key) included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(a)) if isinstance(a, str | httpx.URL) else a for a in record.args
            )
        return True


def redact_httpx_logs() -> None:
    """Install the filter on httpx's logger once: every client that sends a key calls this."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactKeyFilter) for f in logger.filters):
        logger.addFilter(_RedactKeyFilter())
