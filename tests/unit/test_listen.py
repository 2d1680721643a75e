"""Voice notes fetched and transcribed by the worker: every failure becomes a problem to tell, never a crash."""

from __future__ import annotations

import pytest

from sevamitra.actions.listen import AUDIO_MAX_BYTES, listener
from sevamitra.core.conversation import Heard, Transcribe
from sevamitra.core.messages import MediaError, Outbound, Recipient, SendResult
from sevamitra.core.speech import SpeechError, Transcript

NOTE = Transcribe(media_id="m1", mime_type="audio/ogg", language="en")
SAID = Transcript(text="property tax", language="en", confidence=0.9, seconds=2.0)


class Channel:
    """The channel's media side (this test is about the worker's handling): a file, or a refusal."""

    def __init__(self, refusal: MediaError | None = None) -> None:
        self.refusal = refusal
        self.asked: list[tuple[str, int | None]] = []

    async def send(self, recipient: Recipient, message: Outbound) -> SendResult:
        raise AssertionError("nothing is sent while listening")

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        raise AssertionError("nothing is uploaded while listening")

    async def download_media(self, media_id: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        self.asked.append((media_id, max_bytes))
        if self.refusal is not None:
            raise self.refusal
        return b"OggS", "audio/ogg; codecs=opus"


class Ears:
    name = "test"

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.heard: list[tuple[bytes, str, str]] = []

    async def transcribe(self, audio: bytes, mime_type: str, language: str) -> Transcript:
        self.heard.append((audio, mime_type, language))
        if self.failure is not None:
            raise self.failure
        return SAID


async def test_a_voice_note_is_fetched_within_the_channels_limit_and_transcribed_in_the_citizens_language() -> None:
    channel, ears = Channel(), Ears()
    assert await listener(channel, ears)(NOTE) == Heard(transcript=SAID)
    assert channel.asked == [("m1", AUDIO_MAX_BYTES)]
    assert ears.heard == [(b"OggS", "audio/ogg; codecs=opus", "en")]


@pytest.mark.parametrize(
    ("refusal", "problem"),
    [
        (MediaError("gone", "404"), "expired"),
        (MediaError("too_large", "20 MB"), "too_large"),
        (MediaError("failed", "connection reset"), "unavailable"),
    ],
)
async def test_media_the_channel_will_not_give_is_a_problem_to_tell(refusal: MediaError, problem: str) -> None:
    ears = Ears()
    assert await listener(Channel(refusal), ears)(NOTE) == Heard(problem=problem)
    assert not ears.heard


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        (SpeechError("corrupt"), "corrupt"),
        (SpeechError("too_long", "75 s"), "too_long"),
        (RuntimeError("the model crashed"), "unavailable"),
    ],
)
async def test_a_note_that_cannot_be_transcribed_is_a_problem_to_tell(failure: Exception, problem: str) -> None:
    assert await listener(Channel(), Ears(failure))(NOTE) == Heard(problem=problem)
