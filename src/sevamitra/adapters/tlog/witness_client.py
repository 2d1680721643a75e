"""The log's side of C2SP tlog-witness: ask one witness to cosign a checkpoint.

The answer's cosignatures are parsed, not verified: the caller keeps the ones that verify under the
witness keys it trusts (`notes.verify_cosignature`) and ignores the rest, as the spec requires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from sevamitra.core.checkpoints import FormatError, NoteSignature, b64encode, parse_decimal, parse_note

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63


class WitnessError(Exception):
    """A witness that could not be reached, or refused the checkpoint; `status` is its HTTP status if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class Cosigned:
    """The witness cosigned: its signature lines over the checkpoint, unverified."""

    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """The witness holds a different latest size for the log; retry with a proof from `size`."""

    size: int


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: bytes) -> bytes:
    """`old <size>`, one base64 hash a line, an empty line, then the signed checkpoint note."""
    if old_size < 0:
        raise ValueError(f"old size {old_size} is negative")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes, not {len(proof)}")
    lines = [f"old {old_size}", *(b64encode(item) for item in proof)]
    return "".join(line + "\n" for line in lines).encode("ascii") + b"\n" + signed_checkpoint


def _summary(response: httpx.Response) -> str:
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase


async def request_cosignature(
    http: httpx.AsyncClient, url: str, old_size: int, proof: Sequence[bytes], signed_checkpoint: bytes
) -> Cosigned | Conflict:
    """POST the checkpoint to `<url>/add-checkpoint`; the cosignatures, or the size the witness holds."""
    endpoint = f"{url.rstrip('/')}/add-checkpoint"
    try:
        note = parse_note(signed_checkpoint)
    except FormatError as error:
        raise ValueError(f"the checkpoint to cosign is not a signed note: {error}") from None
    body = add_checkpoint_body(old_size, proof, signed_checkpoint)
    try:
        response = await http.post(endpoint, content=body)
    except httpx.HTTPError as error:
        raise WitnessError(f"witness {endpoint} could not be reached: {error!r}") from error
    status = response.status_code
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if status == 409 and media_type == SIZE_CONTENT_TYPE:
        try:
            return Conflict(size=parse_decimal(response.text.removesuffix("\n"), "witness tree size"))
        except FormatError as error:
            raise WitnessError(f"witness {endpoint} answered 409 with a bad size: {error}", status) from None
    if status != 200:
        raise WitnessError(f"witness {endpoint} refused the checkpoint ({status}): {_summary(response)}", status)
    try:
        cosigned = parse_note(note.text + b"\n" + response.content)
    except FormatError as error:
        raise WitnessError(f"witness {endpoint} answered 200 without signature lines: {error}", status) from None
    if cosigned.text != note.text:
        raise WitnessError(f"witness {endpoint} answered 200 with more than signature lines", status)
    return Cosigned(signatures=cosigned.signatures)
