"""The encrypted keyfile: trading secrets for machines with no OS keyring.

The file is an Ethereum v3 keystore of the private key, written and read by the signing
library (``eth_account``: scrypt, AES-128-CTR and a keccak MAC over the ciphertext), so
any Ethereum wallet can import it, with one extra object, ``polyterm``:

- ``names``: which settings the file holds (names only, so ``auth status`` can list them
  without the passphrase), and the signature type and funder, which are not secret;
- ``sealed``: the API triplet, AES-256-GCM under a key derived (HKDF-SHA256) from the
  private key, bound to the keystore's address. Whoever holds the private key can derive
  the triplet from the venue anyway, so the triplet is exactly as safe as the key.

It lives in the data dir, 0600, and is written atomically. The passphrase comes from
``POLYTERM_KEYFILE_PASSPHRASE``, a systemd credential of the same name
(``$CREDENTIALS_DIRECTORY``), or a prompt.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyterm.settings import locations
from polyterm.settings.credentials import (
    API_NAMES,
    FUNDER,
    PRIVATE_KEY,
    SIGNATURE_TYPE,
    TRADING_NAMES,
    CredentialsError,
)
from polyterm.settings.wallet import check_address

FILE_NAME = "keyfile.json"
PASSPHRASE_ENV = "POLYTERM_KEYFILE_PASSPHRASE"
MIN_PASSPHRASE = 8
FORMAT = 1
_PLAIN = (SIGNATURE_TYPE, FUNDER)  # kept readable: neither is a secret
_HKDF_CONTEXT = b"polyterm keyfile: api triplet"


class KeyfileError(CredentialsError):
    """The keyfile cannot be read or opened (one line: the path and the fix)."""


@dataclass(frozen=True)
class KeyfileInfo:
    """What the keyfile says without its passphrase."""

    path: Path
    address: str  # the private key's address
    names: tuple[str, ...]  # the settings it holds
    plain: Mapping[str, str]  # signature type and funder, when stored


def default_path() -> Path:
    return locations.data_dir() / FILE_NAME


def passphrase_from(env: Mapping[str, str], prompt: Callable[[], str] | None = None) -> str | None:
    """``POLYTERM_KEYFILE_PASSPHRASE``, else ``$CREDENTIALS_DIRECTORY/POLYTERM_KEYFILE_PASSPHRASE``
    (a systemd ``LoadCredential=``), else what `prompt` returns; None without any."""
    value = env.get(PASSPHRASE_ENV, "")
    if value:
        return value
    directory = env.get("CREDENTIALS_DIRECTORY", "")
    if directory:
        with contextlib.suppress(OSError):
            return (Path(directory) / PASSPHRASE_ENV).read_text(encoding="utf-8").rstrip("\r\n")
    return prompt() if prompt is not None else None


def _load(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyfileError(f"the keyfile {path} cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != 3 or "crypto" not in data:
            raise ValueError("not a v3 keystore")
        extra = data.get("polyterm", {})
        if not isinstance(extra, dict) or not isinstance(extra.get("names", []), list):
            raise ValueError("bad polyterm section")
    except ValueError:
        raise KeyfileError(
            f"the keyfile {path} is not an Ethereum v3 keystore written by polyterm: "
            "move it aside and run `polyterm auth login --keyfile`"
        ) from None
    return data


def inspect(path: Path) -> KeyfileInfo | None:
    """The keyfile's public part, or None when there is no file."""
    data = _load(path)
    if data is None:
        return None
    extra = data.get("polyterm", {})
    names = tuple(n for n in extra.get("names", [PRIVATE_KEY]) if n in TRADING_NAMES)
    plain = {n: str(extra[n]) for n in _PLAIN if isinstance(extra.get(n), str)}
    address = "0x" + str(data.get("address", "")).removeprefix("0x")
    # Shown as written when it is not an address: the passphrase decides whether it opens.
    with contextlib.suppress(ValueError):
        address = check_address(address)
    return KeyfileInfo(path=path, address=address, names=names, plain=plain)


