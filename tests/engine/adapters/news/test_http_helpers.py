"""The pieces of the provider HTTP layer that need no server: redaction, Retry-After,
and the cache of headlines already delivered."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from engine.adapters.news import SeenCache
from engine.adapters.news.http import redact, retry_after
from engine.market.sentiment import Headline
from tests.kit.clock import FakeClock


def test_redact_removes_every_secret_and_keeps_one_line() -> None:
    text = "HTTP 401: key abc123 is invalid\n(abc123)"
    assert redact(text, ("abc123", "")) == "HTTP 401: key *** is invalid (***)"


def test_retry_after_reads_seconds_or_xs_reset_time() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}), 0.0) == 7.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"}), 0.0) is None
    reset = httpx.Response(429, headers={"x-rate-limit-reset": "1000030"})
    assert retry_after(reset, 1_000_000.0) == 30.0
    assert retry_after(reset, 1_000_100.0) == 0.0  # already over
    assert retry_after(httpx.Response(429), 0.0) is None


def h(title: str, url: str = "") -> Headline:
    return Headline("newsapi", "wire", title, "", url, 0.0)


def test_seen_cache_drops_repeats_by_url_and_by_title(fake_clock: FakeClock) -> None:
    seen = SeenCache(fake_clock, ttl_s=100.0, max_entries=100)
    first = [h("Fed cuts", "u1"), h("Fed  CUTS", "u2"), h("Other", "u1"), h("New")]
    assert [x.url for x in seen.fresh(first)] == ["u1", ""]  # same title; same url
    assert seen.fresh([h("Fed cuts", "u9"), h("Else", "u1")]) == []
    fake_clock.now += 101  # past the TTL: forgotten
    assert len(seen.fresh([h("Fed cuts", "u1")])) == 1


def test_seen_cache_is_bounded(fake_clock: FakeClock) -> None:
    seen = SeenCache(fake_clock, ttl_s=1e9, max_entries=100)
    for i in range(300):
        seen.fresh([h(f"T{i}")])
    assert len(seen) <= 101  # pruned to the bound before each batch
    assert len(seen.fresh([h("T0")])) == 1  # the oldest went first


def test_retry_after_given_as_an_http_date_is_honoured() -> None:
    """RFC 9110 allows Retry-After as an HTTP-date; it is read as "no Retry-After"."""
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 60, usegmt=True)
    got = retry_after(httpx.Response(429, headers={"Retry-After": date}), now)
    assert got == pytest.approx(60.0)
