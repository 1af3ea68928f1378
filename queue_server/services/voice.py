"""Spoken announcements from recorded clips: one WAV per word, joined on the server.

An office can replace any clip with a human recording (same file name, any 16-bit WAV);
the default set is generated once by espeak-ng's Vietnamese voice, word by word, with the
gain lowered so nothing clips. Joined announcements are cached in memory.
"""
from __future__ import annotations

import array
import hashlib
import io
import math
import re
import shutil
import subprocess
import threading
import unicodedata
import wave
from collections import OrderedDict
from pathlib import Path

from ..domain.errors import Unavailable
from ..domain.speech import DEFAULT_TEMPLATE, DIGITS, LETTERS, Reading, announcement

RATE = 22050
PAUSE_S = {",": 0.18, "word": 0.04, "repeat": 0.7}
ESPEAK_VOICES = {"north": "vi", "south": "vi-vn-x-south", "central": "vi-vn-x-central"}

# Every word the number reading, the letter names and the default phrases can say.
BASE_WORDS = sorted(set(DIGITS) | {"mười", "mươi", "mốt", "tư", "lăm", "trăm", "nghìn", "ngàn", "linh", "lẻ"}
                    | {w for name in LETTERS.values() for w in name.split()}
                    | set("xin mời công dân có số thứ tự đến quầy khách hàng".split()))


class ClipMissing(Unavailable):
    """A word has no clip: the board falls back to the next engine and the admin is told."""


def clip_name(word: str) -> str:
    """The file a word's clip lives in: "mươi" → "mươi.wav" (NFC, lower case)."""
    return unicodedata.normalize("NFC", word).lower() + ".wav"


def words_of(text: str) -> list[str]:
    """Words and pauses ("," ) of a sentence, in order."""
    return re.findall(r"[^\s,.;:!?]+|[,.;:!?]", unicodedata.normalize("NFC", text).lower())


def _trim(samples: array.array, threshold: int = 350, margin: int = int(RATE * 0.02)) -> array.array:
    start = next((i for i, s in enumerate(samples) if abs(s) > threshold), len(samples))
    end = next((i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold), -1)
    if end < start:
        return array.array("h")
    return samples[max(0, start - margin): min(len(samples), end + margin + 1)]


def _read_wav(path: Path) -> array.array:
    """A clip as 16-bit mono samples at RATE, whatever rate or channel count it was recorded in."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path.name}: clips must be 16-bit PCM WAV")
        channels, rate = w.getnchannels(), w.getframerate()
        samples = array.array("h", w.readframes(w.getnframes()))
    if channels > 1:
        samples = array.array("h", (sum(samples[i:i + channels]) // channels
                                    for i in range(0, len(samples), channels)))
    if rate != RATE:                        # linear resampling: clips are short
        step = rate / RATE
        count = int(len(samples) / step)
        samples = array.array("h", (samples[min(int(i * step), len(samples) - 1)] for i in range(count)))
    return _trim(samples)


def chime() -> array.array:
    """Two soft bell tones (E6 then C6), our own synthesis."""
    out = array.array("h")
    for freq, dur in ((1318.5, 0.35), (1046.5, 0.6)):
        n = int(RATE * dur)
        for i in range(n):
            t = i / RATE
            envelope = min(1.0, i / (RATE * 0.01)) * math.exp(-3.2 * t)
            value = envelope * (0.6 * math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t))
            out.append(int(9000 * value))
    return out


def silence(seconds: float) -> array.array:
    return array.array("h", bytes(2 * int(RATE * seconds)))


def to_wav(samples: array.array) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()


def generate_clips(folder: Path, words: list[str] = BASE_WORDS, dialect: str = "north",
                   overwrite: bool = False) -> int:
    """Writes a clip per word with espeak-ng (absent from the folder, or all with overwrite)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng)")
    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    for word in words:
        target = folder / clip_name(word)
        if target.exists() and not overwrite:
            continue
        # -a 80: espeak's default gain peaks near clipping.
        subprocess.run([espeak, "-v", ESPEAK_VOICES[dialect], "-a", "80", "-s", "150", "-w", str(target), word],
                       check=True, capture_output=True, timeout=30)
        made += 1
    return made


class ClipVoice:
    """Joins clips into one WAV per announcement; clips and results are cached in memory."""

    def __init__(self, folder: Path, cache_bytes: int = 16 * 1024 * 1024) -> None:
        """`cache_bytes` bounds the joined announcements kept (each ≈ 0.7 MB): every board of a hall asks for
        a call's audio within seconds of each other, and a new sentence takes about a millisecond to join."""
        self.folder = folder
        self._clips: dict[str, array.array] = {}
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._lock = threading.Lock()
        self._chime = chime()

    def _clip(self, word: str) -> array.array:
        clip = self._clips.get(word)
        if clip is None:
            path = self.folder / clip_name(word)
            if not path.exists():
                raise ClipMissing(f"Thiếu tệp âm thanh cho từ «{word}» ({path}).",
                                  f"No voice clip for the word “{word}” ({path}).", code="clip_missing",
                                  details={"word": word})
            clip = _read_wav(path)
            self._clips[word] = clip
        return clip

    def warm(self) -> int:
        """Reads every clip of the folder now, so the first announcement of the day is as fast as the rest."""
        count = 0
        for path in sorted(self.folder.glob("*.wav")):
            word = path.name[:-4]
            if word not in self._clips:
                self._clips[word] = _read_wav(path)
                count += 1
        return count

    def missing(self, text: str) -> list[str]:
        return [w for w in words_of(text) if w not in PAUSE_S and not (self.folder / clip_name(w)).exists()]

    @staticmethod
    def key(text: str, repeat: int, with_chime: bool) -> str:
        return hashlib.sha256(f"{repeat}|{with_chime}|{text}".encode()).hexdigest()[:32]

    def render(self, text: str, repeat: int = 2, with_chime: bool = True) -> tuple[str, bytes]:
        """(cache key, WAV bytes): chime, then the phrase `repeat` times with a pause between."""
        key = self.key(text, repeat, with_chime)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return key, cached
        phrase = array.array("h")
        gap = silence(PAUSE_S["word"])
        for word in words_of(text):
            phrase.extend(silence(PAUSE_S[word]) if word in PAUSE_S else self._clip(word))
            phrase.extend(gap)
        out = array.array("h")
        if with_chime:
            out.extend(self._chime)
            out.extend(silence(0.25))
        for i in range(repeat):
            if i:
                out.extend(silence(PAUSE_S["repeat"]))
            out.extend(phrase)
        data = to_wav(out)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = data
                self._cached += len(data)
            while self._cached > self._cache_bytes and len(self._cache) > 1:
                self._cached -= len(self._cache.popitem(last=False)[1])
        return key, data

    def forget_clips(self) -> None:
        """After the office replaces clips: read them again."""
        with self._lock:
            self._clips.clear()
            self._cache.clear()
            self._cached = 0


def office_voice(settings: dict) -> tuple[Reading, str, int]:
    """The office's voice settings (reading, phrase template, repeat count), with defaults."""
    voice = settings.get("voice") or {}
    reading = Reading(dialect=voice.get("dialect", "north"), mode=voice.get("mode", "whole"),
                      keep_leading_zeros=bool(voice.get("keep_leading_zeros", False)),
                      four_as_tu=bool(voice.get("four_as_tu", True)))
    return reading, voice.get("template", DEFAULT_TEMPLATE), int(voice.get("repeat", 2))


def announcement_text(settings: dict, number: str, counter: int) -> str:
    reading, template, _ = office_voice(settings)
    return announcement(number, counter, reading, template)
