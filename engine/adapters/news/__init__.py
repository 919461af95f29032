"""Headline providers behind the SentimentSource port: NewsAPI (and the emulator's
NewsAPI-shaped feed), Twitter/X recent search, a JSONL file, and a disabled source."""

from engine.adapters.news.dedupe import SeenCache
from engine.adapters.news.disabled import DisabledSource
from engine.adapters.news.http import (
    HttpSettings,
    MalformedAnswer,
    NewsHttp,
    ProviderError,
    TransientError,
)
from engine.adapters.news.jsonl import JsonlSource
from engine.adapters.news.newsapi import NewsApiSource
from engine.adapters.news.polling import PollingSource
from engine.adapters.news.twitter import TwitterSource

__all__ = [
    "DisabledSource",
    "HttpSettings",
    "JsonlSource",
    "MalformedAnswer",
    "NewsApiSource",
    "NewsHttp",
    "PollingSource",
    "ProviderError",
    "SeenCache",
    "TransientError",
    "TwitterSource",
]
