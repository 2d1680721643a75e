"""The atheris targets: the hypothesis fuzz tests' own bodies, fed bytes by libFuzzer instead.

Each target runs a fuzz test's checks (documented errors only, values that re-encode to their
bytes, ...) on one input; `coverage_guided` imports this module inside atheris' instrumentation of
the `sevamitra` package. A target's weight scales its runs, as `fuzz(weight=...)` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sevamitra.emulator.payloads import encode
from tests.fuzz import test_catalogue, test_certificates, test_payments, test_transparency, test_webhook
from tests.fuzz.seeds import payment_update, webhook_bodies


@dataclass(frozen=True, slots=True)
class Target:
    run: Callable[[bytes], None]
    seeds: Callable[[], Sequence[bytes]]
    weight: float = 1.0


def body(test: Any) -> Callable[..., None]:
    """The function under a fuzz test's `given`: its checks, without hypothesis."""
    inner: Callable[..., None] = test.hypothesis.inner_test
    return inner


def _text(test: Any) -> Callable[[bytes], None]:
    return lambda data: body(test)(data.decode("utf-8", "replace"))


certificates, transparency = test_certificates, test_transparency
TARGETS: dict[str, Target] = {
    "webhook": Target(body(test_webhook.test_split_update_of_mutated_bodies), webhook_bodies),
    "whatsapp_payments": Target(
        body(test_payments.test_whatsapp_payment_statuses),
        lambda: [encode(payment_update(paid=True)), encode(payment_update(paid=False))],
    ),
    "qr_text": Target(_text(certificates.test_verification_of_qr_text), certificates.text_seeds),
    "cose": Target(body(certificates.test_cose_sign1_decoder), lambda: [certificates.COSE, certificates.REVOCATIONS]),
    "revocation_list": Target(body(certificates.test_revocation_list_bytes), lambda: [certificates.REVOCATIONS]),
    "image_upload": Target(body(certificates.test_uploaded_image_scanner), certificates.image_seeds, 0.05),
    "checkpoint": Target(
        body(transparency.test_checkpoint_parser), lambda: [transparency.parse_note(transparency.NOTE).text]
    ),
    "signed_note": Target(body(transparency.test_signed_note_parser), lambda: [transparency.NOTE]),
    "tlog_proof": Target(body(transparency.test_tlog_proof_parser), lambda: [transparency.PROOF]),
    "log_entry": Target(body(transparency.test_log_entry_parser), lambda: transparency.ENTRIES),
    "tile_path": Target(
        _text(transparency.test_tile_path_parser), lambda: [path.encode() for path in transparency.TILE_PATHS]
    ),
    "entry_bundle": Target(
        body(transparency.test_entry_bundle_decoder), lambda: [transparency.encode_bundle(transparency.ENTRIES)]
    ),
    "witness": Target(body(transparency.test_witness_add_checkpoint), lambda: [transparency.ADD_REQUEST], 0.02),
    "catalogue_service": Target(
        lambda data: test_catalogue.load(test_catalogue.FILES[1], data),
        lambda: [test_catalogue.seeds()[test_catalogue.FILES[1]]],
        0.01,
    ),
}


def write_seeds(target: str, corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in TARGETS[target].seeds():
        (corpus / hashlib.sha256(seed).hexdigest()[:16]).write_bytes(seed)
