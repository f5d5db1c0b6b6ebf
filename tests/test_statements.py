"""The statement front end: splitting, names, kinds, RETURNING, WHERE analysis, EXEC. Data tables."""

from __future__ import annotations

import apsw
import pytest

from sqlprovider.errors import StatementError
from sqlprovider.engine.statements import (
    ExecStatement,
    Statement,
    fill_template,
    parse_exec,
    rewrite_names,
    split_returning,
    split_statements,
    statement_kind,
    where_equalities,
    write_target,
)

QUALIFIED = "databricks_workspace.ml.model_registry_webhooks"
NAMES = {QUALIFIED: "model_registry_webhooks"}
FORM = "the form is EXEC <resource>.<method> @param='value' ..."

# --- the seed's examples, verbatim ----------------------------------------------------------------
SEED_SELECT = """SELECT
id,
model_name,
creation_timestamp,
description,
events,
http_url_spec,
job_spec,
last_updated_timestamp,
status
FROM databricks_workspace.ml.model_registry_webhooks
WHERE deployment_name = '{{ deployment_name }}' -- required
AND events = '{{ events }}'
AND max_results = '{{ max_results }}'
AND model_name = '{{ model_name }}'
AND page_token = '{{ page_token }}'
;"""

SEED_INSERT = """INSERT INTO databricks_workspace.ml.model_registry_webhooks (
events,
description,
http_url_spec,
job_spec,
model_name,
status,
deployment_name
)
SELECT
'{{ events }}' /* required */,
'{{ description }}',
'{{ http_url_spec }}',
'{{ job_spec }}',
'{{ model_name }}',
'{{ status }}',
'{{ deployment_name }}'
RETURNING
webhook
;"""

SEED_UPDATE = """UPDATE databricks_workspace.ml.model_registry_webhooks
SET
id = '{{ id }}',
description = '{{ description }}',
events = '{{ events }}',
http_url_spec = '{{ http_url_spec }}',
job_spec = '{{ job_spec }}',
status = '{{ status }}'
WHERE
deployment_name = '{{ deployment_name }}' --required
AND id = '{{ id }}' --required
RETURNING
webhook;"""

SEED_EXEC_DELETE = """EXEC databricks_workspace.ml.model_registry_webhooks.delete
@id='{{ id }}' --required,
@deployment_name='{{ deployment_name }}' --required
;"""

SEED_EXEC_TEST = """EXEC databricks_workspace.ml.model_registry_webhooks.test
@deployment_name='{{ deployment_name }}' --required
@@json=
'{
"id": "{{ id }}",
"event": "{{ event }}"
}'
;"""

VARIABLES = {
    "deployment_name": "sandbox", "id": "wh-1", "events": '["MODEL_VERSION_CREATED"]', "max_results": 10,
    "model_name": "O'Brien model", "page_token": None, "description": "it's mine", "status": "ACTIVE",
    "http_url_spec": {"url": "https://example.com/hook"}, "job_spec": None, "event": "MODEL_VERSION_CREATED",
}

# seed -> (kind, statement after rewrite_names and split_returning, RETURNING, WHERE equalities)
SEED_DML = [
    (SEED_SELECT, "select", """SELECT
id,
model_name,
creation_timestamp,
description,
events,
http_url_spec,
job_spec,
last_updated_timestamp,
status
FROM model_registry_webhooks
WHERE deployment_name = 'sandbox' -- required
AND events = '["MODEL_VERSION_CREATED"]'
AND max_results = '10'
AND model_name = 'O''Brien model'
AND page_token = ''""", None, None),
    (SEED_INSERT, "insert", """INSERT INTO model_registry_webhooks (
events,
description,
http_url_spec,
job_spec,
model_name,
status,
deployment_name
)
SELECT
'["MODEL_VERSION_CREATED"]' /* required */,
'it''s mine',
'{"url": "https://example.com/hook"}',
'',
'O''Brien model',
'ACTIVE',
'sandbox'""", ["webhook"], None),
    (SEED_UPDATE, "update", """UPDATE model_registry_webhooks
SET
id = 'wh-1',
description = 'it''s mine',
events = '["MODEL_VERSION_CREATED"]',
http_url_spec = '{"url": "https://example.com/hook"}',
job_spec = '',
status = 'ACTIVE'
WHERE
deployment_name = 'sandbox' --required
AND id = 'wh-1'""", ["webhook"], frozenset({"deployment_name", "id"})),
]

