"""The `motcua` command as an operator uses it, in a separate process with its own var/ folder."""
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from queue_server.persistence.database import Database
from queue_server.persistence.tables import counters, services, users

ROOT = Path(__file__).resolve().parent.parent


def motcua(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOTCUA_VAR": str(tmp_path), "SECRET_KEY": "x"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "queue_server", *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_upgrade_demo_users_and_tokens(tmp_path: Path) -> None:
    assert motcua(tmp_path, "db", "upgrade").returncode == 0
    assert "created" in motcua(tmp_path, "demo").stdout
    assert "kept as is" in motcua(tmp_path, "demo").stdout        # re-running keeps data
    db = Database(f"sqlite:///{tmp_path / 'motcua.db'}")
    with db.read() as conn:
        prefixes = list(conn.execute(sa.select(services.c.prefix).order_by(services.c.position)).scalars())
        assert prefixes == list("ABCDEFGH")
        assert list(conn.execute(sa.select(counters.c.number).order_by(counters.c.number)).scalars()) == [1, 2, 3, 4, 5]
        names = set(conn.execute(sa.select(users.c.username)).scalars())
        assert names == {"admin", "staff1", "staff2", "staff3", "staff4", "staff5"}
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    made = motcua(tmp_path, "user", "create", "officer9", "--role", "staff", "--counter", "3",
                  stdin="password-99\npassword-99\n")
    assert made.returncode == 0, made.stderr
    dup = motcua(tmp_path, "user", "create", "officer9", stdin="password-99\npassword-99\n")
    assert dup.returncode != 0 and "taken" in dup.stderr
    weak = motcua(tmp_path, "user", "create", "officer10", stdin="short\nshort\n")
    assert weak.returncode != 0 and "8 characters" in weak.stderr
    token = motcua(tmp_path, "device-token", "display", "board-1")
    assert token.returncode == 0 and len(token.stdout.strip()) >= 40
    bad = motcua(tmp_path, "device-token", "toaster", "x")
    assert bad.returncode != 0
    current, head = motcua(tmp_path, "db", "current").stdout.split(",")
    assert current.split()[-1] == head.split()[-1]
    db.dispose()


def test_a_second_office_and_a_province_admin(tmp_path: Path) -> None:
    assert motcua(tmp_path, "db", "upgrade").returncode == 0 and motcua(tmp_path, "demo").returncode == 0
    made = motcua(tmp_path, "office", "create", "hoabinh2", "--name", "Trung tâm Phục vụ hành chính công xã Hòa Bình",
                  "--agency-code", "000.00.13.H56")
    assert made.returncode == 0 and "office hoabinh2 created" in made.stdout, made.stderr
    again = motcua(tmp_path, "office", "create", "hoabinh2", "--name", "X")
    assert again.returncode == 1 and "taken" in again.stderr and "Traceback" not in again.stderr
    bad = motcua(tmp_path, "office", "create", "hb3", "--name", "Y", "--timezone", "Mars/Olympus")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    pw = "password-99\npassword-99\n"
    made = motcua(tmp_path, "user", "create", "admin2", "--role", "admin", "--office", "hoabinh2", stdin=pw)
    assert made.returncode == 0, made.stderr
    assert motcua(tmp_path, "user", "create", "tinh", "--role", "admin", "--province", stdin=pw).returncode == 0
    typo = motcua(tmp_path, "user", "create", "lost", "--role", "admin", "--office", "hoabinh3", stdin=pw)
    assert typo.returncode == 1 and "Office not found" in typo.stderr     # not a province account by mistake
    staff = motcua(tmp_path, "user", "create", "x1", "--province", stdin=pw)
    assert staff.returncode == 1 and "--province" in staff.stderr
    db = Database(f"sqlite:///{tmp_path / 'motcua.db'}")
    with db.read() as conn:
        homes = dict(conn.execute(sa.select(users.c.username, users.c.office_id)
                                  .where(users.c.username.in_(["admin2", "tinh", "lost", "x1"]))).all())
    db.dispose()
    assert homes["admin2"] is not None and homes["tinh"] is None and set(homes) == {"admin2", "tinh"}


def test_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "from queue_server import create_app; create_app()"],
                          env={**os.environ, "MOTCUA_VAR": str(tmp_path), "SECRET_KEY": "x"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "motcua db upgrade" in done.stderr


def test_dossier_import_command(tmp_path: Path) -> None:
    assert motcua(tmp_path, "db", "upgrade").returncode == 0
    export = tmp_path / "hoso.json"
    export.write_text('[{"MaHoSo": "000.00.12.H56-250915-0007", "TenTTHC": "Đăng ký khai sinh", '
                      '"NgayTiepNhan": "20250915081000", "NgayHenTra": "20250922170000", "TrangThaiHoSo": 4},'
                      ' {"MaHoSo": "sai-ma"}]', encoding="utf-8")
    done = motcua(tmp_path, "dossiers", "import", str(export))
    assert done.returncode == 0 and "1 created, 0 updated, 1 rejected" in done.stdout
    assert "1 created" not in motcua(tmp_path, "dossiers", "import", str(export)).stdout   # the second run updates
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert motcua(tmp_path, "dossiers", "import", str(broken)).returncode != 0


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    env = {**os.environ, "MOTCUA_VAR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "queue_server", *args], env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    assert run("db", "upgrade").returncode == 0 and run("demo").returncode == 0
    (tmp_path / "backups").mkdir()
    done = run("backup", str(tmp_path / "backups"), "--keep", "3")
    assert done.returncode == 0 and done.stdout.startswith("backup ")
    (copy,) = [p for p in (tmp_path / "backups").iterdir() if p.suffix == ".db"]
    refused = run("restore", str(copy))                         # the database holds data: --force needed
    assert refused.returncode == 1 and "Error:" in refused.stderr and "Traceback" not in refused.stderr
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'new.db'}"
    restored = run("restore", str(copy))
    assert restored.returncode == 0 and restored.stdout.startswith("restored ")
    with Database(env["DATABASE_URL"]).read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 6
