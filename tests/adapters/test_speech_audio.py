"""Voice notes decoded and encoded with PyAV: what is not audio is corrupt, and what runs past the cap
is refused, whether the container says how long it is or not."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from sevamitra.adapters.speech.audio import RATE, decode, encode_voice_note
from sevamitra.core.speech import SpeechError


def tone(seconds: float, rate: int = RATE, hertz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hertz * t)).astype(np.float32)


def streamed_webm(seconds: float) -> bytes:
    """Opus in Matroska written to a pipe: its header cannot say how long it is."""

    class Pipe:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, chunk: bytes) -> int:
            self.data += chunk
            return len(chunk)

    pipe = Pipe()
    with av.open(pipe, mode="w", format="matroska") as container:
        stream = container.add_stream("libopus", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, int(seconds * RATE)), np.float32), format="flt", layout="mono")
        frame.sample_rate = RATE
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return bytes(pipe.data)


@pytest.mark.parametrize("rate", [16_000, 22_050, 48_000])
def test_a_voice_note_is_ogg_opus_and_decodes_to_the_same_sound(rate: int) -> None:
    note = encode_voice_note(tone(2.5, rate), rate)
    assert note.startswith(b"OggS") and b"OpusHead" in note[:200]
    with av.open(io.BytesIO(note)) as container:
        assert container.format.name == "ogg" and container.streams.audio[0].codec_context.name in ("opus", "libopus")
    assert len(note) < 2.5 * 16_000 / 8 * 1.6  # about 16 kb/s, with the container's overhead

    clip = decode(note, max_seconds=60)
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.seconds == pytest.approx(2.5, abs=0.05)
    spectrum = np.abs(np.fft.rfft(clip.samples))
    assert np.argmax(spectrum) * RATE / clip.samples.size == pytest.approx(440, abs=5)


def png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, format="PNG")
    return image.getvalue()


@pytest.mark.parametrize(
    "audio",
    [
        b"",
        b"this is not audio at all " * 40,
        encode_voice_note(tone(1.0))[:300],  # cut off after the headers
        png(),  # a container FFmpeg reads, with no sound in it
    ],
    ids=["empty", "text", "truncated", "image"],
)
def test_what_is_not_audio_is_corrupt(audio: bytes) -> None:
    with pytest.raises(SpeechError) as refused:
        decode(audio, max_seconds=60)
    assert refused.value.problem == "corrupt"


def test_a_note_past_the_cap_is_refused_by_its_declared_length() -> None:
    note = encode_voice_note(np.zeros(61 * RATE, np.float32))
    with pytest.raises(SpeechError) as refused:
        decode(note, max_seconds=60)
    assert refused.value.problem == "too_long"


def test_a_note_that_does_not_declare_its_length_is_stopped_at_the_cap() -> None:
    note = streamed_webm(61)
    with av.open(io.BytesIO(note)) as container:
        assert container.duration is None  # so only counting the decoded samples can catch it
    with pytest.raises(SpeechError) as refused:
        decode(note, max_seconds=60)
    assert refused.value.problem == "too_long"
    assert decode(streamed_webm(5), max_seconds=60).seconds == pytest.approx(5, abs=0.05)


def test_a_note_of_exactly_the_cap_is_heard() -> None:
    assert decode(encode_voice_note(tone(60)), max_seconds=60).seconds == pytest.approx(60, abs=0.05)