TABLE = ("CREATE TABLE model_registry_webhooks(id, model_name, creation_timestamp, description, events, "
         "http_url_spec, job_spec, last_updated_timestamp, status, deployment_name, max_results, page_token, webhook)")


@pytest.mark.parametrize("template, kind, statement, returning, equalities", SEED_DML)
def test_seed_dml(template, kind, statement, returning, equalities):
    [part] = split_statements(fill_template(template, VARIABLES))
    assert part.line == 1
    assert statement_kind(part.text) == kind
    text, got_returning = split_returning(rewrite_names(part.text, NAMES))
    assert (text, got_returning) == (statement, returning)
    assert where_equalities(text) == equalities
    db = apsw.Connection(":memory:")  # the spliced text is plain SQLite
    db.execute(TABLE)
    db.execute(text)
    db.execute(f"SELECT {', '.join(returning or ['1'])} FROM model_registry_webhooks")


@pytest.mark.parametrize("template, text, expected", [
    (SEED_EXEC_DELETE, f"EXEC {QUALIFIED}.delete\n@id='wh-1' --required,\n@deployment_name='sandbox'",
     ExecStatement(QUALIFIED, "delete", {"id": "wh-1", "deployment_name": "sandbox"}, None)),
    (SEED_EXEC_TEST, f"EXEC {QUALIFIED}.test\n@deployment_name='sandbox' --required\n@@json=\n"
                     f"'{{\n\"id\": \"wh-1\",\n\"event\": \"MODEL_VERSION_CREATED\"\n}}'",
     ExecStatement(QUALIFIED, "test", {"deployment_name": "sandbox"}, {"id": "wh-1", "event": "MODEL_VERSION_CREATED"})),
])
def test_seed_exec(template, text, expected):
    script = fill_template(template, VARIABLES)
    [part] = split_statements(script)
    assert part == Statement(text, 1)  # from the first to the last token: outer comments and ';' dropped
    assert statement_kind(part.text) == "exec"
    assert parse_exec(part.text) == expected
    assert parse_exec(script) == expected  # with its ';'


def test_seed_script_splits_into_five():
    script = "\n".join([SEED_SELECT, SEED_INSERT, SEED_UPDATE, SEED_EXEC_DELETE, SEED_EXEC_TEST])
    parts = split_statements(fill_template(script, VARIABLES))
    assert [statement_kind(p.text) for p in parts] == ["select", "insert", "update", "exec", "exec"]
    assert [p.line for p in parts] == [1, 18, 38, 51, 55]


# --- split_statements -----------------------------------------------------------------------------
TRIGGER = "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  INSERT INTO y VALUES (';');\n  UPDATE y SET a = 2;\nEND"


@pytest.mark.parametrize("script, expected", [
    ("SELECT 1", [("SELECT 1", 1)]),
    ("SELECT 1;", [("SELECT 1", 1)]),
    ("SELECT 1; SELECT 2;\nSELECT 3", [("SELECT 1", 1), ("SELECT 2", 1), ("SELECT 3", 2)]),
    ("SELECT 'a;b'; SELECT \"c;d\", [e;f], `g;h`", [("SELECT 'a;b'", 1), ('SELECT "c;d", [e;f], `g;h`', 1)]),
    ("SELECT 1 /* ; */ + 2 -- ;\n;", [("SELECT 1 /* ; */ + 2", 1)]),
    ("SELECT 'it''s; fine'; SELECT 2", [("SELECT 'it''s; fine'", 1), ("SELECT 2", 1)]),
    ("SELECT 'a\\'; SELECT 2", [("SELECT 'a\\'", 1), ("SELECT 2", 1)]),  # no backslash escapes in SQLite
    ("\n\n  -- lead\n  /* more */ SELECT 1 -- trail\n ;\n/* tail */\n", [("SELECT 1", 4)]),
    (";;  ; -- only comments\n; /* x */ ;", []),
    ("", []),
    ("   \n\t", []),
    (f"{TRIGGER};\nSELECT 1;", [(TRIGGER, 1), ("SELECT 1", 5)]),
    (f"{TRIGGER}", [(TRIGGER, 1)]),
    ("EXEC a.b.c.d @x='1;2' -- c;\n;SELECT 1", [("EXEC a.b.c.d @x='1;2'", 1), ("SELECT 1", 2)]),
    ("EXECUTE a.b.c.d @x='1;2'; SHOW x; REPLACE INTO t VALUES (';')",
     [("EXECUTE a.b.c.d @x='1;2'", 1), ("SHOW x", 1), ("REPLACE INTO t VALUES (';')", 1)]),
    ("SELECT 'é€;'; SELECT 2", [("SELECT 'é€;'", 1), ("SELECT 2", 1)]),
    ("SELECT 1\n;\n\nSELECT\n2", [("SELECT 1", 1), ("SELECT\n2", 4)]),
    ("BEGIN; INSERT INTO t VALUES (1); COMMIT;", [("BEGIN", 1), ("INSERT INTO t VALUES (1)", 1), ("COMMIT", 1)]),
])
def test_split_statements(script, expected):
    assert split_statements(script) == [Statement(text, line) for text, line in expected]


