"""The log's signing key in a file, as a C2SP private key string (`PRIVATE+KEY+<name>+<id>+<key>`)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from sevamitra.adapters.tlog.notes import NoteSigner, note_signer_from_seed, note_signer_from_skey
from sevamitra.core.checkpoints import ED25519_TYPE


def skey(name: str, seed: bytes) -> str:
    """The private key string for a 32-byte seed."""
    signer = note_signer_from_seed(name, seed)
    return f"PRIVATE+KEY+{name}+{signer.key_id.hex()}+{base64.b64encode(bytes([ED25519_TYPE]) + seed).decode()}"


def load_log_signer(path: Path, name: str, *, create: bool) -> NoteSigner:
    """The signer in `path`; with `create`, a new key is written there (mode 0600) when none is."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"no log signing key at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(skey(name, _new_seed(name)) + "\n")
    signer = note_signer_from_skey(path.read_text().strip())
    if signer.name != name:
        raise ValueError(f"the log key in {path} is named {signer.name!r}, but the log's origin is {name!r}")
    return signer


def _new_seed(name: str) -> bytes:
    """A fresh key whose verifier key has no "+" in its base64: C2SP allows one there, but tools that
    split a verifier key on every "+" (rather than on the first two) misread it, so we pick a key
    they read right (about every second key qualifies)."""
    while True:
        seed = secrets.token_bytes(32)
        if note_signer_from_seed(name, seed).vkey.count("+") == 2:
            return seed
