"""``[alerts]`` in config.toml: where alerts go and how often.

Channels: a generic webhook (a JSON POST; its URL here, or, when it carries a secret as
Slack's and Discord's do, ``ALERT_WEBHOOK_URL`` in the environment, or in the keyring with
``webhook_url = "keyring"``) and a Telegram bot (its token only as ``TELEGRAM_BOT_TOKEN``
in the environment or the keyring, never here; the chat here). No channel: no alerts.
The keyring is asked only when a setting here says to use it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_SCHEMES = ("https://", "http://")


KEYRING = "keyring"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(value: str, key: str, *, keyring: bool = False) -> str:
    if value and not value.startswith(_SCHEMES) and not (keyring and value == KEYRING):
        extra = ', "keyring" (ALERT_WEBHOOK_URL from the keyring)' if keyring else ""
        raise ValueError(f"{key} must be an http:// or https:// URL{extra} or empty (off)")
    return value


class AlertsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # A JSON POST per alert to this URL; "keyring": the URL is ALERT_WEBHOOK_URL in the
    # keyring; "": off (ALERT_WEBHOOK_URL in the environment still turns it on).
    webhook_url: str = ""
    # The Telegram chat to message ("": off); the bot's token is TELEGRAM_BOT_TOKEN.
    telegram_chat_id: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    # Also alert on every fill (off: kill switch, feed heartbeat, reconciliation and
    # engine failure only).
    fills: bool = False
    # One alert per kind and subject (a token, the feed) per this many seconds; those in
    # between are counted and the next one says how many.
    min_interval_s: float = Field(60.0, ge=0, allow_inf_nan=False)
    # At most this many alerts an hour in all (a kill switch trip or an engine failure
    # is always sent).
    max_per_hour: int = Field(60, ge=1, le=10_000)
    # The market feed silent this long (no WebSocket message) is a heartbeat loss.
    heartbeat_after_s: float = Field(30.0, gt=0, allow_inf_nan=False)
    # How long one delivery may take (a channel that does not answer is given up on).
    timeout_s: float = Field(10.0, gt=0, le=120, allow_inf_nan=False)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str) -> str:
        return _url(value, "webhook_url", keyring=True)

    @field_validator("telegram_api_url")
    @classmethod
    def _telegram(cls, value: str) -> str:
        # Every request's URL holds the bot's token: plain HTTP only to this machine (a
        # local receiver or relay), where no network path can read it.
        url = _url(value, "telegram_api_url")
        if url.startswith("http://") and not _loopback(urlsplit(url).hostname or ""):
            raise ValueError(
                "telegram_api_url must be https:// (its URLs carry the bot's token); "
                "http:// only to this machine (127.0.0.1, localhost)"
            )
        return url
