"""DB-API 2.0 (PEP 249): module globals, types, cursors and connections over real HTTP to a sandbox."""

from __future__ import annotations

import datetime

import pytest

import sqlprovider

SPEC = '{"url": "https://h.example.com/x"}'
INSERT = "INSERT INTO model_registry_webhooks (deployment_name, model_name, events, http_url_spec) VALUES (?, ?, ?, ?)"
COLUMNS = ("id", "model_name", "creation_timestamp", "description", "events", "http_url_spec", "job_spec",
           "last_updated_timestamp", "status")


def test_module_globals():
    assert (sqlprovider.apilevel, sqlprovider.threadsafety, sqlprovider.paramstyle) == ("2.0", 1, "qmark")
    assert callable(sqlprovider.connect)
    assert sqlprovider.sqlite_version_info >= (3, 35)


def test_exception_hierarchy_on_the_module_and_the_connection(conn):
    pep249 = {
        "Warning": Exception, "Error": Exception, "InterfaceError": "Error", "DatabaseError": "Error",
        "DataError": "DatabaseError", "OperationalError": "DatabaseError", "IntegrityError": "DatabaseError",
        "InternalError": "DatabaseError", "ProgrammingError": "DatabaseError", "NotSupportedError": "DatabaseError",
    }
    for name, parent in pep249.items():
        cls = getattr(sqlprovider, name)
        assert getattr(conn, name) is cls
        assert cls.__bases__ == ((parent,) if parent is Exception else (getattr(sqlprovider, parent),))


def test_type_objects_and_constructors():
    assert sqlprovider.STRING == "TEXT" and sqlprovider.STRING != "INTEGER"
    assert sqlprovider.NUMBER == "INTEGER" and sqlprovider.NUMBER == "REAL"
    assert sqlprovider.BINARY == "BLOB" and sqlprovider.DATETIME == "TIMESTAMP" and sqlprovider.ROWID == "ROWID"
    assert sqlprovider.STRING != sqlprovider.NUMBER
    assert sqlprovider.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
    assert sqlprovider.Timestamp(2024, 1, 2, 3, 4, 5) == datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert sqlprovider.Time(3, 4, 5) == datetime.time(3, 4, 5)
    assert sqlprovider.Binary(b"x") == b"x"
    assert sqlprovider.DateFromTicks(0) == datetime.date.fromtimestamp(0)
    assert sqlprovider.TimestampFromTicks(86400.0) == datetime.datetime.fromtimestamp(86400)
    assert sqlprovider.TimeFromTicks(0) == datetime.datetime.fromtimestamp(0).time()


def test_description_types_are_declared_types_then_inferred_from_values(ws1, conn):
    ws1.create(model_name="m")
    cursor = conn.execute("SELECT id, creation_timestamp, events, deployment_name, length(id) AS n, 1.5 AS f, "
                          "x'00' AS b, NULL AS z FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert cursor.description == (
        ("id", "TEXT", None, None, None, None, None),
        ("creation_timestamp", "INTEGER", None, None, None, None, None),
        ("events", "TEXT", None, None, None, None, None),
        ("deployment_name", "TEXT", None, None, None, None, None),
        ("n", "INTEGER", None, None, None, None, None),
        ("f", "REAL", None, None, None, None, None),
        ("b", "BLOB", None, None, None, None, None),
        ("z", None, None, None, None, None, None),
    )
    codes = [d[1] for d in cursor.description]
    assert codes[0] == sqlprovider.STRING and codes[1] == sqlprovider.NUMBER and codes[6] == sqlprovider.BINARY
    assert cursor.rowcount == -1
    assert cursor.fetchall() == [(ws1.list()[0]["id"], ws1.list()[0]["creation_timestamp"],
                                  '["MODEL_VERSION_CREATED"]', "ws1", 32, 1.5, b"\x00", None)]


def test_select_star_describes_the_visible_columns(ws1, conn):
    cursor = conn.execute("SELECT * FROM databricks_workspace.ml.model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert [d[:2] for d in cursor.description] == [
        (name, "INTEGER" if name.endswith("timestamp") else "TEXT") for name in COLUMNS]
    assert cursor.fetchall() == []


def test_fetchone_fetchmany_fetchall_arraysize_and_iteration(ws1, conn):
    for i in range(5):
        ws1.create(model_name=f"m{i}")
    cursor = conn.cursor()
    assert cursor.arraysize == 1 and cursor.lastrowid is None and cursor.description is None
    cursor.execute("SELECT model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1' ORDER BY 1")
    assert cursor.fetchone() == ("m0",)
    assert cursor.fetchmany() == [("m1",)]
    cursor.arraysize = 2
    assert cursor.fetchmany() == [("m2",), ("m3",)]
    assert cursor.fetchmany(5) == [("m4",)]
    assert cursor.fetchone() is None and cursor.fetchmany() == [] and cursor.fetchall() == []
    cursor.execute("SELECT model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1' ORDER BY 1 DESC")
    assert [row for row in cursor] == [("m4",), ("m3",), ("m2",), ("m1",), ("m0",)]


