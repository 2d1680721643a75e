"""Writes the SYNTHETIC voice-note test set: `evaluation/voice/clips/*.ogg` and `evaluation/voice/set.tsv`.

Each utterance is something a citizen might say in a voice note, with the service it asks for. It is
spoken by Debian's `espeak-ng` (en-us and en-gb for English, hi, te) at varied speed and pitch; a share
of the clips gets white or babble noise (reversed speech of other clips of the set, so nothing in it is
intelligible) at 20 or 10 dB SNR. Clips are encoded as WhatsApp voice notes are: OGG/Opus, 16 kb/s.

The texts are written for this set, apart from the assistant's text set in `evaluation/nlu/`: the script
refuses a line that is also there, and a service id the catalogue lacks. Fixed seeds and stream serial
numbers: the same espeak-ng and FFmpeg give the same files, byte for byte.

    .venv/bin/python scripts/make_voice_set.py
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.speech.audio import encode_voice_note

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "voice"
NLU_SET = ROOT / "evaluation" / "nlu"
RATE = 16_000
SEED = 20_260_601
PADDING_SECONDS = 0.3  # silence (or noise alone) before and after the speech, as in a real note
SPEEDS = (130, 145, 160, 175, 190)  # espeak-ng words per minute
PITCHES = (30, 40, 50, 60, 70)  # espeak-ng 0..99
# (kind, SNR dB) with their weights: half the clips clean, the rest noisy.
NOISES: tuple[tuple[str | None, int, int], ...] = (
    (None, 0, 4),
    ("white", 20, 1),
    ("white", 10, 1),
    ("babble", 20, 1),
    ("babble", 10, 1),
)
VOICES = {"en": ("en-us", "en-gb"), "hi": ("hi",), "te": ("te",)}

Samples = npt.NDArray[np.float32]

# (language, expected service id, what the citizen says)
UTTERANCES: tuple[tuple[str, str, str], ...] = (
    ("en", "municipal.property-tax-payment", "I want to pay my property tax"),
    ("en", "municipal.property-tax-payment", "how can I pay the property tax for my house online"),
    ("en", "revenue.income-certificate", "income certificate"),
    ("en", "revenue.income-certificate", "my daughter needs an income certificate"),
    ("en", "civil-supplies.new-rice-card", "how do I get a new rice card"),
    ("en", "civil-supplies.new-rice-card", "we do not have a rice card, please help us apply for one"),
    ("en", "revenue.integrated-certificate", "I need a caste certificate"),
    ("en", "revenue.integrated-certificate", "caste certificate for my son's school"),
    ("en", "municipal.birth-certificate", "I want my son's birth certificate"),
    ("en", "municipal.birth-certificate", "how to download a birth certificate"),
    ("en", "municipal.death-certificate", "my father passed away and I need his death certificate"),
    ("en", "social-welfare.old-age-pension", "old age pension for my mother"),
    ("en", "social-welfare.old-age-pension", "my grandfather is seventy years old, can he get the old age pension"),
    ("en", "social-welfare.widow-pension", "I want to apply for the widow pension"),
    ("en", "transport.driving-licence", "I want to get a driving licence"),
    ("en", "transport.learners-licence", "how do I apply for a learner's licence"),
    ("en", "municipal.water-tap-connection", "how do I get a new water tap connection for our house"),
    ("en", "municipal.water-tap-connection", "we need a drinking water tap connection at home"),
    ("en", "municipal.street-light-not-working", "the street light in our lane is not working"),
    ("en", "municipal.street-light-not-working", "street lights are off in our colony for three days"),
    ("en", "municipal.garbage-not-lifted", "nobody has collected the garbage in our street for a week"),
    ("en", "revenue.residence-certificate", "I need a residence certificate"),
    ("en", "registration.encumbrance-certificate", "encumbrance certificate for my land"),
    ("en", "elections.form-6-new-voter", "I turned eighteen and want to register as a new voter"),
    ("en", "civil-supplies.rice-card-status", "what is the status of my rice card application"),
    ("en", "civil-supplies.add-member", "please add my wife's name to our rice card"),
    ("en", "municipal.marriage-registration", "we want to register our marriage at the municipality"),
    ("en", "apsrtc.student-bus-pass", "how can my son get a student bus pass"),
    ("en", "police.cyber-crime-complaint", "someone cheated me online, I want to file a cyber crime complaint"),
    ("en", "police.missing-mobile-report", "I lost my mobile phone in the market"),
    ("en", "municipal.trade-licence-new", "I am opening a shop and need a trade licence"),
    ("en", "social-welfare.disability-pension", "disability pension for my brother"),
    ("en", "agriculture.soil-health-card", "I want a soil health card for my farm"),
    ("en", "municipal.drain-blockage", "the drain near our house is blocked and overflowing"),
    ("en", "municipal.no-water-supply", "there is no water supply in our area since yesterday"),
    ("en", "revenue.ews-certificate", "how to apply for the economically weaker section certificate"),
    ("en", "identity.pan-correction", "PAN card correction, my name is spelled wrong"),
    ("en", "transport.duplicate-rc", "I lost the RC of my bike, I need a duplicate"),
    ("en", "municipal.building-permission", "I need building permission to construct a house"),
    ("en", "police.tenant-verification", "police verification of my new tenant"),
    ("en", "social-welfare.post-matric-scholarship", "how to apply for the post matric scholarship"),
    ("en", "rural-water-supply.water-tanker-request", "please send a water tanker to our village"),
    ("en", "energy.name-transfer", "transfer the electricity connection to my name"),
    ("en", "municipal.water-bill-payment", "I want to pay my water bill"),
    ("en", "school-education.ssc-duplicate-memo", "I lost my tenth class marks memo, how to get a duplicate"),
    ("en", "municipal.mosquito-menace", "there are too many mosquitoes in our area"),
    ("en", "elections.form-8-correction", "correction in my voter ID card details"),
    ("en", "police.traffic-echallan-payment", "how do I pay my traffic challan"),
    ("en", "civil-supplies.deepam-new-connection", "I want a new gas connection under the deepam scheme"),
    ("en", "agriculture.crop-insurance-enrolment", "how do I enrol for crop insurance this season"),
    ("en", "municipal.fallen-tree-removal", "a tree fell on the road after the storm, please remove it"),
    ("en", "transport.dl-renewal", "my driving licence has expired, I want to renew it"),
    ("en", "revenue.obc-certificate", "I need an OBC certificate for a central government job"),
    ("en", "police.complaint-petition", "I want to give a complaint to the police"),
    ("en", "housing.house-site-patta", "I want a house site patta, we have no land of our own"),
    ("en", "health.blood-availability", "is blood available in the government hospital blood bank"),
    ("en", "civil-supplies.fair-price-shop-complaint", "the ration shop dealer is not giving us rice"),
    ("en", "municipal.death-certificate", "death certificate"),
    ("en", "revenue.income-certificate", "please tell me how to get an income certificate"),
    ("en", "social-welfare.pension-status", "my pension has not come this month, what is the status"),
    ("hi", "revenue.integrated-certificate", "मुझे जाति प्रमाण पत्र चाहिए"),
    ("hi", "revenue.income-certificate", "आय प्रमाण पत्र के लिए आवेदन करना है"),
    ("hi", "civil-supplies.new-rice-card", "नया राशन कार्ड कैसे बनवाएं"),
    ("hi", "social-welfare.old-age-pension", "मेरी माँ के लिए वृद्धावस्था पेंशन चाहिए"),
    ("hi", "municipal.birth-certificate", "बच्चे का जन्म प्रमाण पत्र चाहिए"),
    ("hi", "municipal.death-certificate", "पिताजी का मृत्यु प्रमाण पत्र बनवाना है"),
    ("hi", "municipal.property-tax-payment", "मुझे संपत्ति कर का भुगतान करना है"),
    ("hi", "transport.driving-licence", "ड्राइविंग लाइसेंस कैसे बनेगा"),
    ("hi", "municipal.water-tap-connection", "हमें नया पानी का नल कनेक्शन लेना है"),
    ("hi", "municipal.street-light-not-working", "हमारी गली की स्ट्रीट लाइट बंद है"),
    ("hi", "municipal.garbage-not-lifted", "कई दिनों से कचरा नहीं उठाया गया"),
    ("hi", "revenue.residence-certificate", "निवास प्रमाण पत्र बनवाना है"),
    ("hi", "social-welfare.widow-pension", "विधवा पेंशन के लिए आवेदन करना है"),
    ("hi", "apsrtc.student-bus-pass", "कॉलेज जाने के लिए छात्र बस पास चाहिए"),
    ("hi", "police.missing-mobile-report", "मेरा मोबाइल खो गया है"),
    ("hi", "police.cyber-crime-complaint", "साइबर अपराध की शिकायत दर्ज करनी है"),
    ("hi", "social-welfare.disability-pension", "मेरे भाई के लिए दिव्यांग पेंशन"),
    ("hi", "civil-supplies.add-member", "राशन कार्ड में पत्नी का नाम जोड़ना है"),
    ("hi", "elections.form-6-new-voter", "नया मतदाता पंजीकरण करवाना है"),
    ("hi", "municipal.water-bill-payment", "पानी का बिल भरना है"),
    ("hi", "police.tenant-verification", "किरायेदार का पुलिस सत्यापन करवाना है"),
    ("hi", "agriculture.soil-health-card", "खेत के लिए मृदा स्वास्थ्य कार्ड चाहिए"),
    ("hi", "municipal.drain-blockage", "हमारे घर के पास नाली जाम हो गई है"),
    ("hi", "registration.encumbrance-certificate", "ज़मीन का भार प्रमाण पत्र चाहिए"),
    ("hi", "municipal.mosquito-menace", "इलाके में मच्छरों का प्रकोप बढ़ गया है"),
    ("te", "revenue.income-certificate", "ఆదాయ ధృవీకరణ పత్రం కావాలి"),
    ("te", "revenue.integrated-certificate", "కుల ధృవీకరణ పత్రం కోసం దరఖాస్తు చేయాలి"),
    ("te", "civil-supplies.new-rice-card", "కొత్త రైస్ కార్డు కోసం దరఖాస్తు చేయాలి"),
    ("te", "social-welfare.old-age-pension", "మా అమ్మకు వృద్ధాప్య పింఛను కావాలి"),
    ("te", "municipal.property-tax-payment", "ఆస్తి పన్ను కట్టాలి"),
    ("te", "municipal.birth-certificate", "మా పాప జనన ధృవీకరణ పత్రం కావాలి"),
    ("te", "municipal.death-certificate", "మా నాన్నగారి మరణ ధృవీకరణ పత్రం కావాలి"),
    ("te", "transport.driving-licence", "డ్రైవింగ్ లైసెన్సు ఎలా తీసుకోవాలి"),
    ("te", "municipal.water-tap-connection", "ఇంటికి కొత్త నీటి కుళాయి కనెక్షన్ కావాలి"),
    ("te", "municipal.street-light-not-working", "మా వీధిలో వీధి దీపం వెలగడం లేదు"),
    ("te", "municipal.garbage-not-lifted", "వారం రోజులుగా చెత్త తీసుకెళ్లలేదు"),
    ("te", "revenue.residence-certificate", "నివాస ధృవీకరణ పత్రం కోసం దరఖాస్తు"),
    ("te", "social-welfare.widow-pension", "వితంతు పింఛను కోసం దరఖాస్తు చేయాలి"),
    ("te", "apsrtc.student-bus-pass", "మా అబ్బాయికి విద్యార్థి బస్ పాస్ కావాలి"),
    ("te", "police.missing-mobile-report", "నా మొబైల్ ఫోన్ పోయింది"),
    ("te", "social-welfare.disability-pension", "దివ్యాంగుల పింఛను కోసం ఏం చేయాలి"),
    ("te", "civil-supplies.add-member", "రైస్ కార్డులో నా భార్య పేరు చేర్చాలి"),
    ("te", "elections.form-6-new-voter", "కొత్తగా ఓటరుగా నమోదు చేసుకోవాలి"),
    ("te", "municipal.water-bill-payment", "నీటి బిల్లు చెల్లించాలి"),
    ("te", "agriculture.soil-health-card", "పొలానికి భూసార పరీక్ష కార్డు కావాలి"),
    ("te", "municipal.drain-blockage", "మా ఇంటి దగ్గర డ్రైనేజీ బ్లాక్ అయింది"),
    ("te", "registration.encumbrance-certificate", "భూమికి ఈసీ సర్టిఫికెట్ కావాలి"),
    ("te", "agriculture.crop-insurance-enrolment", "పంటల బీమా కోసం నమోదు చేసుకోవాలి"),
    ("te", "panchayat-raj.house-tax-payment", "ఇంటి పన్ను చెల్లించాలి"),
    ("te", "municipal.mosquito-menace", "మా కాలనీలో దోమల బెడద ఎక్కువగా ఉంది"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Variation:
    voice: str
    speed: int
    pitch: int
    noise: str | None
    snr_db: int

    def describe(self) -> str:
        noise = f"{self.noise} {self.snr_db} dB" if self.noise else "clean"
        return f"{self.voice} speed {self.speed} pitch {self.pitch} {noise}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        sys.stderr.write("make_voice_set: espeak-ng is missing (apt-get install espeak-ng)\n")
        return 2
    problems = _problems()
    if problems:
        sys.stderr.write("".join(f"{problem}\n" for problem in problems))
        return 1
    rng = random.Random(SEED)  # noqa: S311 (variety, not secrecy)
    variations = [_variation(rng, language) for language, _, _ in UTTERANCES]
    speech = [_synthesise(text, v) for (_, _, text), v in zip(UTTERANCES, variations, strict=True)]
    clips_dir = args.out / "clips"
    shutil.rmtree(clips_dir, ignore_errors=True)
    clips_dir.mkdir(parents=True)
    rows: list[tuple[str, str, str, str, str]] = []
    numbers: dict[str, int] = {}
    for index, ((language, expected, text), variation) in enumerate(zip(UTTERANCES, variations, strict=True)):
        samples = _padded(speech[index])
        if variation.noise:
            others = [s for i, s in enumerate(speech) if i != index and UTTERANCES[i][0] == language]
            noise = _white(rng, len(samples)) if variation.noise == "white" else _babble(rng, others, len(samples))
            samples = _mixed(samples, noise, variation.snr_db, speech_power=float(np.mean(speech[index] ** 2)))
        numbers[language] = numbers.get(language, 0) + 1
        name = f"{language}-{numbers[language]:03d}.ogg"
        (clips_dir / name).write_bytes(_with_serial(encode_voice_note(samples, RATE), len(rows) + 1))
        rows.append((f"clips/{name}", language, text, expected, variation.describe()))
    with (args.out / "set.tsv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(("file", "language", "text", "expected", "variation"))
        writer.writerows(rows)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    seconds = sum(len(_padded(s)) for s in speech) / RATE
    sys.stdout.write(f"{len(rows)} clips, {seconds:.0f} s of speech, {size / 1024:.0f} KiB in {args.out}\n")
    return 0


def _problems() -> list[str]:
    """Unknown service ids, and lines copied from the assistant's text set."""
    catalogue = load_catalogue(ROOT / "catalogue")
    problems = [f"no service {sid!r}" for _, sid, _ in UTTERANCES if catalogue.service(sid) is None]
    taken: set[str] = set()
    for path in NLU_SET.glob("*.tsv"):
        with path.open(encoding="utf-8", newline="") as f:
            taken.update(row["text"].strip().casefold() for row in csv.DictReader(f, delimiter="\t"))
    problems += [f"also in {NLU_SET.name}: {text!r}" for _, _, text in UTTERANCES if text.casefold() in taken]
    return problems


