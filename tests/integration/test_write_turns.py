"""On PostgreSQL a process lets only a few write transactions run at once; the rest wait their turn."""
from __future__ import annotations

import threading

from queue_server.persistence.database import Database


def test_writes_take_turns_and_a_nested_write_needs_no_second_turn(postgres_url: str) -> None:
    db = Database(postgres_url, writers=2)
    inside, peak, done = 0, 0, []
    count = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with db.write() as conn:
            with count:
                inside += 1
                peak = max(peak, inside)
            conn.exec_driver_sql("SELECT pg_sleep(0.05)")
            with db.write() as inner:            # with both turns taken, waiting here would never end
                inner.exec_driver_sql("SELECT 1")
            with count:
                inside -= 1
        done.append(True)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    db.dispose()
    assert len(done) == 8
    assert peak == 2


def test_a_failed_write_gives_its_turn_back(postgres_url: str) -> None:
    db = Database(postgres_url, writers=1)
    for _ in range(3):
        try:
            with db.write() as conn:
                conn.exec_driver_sql("SELECT * FROM no_such_table")
        except Exception:  # noqa: BLE001 - the failure itself is the point
            pass
    with db.write() as conn:                     # would wait forever if a turn had been kept
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    db.dispose()
