"""`motcua`: database, demo data, users, device tokens, and running the server."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa

from . import config as settings
from . import logs
from .domain.clock import SystemClock
from .domain.errors import DomainError
from .domain.model import DeviceKind, Role
from .persistence import schema
from .persistence.database import Database
from .persistence.tables import offices
from .services.auth import AuthService
from .services.demo import DEMO_KIOSK, DEMO_OFFICE_CODE, DEMO_PASSWORD, STAFF, load_demo, load_demo_dossiers
from .startup import StartupError, check_message_queue, open_database


def _db() -> Database:
    return Database(settings.from_environment()["DATABASE_URL"])


@click.group()
def main() -> None:
    """Một Cửa Queue: queue management for one-stop administrative offices."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the current schema (keeps data)."""
    database = _db()
    schema.upgrade(database)
    click.echo(f"database at schema {schema.current_revision(database)}")


@db.command("current")
def db_current() -> None:
    database = _db()
    click.echo(f"current {schema.current_revision(database)}, head {schema.head_revision()}")


@main.command()
def demo() -> None:
    """Load the demo office (services A–H, counters 1–5, staff). Does nothing if present."""
    database = _db()
    schema.upgrade(database)
    created = load_demo(database, AuthService(database, SystemClock()))
    click.echo("demo office created" if created else "demo office already present; kept as is")


@main.group()
def user() -> None:
    """Staff accounts."""


@main.group()
def office() -> None:
    """The offices (centres) of this installation."""


@office.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Full Vietnamese name, as on the hall's sign")
@click.option("--name-en", default="")
@click.option("--address", default="")
@click.option("--timezone", default="Asia/Ho_Chi_Minh", show_default=True)
@click.option("--agency-code", default=None, help="Agency part of its dossier codes, e.g. 000.00.12.H56")
def office_create(code: str, name: str, name_en: str, address: str, timezone: str, agency_code: str | None) -> None:
    """An empty office: then `motcua user create … --office CODE --role admin` for its admin, who sets up
    services, counters and staff in /admin/settings."""
    from .services.container import QueueServices
    svc = QueueServices(_db(), SystemClock(), {})
    try:
        created = svc.admin.create_office({"code": code, "name": name, "name_en": name_en, "address": address,
                                           "timezone": timezone, "agency_code": agency_code})
    except DomainError as exc:
        raise click.ClickException(exc.message_en) from exc
    click.echo(f"office {created['code']} created: {created['name']}")


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="staff")
@click.option("--office", "office_code", default=None, help="Office code (default: the first office)")
@click.option("--province", is_flag=True,
              help="No office: an admin or supervisor of every office (names one with ?office=CODE)")
@click.option("--name", "full_name", default="")
@click.option("--counter", "counters", multiple=True, type=int, help="Counter number (repeatable)")
@click.password_option()
def user_create(username: str, role: str, office_code: str | None, province: bool, full_name: str,
                counters: tuple[int, ...], password: str) -> None:
    if province and (office_code or counters or role == Role.STAFF.value):
        raise click.ClickException("--province is for an admin or supervisor without --office or --counter")
    database = _db()
    from .services.container import QueueServices
    svc = QueueServices(database, SystemClock(), {})
    try:
        office_id = None if province else (svc.office_id_by_code(office_code) if office_code
                                           else svc.default_office_id())
        if office_id is None and not province:      # never a province-wide account by mistake
            raise click.ClickException("no office yet: `motcua office create` makes one")
        svc.auth.create_user(username, password, Role(role), office_id, full_name, list(counters))
    except DomainError as exc:
        raise click.ClickException(exc.message_en) from exc
    click.echo(f"user {username} created ({role})")


@user.command("password")
@click.argument("username")
@click.password_option()
def user_password(username: str, password: str) -> None:
    try:
        AuthService(_db(), SystemClock()).set_password(username, password)
    except DomainError as exc:
        raise click.ClickException(exc.message_en) from exc
    click.echo("password changed")


@main.group()
def voice() -> None:
    """The clips announcements are made of."""


@voice.command("generate")
@click.option("--dialect", type=click.Choice(["north", "south", "central"]), default="north")
@click.option("--overwrite", is_flag=True, help="replace existing clips (human recordings too)")
def voice_generate(dialect: str, overwrite: bool) -> None:
    """Write a clip per word with espeak-ng into VOICE_DIR (keeps clips already there)."""
    from .services.voice import generate_clips
    folder = Path(settings.from_environment()["VOICE_DIR"])
    try:
        made = generate_clips(folder, dialect=dialect, overwrite=overwrite)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{made} clips written to {folder}")


