"""build_sentiment_source: the first usable provider runs and the status says why the
earlier ones did not; the proxy is taken from PROXY_ENABLED / PROXY_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.adapters.news import DisabledSource, JsonlSource, NewsApiSource, TwitterSource
from engine.clock import SystemClock
from engine.config.sentiment import SentimentConfig
from engine.ports import SentimentSource
from polyterm.faces.headlines import SentimentSetupError, build_sentiment_source, proxy_from_env
from polyterm.settings.credentials import Credentials
from tests.kit.keyrings import FileKeyring

NEWSAPI = "https://newsapi.org"
EMULATOR = "http://127.0.0.1:8765/news"


async def build(
    config: SentimentConfig,
    *,
    offline: bool = False,
    news_url: str = NEWSAPI,
    env: dict[str, str] | None = None,
    keyring: FileKeyring | None = None,
) -> SentimentSource:
    env = env or {}
    source = build_sentiment_source(
        config,
        offline=offline,
        news_url=news_url,
        clock=SystemClock(),
        credentials=Credentials(env=env, backend=keyring),
        env=env,
    )
    if isinstance(source, NewsApiSource | TwitterSource):
        await source.aclose()  # built, never polled
    return source


async def test_offline_uses_the_emulator_feed_with_newsapis_provider() -> None:
    source = await build(SentimentConfig(), offline=True, news_url=EMULATOR)
    assert isinstance(source, NewsApiSource)
    assert source.status.provider == "emulator"
    assert source.status.fallback == "offline: using the emulator feed"
    assert source.base_url == EMULATOR
    assert source.poll_interval_s == 0.5


async def test_online_with_a_key_uses_newsapi(tmp_path: Path) -> None:
    keyring = FileKeyring(tmp_path / "k.json")
    keyring.set_password("polyterm", "NEWSAPI_KEY", "secret-key-1")
    source = await build(SentimentConfig(), keyring=keyring)
    assert isinstance(source, NewsApiSource)
    assert source.status.provider == "newsapi"
    assert source.status.fallback == ""
    assert source.poll_interval_s == 300.0


async def test_online_without_a_newsapi_key_falls_back_to_twitter() -> None:
    source = await build(SentimentConfig(), env={"TWITTER_BEARER_TOKEN": "tok"})
    assert isinstance(source, TwitterSource)
    assert source.status.fallback == "no NEWSAPI_KEY: using Twitter/X"


async def test_then_to_a_local_emulator_then_to_jsonl_then_off(tmp_path: Path) -> None:
    source = await build(SentimentConfig(), news_url=EMULATOR)
    assert source.status.provider == "emulator"
    assert source.status.fallback == (
        "no NEWSAPI_KEY; no TWITTER_BEARER_TOKEN: using the emulator feed"
    )
    path = tmp_path / "headlines.jsonl"
    source = await build(SentimentConfig(jsonl_path=str(path)))
    assert isinstance(source, JsonlSource)
    assert source.path == path
    assert source.status.fallback == (
        "no NEWSAPI_KEY; no TWITTER_BEARER_TOKEN; news_url is not an emulator: using JSONL"
    )
    source = await build(SentimentConfig())
    assert isinstance(source, DisabledSource)
    assert source.status.state == "disabled"
    assert source.status.fallback == (
        "no NEWSAPI_KEY; no TWITTER_BEARER_TOKEN; news_url is not an emulator; "
        "no sentiment.jsonl_path: sentiment off"
    )


async def test_the_order_of_providers_is_the_users() -> None:
    env = {"NEWSAPI_KEY": "k", "TWITTER_BEARER_TOKEN": "t"}
    source = await build(SentimentConfig(providers=("twitter", "newsapi")), env=env)
    assert isinstance(source, TwitterSource)
    offline = await build(
        SentimentConfig(providers=("twitter", "jsonl", "newsapi")), offline=True, news_url=EMULATOR
    )
    assert offline.status.fallback == (
        "offline: no Twitter/X; no sentiment.jsonl_path; offline: using the emulator feed"
    )


async def test_disabled_in_config() -> None:
    source = await build(SentimentConfig(enabled=False), offline=True, news_url=EMULATOR)
    assert isinstance(source, DisabledSource)
    assert source.status.fallback == "sentiment.enabled = false"


async def test_offline_never_reaches_past_loopback() -> None:
    source = await build(SentimentConfig(providers=("newsapi",)), offline=True)
    assert isinstance(source, DisabledSource)
    assert source.status.fallback == "offline; news_url is not loopback: sentiment off"


def test_proxy_only_when_enabled() -> None:
    assert proxy_from_env({}) is None
    assert proxy_from_env({"PROXY_URL": "http://proxy:3128"}) is None
    assert proxy_from_env({"PROXY_ENABLED": "true", "PROXY_URL": "http://proxy:3128"}) == (
        "http://proxy:3128"
    )
    with pytest.raises(SentimentSetupError, match="PROXY_URL is not set"):
        proxy_from_env({"PROXY_ENABLED": "1"})
    with pytest.raises(SentimentSetupError) as info:
        proxy_from_env({"PROXY_ENABLED": "yes", "PROXY_URL": "socks5://user:pw@proxy:1080"})
    assert "pw" not in str(info.value)  # the URL may carry a password: never echoed
    assert "http://" in str(info.value)


def test_config_refuses_contradictions_in_one_line() -> None:
    with pytest.raises(ValueError, match="providers lists one twice") as dup:
        SentimentConfig(providers=("newsapi", "newsapi"))
    assert "providers" in str(dup.value)
    with pytest.raises(ValueError, match="backoff_initial_s = 5.0 is above"):
        SentimentConfig(backoff_initial_s=5.0, backoff_max_s=1.0)
    with pytest.raises(ValueError, match="providers"):
        SentimentConfig.model_validate({"providers": ["reddit"]})