@pytest.mark.parametrize("script, message", [
    ("SELECT 1;\nSELECT 'abc", "line 2: unterminated string, quoted name or comment: close it with its matching "
                               "quote or */"),
    ("SELECT 1 /* open", "line 1: unterminated string, quoted name or comment: close it with its matching quote or */"),
])
def test_split_statements_errors(script, message):
    with pytest.raises(StatementError) as info:
        split_statements(script)
    assert str(info.value) == message


# --- statement_kind -------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, kind", [
    ("SELECT 1", "select"),
    ("  select 1", "select"),
    ("-- c\n/* d */ SELECT 1", "select"),
    ("VALUES (1)", "select"),
    ("WITH a AS (SELECT 1) SELECT * FROM a", "select"),
    ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT * FROM c", "select"),
    ("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "insert"),
    ("WITH a AS (SELECT 1), b AS MATERIALIZED (SELECT 2) UPDATE t SET x = 1", "update"),
    ("WITH a AS (SELECT 1) DELETE FROM t", "delete"),
    ("INSERT INTO t VALUES (1)", "insert"),
    ("insert or replace into t values (1)", "insert"),
    ("REPLACE INTO t VALUES (1)", "insert"),
    ("UPDATE t SET a = 1", "update"),
    ("DELETE FROM t", "delete"),
    ("EXEC a.b.c.d", "exec"),
    ("exec a.b", "exec"),
    ("EXECUTE a.b.c.d @x='1'", "exec"),
    ("DESCRIBE t", "describe"),
    ("DESC t", "describe"),
    ("SHOW RESOURCES", "show"),
    ("EXPLAIN SELECT 1", "other"),
    ("EXPLAIN QUERY PLAN DELETE FROM t", "other"),
    ("PRAGMA table_info(t)", "other"),
    ("CREATE TABLE t(a)", "other"),
    ("BEGIN", "other"),
    ('"select" FROM t', "other"),
    ("", "other"),
    ("-- only a comment", "other"),
])
def test_statement_kind(sql, kind):
    assert statement_kind(sql) == kind


