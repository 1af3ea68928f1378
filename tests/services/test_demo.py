"""The demo office's dossiers: one of each stage a citizen meets at the kiosk, loaded once."""
from __future__ import annotations

import sqlalchemy as sa

from queue_server.persistence.tables import dossiers
from queue_server.services.demo import load_demo_dossiers


def test_the_demo_dossiers_cover_the_stages_a_citizen_sees_and_load_once(app, clock) -> None:  # noqa: ANN001
    svc = app.extensions["motcua"]
    loaded = load_demo_dossiers(svc.db, svc.dossiers, clock)
    codes = [code for code, _ in loaded]
    assert [stage for _, stage in loaded] == ["being processed", "result ready at counter 5",
                                              "late, with an apology and a new date", "waiting for a supplement",
                                              "result handed over"]
    seen = [svc.dossiers.lookup(code, "vi", "api", None, None) for code in codes]
    assert [d["status"] for d in seen] == [4, 9, 4, 5, 10]
    processing, ready, late, supplement, handed_over = seen
    assert processing["status_text"] == "Đang giải quyết" and not processing["overdue"]
    assert ready["status_text"] == "Đã có kết quả — mời nhận tại quầy số 5" and ready["bucket"] == "truoc_han"
    assert late["overdue"] and late["apology_new_date"] > clock.now().isoformat()
    assert supplement["status_text"] == "Chờ bổ sung hồ sơ" and not supplement["overdue"]
    assert handed_over["status_text"] == "Đã trả kết quả"
    assert all(d["owner"].endswith(("A", "B", "C", "D", "E")) and "*" in d["owner"] for d in seen)   # masked
    assert load_demo_dossiers(svc.db, svc.dossiers, clock) == loaded                 # a second run adds none
    with svc.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar() == 5
