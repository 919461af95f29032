"""The offline guard: in ``--offline`` mode no connection may leave this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class OfflineViolation(ValueError):
    """A non-loopback address was about to be contacted in offline mode."""


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a DNS name: never resolved, never trusted


def ensure_loopback(url: str, what: str = "URL") -> None:
    host = urlsplit(url).hostname or ""
    if not is_loopback_host(host):
        raise OfflineViolation(
            f"{what} {url!r} is not a loopback address; --offline only talks to 127.0.0.1/::1 "
            "(unset it or drop --offline)"
        )
