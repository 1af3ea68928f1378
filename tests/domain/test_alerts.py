"""The live view's alert rules, table by table."""
from datetime import datetime, timedelta, timezone

import pytest

from queue_server.domain.alerts import DeviceState, ServiceWait, all_alerts, device_alerts, wait_alerts

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
GRACE = timedelta(seconds=60)


@pytest.mark.parametrize(("device", "codes"), [
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", True, NOW, True, "ok"), []),
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", True, NOW, True, "out"), ["paper_out"]),
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", True, NOW, True, "near_end"), ["paper_near_end"]),
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", True, NOW, False, "ok"), ["printer_offline"]),
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", True, NOW, False, "out"), ["paper_out"]),     # out goes offline too
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", False, NOW - timedelta(seconds=59), None, None), []),   # grace
    (DeviceState("kiosk-1", "Ki-ốt 1", "kiosk", False, NOW - timedelta(seconds=61), True, "out"), ["device_offline"]),
    (DeviceState("board-1", "Bảng 1", "display", False, NOW - timedelta(minutes=5)), ["device_offline"]),
    (DeviceState("tinh", "Một cửa tỉnh", "integrator", False, NOW - timedelta(days=3)), []),     # never connects
    (DeviceState("kiosk-9", "Ki-ốt 9", "kiosk", False, None), []),                              # never seen yet
])
def test_device_alerts(device: DeviceState, codes: list[str]) -> None:
    assert [a.code for a in device_alerts(device, NOW, GRACE)] == codes


def test_an_offline_device_says_for_how_long_in_both_languages() -> None:
    (alert,) = device_alerts(DeviceState("agent-1", "Tác tử 1", "agent", False, NOW - timedelta(minutes=3)),
                             NOW, GRACE)
    assert alert.message_vi == "«Tác tử 1» mất kết nối 3 phút." and alert.message_en.endswith("offline for 3 min.")


@pytest.mark.parametrize(("wait", "alerted"), [
    (None, False), (timedelta(minutes=30), False), (timedelta(minutes=30, seconds=1), True),
    (timedelta(hours=2), True),
])
def test_wait_alerts_over_the_threshold_only(wait: timedelta | None, alerted: bool) -> None:
    alerts = wait_alerts(ServiceWait("HOTICH", "Hộ tịch", 4, wait), timedelta(minutes=30))
    assert bool(alerts) is alerted
    if alerted:
        assert alerts[0].subject == "HOTICH" and "4 người đang chờ" in alerts[0].message_vi


def test_bad_alerts_come_before_warnings_and_reports_become_alerts() -> None:
    devices = [DeviceState("k1", "K1", "kiosk", True, NOW, True, "near_end"),
               DeviceState("k2", "K2", "kiosk", True, NOW, True, "out")]
    reports = [{"source": "server", "kind": "clip_missing", "detail": {"words": ["ép"]}},
               {"source": "board 10.0.0.7", "kind": "voice_fallback",
                "detail": {"wanted": "clips", "engine": "chime", "reason": "clip_missing"}}]
    alerts = all_alerts(devices, [ServiceWait("DATDAI", "Đất đai", 1, timedelta(hours=1))], reports, NOW, GRACE,
                        timedelta(minutes=30))
    assert [a.code for a in alerts] == ["paper_out", "paper_near_end", "long_wait", "clip_missing", "voice_fallback"]
    assert "ép" in alerts[3].message_vi and "board 10.0.0.7" in alerts[4].message_en
