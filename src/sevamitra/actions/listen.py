"""Voice notes heard: fetched from the channel promptly (media ids expire), then transcribed.

The transcription itself runs off the event loop in the speech adapter's worker pool; what the
citizen is told about a problem (too long, expired, unreadable) is the engine's to say.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sevamitra.core.conversation import Heard, Transcribe
from sevamitra.core.filetypes import AUDIO, sniff
from sevamitra.core.messages import MediaError, MediaProblem
from sevamitra.core.ports import Messenger
from sevamitra.core.speech import SpeechError, SpeechProblem, SpeechToText

log = logging.getLogger(__name__)

AUDIO_MAX_BYTES = 16 * 1024 * 1024  # the channel's own limit on audio: larger is refused before download
AS_SPEECH: dict[MediaProblem, SpeechProblem] = {"gone": "expired", "too_large": "too_large", "failed": "unavailable"}

Listen = Callable[[Transcribe], Awaitable[Heard]]


def listener(messenger: Messenger, speech: SpeechToText, *, max_bytes: int = AUDIO_MAX_BYTES) -> Listen:
    """What a voice note said, or why it could not be heard; never raises."""

    async def listen(effect: Transcribe) -> Heard:
        try:
            audio, mime_type = await messenger.download_media(effect.media_id, max_bytes)
            if sniff(audio) not in AUDIO:  # by its bytes: anything else never reaches a decoder
                log.info("voice note %s is not audio", effect.media_id)
                return Heard(problem="corrupt")
            transcript = await speech.transcribe(audio, mime_type or effect.mime_type, effect.language)
        except MediaError as exc:
            log.info("voice note %s not fetched: %s", effect.media_id, exc)
            return Heard(problem=AS_SPEECH[exc.problem])
        except SpeechError as exc:
            log.info("voice note %s not transcribed: %s", effect.media_id, exc)
            return Heard(problem=exc.problem)
        except Exception:  # a backend's own failure: the citizen is asked to type, the log has why
            log.exception("voice note %s: the speech backend failed", effect.media_id)
            return Heard(problem="unavailable")
        return Heard(transcript=transcript)

    return listen