def _triplet_key(private_key: bytes, salt: bytes) -> bytes:
    from Crypto.Hash import SHA256
    from Crypto.Protocol.KDF import HKDF

    derived = HKDF(private_key, 32, salt, SHA256, context=_HKDF_CONTEXT)
    assert isinstance(derived, bytes)
    return derived


def write(
    path: Path,
    values: Mapping[str, str],
    passphrase: str,
    *,
    work_factor: int | None = None,
) -> None:
    """Write `values` (by setting name; the private key required) to a new keyfile at
    `path`, replacing any earlier one. `work_factor` is scrypt's n (a power of two;
    default the library's 2**18, about a second)."""
    from Crypto.Cipher import AES
    from eth_account import Account

    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyfileError(f"the keyfile passphrase must be at least {MIN_PASSPHRASE} characters")
    key_hex = values[PRIVATE_KEY]
    key = bytes.fromhex(key_hex.removeprefix("0x"))
    data: dict[str, Any] = Account.encrypt(key, passphrase, kdf="scrypt", iterations=work_factor)
    extra: dict[str, Any] = {"format": FORMAT, "names": [n for n in TRADING_NAMES if n in values]}
    for name in _PLAIN:
        if name in values:
            extra[name] = values[name]
    sealed = {n: values[n] for n in API_NAMES if n in values}
    if sealed:
        salt, nonce = os.urandom(16), os.urandom(12)
        cipher = AES.new(_triplet_key(key, salt), AES.MODE_GCM, nonce=nonce)
        cipher.update(str(data["address"]).lower().encode())
        ciphertext, tag = cipher.encrypt_and_digest(json.dumps(sealed).encode())
        extra["sealed"] = {
            "cipher": "aes-256-gcm",
            "kdf": "hkdf-sha256",
            "salt": salt.hex(),
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
            "tag": tag.hex(),
        }
    data["polyterm"] = extra
    _write_private(path, json.dumps(data, indent=2) + "\n")


def _write_private(path: Path, text: str) -> None:
    from polyterm.settings.logs import private_dir

    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read(path: Path, passphrase: str) -> dict[str, str]:
    """Every setting in the keyfile, by name; KeyfileError for a wrong passphrase or a
    file changed since it was written."""
    from Crypto.Cipher import AES
    from eth_account import Account

    data = _load(path)
    if data is None:
        raise KeyfileError(f"no keyfile at {path}: run `polyterm auth login --keyfile`")
    try:
        key = bytes(Account.decrypt(data, passphrase))
    except ValueError:
        raise KeyfileError(
            f"the keyfile {path} did not open: wrong passphrase ({PASSPHRASE_ENV} or the "
            "prompt), or the file was changed"
        ) from None
    except Exception:  # a field missing or of the wrong type: the library's own errors
        raise KeyfileError(
            f"the keyfile {path} is damaged (its keystore fields are not all there): "
            "restore it from a copy, or run `polyterm auth login --keyfile` again"
        ) from None
    extra = data.get("polyterm", {})
    found = {PRIVATE_KEY: "0x" + key.hex()}
    for name in _PLAIN:
        if isinstance(extra.get(name), str):
            found[name] = extra[name]
    sealed = extra.get("sealed")
    if isinstance(sealed, dict):
        try:
            cipher = AES.new(
                _triplet_key(key, bytes.fromhex(sealed["salt"])),
                AES.MODE_GCM,
                nonce=bytes.fromhex(sealed["nonce"]),
            )
            cipher.update(str(data["address"]).lower().encode())
            plain = cipher.decrypt_and_verify(
                bytes.fromhex(sealed["ciphertext"]), bytes.fromhex(sealed["tag"])
            )
            triplet = json.loads(plain)
        except (KeyError, TypeError, ValueError):
            raise KeyfileError(
                f"the keyfile {path} was changed after it was written (its API triplet does "
                "not verify): run `polyterm auth login --keyfile` again"
            ) from None
        found.update({n: str(triplet[n]) for n in API_NAMES if n in triplet})
    return found


def remove(path: Path) -> bool:
    """Delete the keyfile; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