def test_qmark_and_named_parameters(ws1, conn):
    ws1.create(model_name="a")
    ws1.create(model_name="b")
    ws1.reset()
    query = "SELECT model_name FROM model_registry_webhooks WHERE deployment_name = {} AND model_name = {}"
    assert conn.execute(query.format("?", "?"), ("ws1", "b")).fetchall() == [("b",)]
    assert conn.execute(query.format(":d", ":m"), {"d": "ws1", "m": "a"}).fetchall() == [("a",)]
    # the model_name equality is pushed down to the API either way
    assert [dict(c[2])["model_name"] for c in ws1.calls()] == ["b", "a"]


def test_rowcount_of_writes(ws1, conn):
    cursor = conn.execute(INSERT, ("ws1", "m", "COMMENT_CREATED", SPEC))
    assert cursor.rowcount == 1 and cursor.description is None
    ws1.create(model_name="m")
    cursor.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE deployment_name = 'ws1'")
    assert cursor.rowcount == 2
    cursor.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = ? AND model_name = ?", ["ws1", "m"])
    assert cursor.rowcount == 2
    assert ws1.list() == []


def test_executemany_insert_sends_one_create_per_row_at_one_commit(ws1, conn):
    cursor = conn.cursor()
    cursor.executemany(INSERT, [("ws1", f"m{i}", "MODEL_VERSION_CREATED", SPEC) for i in range(6)])
    assert cursor.rowcount == 6 and cursor.description is None
    assert not conn.db.in_transaction
    calls = ws1.calls()
    assert [c[:2] for c in calls] == [("POST", "create")] * 6
    assert sorted(c[3]["model_name"] for c in calls) == [f"m{i}" for i in range(6)]
    assert sorted(h["model_name"] for h in ws1.list()) == [f"m{i}" for i in range(6)]


def test_executemany_sends_nothing_when_a_row_is_invalid(ws1, conn):
    rows = [("ws1", "good", "MODEL_VERSION_CREATED", SPEC), ("ws1", "bad", "NOT_AN_EVENT", SPEC)]
    with pytest.raises(sqlprovider.DataError, match="unknown value 'NOT_AN_EVENT'"):
        conn.cursor().executemany(INSERT, rows)
    assert ws1.calls() == [] and not conn.db.in_transaction


def test_executemany_named_parameters_update_and_an_open_transaction(ws1, conn):
    hooks = [ws1.create(model_name=f"m{i}") for i in range(3)]
    ws1.reset()
    cursor = conn.cursor()
    cursor.executemany("UPDATE model_registry_webhooks SET description = :text "
                       "WHERE deployment_name = 'ws1' AND id = :id", [{"id": h["id"], "text": h["model_name"]}
                                                                       for h in hooks])
    assert cursor.rowcount == 3
    assert sorted((h["model_name"], h["description"]) for h in ws1.list()) == [("m0", "m0"), ("m1", "m1"), ("m2", "m2")]
    ws1.reset()
    conn.execute("BEGIN")
    cursor.executemany(INSERT, [("ws1", "x", "COMMENT_CREATED", SPEC), ("ws1", "y", "COMMENT_CREATED", SPEC)])
    assert ws1.calls() == [] and conn.db.in_transaction
    conn.commit()
    assert [c[:2] for c in ws1.calls()] == [("POST", "create")] * 2 and not conn.db.in_transaction


def test_executemany_with_returning_returns_every_row(ws1, conn):
    cursor = conn.cursor()
    cursor.executemany(INSERT + " RETURNING model_name, status", [("ws1", "a", "COMMENT_CREATED", SPEC),
                                                                   ("ws1", "b", "COMMENT_CREATED", SPEC)])
    assert cursor.rowcount == 2 and [d[0] for d in cursor.description] == ["model_name", "status"]
    assert cursor.fetchall() == [("a", "ACTIVE"), ("b", "ACTIVE")]


def test_executemany_takes_writes_only(conn):
    with pytest.raises(conn.ProgrammingError, match=r"executemany\(\) runs INSERT, UPDATE or DELETE, not SELECT"):
        conn.cursor().executemany("SELECT ?", [(1,), (2,)])
    cursor = conn.cursor()
    cursor.executemany(INSERT, [])
    assert cursor.rowcount == 0


def test_commit_and_rollback_map_to_the_open_transaction(ws1, conn):
    conn.commit()
    conn.rollback()  # nothing open: nothing to do
    conn.execute("BEGIN")
    conn.execute(INSERT, ("ws1", "dropped", "COMMENT_CREATED", SPEC))
    conn.rollback()
    assert ws1.calls() == [] and not conn.db.in_transaction
    conn.execute("BEGIN")
    conn.execute(INSERT, ("ws1", "kept", "COMMENT_CREATED", SPEC))
    conn.commit()
    assert [h["model_name"] for h in ws1.list()] == ["kept"]