@main.group()
def dossiers() -> None:
    """Dossiers from export files or the provincial one-stop system."""


def _dossier_setup(mapping_file: Path | None):  # noqa: ANN202
    from .services.container import QueueServices
    from .services.dossier_sources import FieldMapping
    config = settings.from_environment()
    svc = QueueServices(_db(), SystemClock(), config)
    mapping = FieldMapping.from_dict(json.loads(mapping_file.read_text())) if mapping_file else FieldMapping()
    return svc, mapping


def _report(report) -> None:  # noqa: ANN001
    click.echo(f"{report.created} created, {report.updated} updated, {len(report.rejected)} rejected")
    for number, reason in report.rejected[:50]:
        click.echo(f"  record {number}: {reason}" if number > 0 else f"  {reason}", err=True)


@dossiers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, path_type=Path),
              help="JSON object: our field → your column (default: the national portal's names)")
@click.option("--tz", default="Asia/Ho_Chi_Minh", help="time zone of times written without one")
def dossiers_import(path: Path, mapping_file: Path | None, tz: str) -> None:
    """Import a CSV or JSON export; re-importing updates and never duplicates."""
    from .services.dossier_sources import import_records, read_file
    svc, mapping = _dossier_setup(mapping_file)
    try:
        report = import_records(svc.dossiers, read_file(path), mapping, tz, "import")
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    _report(report)


@dossiers.command("pull")
@click.option("--url", required=True, help="HTTP JSON endpoint of the provincial one-stop system")
@click.option("--token", default=None, envvar="DOSSIER_SOURCE_TOKEN")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, path_type=Path))
@click.option("--tz", default="Asia/Ho_Chi_Minh")
def dossiers_pull(url: str, token: str | None, mapping_file: Path | None, tz: str) -> None:
    """Fetch dossiers once from the provincial system (run it from a timer for a steady feed)."""
    from .services.dossier_sources import HttpJsonSource, import_records
    svc, mapping = _dossier_setup(mapping_file)
    try:
        records = HttpJsonSource(url, token).fetch()
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{url}: {exc}") from exc
    _report(import_records(svc.dossiers, records, mapping, tz, "pull"))


@main.command("device-token")
@click.argument("kind", type=click.Choice([k.value for k in DeviceKind]))
@click.argument("code")
@click.option("--office", "office_code", default=None)
@click.option("--name", default="")
def device_token(kind: str, code: str, office_code: str | None, name: str) -> None:
    """Issue a token for a kiosk, display, agent or rating device; printed once."""
    from .services.container import QueueServices
    svc = QueueServices(_db(), SystemClock(), {})
    try:
        office_id = svc.office_id_by_code(office_code) if office_code else svc.default_office_id()
        if office_id is None:
            raise click.ClickException("no office exists yet; run `motcua demo` or create one")
        click.echo(svc.auth.issue_device_token(office_id, DeviceKind(kind), code, name))
    except DomainError as exc:
        raise click.ClickException(exc.message_en) from exc


def gunicorn_command(host: str, port: int) -> list[str]:
    """One gevent worker: websockets are cheap greenlets, SQLite writes stay in one process.

    gevent's own HTTP server (gevent_pywsgi) parses requests with about a third less CPU than
    gunicorn's parser under -k gevent. No access log by default: the per-request metrics at
    /metrics say more, and writing a line per request costs throughput.
    """
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "gevent_pywsgi", "--workers", "1",
               "--worker-connections", "4000", "--no-control-socket", "--bind", f"{host}:{port}",
               "--graceful-timeout", "5"]
    if os.environ.get("ACCESS_LOG"):
        command += ["--access-logfile", "-"]
    return [*command, "queue_server.wsgi:app"]


@main.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="DEST is a folder: keep only the newest N backups in it")
def backup_command(dest: Path, keep: int | None) -> None:
    """Back the database up while the server runs: to the file DEST, or dated into the folder DEST."""
    from .backup import BackupError, backup
    try:
        info = backup(settings.from_environment()["DATABASE_URL"], dest, keep)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {info.path} (schema {info.schema_revision}, {info.counts.get('tickets', 0)} tickets, "
               f"{info.rows} rows)")


