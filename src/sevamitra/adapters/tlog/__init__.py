"""The transparency log's outside world: note signing and verification (Ed25519), log storage."""
