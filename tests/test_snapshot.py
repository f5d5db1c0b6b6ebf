"""`sqlprovider snapshot`: real SQLite tables read back with the stdlib sqlite3, replaced atomically."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import requests

import sqlprovider
from sqlprovider.cli import main as cli
from sqlprovider.adapters import snapshot
from sqlprovider.workspace.client import RetryPolicy
from sqlprovider.resources import RESOURCES

WEBHOOKS = ["model_registry_webhooks"]
FAST = {"retry": RetryPolicy(max_attempts=1, connect_timeout=2)}
SPEC = '{"url":"https://example.com/hook","enable_ssl_verification":true}'


def read(path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def point_profiles(tmp_path, monkeypatch, **hosts: str) -> None:
    """Rewrite the Databricks config file: deployment name -> host (token 't' for made-up hosts)."""
    path = tmp_path / "databrickscfg-snapshot"
    path.write_text("".join(f"[{name}]\nhost = {host}\ntoken = {token}\n\n" for name, (host, token) in hosts.items()))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))


def test_sqlite3_reads_every_row_of_every_workspace(two_workspaces, tmp_path):
    a, b = two_workspaces
    one = a.create(model_name="m1", description="first")
    two = a.create(events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"], status="TEST_MODE")
    three = b.create(model_name="m3")
    out = tmp_path / "snap.db"
    report = snapshot.write_snapshot(out, ["ws1", "ws2"], resources=WEBHOOKS)
    assert (report.row_count, report.errors) == (3, [])
    rows = read(out, "SELECT * FROM model_registry_webhooks ORDER BY deployment_name, model_name")
    assert rows == [
        (two["id"], None, two["creation_timestamp"], None, '["COMMENT_CREATED","MODEL_VERSION_TAG_SET"]', SPEC, None,
         two["last_updated_timestamp"], "TEST_MODE", "ws1"),
        (one["id"], "m1", one["creation_timestamp"], "first", '["MODEL_VERSION_CREATED"]', SPEC, None,
         one["last_updated_timestamp"], "ACTIVE", "ws1"),
        (three["id"], "m3", three["creation_timestamp"], None, '["MODEL_VERSION_CREATED"]', SPEC, None,
         three["last_updated_timestamp"], "ACTIVE", "ws2"),
    ]
    # JSON columns stay JSON text that SQLite's json functions read
    assert read(out, "SELECT json_extract(http_url_spec, '$.url') FROM model_registry_webhooks LIMIT 1") == [
        ("https://example.com/hook",)]
    status = read(out, "SELECT deployment_name, resource, row_count, error FROM _snapshot ORDER BY 1")
    assert status == [("ws1", "model_registry_webhooks", 2, None), ("ws2", "model_registry_webhooks", 1, None)]
    fetched = [t.fetched_at for t in report.tables]
    assert read(out, "SELECT fetched_at FROM _snapshot ORDER BY 1") == [(f,) for f in sorted(fetched)]
    assert all(f.endswith("Z") and f.startswith(time.strftime("%Y-", time.gmtime())) for f in fetched)
    assert read(out, "SELECT type, name FROM sqlite_master ORDER BY name") == [
        ("table", "_snapshot"), ("table", "model_registry_webhooks")]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_by_default_every_resource_gets_a_table(tmp_path):
    out = tmp_path / "snap.db"
    report = snapshot.write_snapshot(out, ["sandbox"])
    names = {r.name for r in RESOURCES}
    assert {row[0] for row in read(out, "SELECT name FROM sqlite_master")} == names | {"_snapshot"}
    assert {(t.resource, t.error) for t in report.tables} == {(name, None) for name in names}
    assert report.skipped == ()


def test_sandbox_only_resources_are_copied_only_from_the_sandbox(prod, tmp_path, capsys):
    out = tmp_path / "snap.db"
    assert cli.main(["snapshot", str(out), "--deployment", "prod", "--deployment", "sandbox"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.rstrip().endswith(" from 2 workspaces")
    assert prod.paths == ["/api/2.0/mlflow/registry-webhooks/list"]  # never the sandbox's deliveries endpoint
    names = {r.name for r in RESOURCES}
    assert {row[0] for row in read(out, "SELECT name FROM sqlite_master")} == names | {"_snapshot"}
    assert read(out, "SELECT deployment_name, resource, error FROM _snapshot ORDER BY 1, 2") == [
        ("prod", "model_registry_webhooks", None), ("sandbox", "model_registry_webhooks", None),
        ("sandbox", "sandbox_deliveries", None)]
    assert read(out, "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'prod'") == [("a" * 32,)]
    assert read(out, "SELECT count(*) FROM sandbox_deliveries WHERE deployment_name <> 'sandbox'") == [(0,)]
    report = snapshot.write_snapshot(out, ["prod", "sandbox"])
    assert report.skipped == (("prod", "sandbox_deliveries"),) and report.errors == []
    assert [(t.deployment, t.resource) for t in report.tables] == [
        ("prod", "model_registry_webhooks"), ("sandbox", "model_registry_webhooks"),
        ("sandbox", "sandbox_deliveries")]


def test_a_sandbox_only_resource_named_explicitly_is_copied_from_any_deployment(ws1, tmp_path):
    # ws1 is a profile pointing at a sandbox server: naming the resource copies its delivery log
    webhook = ws1.create(events=["MODEL_VERSION_CREATED"], model_name="m")
    requests.post(ws1.base + "test", json={"id": webhook["id"]}, headers=ws1.headers, timeout=30)
    out = tmp_path / "snap.db"
    report = snapshot.write_snapshot(out, ["ws1"], resources=["sandbox_deliveries"])
    assert (report.skipped, report.errors, report.row_count) == ((), [], 1)
    assert read(out, "SELECT webhook_id, source, deployment_name FROM sandbox_deliveries") == [
        (webhook["id"], "test", "ws1")]
    assert read(out, "SELECT deployment_name, resource, row_count FROM _snapshot") == [
        ("ws1", "sandbox_deliveries", 1)]


def test_a_failing_workspace_keeps_its_previous_rows_and_reports_the_error(two_workspaces, tmp_path, monkeypatch,
                                                                         closed_port):
    a, b = two_workspaces
    a.create(model_name="a1")
    kept = b.create(model_name="b1")
    out = tmp_path / "snap.db"
    first = snapshot.write_snapshot(out, ["ws1", "ws2"], FAST, WEBHOOKS)
    ws2_fetched = next(t.fetched_at for t in first.tables if t.deployment == "ws2")
    a.create(model_name="a2")
    port = closed_port
    point_profiles(tmp_path, monkeypatch, ws1=(a.sandbox.url, a.sandbox.token), ws2=(f"http://127.0.0.1:{port}", "t"))
    second = snapshot.write_snapshot(out, ["ws1", "ws2"], FAST, WEBHOOKS)
    assert [(t.deployment, t.row_count) for t in second.errors] == [("ws2", 1)]
    assert f"cannot reach http://127.0.0.1:{port}" in second.errors[0].error
    assert read(out, "SELECT deployment_name, model_name, id FROM model_registry_webhooks ORDER BY 2") == [
        ("ws1", "a1", a.list(model_name="a1")[0]["id"]), ("ws1", "a2", a.list(model_name="a2")[0]["id"]),
        ("ws2", "b1", kept["id"])]
    (error,) = read(out, "SELECT error FROM _snapshot WHERE deployment_name = 'ws2'")[0]
    assert read(out, "SELECT deployment_name, fetched_at, row_count, error IS NULL FROM _snapshot ORDER BY 1") == [
        ("ws1", next(t.fetched_at for t in second.tables if t.deployment == "ws1"), 2, 1), ("ws2", ws2_fetched, 1, 0)]
    assert error == second.errors[0].error and "\n" not in error


def test_a_workspace_that_never_worked_has_no_rows_and_the_cli_exits_1(ws1, tmp_path, monkeypatch, capsys):
    ws1.create(model_name="m")
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    out = tmp_path / "snap.db"
    code = cli.main(["snapshot", str(out), "--deployment", "ws1", "--deployment", "nowhere",
                     "--resource", "model_registry_webhooks"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("sqlprovider: snapshot: nowhere model_registry_webhooks: no credential for "
                                   "deployment 'nowhere'")
    assert captured.err.rstrip().endswith("(kept 0 earlier rows)") and "Traceback" not in captured.err
    assert captured.out.rstrip().endswith(f"wrote {out}: 1 rows from 2 workspaces (failed: nowhere)")
    assert read(out, "SELECT deployment_name, row_count, fetched_at IS NULL FROM _snapshot ORDER BY 1") == [
        ("nowhere", 0, 1), ("ws1", 1, 0)]


def test_a_file_that_is_not_a_snapshot_is_never_replaced(ws1, tmp_path, capsys):
    out = tmp_path / "mine.db"
    db = sqlite3.connect(out)
    db.execute("CREATE TABLE precious(x)")
    db.commit()
    db.close()
    with pytest.raises(sqlprovider.InterfaceError, match="is not a sqlprovider snapshot"):
        snapshot.write_snapshot(out, ["ws1"])
    assert cli.main(["snapshot", str(out), "--deployment", "ws1"]) == 1
    assert "is not a sqlprovider snapshot (no _snapshot table): choose another file" in capsys.readouterr().err
    assert read(out, "SELECT name FROM sqlite_master") == [("precious",)]


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("5m", 300), ("1h", 3600), ("0.2s", 0.2), ("500ms", 0.5),
                                           ("2", 2)])
def test_durations(text, seconds):
    assert snapshot.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0s", "", "5x", "-1s", "s"])
def test_bad_durations_are_refused(text, capsys):
    with pytest.raises(ValueError, match="expected a duration such as 30s, 5m or 1h"):
        snapshot.parse_duration(text)
    with pytest.raises(SystemExit):
        cli.main(["snapshot", "x.db", "--deployment", "ws1", f"--every={text}"])
    assert "expected a duration" in capsys.readouterr().err


def test_every_stops_cleanly_on_ctrl_c(ws1, tmp_path, monkeypatch, capsys):
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot.time, "sleep", interrupted)
    code = cli.main(["snapshot", str(tmp_path / "s.db"), "--deployment", "ws1", "--every", "1h"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == "" and "wrote" in captured.out


def test_a_reader_never_sees_a_partial_file_while_every_rewrites_it(ws1, tmp_path, capsys):
    out = tmp_path / "snap.db"
    seen: list[tuple[str, int]] = []
    problems: list[str] = []
    writing = threading.Event()
    writing.set()

    def reader() -> None:
        while writing.is_set():
            if not out.exists():
                continue
            try:
                db = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
                try:
                    with db:  # one read transaction: the status and the rows of the same file
                        (fetched_at, count), = db.execute("SELECT fetched_at, row_count FROM _snapshot").fetchall()
                        rows = db.execute("SELECT count(*), count(DISTINCT id) FROM model_registry_webhooks "
                                          "WHERE deployment_name = 'ws1'").fetchone()
                finally:
                    db.close()
                if rows != (count, count):
                    problems.append(f"{fetched_at}: _snapshot says {count} rows, the table has {rows}")
                seen.append((fetched_at, count))
            except sqlite3.Error as exc:
                problems.append(repr(exc))

    def creator() -> None:
        while writing.is_set() and len(ws1.list()) < 40:
            ws1.create()
            time.sleep(0.02)

    threads = [threading.Thread(target=reader), threading.Thread(target=creator)]
    for thread in threads:
        thread.start()
    try:
        code = cli.main(["snapshot", str(out), "--deployment", "ws1", "--resource", "model_registry_webhooks",
                         "--every", "0.2s", "--count", "6"])
    finally:
        writing.clear()
        for thread in threads:
            thread.join(10)
    assert code == 0 and problems == []
    assert capsys.readouterr().out.count("wrote ") == 6
    assert len({fetched_at for fetched_at, _ in seen}) >= 3  # the reader saw several generations
    assert len({count for _, count in seen}) >= 2  # with different contents
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_when_every_fetch_fails_the_existing_file_is_left_as_it_was(ws1, tmp_path, monkeypatch, capsys):
    ws1.create(model_name="m")
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    out = tmp_path / "snap.db"
    assert cli.main(["snapshot", str(out), "--deployment", "ws1", "--resource", "model_registry_webhooks"]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert cli.main(["snapshot", str(out), "--deployment", "nosuch"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("sqlprovider: snapshot: nosuch model_registry_webhooks: no credential for "
                                   "deployment 'nosuch'") and "Traceback" not in captured.err
    assert captured.out.rstrip().endswith(f" {out} left as it was: every fetch failed (nosuch)")
    assert out.read_bytes() == before
    assert read(out, "SELECT deployment_name, row_count FROM _snapshot") == [("ws1", 1)]
    report = snapshot.write_snapshot(out, ["nosuch", "nowhere"], resources=WEBHOOKS)
    assert (report.written, [(t.deployment, t.row_count) for t in report.errors]) == (
        False, [("nosuch", 0), ("nowhere", 0)])
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # no earlier file: none is made
    assert snapshot.write_snapshot(tmp_path / "new.db", ["nosuch"], resources=WEBHOOKS).written is False
    assert not (tmp_path / "new.db").exists()


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch):
    """A directory that behaves as on a read-only file system: creating, writing or deleting anything in it
    fails with EROFS (root ignores permission bits, so the file system calls are made to fail)."""
    import errno
    import os
    import pathlib

    directory = tmp_path / "ro"
    directory.mkdir()
    inside = str(directory) + os.sep

    def refuse(path) -> None:
        if str(path).startswith(inside) or str(path).startswith(f"file:{inside}"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    real_open, real_unlink, real_replace, real_connect = os.open, pathlib.Path.unlink, os.replace, sqlite3.connect

    def open_(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def unlink(self, missing_ok=False):
        refuse(self)
        return real_unlink(self, missing_ok=missing_ok)

    def replace(src, dst, *args, **kwargs):
        refuse(src)
        refuse(dst)
        return real_replace(src, dst, *args, **kwargs)

    def connect(database, *args, **kwargs):
        if not kwargs.get("uri"):
            try:
                refuse(database)
            except OSError:
                raise sqlite3.OperationalError("unable to open database file") from None
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(pathlib.Path, "unlink", unlink)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(sqlite3, "connect", connect)
    return directory


def test_a_read_only_directory_is_one_line_naming_the_reason(ws1, read_only_dir, capsys):
    out = read_only_dir / "snap.db"
    assert cli.main(["snapshot", str(out), "--deployment", "ws1", "--resource", "model_registry_webhooks"]) == 1
    assert capsys.readouterr().err == (
        f"sqlprovider: error: cannot write the snapshot beside {out}: Read-only file system; the new file is written "
        f"in {read_only_dir} and then renamed over snap.db, so choose a directory you can write to\n")


def test_a_directory_given_as_the_file_says_it_is_a_directory(ws1, tmp_path, capsys):
    out = tmp_path / "snap.db"
    out.mkdir()
    assert cli.main(["snapshot", str(out), "--deployment", "ws1"]) == 1
    assert capsys.readouterr().err == (f"sqlprovider: error: {out} is a directory; give the snapshot a file name, "
                                       f"e.g. {out / 'snapshot.db'}\n")
