"""`sqlprovider shell`: piped input, statements through the connection, completion, and redacted history."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import time

import pytest

from sqlprovider.resources import RESOURCES
from sqlprovider.cli.shell import History, Shell, complete, redact_history

SPEC = '{"url": "https://hooks.example.com/s", "secret": "shell-secret-value"}'
TIME = re.compile(r" in \d+\.\d\ds$")


def shell_subprocess(stdin: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sqlprovider", "shell", *args], input=stdin, text=True,
                          capture_output=True, env=dict(os.environ), cwd=cwd, timeout=60)


def untimed(stderr: str) -> list[str]:
    return [TIME.sub(" in T", line) for line in stderr.splitlines()]


def test_piped_statements_describe_an_error_and_going_on(ws1, tmp_path):
    hook = ws1.create(model_name="m1")
    done = shell_subprocess(
        "SELECT 1 AS a, 'x' AS b;\n"
        "SELECT id, model_name\n  FROM databricks_workspace.ml.model_registry_webhooks\n"
        "  WHERE deployment_name = 'ws1';\n"
        "DESCRIBE model_registry_webhooks;\n"
        "SELECT nope FROM model_registry_webhooks WHERE deployment_name = 'ws1';\n"
        ".mode csv\n.header on\nSELECT 2 AS c;\n", cwd=tmp_path)
    assert done.returncode == 1  # piped input had an error
    lines = done.stdout.splitlines()
    assert lines[:3] == ["1|x", f"{hook['id']}|m1", "id|TEXT|column||key; set by the workspace"]
    assert lines[-2:] == ["c", "2"]
    assert untimed(done.stderr) == [
        "1 row in T", "1 row in T", f"{len(lines) - 4} rows in T",
        "sqlprovider: error: <stdin>:6: no such column: nope", "1 row in T"]


def run_shell(conn, text: str, interactive: bool = False, history: History | None = None) -> tuple[str, str, Shell]:
    """An in-process shell over `conn`, reading `text`."""
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(conn, stdin=io.StringIO(text), stdout=out, stderr=err, interactive=interactive, history=history)
    shell.cmdloop(intro="")
    shell.reporter.close()
    return out.getvalue(), err.getvalue(), shell


def test_a_default_workspace_from_the_command_line(ws1, tmp_path):
    hook = ws1.create(model_name="m1")
    done = shell_subprocess("SELECT id, deployment_name FROM model_registry_webhooks;\n", "--deployment", "ws1",
                            cwd=tmp_path)
    assert (done.returncode, done.stdout, untimed(done.stderr)) == (0, f"{hook['id']}|ws1\n", ["1 row in T"])


def test_insert_returning_exec_and_stackql_names_through_read(ws1, conn, tmp_path):
    script = tmp_path / "tour.sql"
    script.write_text(
        "INSERT INTO databricks_workspace.ml.model_registry_webhooks (deployment_name, model_name, events, "
        f"http_url_spec) VALUES ('ws1', 'm2', 'COMMENT_CREATED', '{SPEC}') RETURNING model_name, events;\n"
        "EXEC databricks_workspace.ml.model_registry_webhooks.delete @deployment_name='ws1',\n"
        "  @id=(SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND model_name = 'm2');\n")
    out, err, shell = run_shell(conn, f".mode jsonl\n.read {script}\n")
    assert out == '{"model_name": "m2", "events": ["COMMENT_CREATED"]}\n'
    assert untimed(err) == ["1 row in T", "1 row affected in T"]
    assert shell.errors == 0 and ws1.list() == []


def test_markdown_mode_and_show_methods(conn):
    out, _, _ = run_shell(conn, ".mode markdown\nSELECT 1 AS n, 'a|b' AS t;\nSHOW METHODS IN sandbox_deliveries;\n")
    assert out.startswith("| n | t |\n|---:|---|\n| 1 | a\\|b |\n"
                          "| method | sql_verb | required_params | optional_params | description |\n")


def test_dryrun_command_sends_no_mutating_request(ws1, conn):
    hook = ws1.create(model_name="m3")
    ws1.reset()
    out, err, _ = run_shell(conn, f".dryrun on\n.dryrun\nUPDATE model_registry_webhooks SET status = 'DISABLED' "
                                  f"WHERE deployment_name = 'ws1' AND id = '{hook['id']}';\n.dryrun off\n.dryrun\n")
    assert out == "dryrun: on\ndryrun: off\n"
    assert untimed(err) == [f'would send: ws1 PATCH /api/2.0/mlflow/registry-webhooks/update '
                            f'{{"id":"{hook["id"]}","status":"DISABLED"}}', "1 row affected in T"]
    assert ws1.calls() == [] and ws1.list()[0]["status"] == "ACTIVE"


def test_errors_are_one_line_and_the_shell_goes_on(conn):
    _, err, shell = run_shell(conn, ".mode nope\nEXEC model_registry_webhooks.nope @deployment_name='x';\nSELECT 1;\n")
    lines = untimed(err)
    assert lines[0].startswith("sqlprovider: error: <stdin>:1: Expected a valid output mode: box, ")
    assert lines[1].startswith("sqlprovider: error: <stdin>:2: EXEC: model_registry_webhooks has no method 'nope'")
    assert lines[2:] == ["1 row in T"] and shell.errors == 2


# --- completion ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("before, word, expected", [
    ("SELECT * FROM ", "", ["databricks_workspace.ml.model_registry_webhooks", "model_registry_webhooks",
                           "sandbox_deliveries", "sqlprovider.sandbox.deliveries"]),
    ("select * from data", "data", ["databricks_workspace.ml.model_registry_webhooks"]),
    ("DESCRIBE EXTENDED mod", "mod", ["model_registry_webhooks"]),
    ("SHOW METHODS IN sand", "sand", ["sandbox_deliveries"]),
    ("EXEC model", "model", ["model_registry_webhooks.delete", "model_registry_webhooks.test"]),
    ("EXEC model_registry_webhooks.test @deployment_name='ws1' @", "@", ["@id", "@event", "@@json"]),
    ("EXEC model_registry_webhooks.test @id='x' @ev", "@ev", ["@event"]),
    ("EXEC sqlprovider.sandbox.deliveries.emit @m", "@m", ["@model_name"]),
    ("EXEC model_registry_webhooks.test @id='x' @event='COMM", "COMM", ["COMMENT_CREATED"]),
    ("EXEC model_registry_webhooks.test @@json='{\"event\": \"REG", "REG", ["REGISTERED_MODEL_CREATED"]),
    ("SELECT id FROM model_registry_webhooks WHERE events = 'MODEL_VERSION_TRANSITIONED_TO_P", "MODEL_VERSION_TRANSITIONED_TO_P",
     ["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"]),
    ("INSERT INTO model_registry_webhooks (events) VALUES ('[\"COMMENT_CREATED\", \"TRANSITION_REQUEST_TO_S",
     "TRANSITION_REQUEST_TO_S", ["TRANSITION_REQUEST_TO_STAGING_CREATED"]),
    ("UPDATE model_registry_webhooks SET status = '", "", ["ACTIVE", "DISABLED", "TEST_MODE"]),
    ("SELECT 1; SELECT * FROM model_registry_webhooks WHERE deployment_name = '", "", ["sandbox"]),
    ("UPDATE model_registry_webhooks SET http_url_spec = '{\"url\": \"", "", []),
    ("SELECT id FROM model_registry_webhooks WHERE dep", "dep", ["deployment_name"]),
    ("SELECT webhook_id FROM sandbox_deliveries WHERE ev", "ev", ["event"]),
    ("SELECT * FROM model_registry_webhooks ORD", "ORD", ["ORDER"]),
    ("sel", "sel", ["select"]),
])
def test_complete(before, word, expected):
    assert complete(before, word) == expected


# --- history ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    (f"INSERT INTO t (http_url_spec) VALUES ('{SPEC}')", "INSERT INTO t (http_url_spec) VALUES (?)"),
    ("SELECT json_object('url', 'u', 'secret', 'it''s-secret')", "SELECT json_object(?, ?, ?, ?)"),
    ("SELECT 1 -- Authorization: Bearer abc.def\n  , x'00ff', -2.5e3 /* a 'comment' */ FROM t",
     "SELECT ?  \n  , ?, -?   FROM t"),
    ("SELECT 'no secrets here'", "SELECT ?"),  # no value at all: the shell cannot tell which one is a secret
    ("SELECT printf('%s', 'S'), char(83, 84), \"x\", \"model_name\", [S], `t`, $s, :t, @u FROM t",
     "SELECT printf(?, ?), char(?, ?), ?, \"model_name\", [S], `t`, $s, :t, @u FROM t"),
    ("SELECT 'unterminated", "SELECT ?"),
    (".parameter set $s 'it is secret'", ".parameter set $s"),
    (".parameter unset s", ".parameter unset s"),
    (".print 'secret'", ".print"),
    (".mode markdown", ".mode markdown"),
])
def test_redact_history(typed, stored):
    assert redact_history(typed) == stored


def test_typed_statements_go_to_history_redacted_but_read_files_do_not(ws1, conn, tmp_path):
    (tmp_path / "x.sql").write_text("SELECT 'from a file';\n")
    history = History(tmp_path / "data" / "history")
    typed = (f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec)\n"
             f"  VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}');\n.read {tmp_path / 'x.sql'}\n")
    run_shell(conn, typed, interactive=True, history=history)
    text = history.path.read_text()
    assert "shell-secret-value" not in text and "from a file" not in text
    assert history.load() == [
        "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec)\n  VALUES (?, ?, ?);",
        f".read {tmp_path / 'x.sql'}"]
    assert oct(history.path.stat().st_mode & 0o777) == "0o600"
    assert len(ws1.list()) == 1  # the webhook was created with its secret all the same


def test_a_recalled_statement_runs_only_once_its_values_are_given_again(ws1, conn, tmp_path):
    history = History(tmp_path / "history")
    typed = (f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
             f"VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}');\n")
    run_shell(conn, typed, interactive=True, history=history)
    sent = len(ws1.sandbox.requests)
    _, err, _ = run_shell(conn, history.load()[0] + "\n")
    assert err == ("sqlprovider: error: <stdin>:1: the statement has ? where values go, and the shell binds only "
                   "named parameters (the history keeps no values): write each value in place of its ?\n")
    assert len(ws1.sandbox.requests) == sent and len(ws1.list()) == 1


def test_history_keeps_the_last_entries(tmp_path):
    history = History(tmp_path / "history", limit=3)
    for n in range(5):
        history.add(f"SELECT c{n} FROM t;")
    assert history.load() == ["SELECT c2 FROM t;", "SELECT c3 FROM t;", "SELECT c4 FROM t;"]
    assert [json.loads(line) for line in history.path.read_text().splitlines()] == history.load()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_readline_history_is_written_redacted(ws1, isolated_data_dir):
    """The real thing: a terminal, readline, a typed INSERT carrying a secret, then .exit."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sqlprovider", "shell"], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "dumb"})
    os.close(slave)
    seen = b""

    def wait_for(text: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while text not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 65536)
        assert text in seen, seen.decode(errors="replace")
        seen = seen[seen.index(text) + len(text):]

    try:
        wait_for(b"sqlprovider> ")
        os.write(master, f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
                         f"VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}');\n".encode())
        wait_for(b"1 row affected in ")
        os.write(master, b"SELECT model_name FROM model_reg\t")  # completion on a terminal
        wait_for(b"model_registry_webhooks")
        os.write(master, b" WHERE deployment_name = 'ws1';\n.exit\n")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(master)
    text = (isolated_data_dir / "history").read_text()
    assert "shell-secret-value" not in text
    assert [json.loads(line)[:42] for line in text.splitlines()] == [
        "INSERT INTO model_registry_webhooks (deplo", "SELECT model_name FROM model_registry_webh", ".exit"]
    assert "VALUES (?, ?, ?);" in text and len(ws1.list()) == 1


