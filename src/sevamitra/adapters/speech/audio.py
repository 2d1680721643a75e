"""Voice notes as samples and back, with PyAV (FFmpeg's libraries, bundled in its wheels).

`decode` turns whatever the citizen sent (WhatsApp's OGG/Opus, but also MP3, AAC, AMR or WAV) into
16 kHz mono float samples, refusing what is not audio and what runs past the cap without decoding
more than the cap. `encode_voice_note` makes the OGG/Opus that WhatsApp plays as a voice note.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from sevamitra.core.speech import SpeechError

RATE = 16_000  # what the recognisers take
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)  # what libopus accepts without resampling
VOICE_NOTE_BITS_PER_SECOND = 16_000
GRACE_SECONDS = 0.25  # codecs pad a clip's ends: a note of exactly the cap may decode a little longer


@dataclass(frozen=True, slots=True, kw_only=True)
class Clip:
    samples: np.ndarray  # float32, mono, RATE samples a second, in -1..1
    seconds: float


def decode(audio: bytes, *, max_seconds: float) -> Clip:
    """The audio as 16 kHz mono samples; `SpeechError("corrupt")` or `SpeechError("too_long")`."""
    limit = max_seconds + GRACE_SECONDS
    cap = int(limit * RATE)
    chunks: list[np.ndarray] = []
    count = 0
    try:
        with av.open(io.BytesIO(audio), mode="r") as container:
            if not container.streams.audio:
                raise SpeechError("corrupt", f"no audio in the {container.format.name} container")
            stream = container.streams.audio[0]
            if container.duration is not None and container.duration / av.time_base > limit:
                raise SpeechError("too_long", f"{container.duration / av.time_base:.0f} s")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    count += out.samples
                if count > cap:  # the container lied about (or did not say) its length
                    raise SpeechError("too_long", f"over {max_seconds:.0f} s")
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as error:
        raise SpeechError("corrupt", str(error)) from error
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if not samples.size:
        raise SpeechError("corrupt", "no samples")
    if samples.size > cap:
        raise SpeechError("too_long", f"over {max_seconds:.0f} s")
    return Clip(samples=samples, seconds=samples.size / RATE)


def encode_voice_note(samples: np.ndarray, rate: int = RATE) -> bytes:
    """Mono float samples (-1..1) at `rate` as an OGG/Opus voice note of about 16 kb/s."""
    pcm = np.clip(np.asarray(samples, dtype=np.float32).reshape(1, -1), -1.0, 1.0)
    frame = av.AudioFrame.from_ndarray(pcm, format="flt", layout="mono")
    frame.sample_rate = rate
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as container:
        # PyAV resamples and cuts the frame into the encoder's 20 ms packets
        stream = container.add_stream("libopus", rate=rate if rate in OPUS_RATES else 48_000, layout="mono")
        stream.bit_rate = VOICE_NOTE_BITS_PER_SECOND
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
