"""No secret is ever shown: a realistic session (creates with write-only fields, listing, update, test,
errors including a 403 and bad deployments, dry-run, `--debug`) through the CLI and the library, then
every captured stdout, stderr, log record and written file is searched for every secret value."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import sqlprovider
from sqlprovider.sandbox import Sandbox

SANDBOX_TOKEN = "dapi-leak-sandbox-token-0a1b"
CLIENT_ID = "sp-leak-client"
CLIENT_SECRET = "leak-client-secret-2c3d"
BAD_TOKEN = "dapi-leak-wrong-token-4e5f"
HOOK_SECRET = "leak-hook-secret-6a7b"
HOOK_SECRET_2 = "leak-hook-secret-two-8c9d"
HOOK_SECRET_3 = "leak-hook-secret-three-0e1f"
HOOK_AUTH = "leak-hook-authorization-2a3b"
JOB_TOKEN = "leak-job-access-token-4c5d"
DRY_SECRET = "leak-dry-run-secret-6e7f"

SECRETS = [SANDBOX_TOKEN, CLIENT_SECRET, BAD_TOKEN, HOOK_SECRET, HOOK_SECRET_2, HOOK_SECRET_3, HOOK_AUTH, JOB_TOKEN,
           DRY_SECRET, base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()]

HTTP_SPEC = json.dumps({"url": "http://127.0.0.1:9/hook", "secret": HOOK_SECRET, "authorization": f"Bearer {HOOK_AUTH}"})
JOB_SPEC = json.dumps({"job_id": "42", "access_token": JOB_TOKEN, "workspace_url": "https://example.com"})
CREATE_SQL = f"""
INSERT INTO model_registry_webhooks (deployment_name, model_name, events, description, http_url_spec)
VALUES ('ws1', 'leak-model', '["MODEL_VERSION_CREATED"]', 'http hook', '{HTTP_SPEC}') RETURNING *;
INSERT INTO databricks_workspace.ml.model_registry_webhooks (workspace, model_name, events, job_spec)
VALUES ('sp', 'leak-model', '["COMMENT_CREATED"]', '{JOB_SPEC}') RETURNING id, job_spec, webhook;
SELECT * FROM model_registry_webhooks WHERE deployment_name IN ('ws1', 'sp');
"""


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A sandbox with a PAT and an OAuth client; profiles for it (good, OAuth, wrong token); a clean home."""
    with Sandbox(data_path=tmp_path / "server" / "sb.db", token=SANDBOX_TOKEN, client_id=CLIENT_ID,
                 client_secret=CLIENT_SECRET) as sb:
        work = tmp_path / "work"
        (work / "home").mkdir(parents=True)
        config = tmp_path / "server" / "databrickscfg"
        config.write_text(f"[ws1]\nhost = {sb.url}\ntoken = {SANDBOX_TOKEN}\n\n"
                          f"[sp]\nhost = {sb.url}\nclient_id = {CLIENT_ID}\nclient_secret = {CLIENT_SECRET}\n\n"
                          f"[bad]\nhost = {sb.url}\ntoken = {BAD_TOKEN}\n")
        env = {"DATABRICKS_CONFIG_FILE": str(config), "SQLPROVIDER_DATA_DIR": str(work / "data"),
               "HOME": str(work / "home")}
        for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
                     "DATABRICKS_CONFIG_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield sb, work, env


def cli(work: Path, env: dict, name: str, *args: str) -> int:
    """`sqlprovider --debug <args>` in a subprocess, stdout and stderr to files in `work`."""
    with open(work / f"{name}.out", "w") as out, open(work / f"{name}.err", "w") as err:
        done = subprocess.run([sys.executable, "-m", "sqlprovider", "--debug", *args], cwd=work, stdout=out,
                              stderr=err, env={**os.environ, **env}, timeout=60)
    return done.returncode


def ids(sb: Sandbox) -> dict[str, str]:
    answer = requests.get(f"{sb.url}/api/2.0/mlflow/registry-webhooks/list", timeout=10,
                          headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}).json()
    return {("job" if "job_spec" in w else "http"): w["id"] for w in answer.get("webhooks", [])}


def issued_tokens(sb: Sandbox) -> list[str]:
    """The OAuth access tokens the sandbox issued: secrets too."""
    return list(getattr(getattr(sb, "_oauth", None), "_tokens", {}))