# --- rewrite_names --------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, expected", [
    (f"SELECT * FROM {QUALIFIED}", "SELECT * FROM model_registry_webhooks"),
    (f"SELECT * FROM {QUALIFIED.upper()}", "SELECT * FROM model_registry_webhooks"),
    ("SELECT * FROM Databricks_Workspace.ML.Model_Registry_Webhooks", "SELECT * FROM model_registry_webhooks"),
    (f"SELECT * FROM {QUALIFIED} AS w WHERE w.id = 1", "SELECT * FROM model_registry_webhooks AS w WHERE w.id = 1"),
    (f"SELECT * FROM {QUALIFIED} w", "SELECT * FROM model_registry_webhooks w"),
    ('SELECT * FROM "databricks_workspace"."ml"."model_registry_webhooks"', "SELECT * FROM model_registry_webhooks"),
    ("SELECT * FROM [databricks_workspace].ml.`model_registry_webhooks`", "SELECT * FROM model_registry_webhooks"),
    (f'SELECT * FROM "{QUALIFIED}"', "SELECT * FROM model_registry_webhooks"),
    (f'SELECT "{QUALIFIED}".id FROM "{QUALIFIED}"', "SELECT model_registry_webhooks.id FROM model_registry_webhooks"),
    ("SELECT * FROM databricks_workspace . ml\n. model_registry_webhooks", "SELECT * FROM model_registry_webhooks"),
    (f"SELECT {QUALIFIED}.id, {QUALIFIED}.\"status\" FROM {QUALIFIED}",
     'SELECT model_registry_webhooks.id, model_registry_webhooks."status" FROM model_registry_webhooks'),
    (f"SELECT '{QUALIFIED}' FROM {QUALIFIED} -- {QUALIFIED}\n/* {QUALIFIED} */",
     f"SELECT '{QUALIFIED}' FROM model_registry_webhooks -- {QUALIFIED}\n/* {QUALIFIED} */"),
    (f"INSERT INTO {QUALIFIED} (id) VALUES ('x') RETURNING webhook",
     "INSERT INTO model_registry_webhooks (id) VALUES ('x') RETURNING webhook"),
    (f"REPLACE INTO {QUALIFIED} VALUES (1)", "REPLACE INTO model_registry_webhooks VALUES (1)"),
    (f"UPDATE {QUALIFIED} SET status = 'ACTIVE'", "UPDATE model_registry_webhooks SET status = 'ACTIVE'"),
    (f"DELETE FROM {QUALIFIED} WHERE id IN (SELECT id FROM {QUALIFIED} x)",
     "DELETE FROM model_registry_webhooks WHERE id IN (SELECT id FROM model_registry_webhooks x)"),
    (f"SELECT * FROM {QUALIFIED}, {QUALIFIED}s, ml.model_registry_webhooks",
     f"SELECT * FROM model_registry_webhooks, {QUALIFIED}s, ml.model_registry_webhooks"),
    (f"SELECT * FROM other.{QUALIFIED}", f"SELECT * FROM other.{QUALIFIED}"),
    (f"SELECT * FROM {QUALIFIED}('sandbox')", "SELECT * FROM model_registry_webhooks('sandbox')"),
    ("SELECT  *  FROM  t  WHERE  a = 'x'", "SELECT  *  FROM  t  WHERE  a = 'x'"),  # untouched byte for byte
])
def test_rewrite_names(sql, expected):
    assert rewrite_names(sql, NAMES) == expected


# --- split_returning ------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, expected", [
    ("INSERT INTO t VALUES (1)", ("INSERT INTO t VALUES (1)", None)),
    ("INSERT INTO t VALUES (1) RETURNING *", ("INSERT INTO t VALUES (1)", ["*"])),
    ("INSERT INTO t VALUES (1) returning id", ("INSERT INTO t VALUES (1)", ["id"])),
    ("UPDATE t SET a = 1 RETURNING\nwebhook", ("UPDATE t SET a = 1", ["webhook"])),
    ("UPDATE t SET a = 1 RETURNING webhook;", ("UPDATE t SET a = 1", ["webhook"])),
    ("DELETE FROM t WHERE id = 'x' --required\nRETURNING id", ("DELETE FROM t WHERE id = 'x'", ["id"])),
    ("DELETE FROM t RETURNING id AS hook_id, status", ("DELETE FROM t", ["id AS hook_id", "status"])),
    ("DELETE FROM t RETURNING id hook_id", ("DELETE FROM t", ["id hook_id"])),  # as written
    ("DELETE FROM t RETURNING id, -- note\n status", ("DELETE FROM t", ["id", "status"])),  # comment: regenerated
    ("DELETE FROM t RETURNING id, -- the id\n status /* s */", ("DELETE FROM t", ["id", "status"])),
    ("INSERT INTO t VALUES (1) RETURNING json_extract(webhook, '$.id') AS hook_id, webhook ->> '$.events'",
     ("INSERT INTO t VALUES (1)", ["json_extract(webhook, '$.id') AS hook_id", "webhook ->> '$.events'"])),
    ('DELETE FROM t RETURNING t.id, "my col", upper(status) AS "Status"',
     ("DELETE FROM t", ["t.id", '"my col"', 'upper(status) AS "Status"'])),
    ("UPDATE t SET a = 'RETURNING x' WHERE b = 1", ("UPDATE t SET a = 'RETURNING x' WHERE b = 1", None)),
    ("UPDATE t SET a = 1 /* RETURNING x */ -- RETURNING y", ("UPDATE t SET a = 1 /* RETURNING x */ -- RETURNING y",
                                                              None)),
    ('UPDATE t SET "returning" = 1', ('UPDATE t SET "returning" = 1', None)),
    ("UPDATE t SET a = 'x' WHERE id = 1 RETURNING a || 'RETURNING'",
     ("UPDATE t SET a = 'x' WHERE id = 1", ["a || 'RETURNING'"])),
    ("INSERT INTO t VALUES (1) ON CONFLICT(id) DO UPDATE SET a = 2 RETURNING id",
     ("INSERT INTO t VALUES (1) ON CONFLICT(id) DO UPDATE SET a = 2", ["id"])),
    ("WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c RETURNING *", ("WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c",
                                                                       ["*"])),
    ("REPLACE INTO t VALUES (1) RETURNING rowid", ("REPLACE INTO t VALUES (1)", ["rowid"])),
    ("SELECT 1 AS returning_x", ("SELECT 1 AS returning_x", None)),
    ("CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1) RETURNING id; END",
     ("CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1) RETURNING id; END", None)),
])
def test_split_returning(sql, expected):
    assert split_returning(sql) == expected