def test_parameters_and_no_header_for_an_empty_result(conn):
    out, err, _ = run_shell(conn, ".parameter set m 'churn'\n.header on\nSELECT :m AS m;\nSELECT 1 AS x WHERE 0;\n")
    assert out == "m\nchurn\n"
    assert untimed(err) == ["1 row in T", "0 rows in T"]


@pytest.mark.parametrize("answer, sent", [("n", False), ("y", True), ("", False)])
def test_a_bulk_change_asks_first_and_shows_how_many_rows(ws1, conn, answer, sent):
    for _ in range(3):
        ws1.create(model_name="m")
    ws1.reset()
    _, err, _ = run_shell(conn, "UPDATE model_registry_webhooks SET status = 'DISABLED' "
                                f"WHERE deployment_name = 'ws1';\n{answer}\n", interactive=True)
    assert "UPDATE would change 3 rows (not pinned to ids); send it? [y/N] " in err
    assert [c[0] for c in ws1.calls()] == ["GET"] + ["PATCH"] * 3 * sent
    assert ("UPDATE of 3 rows cancelled; nothing was sent" in err) is not sent


def test_pinned_changes_and_piped_input_do_not_ask(ws1, conn):
    hooks = [ws1.create(model_name="m") for _ in range(3)]
    _, err, _ = run_shell(conn, f"DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                                f"AND id = '{hooks[0]['id']}';\n", interactive=True)
    assert "[y/N]" not in err
    _, err, _ = run_shell(conn, "DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1';\n")
    assert "[y/N]" not in err and ws1.list() == []


def test_tables_and_schema_list_the_resources_then_your_own(ws1, conn):
    out, _, _ = run_shell(conn, "CREATE TEMP TABLE notes(a);\n"
                                "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES "
                                "('ws1', 'COMMENT_CREATED', '{\"url\": \"https://x.example\"}') RETURNING status;\n"
                                ".tables\n.tables %deliver%\n.schema notes\n.schema model%\n")
    resource = next(r for r in RESOURCES if r.name == "model_registry_webhooks")
    assert out.splitlines() == ["ACTIVE", "model_registry_webhooks", "sandbox_deliveries", "notes",
                                "sandbox_deliveries", "CREATE TABLE notes(a);", resource.schema() + ";"]
