"""The log's key file: made once (mode 0600), read back, its verifier key easy to parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from sevamitra.adapters.tlog.keys import load_log_signer
from sevamitra.core.checkpoints import parse_vkey


def test_a_new_key_is_kept_private_and_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.key"
    made = load_log_signer(path, "verify.example/log", create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_log_signer(path, "verify.example/log", create=False).vkey == made.vkey
    assert parse_vkey(made.vkey)[0] == "verify.example/log"


@pytest.mark.parametrize("n", range(8))
def test_new_verifier_keys_have_exactly_the_two_separating_pluses(tmp_path: Path, n: int) -> None:
    assert load_log_signer(tmp_path / f"k{n}", "verify.example/log", create=True).vkey.count("+") == 2


def test_a_missing_key_is_not_made_without_asking(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_log_signer(tmp_path / "absent", "verify.example/log", create=False)


def test_a_key_of_another_log_is_refused(tmp_path: Path) -> None:
    load_log_signer(tmp_path / "k", "one.example/log", create=True)
    with pytest.raises(ValueError, match="origin"):
        load_log_signer(tmp_path / "k", "two.example/log", create=False)


def test_a_development_log_on_another_origin_gets_its_own_key(tmp_path: Path) -> None:
    from sevamitra.bootstrap import log_signer
    from sevamitra.settings import Settings

    first = log_signer(Settings(keys_dir=tmp_path, public_url="http://127.0.0.1:8000"))
    other = log_signer(Settings(keys_dir=tmp_path, public_url="http://127.0.0.1:8765"))
    again = log_signer(Settings(keys_dir=tmp_path, public_url="http://127.0.0.1:8000"))
    assert first.name == "127.0.0.1:8000/log" and other.name == "127.0.0.1:8765/log"
    assert again.vkey == first.vkey != other.vkey