@pytest.mark.parametrize("sql, message", [
    ("INSERT INTO t VALUES (1) RETURNING", "cannot read the RETURNING clause ''; list columns or expressions, "
                                           "e.g. RETURNING id, webhook"),
    ("INSERT INTO t VALUES (1) RETURNING a FROM b", "cannot read the RETURNING clause 'a FROM b'; list columns or "
                                                    "expressions, e.g. RETURNING id, webhook"),
    ("DELETE FROM t RETURNING (a", "cannot read the RETURNING clause: Expecting ) (line 1); list columns or "
                                   "expressions, e.g. RETURNING id, webhook"),
    ("DELETE FROM t\nWHERE a = 1\nRETURNING\nid,\n(a", "cannot read the RETURNING clause: Expecting ) (line 5); "
                                                    "list columns or expressions, e.g. RETURNING id, webhook"),
])
def test_split_returning_errors(sql, message):
    with pytest.raises(StatementError) as info:
        split_returning(sql)
    assert str(info.value) == message


@pytest.mark.parametrize("sql, target", [
    ("INSERT INTO Model_Registry_Webhooks (a) VALUES (?1) RETURNING id", "model_registry_webhooks"),
    ("INSERT OR IGNORE INTO main.t DEFAULT VALUES", "t"),
    ('REPLACE INTO "my table" (a) VALUES (1)', "my table"),
    ("UPDATE OR FAIL t SET a = (SELECT b FROM u) WHERE c = ?2", "t"),
    ("DELETE FROM [t] WHERE a IN (SELECT a FROM u)", "t"),
    ("WITH u AS (SELECT 1 AS a) DELETE FROM t WHERE a IN (SELECT a FROM u)", "t"),
    ("SELECT * FROM t", None),
    ("CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END", None),
    ("INSERT INTO", None),
])
def test_write_target(sql, target):
    assert write_target(sql) == target