def assert_no_secret(texts: dict[str, str], secrets: list[str]) -> None:
    leaks = [(where, secret) for where, text in texts.items() for secret in secrets if secret in text]
    assert leaks == []


def test_cli_session_with_debug_leaks_nothing(world):
    sb, work, env = world
    (work / "create.sql").write_text(CREATE_SQL)
    assert cli(work, env, "create", "exec", "create.sql", "-o", "json", "-f", "created.json") == 0
    hooks = ids(sb)
    assert set(hooks) == {"http", "job"}
    update = (f"UPDATE model_registry_webhooks SET http_url_spec = '{{\"url\": \"http://127.0.0.1:9/h2\", \"secret\": "
              f"\"{HOOK_SECRET_2}\"}}' WHERE deployment_name = 'ws1' AND id = '{hooks['http']}' RETURNING webhook")
    assert cli(work, env, "change", "exec", "-e", update,
               "-e", f"EXEC model_registry_webhooks.test @deployment_name='ws1' @id='{hooks['http']}'",
               "-e", f"EXEC model_registry_webhooks.test @workspace='sp' @id='{hooks['job']}'",
               "-e", "SELECT id, http_url_spec, job_spec FROM model_registry_webhooks WHERE workspace = 'sp'") == 0
    refused = (f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES ('ws1', "
               f"'[\"MODEL_VERSION_CREATED\"]', '{{\"url\": \"http://insecure.example.com/h\", \"secret\": "
               f"\"{HOOK_SECRET_3}\"}}')")
    assert cli(work, env, "forbidden", "exec", "-e", "SELECT * FROM model_registry_webhooks WHERE deployment_name = 'bad'") == 1
    assert cli(work, env, "refused", "exec", "-e", refused) == 1
    assert cli(work, env, "hostile", "exec", "-e", "SELECT * FROM model_registry_webhooks WHERE workspace = 'evil.com'") == 1
    dry = HTTP_SPEC.replace(HOOK_SECRET, DRY_SECRET)
    sent = len(sb.requests)
    assert cli(work, env, "dry", "exec", "--dry-run",
               "-e", f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES "
                     f"('sp', '[\"COMMENT_CREATED\"]', '{dry}')",
               "-e", f"DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND id = '{hooks['http']}'") == 0

    written = {str(p.relative_to(work)): p.read_text(errors="replace") for p in work.rglob("*")
               if p.is_file() and p.name != "create.sql"}
    assert_no_secret(written, SECRETS + issued_tokens(sb))
    # The session really happened, and --debug really logged it.
    debug = written["create.err"] + written["change.err"]
    assert f"POST {sb.url}/api/2.0/mlflow/registry-webhooks/create" in debug
    assert f"POST {sb.url}/oidc/v1/token (OAuth M2M, client id {CLIENT_ID}, secret ***) -> 200" in debug
    assert "'secret': '***'" in debug and "'access_token': '***'" in debug
    assert "failed: HTTP 403: Invalid access token.; check that the token for bad is valid" in written["forbidden.err"]
    assert "INVALID_PARAMETER_VALUE" in written["refused.err"]
    assert "is not a workspace name" in written["hostile.err"]
    assert [r.method for r in sb.requests[sent:] if "/registry-webhooks/" in r.path] == []  # dry-run sent nothing
    assert '"secret":"***"' in written["dry.err"]


def test_library_session_leaks_nothing(world, caplog):
    sb, work, env = world
    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    shown: list[str] = []
    with sqlprovider.connect() as conn:
        conn.requests.observers.append(lambda record: shown.append(repr(record)))
        for statement in CREATE_SQL.split(";")[:-1]:
            shown.append(repr(conn.execute(statement).fetchall()))
        hooks = ids(sb)
        shown.append(repr(conn.execute(f"UPDATE model_registry_webhooks SET job_spec = '{JOB_SPEC}' WHERE "
                                       f"workspace = 'sp' AND id = '{hooks['job']}' RETURNING *").fetchall()))
        shown.append(repr(conn.execute(f"EXEC model_registry_webhooks.test @workspace='ws1' @id='{hooks['http']}'")
                          .fetchall()))
        for bad in ("SELECT * FROM model_registry_webhooks WHERE deployment_name = 'bad'",
                    "SELECT * FROM model_registry_webhooks WHERE deployment_name = 'x@127.0.0.1'",
                    f"INSERT INTO model_registry_webhooks (workspace, events, http_url_spec) VALUES ('ws1', "
                    f"'[\"NOPE\"]', '{HTTP_SPEC}')",
                    f"INSERT INTO model_registry_webhooks (workspace, events, http_url_spec) VALUES ('ws1', "
                    f"'[\"COMMENT_CREATED\"]', '{HTTP_SPEC.replace('http://127.0.0.1:9', 'http://insecure.example')}')"):
            with pytest.raises(sqlprovider.Error) as err:
                conn.execute(bad).fetchall()
            shown += [str(err.value), repr(err.value)]
        conn.requests.dry_run = True
        shown.append(repr(conn.execute(f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
                                       f"VALUES ('sp', '[\"COMMENT_CREATED\"]', '{HTTP_SPEC}')").rowcount))
        shown.append(repr(conn.workspace("sp")) + repr(conn.workspace("sp").auth) + repr(conn.workspace("ws1").auth))
    texts = {"shown": "\n".join(shown), "log": "\n".join(r.getMessage() for r in caplog.records)}
    assert_no_secret(texts, SECRETS + issued_tokens(sb))
    assert "/oidc/v1/token" in texts["log"] and "registry-webhooks/create" in texts["log"]


def test_shell_history_keeps_no_secret(tmp_path):
    shell = pytest.importorskip("sqlprovider.cli.shell")
    history = shell.History(tmp_path / "history")
    for statement in CREATE_SQL.split(";")[:-1]:
        history.add(statement)
    history.add(f"EXEC model_registry_webhooks.test @workspace='sp' @@json='{{\"id\": \"x\", \"secret\": \"{HOOK_SECRET}\"}}'")
    assert_no_secret({"history": (tmp_path / "history").read_text()}, SECRETS)


@pytest.mark.parametrize("sql, message", [
    # a missing comma: SQLite's syntax error quoted the literal holding the secret; it names its kind and place
    ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES ('sandbox', "
     "'COMMENT_CREATED' '{\"url\": \"https://x.example\", \"secret\": \"TOPSECRET6\"}')",
     "near the 3rd string literal (line 1): syntax error"),
    ("SELECT 1\n  'TOPSECRET6' 'TOPSECRET6'", "near the 2nd string literal (line 2): syntax error"),
    ("SELECT x'ABCDEF0' 'TOPSECRET6'", "unrecognized token: the blob literal (line 1)"),
    ("SELECT 'é' 'TOPSECRET6' 'TOPSECRET6'", "near the 3rd string literal (line 1): syntax error"),
    ("SELECT 'TOPSECRET6",
     "line 1: unterminated string, quoted name or comment: close it with its matching quote or */"),
    ("SELECT json_set('{}', 'TOPSECRET6', 1)", "bad JSON path: the 2nd string literal (line 1)"),
    ("SELECT raise(ABORT, 'TOPSECRET6')", "RAISE() may only be used within a trigger-program"),
    ("WITH s(v) AS (SELECT 'TOPSECRET6') SELECT json_extract('{', v) FROM s", "malformed JSON"),
    # an EXEC value that is not a literal is quoted back in the error, without its literals
    ("EXEC model_registry_webhooks.test @deployment_name='sandbox' @id=json_object('secret', 'TOPSECRET6')",
     "parameter @id: JSON_OBJECT(...: ...) is not a quoted string, a number or NULL; write @id='JSON_OBJECT(...: ...)'"),
    ("INSERT INTO model_registry_webhooks (deployment_name) VALUES ('sandbox') RETURNING 'TOPSECRET6' FROM x",
     "cannot read the RETURNING clause '? FROM x'; list columns or expressions, e.g. RETURNING id, webhook"),
    ("SELECT 1 FROM model_registry_webhooks WHERE deployment_name = 'sandbox' AND 'TOPSECRET6' 1",
     "near the 2nd number (line 1): syntax error"),
])
def test_errors_quote_no_literal_of_the_statement(conn, sql, message):
    with pytest.raises(sqlprovider.Error) as caught:
        conn.execute(sql)
    assert str(caught.value) == message


# --- redact_text: what is masked, and what is left alone --------------------------------------------------
PAT = "dapi0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("text, shown", [
    # a URL's password (a config error quoting a profile's host); the user name stays
    ("host = 'http://user:dapiSECRET@127.0.0.1:18765'", "host = 'http://user:***@127.0.0.1:18765'"),
    ("https://me:p:w@foo.cloud.databricks.com/x", "https://me:***@foo.cloud.databricks.com/x"),
    ("http://127.0.0.1:8080/path?a=b@c", "http://127.0.0.1:8080/path?a=b@c"),
    # a bare personal access token
    (f"SELECT '{PAT}'", "SELECT '***'"),
    (f"proxy echoed GET /x {PAT}-2.", "proxy echoed GET /x ***."),
    # secret values in the SQL people write
    ("""json_set(http_url_spec, '$."secret"', 'X1')""", """json_set(http_url_spec, '$."secret"', '***')"""),
    ("json_set(x, '$.secret', 'X2')", "json_set(x, '$.secret', '***')"),
    ("json_object('url', 'u', 'secret', 'X3')", "json_object('url', 'u', 'secret', '***')"),
    ("json_object('secret', 'sk-' || 'X4')", "json_object('secret', '***')"),
    ("WHERE json_extract(http_url_spec, '$.secret') = 'X5'", "WHERE json_extract(http_url_spec, '$.secret') = '***'"),
    ("WHERE http_url_spec ->> 'authorization' = 'X6'", "WHERE http_url_spec ->> 'authorization' = '***'"),
    ("json_object('authorization', 'A', 'access_token', 'B', 'token', 'C', 'client_secret', 'D', 'password', 'E')",
     "json_object('authorization', '***', 'access_token', '***', 'token', '***', 'client_secret', '***', "
     "'password', '***')"),
    ("json_object('secret', NULL, 'url', 'u')", "json_object('secret', NULL, 'url', 'u')"),
    # help text and placeholders are not secrets; a masked quoted value keeps its quotes
    ("add token = <your access token>, or", "add token = <your access token>, or"),
    ("""'{"job_id": ..., "access_token": ...}'""", """'{"job_id": ..., "access_token": ...}'"""),
    (r"host = 'http://127.0.0.1:18765\ntoken=abc', which", r"host = 'http://127.0.0.1:18765\ntoken=***', which"),
    ("""secret = 'it''s' token: "a\\"b" password=pa'ss""", """secret = '***' token: "***" password=***"""),
])
def test_redact_text(text, shown):
    from sqlprovider.redact import redact_text

    assert redact_text(text) == shown


