"""Ratings: one per visit, from the counter's tablet, a keypad, or the tracking page; officers' photos."""
from __future__ import annotations

from flask import Response, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..domain.errors import InvalidInput, Unauthorized
from ..errors import error_response
from ..identity import current_principal, staff_principal
from ..services.ratings import MAX_PHOTO_BYTES, staff_cannot_rate
from . import endpoint, services
from .schemas import Error, PhotoSaved, Rating, RatingCreate, RatingState, RatingStateQuery, TrackRating

FORM_OVERHEAD = 64 * 1024          # a multipart upload of a 2 MB photo is a little larger than 2 MB
PHOTO_MAX_AGE_S = 300              # an unversioned photo address; a versioned one never changes


def ratings():  # noqa: ANN201
    return services().ratings


def officer_json(officer: dict | None) -> dict | None:
    if officer is None:
        return None
    version = officer.get("photo_version")
    photo_url = url_for("api.get_user_photo", user_id=officer["id"], v=version) if version is not None else None
    return {"id": officer["id"], "full_name": officer["full_name"], "photo_url": photo_url}


@endpoint("/ratings", "POST", "Rate a visit: from the counter's rating device (ticket_id) or the tracking page "
          "(track_token)", "ratings", body=RatingCreate,
          responses={201: ("The rating", Rating), 401: ("A ticket_id needs a rating device token", Error),
                     403: ("Staff, or another counter's ticket", Error), 404: ("No such ticket", Error),
                     409: ("Already rated, not finished, or too late", Error), 422: ("Unknown level", Error)})
def create_rating(body: RatingCreate):  # noqa: ANN201
    principal = current_principal()
    if principal.is_user:
        raise staff_cannot_rate()
    if (body.ticket_id is None) == (body.track_token is None):
        raise InvalidInput("Cần đúng một trong hai: ticket_id (thiết bị đánh giá) hoặc track_token (trang theo dõi).",
                           "Give exactly one of ticket_id (rating device) or track_token (tracking page).",
                           code="ticket_or_token")
    if body.track_token is not None:
        if principal.is_device:
            raise InvalidInput("Thiết bị đánh giá gửi ticket_id, không gửi track_token.",
                               "A rating device sends ticket_id, not track_token.", code="ticket_or_token")
        return ratings().rate_by_token(body.track_token, body.level, body.reason), 201
    if not principal.is_device:
        raise Unauthorized("Cần mã thiết bị đánh giá của quầy.", "A rating device token is required.",
                           code="device_token_required")
    return ratings().rate_at_counter(principal, body.ticket_id, body.level, body.reason), 201


@endpoint("/rating/state", "GET", "What the counter's rating tablet shows: officer, the visit to ask about, the "
          "scale", "ratings", access="any", query=RatingStateQuery,
          responses={200: ("The tablet's state", RatingState), 401: ("No or invalid device token", Error),
                     403: ("Not a rating device, or another counter's", Error)})
def rating_state(query: RatingStateQuery):  # noqa: ANN201
    state = ratings().state(current_principal(), query.counter)
    state["officer"] = officer_json(state["officer"])
    return state


@endpoint("/ratings/track/<token>", "GET", "The rating offered on a ticket's tracking page", "ratings",
          responses={200: ("Open, rated, or why not", TrackRating), 404: ("No such ticket", Error)})
def track_rating(token: str):  # noqa: ANN201
    if not 8 <= len(token) <= 64:
        return error_response(404, "ticket_not_found", "Không tìm thấy phiếu.", "Ticket not found.")
    return ratings().track_state(token)


def _photo_too_large() -> Response:
    limit = MAX_PHOTO_BYTES // (1024 * 1024)
    return error_response(413, "photo_too_large", f"Ảnh lớn hơn {limit} MB. Vui lòng chọn ảnh nhỏ hơn.",
                          f"The photo is larger than {limit} MB. Please choose a smaller one.")


@endpoint("/users/<int:user_id>/photo", "PUT", "Set an officer's photo (admin): JPEG, PNG or WebP up to 2 MB, "
          "as the raw body or a multipart field `photo`", "ratings", access="admin",
          max_body=16 * MAX_PHOTO_BYTES,     # checked below, after the sign-in, with a clear message
          responses={200: ("Stored, resized to at most 512 px, as JPEG", PhotoSaved), 401: ("Not signed in", Error),
                     403: ("Not an admin", Error), 404: ("No such user", Error), 413: ("Larger than 2 MB", Error),
                     422: ("Not a JPEG, PNG or WebP image", Error)})
def put_user_photo(user_id: int):  # noqa: ANN201
    limit = MAX_PHOTO_BYTES + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        return _photo_too_large()
    request.max_content_length = limit
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("photo") or next(iter(request.files.values()), None)
            if upload is None:
                raise InvalidInput("Không có tệp ảnh trong biểu mẫu (trường «photo»).",
                                   "The form carries no photo file (field “photo”).", code="not_an_image")
            data = upload.stream.read(MAX_PHOTO_BYTES + 1)
        else:
            data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _photo_too_large()
    if len(data) > MAX_PHOTO_BYTES:
        return _photo_too_large()
    saved = ratings().set_photo(staff_principal(), user_id, data)
    saved["url"] = url_for("api.get_user_photo", user_id=user_id, v=saved["version"])
    return saved


@endpoint("/users/<int:user_id>/photo", "DELETE", "Remove an officer's photo (admin)", "ratings", access="admin",
          responses={204: ("Removed", None), 404: ("No such user or no photo", Error)})
def delete_user_photo(user_id: int):  # noqa: ANN201
    ratings().delete_photo(staff_principal(), user_id)
    return Response(status=204)


@endpoint("/users/<int:user_id>/photo", "GET", "An officer's photo, as the counter's tablet shows it (public)",
          "ratings", responses={200: ("JPEG", None), 304: ("Not modified", None), 404: ("No photo", Error)})
def get_user_photo(user_id: int):  # noqa: ANN201
    content_type, data, updated_at = ratings().photo(user_id)
    version = str(int(updated_at.timestamp()))
    response = Response(data, mimetype=content_type)
    response.set_etag(f"{user_id}-{version}")
    response.last_modified = updated_at
    # The tablet asks for ?v=<version>: that address always means the same picture.
    response.cache_control.public = True
    if request.args.get("v") == version:
        response.cache_control.max_age = 365 * 86400
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = PHOTO_MAX_AGE_S
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
