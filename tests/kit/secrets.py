"""Throwaway trading secrets for tests, and the check that none of them shows anywhere."""

from __future__ import annotations

from collections.abc import Iterable

# Valid secp256k1 keys that hold nothing anywhere; each test run's venue knows none of them.
PRIVATE_KEY = "0x" + "5a17c0de" * 8
OTHER_KEY = "0x" + "0badcafe" * 8
# An API triplet in the venue's shapes (uuid, url-safe base64 secret, hex passphrase).
API_KEY = "6f1d2c3b-9a8e-4d7c-b6a5-0f1e2d3c4b5a"
API_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
API_PASSPHRASE = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
PASSPHRASE = "correct horse battery staple"
SMALL_WORK = 2**10  # scrypt's n for keyfiles written in-process: milliseconds, not a second

ALL = (PRIVATE_KEY, OTHER_KEY, API_KEY, API_SECRET, API_PASSPHRASE, PASSPHRASE)


def leaks(texts: Iterable[str], secrets: Iterable[str] = ALL) -> list[str]:
    """The secrets (or a private key without its 0x) found in any of `texts`."""
    found = []
    joined = "\n".join(texts)
    lowered = joined.lower()
    for secret in secrets:
        forms = {secret, secret.removeprefix("0x")}
        if any(form in joined or form.lower() in lowered for form in forms):
            found.append(secret)
    return found