def test_exec_and_returning_and_stackql_names_through_the_cursor(ws1, conn):
    cursor = conn.cursor()
    cursor.execute("INSERT INTO databricks_workspace.ml.model_registry_webhooks "
                   "(deployment_name, model_name, events, http_url_spec) VALUES (?, ?, ?, ?) RETURNING id, model_name",
                   ("ws1", "m", "COMMENT_CREATED", SPEC))
    assert [d[:2] for d in cursor.description] == [("id", "TEXT"), ("model_name", "TEXT")]
    (hook_id, model), = cursor.fetchall()
    assert model == "m" and [h["id"] for h in ws1.list()] == [hook_id]
    cursor.execute(f"EXEC databricks_workspace.ml.model_registry_webhooks.delete @id='{hook_id}', "
                   f"@deployment_name='ws1'")
    assert cursor.rowcount == 1 and cursor.description is None and ws1.list() == []
    with pytest.raises(sqlprovider.NotSupportedError, match="EXEC takes literal values"):
        cursor.execute("EXEC model_registry_webhooks.delete @id=?, @deployment_name='ws1'", ("x",))


def test_dates_bind_as_iso_text(conn):
    cursor = conn.execute("SELECT ?, ?", (sqlprovider.Date(2024, 1, 2), sqlprovider.Timestamp(2024, 1, 2, 3, 4, 5)))
    assert cursor.fetchall() == [("2024-01-02", "2024-01-02 03:04:05")]


def test_noops_and_use_after_close():
    conn = sqlprovider.connect()
    cursor = conn.cursor()
    cursor.setinputsizes([10])
    cursor.setoutputsize(10, 0)
    with pytest.raises(sqlprovider.ProgrammingError, match="nothing to fetch: call execute\\(\\) first"):
        cursor.fetchone()
    cursor.execute("SELECT 1")
    cursor.close()
    with pytest.raises(sqlprovider.InterfaceError, match="the cursor is closed"):
        cursor.fetchall()
    with pytest.raises(sqlprovider.InterfaceError, match="the cursor is closed"):
        cursor.execute("SELECT 1")
    other = conn.cursor().execute("SELECT 1")
    conn.close()
    conn.close()  # closing twice is allowed
    assert conn.closed
    for use in (conn.cursor, conn.commit, conn.rollback, lambda: conn.execute("SELECT 1"), other.fetchall,
                lambda: other.execute("SELECT 1")):
        with pytest.raises(sqlprovider.InterfaceError, match="the connection is closed"):
            use()


def test_context_manager_closes():
    with sqlprovider.connect(max_workers=2, dry_run=True) as conn:
        assert conn.execute("SELECT 1").fetchall() == [(1,)]
    assert conn.closed


def test_errors_are_pep249_classes(ws1, conn):
    with pytest.raises(sqlprovider.ProgrammingError, match="needs deployment_name"):
        conn.execute("SELECT * FROM model_registry_webhooks").fetchall()
    with pytest.raises(sqlprovider.ProgrammingError, match="no such table"):
        conn.execute("SELECT * FROM nope")


@pytest.mark.parametrize("sql, params, message", [
    ("SELECT ?", (1, 2), "Incorrect number of bindings supplied.  The current statement uses 1 and there are 2"),
    ("SELECT ?", None, "Statement has 1 bindings but you didn't supply any"),
    ("SELECT :a", {"b": 1}, "no value for parameter :a: add 'a' to the parameters"),
    ("SELECT ?", [["x"]], "Bad binding argument type supplied - argument #1: type list: parameters are str, int, "
                          "float, bytes or None (JSON columns take JSON text, e.g. json.dumps(value))"),
])
def test_parameter_mistakes_are_programming_errors(conn, sql, params, message):
    with pytest.raises(sqlprovider.ProgrammingError) as caught:
        conn.execute(sql, params)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_execute_runs_exactly_one_statement_and_executescript_runs_several(ws1, conn):
    """A value pasted into execute()'s text cannot add a statement: several are refused before any runs."""
    ws1.create(model_name="keep")
    ws1.reset()
    pasted = "SELECT 1; DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1'"
    with pytest.raises(sqlprovider.ProgrammingError) as info:
        conn.execute(pasted)
    assert str(info.value) == "execute() runs one statement; got 2: use executescript() for a script of several"
    assert ws1.calls() == [] and [h["model_name"] for h in ws1.list()] == ["keep"]
    ws1.reset()
    cursor = conn.executescript("SELECT 1; SELECT model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert cursor.fetchall() == [("keep",)]
    assert [call[:2] for call in ws1.calls()] == [("GET", "list")]