@main.command("restore")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that already holds data (stop the server first)")
def restore_command(src: Path, force: bool) -> None:
    """Replace the database with the backup SRC. Stop the server first."""
    from .backup import BackupError, restore
    try:
        info = restore(settings.from_environment()["DATABASE_URL"], src, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {src} (schema {info.schema_revision}, {info.rows} rows); starting the server "
               "(or `motcua db upgrade`) brings it to the current schema")


@main.command()
def serve() -> None:
    """Run the server under gunicorn (HOST/PORT from the environment)."""
    config = settings.from_environment()
    try:
        logs.check(config["LOG_FORMAT"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        open_database(config["DATABASE_URL"]).dispose()
        check_message_queue(config.get("MESSAGE_QUEUE_URL"))
    except StartupError as exc:
        raise click.ClickException(str(exc)) from exc
    where = settings.server_settings()
    os.execv(sys.executable, gunicorn_command(where["host"], where["port"]))


def _demo_token(database: Database, var: Path, kind: DeviceKind, code: str, name: str,
                settings: dict | None = None) -> str:
    """A demo device's token, kept in var/ between runs so tokens do not pile up."""
    path = var / f"demo-{code}.token"
    auth = AuthService(database, SystemClock())
    if path.exists():
        try:
            auth.principal_from_token(path.read_text().strip())
            return path.read_text().strip()
        except DomainError:
            pass
    with database.read() as conn:
        office_id = conn.execute(sa.select(offices.c.id).where(offices.c.code == DEMO_OFFICE_CODE)).scalar_one()
    token = auth.issue_device_token(office_id, kind, code, name, settings)
    path.write_text(token)
    path.chmod(0o600)
    return token


@main.command("run-demo")
def run_demo() -> None:
    """What `make run` does: database, demo office, server; Ctrl-C stops everything."""
    database = _db()
    schema.upgrade(database)
    load_demo(database, AuthService(database, SystemClock()))
    from .services.voice import generate_clips
    try:
        generate_clips(Path(settings.from_environment()["VOICE_DIR"]))
    except (RuntimeError, OSError) as exc:
        click.echo(f"  (voice clips not generated: {exc}; boards will use the browser's voice)", err=True)
    where = settings.server_settings()
    base = f"http://{where['host']}:{where['port']}"
    var = Path(settings.from_environment()["VAR_DIR"])
    printer_file, previews = var / f"printer-{DEMO_KIOSK}.bin", var / "tickets"
    previews.mkdir(parents=True, exist_ok=True)
    agent_env = {**os.environ, "MOTCUA_AGENT_TOKEN": _demo_token(database, var, DeviceKind.AGENT,
                                                                  f"agent-{DEMO_KIOSK}", "Tác tử ki-ốt 1")}
    rating = _demo_token(database, var, DeviceKind.RATING, "rating-1", "Máy đánh giá quầy 1", {"counter": 1})
    from .services.container import QueueServices
    codes = load_demo_dossiers(database, QueueServices(database, SystemClock(), settings.from_environment()).dossiers,
                               SystemClock())
    children = [subprocess.Popen(gunicorn_command(where["host"], where["port"]))]
    children.append(subprocess.Popen(
        [sys.executable, "-m", "hardware.agent", "--server", base, "--kiosk", DEMO_KIOSK,
         "--printer", f"file://{printer_file}", "--preview-dir", str(previews), "--state-dir", str(var / "agent")],
        env=agent_env))
    click.echo(f"""
  Một Cửa Queue is starting at {base}
    start page       {base}/
    kiosk            {base}/kiosk   (the demo kiosk {DEMO_KIOSK}; its agent prints to a file)
    counter console  {base}/counter
    hall board       {base}/display
    administration   {base}/admin/settings   (also /admin/reports, /admin/live, /admin/audit)
    rating tablet    {base}/rate/1?token={rating}   (counter 1)
    API document     {base}/api/openapi.json
  Dossiers to look up at the kiosk ("Tra cứu hồ sơ") or at {base}/tra-cuu/<code>:
{chr(10).join(f"    {code}   {stage}" for code, stage in codes)}
  Printed tickets: raw ESC/POS bytes appended to {printer_file},
                   and a PNG of each ticket as printed in {previews}/
  Demo sign-in (demo only, change before real use): admin / {DEMO_PASSWORD}, \
{', '.join(u for u, _, _ in STAFF)} / {DEMO_PASSWORD}
  Press Ctrl-C to stop.
""")

    def stop(*_args: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
