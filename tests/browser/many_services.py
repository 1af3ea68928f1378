"""Services a provincial centre adds to the demo office's eight (long names, as the procedures are called), for
the tests of pages that must stay readable with twenty tiles or rows and more."""
from __future__ import annotations

from tests.browser.test_display import Desk
from tests.server_process import ServerProcess

EXTRA_SERVICES = [
    # code, prefix, Vietnamese, English: 11 more make 19 with the demo's 8, 22 more make 30
    ("LLTP", "I", "Cấp phiếu lý lịch tư pháp", "Criminal record certificates"),
    ("GIAODUC", "J", "Giáo dục và Đào tạo", "Education and training"),
    ("LAODONG", "K", "Lao động - Thương binh và Xã hội", "Labour, invalids and social affairs"),
    ("MOITRUONG", "L", "Tài nguyên và Môi trường", "Natural resources and environment"),
    ("NONGNGHIEP", "M", "Nông nghiệp và Phát triển nông thôn", "Agriculture and rural development"),
    ("HTX", "N", "Đăng ký thành lập hộ kinh doanh và hợp tác xã", "Registering household businesses and cooperatives"),
    ("NGUOICOCONG", "O", "Chính sách người có công với cách mạng", "Policies for people with merit to the revolution"),
    ("VANHOA", "P", "Văn hóa, Thể thao và Du lịch", "Culture, sports and tourism"),
    ("KHCN", "Q", "Khoa học và Công nghệ", "Science and technology"),
    ("CONGTHUONG", "R", "Công thương", "Industry and trade"),
    ("NOIVU", "S", "Nội vụ", "Home affairs"),
    ("KEHOACH", "T", "Kế hoạch và Đầu tư", "Planning and investment"),
    ("TAICHINH", "U", "Tài chính", "Finance"),
    ("THONGTIN", "V", "Thông tin và Truyền thông", "Information and communications"),
    ("BHXH", "W", "Bảo hiểm xã hội", "Social insurance"),
    ("THUE", "X", "Thuế", "Taxes"),
    ("GIAOTHONG", "Y", "Giao thông vận tải", "Transport"),
    ("YTE", "Z", "Y tế", "Health"),
    ("DANTOC", "AA", "Dân tộc và Tôn giáo", "Ethnic and religious affairs"),
    ("TAINGUYENNUOC", "AB", "Tài nguyên nước và khoáng sản", "Water and mineral resources"),
    ("THUYLOI", "AC", "Thủy lợi và Phòng chống thiên tai", "Irrigation and disaster prevention"),
    ("KHIEUNAI", "AD", "Tiếp công dân, khiếu nại, tố cáo", "Citizen reception, complaints and denunciations"),
]


def add_services(server: ServerProcess, total: int) -> None:
    """Active services up to `total`, open all day like the demo's."""
    admin = Desk(server, "admin")
    status, body = admin._send("GET", "/api/v1/admin/services", token=admin.token)
    assert status == 200, body
    have = {s["code"] for s in body["services"] if s["active"]}
    hours = body["services"][0]["opening_hours"]
    for code, prefix, vi, en in EXTRA_SERVICES[:total - 8]:
        if code not in have:
            admin.post("/api/v1/admin/services", {"code": code, "prefix": prefix, "name_vi": vi, "name_en": en,
                                                  "opening_hours": hours})
