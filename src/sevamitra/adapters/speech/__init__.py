"""Voice notes in and out: decoding with PyAV, offline recognition (Whisper base, pocketsphinx), an
optional OpenAI-compatible remote recogniser and synthesiser, and espeak-ng for spoken replies."""