def _variation(rng: random.Random, language: str) -> Variation:
    noise, snr_db, _ = rng.choices(NOISES, weights=[w for _, _, w in NOISES])[0]
    return Variation(
        voice=rng.choice(VOICES[language]),
        speed=rng.choice(SPEEDS),
        pitch=rng.choice(PITCHES),
        noise=noise,
        snr_db=snr_db,
    )


def _synthesise(text: str, variation: Variation) -> Samples:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        command = ["espeak-ng", "-v", variation.voice, "-s", str(variation.speed), "-p", str(variation.pitch)]
        subprocess.run([*command, "-w", str(path), text], check=True, capture_output=True)  # noqa: S603
        data = path.read_bytes()
    with wave.open(io.BytesIO(data)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    samples = (np.frombuffer(frames, dtype="<i2") / 32768).astype(np.float32)
    return _resampled(samples, rate, RATE)


def _resampled(samples: Samples, rate: int, target: int) -> Samples:
    """Band-limited resampling in the frequency domain (espeak-ng speaks at 22,050 Hz)."""
    if rate == target:
        return samples
    count = round(len(samples) * target / rate)
    spectrum = np.fft.rfft(samples)[: count // 2 + 1]
    return (np.fft.irfft(spectrum, count) * (count / len(samples))).astype(np.float32)


def _padded(samples: Samples) -> Samples:
    pad = np.zeros(int(PADDING_SECONDS * RATE), dtype=np.float32)
    return np.concatenate([pad, samples, pad])


def _white(rng: random.Random, length: int) -> Samples:
    return np.random.default_rng(rng.getrandbits(32)).standard_normal(length).astype(np.float32)


def _babble(rng: random.Random, voices: list[Samples], length: int) -> Samples:
    """Several other clips of the set, reversed and overlapped at random offsets: talk nobody can follow."""
    mixed = np.zeros(length, dtype=np.float32)
    for speech in rng.sample(voices, k=min(5, len(voices))):
        looped = np.tile(speech[::-1], length // len(speech) + 2)
        start = rng.randrange(len(speech))
        mixed += looped[start : start + length]
    return mixed


def _mixed(speech: Samples, noise: Samples, snr_db: int, *, speech_power: float) -> Samples:
    """Noise at `snr_db` below the speech's power (measured without the padding), then kept from clipping."""
    noise_power = float(np.mean(noise**2)) or 1.0
    scaled = noise * np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    mixed: Samples = (speech + scaled).astype(np.float32)
    peak = float(np.max(np.abs(mixed)))
    return (mixed * np.float32(0.9 / peak)).astype(np.float32) if peak > 0.9 else mixed


def _with_serial(ogg: bytes, serial: int) -> bytes:
    """The Ogg stream with a fixed serial number (the muxer draws a random one), each page's CRC redone."""
    pages = bytearray(ogg)
    start = 0
    while start < len(pages):
        if pages[start : start + 4] != b"OggS":
            raise ValueError(f"no Ogg page at byte {start}")
        segments = pages[start + 26]
        end = start + 27 + segments + sum(pages[start + 27 : start + 27 + segments])
        pages[start + 14 : start + 18] = serial.to_bytes(4, "little")
        pages[start + 22 : start + 26] = bytes(4)
        pages[start + 22 : start + 26] = _ogg_crc(pages[start:end]).to_bytes(4, "little")
        start = end
    return bytes(pages)


def _ogg_crc(page: bytes | bytearray) -> int:
    """CRC-32 as Ogg computes it: polynomial 0x04C11DB7, not reflected, starting from zero."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


if __name__ == "__main__":
    raise SystemExit(main())