# --- where_equalities -----------------------------------------------------------------------------
@pytest.mark.parametrize("sql, expected", [
    ("DELETE FROM t WHERE deployment_name = 'sandbox' AND id = 'x'", {"deployment_name", "id"}),
    ("UPDATE t SET a = 1 WHERE\ndeployment_name = 'd' --required\nAND id = 'x' --required\nRETURNING webhook",
     {"deployment_name", "id"}),
    ("DELETE FROM t WHERE 'x' = id", {"id"}),
    ("DELETE FROM t WHERE id = 42 AND n = -1 AND f = 1.5", {"id", "n", "f"}),
    ("DELETE FROM t WHERE a = ? AND b = ?1 AND c = :c AND d = $d AND e = @e", {"a", "b", "c", "d", "e"}),
    ("DELETE FROM t WHERE ? = a", {"a"}),
    ("DELETE FROM t WHERE T.ID = 'x' AND model_registry_webhooks.Deployment_Name = 'd'", {"id", "deployment_name"}),
    ('DELETE FROM t WHERE "Id" = \'x\'', {"id"}),
    ("DELETE FROM t WHERE (a = 1) AND (b = 2 AND c = 3)", {"a", "b", "c"}),
    ("DELETE FROM t WHERE id = 'x' /* note */ AND d = 'y' -- required", {"id", "d"}),
    ("UPDATE t SET id = 'y' WHERE id = 'x' ORDER BY id LIMIT 1", {"id"}),
    ("DELETE FROM t", None),
    ("DELETE FROM t WHERE a = 1 OR b = 2", None),
    ("DELETE FROM t WHERE a = 1 AND (b = 2 OR c = 3)", None),
    ("DELETE FROM t WHERE a IN ('x', 'y')", None),
    ("DELETE FROM t WHERE a LIKE 'x%'", None),
    ("DELETE FROM t WHERE a < 3", None),
    ("DELETE FROM t WHERE a = lower('X')", None),
    ("DELETE FROM t WHERE a = (SELECT 1)", None),
    ("DELETE FROM t WHERE a IS 'x'", None),
    ("DELETE FROM t WHERE NOT a = 1", None),
    ("DELETE FROM t WHERE a = b", None),
    ("DELETE FROM t WHERE a = NULL", None),
    ("DELETE FROM t WHERE a = 'x' AND a = 'y'", None),
    ("DELETE FROM t WHERE a = 'x' AND T.A = 'x'", None),
    ("DELETE FROM t WHERE a = 1 + 1", None),
    ("DELETE FROM t WHERE 1 = 1", None),
    ("SELECT * FROM t WHERE a = 1", None),
    ("INSERT INTO t SELECT 1 WHERE a = 1", None),
    ("UPDATE OR REPLACE t SET a = 1 WHERE b = 2", None),  # sqlglot cannot parse it: no fast path
])
def test_where_equalities(sql, expected):
    assert where_equalities(sql) == (frozenset(expected) if expected is not None else None)


# --- parse_exec -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, resource, method, params, json_params", [
    (f"EXEC {QUALIFIED}.delete @id='abc', @deployment_name='sandbox'", QUALIFIED, "delete",
     {"id": "abc", "deployment_name": "sandbox"}, None),
    (f"EXEC {QUALIFIED}.delete @id='abc' @deployment_name='sandbox'", QUALIFIED, "delete",
     {"id": "abc", "deployment_name": "sandbox"}, None),
    (f"EXEC {QUALIFIED}.delete\n@id='abc' --required,\n@deployment_name='sandbox' --required\n;", QUALIFIED,
     "delete", {"id": "abc", "deployment_name": "sandbox"}, None),
    (f"EXECUTE {QUALIFIED}.DELETE @ID = 'abc' /* c */ , @Deployment_Name = \"sandbox\";", QUALIFIED, "delete",
     {"id": "abc", "deployment_name": "sandbox"}, None),
    (f"exec {QUALIFIED.upper()}.Test @deployment_name='sandbox' -- c\n @@json='{{\"id\": \"abc\"}}'", QUALIFIED,
     "test", {"deployment_name": "sandbox"}, {"id": "abc"}),
    ("EXEC model_registry_webhooks.delete @id='abc'", "model_registry_webhooks", "delete", {"id": "abc"}, None),
    ("EXEC [databricks_workspace].ml.[model_registry_webhooks].test @x='y'", QUALIFIED, "test", {"x": "y"}, None),
    ("EXEC a.b.c.m", "a.b.c", "m", {}, None),
    (f"EXEC [{QUALIFIED}].delete @id='x'", QUALIFIED, "delete", {"id": "x"}, None),
    ("EXEC a.b.c.m @n=1, @f=1.5, @e=1e3, @neg=-2, @z=NULL, @t=TRUE, @s='it''s'", "a.b.c", "m",
     {"n": 1, "f": 1.5, "e": 1000.0, "neg": -2, "z": None, "t": True, "s": "it's"}, None),
    ("EXEC a.b.c.m @s='x;y' -- ;\n", "a.b.c", "m", {"s": "x;y"}, None),
    ("EXEC a.b.c.m @s='', @t=' '", "a.b.c", "m", {"s": "", "t": " "}, None),
    ("EXEC a.b.c.m @a='1',", "a.b.c", "m", {"a": "1"}, None),
    ("EXEC a.b.c.m @@json='{\"Nested\": {\"a\": [1, 2]}, \"n\": null}'", "a.b.c", "m", {},
     {"Nested": {"a": [1, 2]}, "n": None}),
])
def test_parse_exec(sql, resource, method, params, json_params):
    assert parse_exec(sql) == ExecStatement(resource, method, params, json_params)


