"""Announcements: the sentence a call makes, and its audio joined from the office's clips."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request

from ..services.health import CLIP_MISSING, SERVER
from ..services.offices import get_office
from ..services.voice import ClipMissing, announcement_text, office_voice
from . import endpoint, services
from .schemas import AnnouncementPreview, AnnouncementQuery, Error
from .tickets import resolve_office

_CLIPS_REPORTED: dict[int, set[str]] = {}   # office → words reported missing, until their clips are back


def _text(query: AnnouncementQuery) -> tuple[str, int, int]:
    svc = services()
    office_id = resolve_office(query.office) or svc.default_office_id()
    with svc.db.read() as conn:
        settings = get_office(conn, office_id).settings
    return announcement_text(settings, query.number, query.counter), office_voice(settings)[2], office_id


@endpoint("/announcements/preview", "GET", "The announcement of a number at a counter, and where to hear it",
          "announcements", query=AnnouncementQuery,
          responses={200: ("Text and audio address", AnnouncementPreview), 422: ("A number the voice cannot read",
                                                                                  Error)})
def preview(query: AnnouncementQuery):  # noqa: ANN201
    text, _, _ = _text(query)
    params = {"number": query.number, "counter": query.counter}
    if query.office:
        params["office"] = query.office
    return {"text": text, "audio_url": "/api/v1/announcements/audio?" + urlencode(params),
            "missing_clips": services().voice.missing(text)}


@endpoint("/announcements/audio", "GET", "The announcement as one WAV (chime, then the phrase, repeated)",
          "announcements", query=AnnouncementQuery,
          responses={200: ("audio/wav", None), 409: ("A clip is missing: use the browser's voice", Error),
                     422: ("A number the voice cannot read", Error)})
def audio(query: AnnouncementQuery):  # noqa: ANN201
    text, repeat, office_id = _text(query)
    try:
        key, data = services().voice.render(text, query.repeat or repeat)
    except ClipMissing as exc:
        word = exc.details.get("word")
        _CLIPS_REPORTED.setdefault(office_id, set()).add(word)
        services().health.report(office_id, SERVER, CLIP_MISSING, {"words": sorted(_CLIPS_REPORTED[office_id])})
        raise
    reported = _CLIPS_REPORTED.get(office_id)
    if reported and not services().voice.missing(" ".join(reported)):   # the clips are back: the alert goes
        del _CLIPS_REPORTED[office_id]
        services().health.report(office_id, SERVER, CLIP_MISSING, None)
    # no-cache: browsers keep the audio but ask again, so replaced clips are heard at once.
    headers = {"Cache-Control": "no-cache", "ETag": f'"{key}"'}
    if request.headers.get("If-None-Match") == f'"{key}"':
        return Response(status=304, headers=headers)
    return Response(data, mimetype="audio/wav", headers=headers)