def test_a_profile_host_with_a_password_is_masked_in_the_error(tmp_path, monkeypatch):
    config = tmp_path / "databrickscfg"
    config.write_text(f"[u]\nhost = http://user:{PAT}x@127.0.0.1:1\ntoken = t\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.Error) as caught:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'u'")
    assert PAT not in str(caught.value)
    assert "has host = 'http://user:***@127.0.0.1:1'" in str(caught.value)


# --- masked messages stay readable ------------------------------------------------------------------------
def _validation_messages() -> list[str]:
    """Every message the definitions give about an object column: missing fields, wrong keys, wrong JSON."""
    from sqlprovider.resources import RESOURCES

    found = []
    for resource in RESOURCES:
        for column in (c for c in resource.columns if c.kind == "object"):
            for bad in ("{}", '{"nope": 1}', "[1]", "{", '{"' + (column.required_fields or ("x",))[0] + '": 1}'):
                try:
                    resource.convert(column, bad)
                except sqlprovider.Error as exc:
                    found.append(str(exc))
    return found


@pytest.mark.parametrize("message", [
    *_validation_messages(),
    "Missing value for required parameter 'job_spec.access_token'.",
    "Invalid page_token: it was not returned by a previous list call.",
    "http_url_spec.secret is ***, the mask shown in place of a secret (in output, dry-run listings and logs): "
    "give the real value again",
])
def test_a_message_that_names_a_secret_key_is_not_garbled(message):
    """Only values are masked: `missing access_token: give a JSON object` lost its `give` to ***."""
    from sqlprovider.redact import redact_text

    assert redact_text(message) == message
    assert "***" not in message.replace("is ***, the mask", "")


@pytest.mark.parametrize("text, shown", [
    ("token: abc123", "token: ***"),
    ("password: hunter2, next", "password: ***, next"),
    ("secret: abc\nnext line", "secret: ***\nnext line"),
    ('{"token": abc}', '{"token": ***}'),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
    ("a basic check", "a basic check"),
])
def test_a_bare_value_after_a_colon_is_masked_when_it_ends_its_clause(text, shown):
    from sqlprovider.redact import redact_text

    assert redact_text(text) == shown