@pytest.mark.parametrize("sql, message", [
    ("SELECT 1", "not an EXEC statement: write EXEC <resource>.<method> @param='value' ..."),
    ("-- EXEC a.b.c.d\nDELETE FROM t", "not an EXEC statement: write EXEC <resource>.<method> @param='value' ..."),
    ("EXEC a.b.c", f"EXEC a.b.c names no method: {FORM}, e.g. EXEC a.b.c.<method>"),
    ("EXEC model_registry_webhooks", f"EXEC model_registry_webhooks names no method: {FORM}, "
                                     f"e.g. EXEC model_registry_webhooks.<method>"),
    ("EXEC", f"cannot read EXEC: missing <resource>.<method> after EXEC (line 1); {FORM}"),
    ("EXEC @id='x'", f"cannot read EXEC: missing <resource>.<method> after EXEC (line 1); {FORM}"),
    ("EXEC a.", f"cannot read EXEC: Expected table name but got the end of the statement (line 1); {FORM}"),
    ("EXEC a.b.c.d 'x'", f"cannot read EXEC: expected @param='value' but found 'x' (line 1); {FORM}"),
    ("EXEC a.b.c.d\n@x='1'\njunk", f"cannot read EXEC: expected @param='value' but found 'junk' (line 3); {FORM}"),
    ("EXEC a.b.c.d @x=1+2", f"cannot read EXEC: expected @param='value' but found '+' (line 1); {FORM}"),
    ("EXEC a.b.c.d @x", "parameter @x has no value: write @x='value'"),
    ("EXEC a.b.c.d @x=", "parameter @x has no value: write @x='value'"),
    ("EXEC a.b.c.d @x= @y='1'", "parameter @x has no value: write @x='value'"),
    ("EXEC a.b.c.d @@json", "parameter @@json has no value: write @@json='value'"),
    ("EXEC a.b.c.d @x=sandbox", "parameter @x: sandbox is not a quoted string, a number or NULL; write @x='sandbox'"),
    ("EXEC a.b.c.d @x=(1)", "parameter @x: (...) is not a quoted string, a number or NULL; write @x='(...)'"),
    ("EXEC a.b.c.d @id='1' @ID='2'", "parameter @id is given twice: keep one"),
    ("EXEC a.b.c.d @@json='{}' @@json='{}'", "parameter @@json is given twice: keep one"),
    ("EXEC a.b.c.d @@foo='1'", "unknown parameter @@foo: the only @@ parameter is @@json='{...}'"),
    ("EXEC a.b.c.d @@json='{\"id\": }'", "@@json is not valid JSON: Expecting value at line 1, column 8 of the JSON "
                                         "text; fix it, e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @@json='{\n\"id\": \"x\"\n\"event\": \"y\"}'", "@@json is not valid JSON: Expecting ',' delimiter "
     "at line 3, column 1 of the JSON text; fix it, e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @@json=''", "@@json is not valid JSON: Expecting value at line 1, column 1 of the JSON text; "
                               "fix it, e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @@json='[1]'", "@@json must be a JSON object, not list: e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @@json='\"x\"'", "@@json must be a JSON object, not str: e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @@json=1", "@@json must be a quoted JSON object, e.g. @@json='{\"id\": \"...\"}'"),
    ("EXEC a.b.c.d @id='1' @@json='{\"id\": \"2\"}'",
     "parameter id is given both as @id and inside @@json: keep one"),
    ("EXEC a.b.c.d @x='1'; SELECT 2", "EXEC takes one statement: run the statements after ';' separately"),
    ("EXEC a.b.c.d @x='abc", "line 1: unterminated string, quoted name or comment: close it with its matching "
                             "quote or */"),
])
def test_parse_exec_errors(sql, message):
    with pytest.raises(StatementError) as info:
        parse_exec(sql)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
