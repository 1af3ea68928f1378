"""Language choice for pages and API messages: Vietnamese first, English on request."""
from __future__ import annotations

from flask import g, request

LANGS = ("vi", "en")


def request_lang() -> str:
    """?lang= wins, then the `lang` cookie, then Accept-Language; Vietnamese by default."""
    cached = getattr(g, "lang", None)
    if cached:
        return cached
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang not in LANGS:
        best = request.accept_languages.best_match(LANGS)
        lang = best if best == "en" and not request.accept_languages.best_match(["vi"]) else "vi"
    g.lang = lang
    return lang


# Page texts: every citizen- or staff-facing string exists in Vietnamese and English.
TEXTS: dict[str, tuple[str, str]] = {
    "app_name": ("Một Cửa Queue", "Một Cửa Queue"),
    "tagline": ("Hệ thống xếp hàng và ki-ốt tự phục vụ cho Bộ phận Một cửa",
                "Queue and self-service kiosks for one-stop offices"),
    "counter_console": ("Bàn làm việc tại quầy", "Counter console"),
    "api_doc": ("Tài liệu API (OpenAPI)", "API document (OpenAPI)"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "track_title": ("Theo dõi số thứ tự", "Track your number"),
    "ticket_not_found": ("Không tìm thấy phiếu. Vui lòng kiểm tra lại mã QR trên phiếu.",
                         "Ticket not found. Please check the QR code on your ticket."),
    "service": ("Dịch vụ", "Service"),
    "people_ahead": ("Số người chờ trước", "People ahead"),
    "estimated_wait": ("Thời gian chờ dự kiến", "Estimated wait"),
    "please_go_to": ("Mời đến quầy số", "Please go to counter"),
    "status_waiting": ("Đang chờ gọi số", "Waiting to be called"),
    "status_called": ("Đang được gọi", "Being called"),
    "status_finished": ("Đã phục vụ xong. Xin cảm ơn!", "Served. Thank you!"),
    "status_no_show": ("Đã gọi nhưng vắng mặt. Vui lòng liên hệ quầy.",
                       "Called but absent. Please speak to a counter."),
    "status_transferred": ("Đã chuyển sang dịch vụ khác, vui lòng chờ gọi tiếp.",
                           "Moved to another service; please wait to be called."),
    "status_expired": ("Phiếu đã hết hiệu lực.", "This ticket has expired."),
    "live_offline": ("Mất kết nối — đang kết nối lại…", "Connection lost — reconnecting…"),
    "dossier_title": ("Tra cứu hồ sơ", "Dossier status"),
    "dossier_code": ("Mã hồ sơ", "Dossier code"),
    "dossier_owner": ("Người nộp", "Applicant"),
    "dossier_procedure": ("Thủ tục", "Procedure"),
    "dossier_received": ("Ngày tiếp nhận", "Received"),
    "dossier_appointment": ("Ngày hẹn trả", "Return date"),
    "dossier_new_date": ("Ngày hẹn trả mới", "New return date"),
    "dossier_late": ("Trễ hạn", "Late"),
    "dossier_postal": ("Kết quả được gửi qua bưu chính", "The result is sent by post"),
    "dossier_steps": ("Các bước gần đây", "Recent steps"),
    "admin_nav": ("Quản trị", "Administration"),
    "admin_settings": ("Cấu hình", "Settings"),
    "admin_reports": ("Báo cáo", "Reports"),
    "admin_live": ("Giám sát trực tiếp", "Live view"),
    "admin_audit": ("Nhật ký thay đổi", "Change log"),
    "admin_read_only": ("Bạn đang xem với quyền lãnh đạo: chỉ xem, không sửa.",
                        "You are viewing as a supervisor: read only."),
    "admin_forbidden_title": ("Không có quyền truy cập", "Access denied"),
    "admin_forbidden": ("Trang này chỉ dành cho quản trị viên và lãnh đạo đơn vị.",
                        "This page is for administrators and supervisors only."),
    "role_admin": ("Quản trị viên", "Administrator"),
    "role_supervisor": ("Lãnh đạo", "Supervisor"),
    "role_staff": ("Cán bộ", "Staff"),
    "wait_under_minute": ("Dưới 1 phút", "Under 1 minute"),      # the kiosk's and the tracking page's (wait.js)
    "wait_minutes": ("Khoảng {m} phút", "About {m} min"),
    "wait_hours": ("Khoảng {h} giờ {m} phút", "About {h} h {m} min"),
    "error_code": ("Mã lỗi", "Error"),
    "error_hint_404": ("Vui lòng kiểm tra lại địa chỉ đã nhập, hoặc quét lại mã QR trên phiếu.",
                       "Please check the address you typed, or scan the QR code on your ticket again."),
    "error_home": ("Về trang đầu", "Go to the start page"),
    "session_ended": ("Phiên đăng nhập đã kết thúc (mật khẩu đã đổi, tài khoản bị khóa hoặc đã đăng xuất). "
                      "Vui lòng đăng nhập lại; nếu không được, hãy liên hệ quản trị viên.",
                      "Your sign-in has ended (the password changed, the account was locked, or you signed out). "
                      "Please sign in again; if that fails, contact the administrator."),
    "login_expired": ("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
                      "The sign-in form had expired. Please sign in again."),
}


def t(key: str) -> str:
    vi, en = TEXTS[key]
    return en if request_lang() == "en" else vi


def both(key: str) -> tuple[str, str]:
    """A text in both languages, Vietnamese first, for pages that show both at once (error pages)."""
    return TEXTS[key]
