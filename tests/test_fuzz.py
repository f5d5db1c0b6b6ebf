"""Property-based tests: whatever is thrown at the engine or the sandbox, the answer is one of our own
errors with a one-line message (engine), or a JSON error that is never a 500 (sandbox)."""

from __future__ import annotations

import json

import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sqlprovider
from sqlprovider.engine import statements
from sqlprovider.resources import WEBHOOKS
from sqlprovider.webhooks import EVENTS, STATUSES

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COLUMNS = WEBHOOKS.all_names + ["rowid"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
sql_values = st.none() | st.integers(-5, 5000) | st.text(max_size=30) | st.sampled_from(EVENTS + STATUSES + ("", "ws1"))


def assert_ours(exc: BaseException) -> None:
    assert isinstance(exc, sqlprovider.Error), f"{type(exc).__name__}: {exc}"
    assert str(exc) and "\n" not in str(exc) and "Traceback" not in str(exc)


@FUZZ
@given(st.text(max_size=200))
@example("\x00;")  # SQLite's API refuses NUL in SQL text with a bare ValueError
@example("SELECT 1\x00")
def test_statement_front_end_never_raises_anything_else(text):
    try:
        for statement in statements.split_statements(text):
            if statements.statement_kind(statement.text) == "exec":
                statements.parse_exec(statement.text)
            statements.split_returning(statement.text)
        statements.fill_template(text, {"a": "x"})
    except Exception as exc:  # noqa: BLE001 - the property under test
        assert_ours(exc)


@FUZZ
@given(st.sampled_from(["delete", "test", "get", ""]),
       st.dictionaries(st.sampled_from(["id", "event", "deployment_name", "x", "@json"]), sql_values, max_size=4),
       st.booleans())
def test_exec_with_generated_parameters(ws1, conn, method, params, commas):
    separator = ", " if commas else "\n"
    text = "EXEC databricks_workspace.ml.model_registry_webhooks." + method + " " + separator.join(
        f"@{k}={json.dumps(v) if not isinstance(v, str) else repr(v)}" for k, v in params.items())
    try:
        conn.execute(text).fetchall()
    except Exception as exc:  # noqa: BLE001
        assert_ours(exc)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(COLUMNS), st.sampled_from(["=", "IN", "LIKE", "<", ">=", "IS", "!="]),
                          st.lists(sql_values, min_size=1, max_size=3)), max_size=4),
       st.booleans(), st.none() | st.integers(-1, 30), st.booleans())
def test_generated_selects(ws1, conn, predicates, pin, limit, order):
    clauses, params = (["deployment_name = 'ws1'"] if pin else []), []
    for column, op, vals in predicates:
        if op == "IN":
            clauses.append(f"{column} IN ({', '.join('?' * len(vals))})")
            params += vals
        else:
            clauses.append(f"{column} {op} ?")
            params.append(vals[0])
    sql = "SELECT * FROM model_registry_webhooks" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    sql += " ORDER BY id" if order else ""
    sql += f" LIMIT {limit}" if limit is not None else ""
    try:
        conn.execute(sql, params).fetchall()
    except Exception as exc:  # noqa: BLE001
        assert_ours(exc)


@FUZZ
@given(st.lists(st.tuples(sql_values, json_values, json_values, sql_values, sql_values), min_size=1, max_size=3))
def test_generated_inserts(ws1, conn, rows):
    params = []
    for events, http_spec, job_spec, status, model in rows:
        params += [events, json.dumps(http_spec), json.dumps(job_spec), status, model]
    marks = ", ".join("('ws1', ?, ?, ?, ?, ?)" for _ in rows)
    sql = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, job_spec, status, model_name) "
           f"VALUES {marks}")
    try:
        conn.execute(sql, params)
    except Exception as exc:  # noqa: BLE001
        assert_ours(exc)


@FUZZ
@given(st.sampled_from([("POST", "create"), ("PATCH", "update"), ("POST", "test"), ("DELETE", "delete"),
                        ("GET", "list"), ("PUT", "create"), ("GET", "nothing")]),
       json_values, st.lists(st.tuples(st.sampled_from(["events", "model_name", "max_results", "page_token", "id"]),
                                       st.text(max_size=12)), max_size=4),
       st.booleans())
def test_the_sandbox_never_answers_500_to_bad_input(sandbox, verb_path, body, query, raw):
    verb, path = verb_path
    url = f"{sandbox.url}/api/2.0/mlflow/registry-webhooks/{path}"
    data = json.dumps(body).encode()[:-1] if raw else json.dumps(body).encode()  # raw: truncated JSON
    answer = requests.request(verb, url, params=query, data=data, timeout=10,
                              headers={"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"})
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        payload = answer.json()
        assert payload["error_code"] and payload["message"]
