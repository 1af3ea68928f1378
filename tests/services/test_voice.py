"""Announcement audio joined from clips: real espeak-ng clips, real WAV files."""
import array
import io
import shutil
import wave
from pathlib import Path

import pytest

from queue_server.domain.speech import announcement
from queue_server.services.voice import (
    RATE,
    ClipMissing,
    ClipVoice,
    _read_wav,
    chime,
    clip_name,
    generate_clips,
    words_of,
)
from tests.socket_events import received

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="!!! espeak-ng is missing (scripts/install-system-deps.sh) — voice SKIPPED !!!")


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("voice")
    assert generate_clips(folder) > 50
    return folder


def duration(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return w.getnframes() / RATE


def test_joined_wav_lasts_as_long_as_its_parts(clips: Path) -> None:
    voice = ClipVoice(clips)
    text = announcement("A025", 3)
    _, data = voice.render(text, repeat=1, with_chime=False)
    words = [w for w in words_of(text) if w != ","]
    expected = sum(len(_read_wav(clips / clip_name(w))) for w in words) / RATE
    expected += 0.04 * len(words_of(text)) + 0.18 * words_of(text).count(",")
    assert duration(data) == pytest.approx(expected, abs=0.01)
    _, twice = voice.render(text, repeat=2, with_chime=True)
    assert duration(twice) == pytest.approx(len(chime()) / RATE + 0.25 + 2 * duration(data) + 0.7, abs=0.01)


def test_clips_are_not_clipped_and_not_silent(clips: Path) -> None:
    samples = _read_wav(clips / clip_name("mươi"))
    assert len(samples) > RATE * 0.1
    peak = max(abs(s) for s in samples)
    assert 1000 < peak < 32767


def test_cache_returns_the_same_audio(clips: Path) -> None:
    voice = ClipVoice(clips)
    first = voice.render(announcement("B117", 5))
    assert voice.render(announcement("B117", 5)) == first
    assert voice.render(announcement("B118", 5))[0] != first[0]


def test_missing_clip_is_reported(clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(clips, folder)
    (folder / clip_name("lăm")).unlink()
    voice = ClipVoice(folder)
    text = announcement("A025", 3)
    assert voice.missing(text) == ["lăm"]
    with pytest.raises(ClipMissing) as info:
        voice.render(text)
    assert info.value.code == "clip_missing" and "lăm" in info.value.message_vi


def test_a_human_recording_in_another_format_replaces_a_clip(clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "human"
    shutil.copytree(clips, folder)
    tone = array.array("h", [(8000 if (i // 40) % 2 else -8000) for i in range(44100)] * 2)   # 1 s, stereo
    with wave.open(str(folder / clip_name("quầy")), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(tone.tobytes())
    samples = _read_wav(folder / clip_name("quầy"))
    assert abs(len(samples) - RATE) < RATE * 0.05          # resampled to one second at our rate
    ClipVoice(folder).render(announcement("C001", 1))


def test_preview_api(client, app, clips: Path) -> None:  # noqa: ANN001
    app.extensions["motcua"].voice.folder = clips
    r = client.get("/api/v1/announcements/preview?number=A025&counter=3")
    assert r.status_code == 200
    assert r.json["text"] == "Xin mời công dân có số thứ tự a, hai mươi lăm đến quầy số ba"
    assert r.json["missing_clips"] == []
    audio = client.get(r.json["audio_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and duration(audio.data) > 3
    for bad in ("number=ABCD&counter=3", "number=A12345&counter=3", "number=A025&counter=0", "counter=3"):
        r = client.get("/api/v1/announcements/preview?" + bad)
        assert r.status_code == 422, bad


def test_calls_carry_the_sentence(client, api) -> None:  # noqa: ANN001
    from queue_server.sockets import socketio
    board = socketio.test_client(client.application)
    received(board)
    client.post("/api/v1/tickets", json={"service": "DATDAI"})
    client.post("/api/v1/counters/3/call-next", headers=api.headers("staff3"))
    (called,) = [m["args"][0] for m in received(board) if m["name"] == "ticket_called"]
    assert called["announcement"] == "Xin mời công dân có số thứ tự dê, một đến quầy số ba"


def test_audio_repeat_and_revalidation(client, app, clips: Path) -> None:  # noqa: ANN001
    app.extensions["motcua"].voice.folder = clips
    twice = client.get("/api/v1/announcements/audio?number=A025&counter=3")
    once = client.get("/api/v1/announcements/audio?number=A025&counter=3&repeat=1")
    assert duration(once.data) < duration(twice.data)
    assert twice.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/v1/announcements/audio?number=A025&counter=3",
                       headers={"If-None-Match": twice.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/api/v1/announcements/audio?number=A025&counter=3&repeat=9").status_code == 422
    assert client.get("/api/v1/display/state").json["voice"] == {"engine": "clips", "repeat": 2}


def test_the_announcement_cache_keeps_to_its_byte_budget(clips: Path) -> None:
    voice = ClipVoice(clips, cache_bytes=2_000_000)
    sizes = [len(voice.render(announcement(f"A{n:03d}", 1))[1]) for n in range(1, 9)]
    assert sum(sizes) > 2_000_000                                  # more than fits
    assert voice._cached <= 2_000_000 and voice._cached == sum(len(d) for d in voice._cache.values())
    key, again = voice.render(announcement("A008", 1))             # the newest is still there
    assert key in voice._cache and again is voice._cache[key]
    assert voice.key(announcement("A001", 1), 2, True) not in voice._cache   # the oldest went first
