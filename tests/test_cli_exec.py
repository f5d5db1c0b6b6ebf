"""`sqlprovider exec` as a user runs it: a subprocess against the ws1 sandbox, exact output and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROW = """SELECT 1 AS a, '["x"]' AS events, NULL AS n, 'p,q' AS t"""
FORMATS = {
    "table": "+---+--------+---+-----+\n| a | events | n | t   |\n+---+--------+---+-----+\n"
             "| 1 | [\"x\"]  |   | p,q |\n+---+--------+---+-----+\n",
    "box": "┌───┬────────┬───┬─────┐\n│ a │ events │ n │ t   │\n├───┼────────┼───┼─────┤\n"
           "│ 1 │ [\"x\"]  │   │ p,q │\n└───┴────────┴───┴─────┘\n",
    "markdown": "| a | events | n | t |\n|---:|---|---:|---|\n| 1 | [\"x\"] |  | p,q |\n",
    "csv": "a,events,n,t\n1,\"[\"\"x\"\"]\",,\"p,q\"\n",
    "jsonl": '{"a": 1, "events": ["x"], "n": null, "t": "p,q"}\n',
    "json": '[\n  {\n    "a": 1,\n    "events": [\n      "x"\n    ],\n    "n": null,\n    "t": "p,q"\n  }\n]\n',
}


@pytest.fixture
def sqlprovider_exec(ws1, tmp_path):
    """Run `python -m sqlprovider exec ARGS` with the test's config file and data directory."""
    env = {**os.environ}
    assert env["DATABRICKS_CONFIG_FILE"] and env["SQLPROVIDER_DATA_DIR"]

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sqlprovider", "exec", *args], input=stdin, text=True,
                              capture_output=True, env=env, cwd=tmp_path, timeout=60)

    return run


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_format_exactly(sqlprovider_exec, fmt):
    done = sqlprovider_exec("-e", ROW, "-o", fmt)
    assert (done.returncode, done.stdout, done.stderr) == (0, FORMATS[fmt], "")


def test_human_formats_title_each_result_with_its_comment_and_machine_formats_stay_clean(sqlprovider_exec):
    script = "-- one\nSELECT 1 AS a;\n\n-- a table\n-- of two\nSELECT 2 AS b;\nSELECT 3 AS c"
    done = sqlprovider_exec("-o", "table", stdin=script)
    assert done.stdout == ("-- one\n+---+\n| a |\n+---+\n| 1 |\n+---+\n\n"
                           "-- a table\n-- of two\n+---+\n| b |\n+---+\n| 2 |\n+---+\n\n"
                           "+---+\n| c |\n+---+\n| 3 |\n+---+\n")
    assert sqlprovider_exec("-o", "jsonl", stdin=script).stdout == '{"a": 1}\n{"b": 2}\n{"c": 3}\n'


def test_files_then_expressions_in_order_and_stdin_as_dash(sqlprovider_exec, tmp_path):
    (tmp_path / "a.sql").write_text("SELECT 'file' AS src;")
    done = sqlprovider_exec("a.sql", "-", "-e", "SELECT 'e' AS src", "-o", "csv", stdin="SELECT 'stdin' AS src;")
    assert done.stdout == "src\nfile\nsrc\nstdin\nsrc\ne\n"


def test_vars_fill_placeholders_and_escape_quoted_values(sqlprovider_exec, ws1, tmp_path):
    hook = ws1.create(model_name="m1")
    (tmp_path / "list.sql").write_text(
        "SELECT id, '{{ who }}' AS who FROM databricks_workspace.ml.model_registry_webhooks\n"
        "WHERE deployment_name = '{{ deployment_name }}' AND model_name = '{{ model }}';")
    done = sqlprovider_exec("list.sql", "--var", "deployment_name=ws1", "--var", "model=m1",
                            "--var", "who=O'Brien", "-o", "jsonl")
    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"id": hook["id"], "who": "O'Brien"}]


def test_vars_file_with_var_overriding_it(sqlprovider_exec, tmp_path):
    (tmp_path / "vars.json").write_text(json.dumps({"a": "from file", "b": 2}))
    done = sqlprovider_exec("--vars-file", "vars.json", "--var", "b=from --var", "-o", "jsonl",
                            "-e", "SELECT '{{ a }}' AS a, '{{ b }}' AS b")
    assert done.stdout == '{"a": "from file", "b": "from --var"}\n'


def test_bad_vars_file_is_one_line(sqlprovider_exec, tmp_path):
    (tmp_path / "vars.json").write_text("[1, 2]")
    done = sqlprovider_exec("--vars-file", "vars.json", "-e", "SELECT 1")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "sqlprovider: error: --vars-file vars.json must hold a JSON object of name: value\n"


def test_unfilled_placeholders_are_named_before_anything_runs(sqlprovider_exec, ws1, tmp_path):
    (tmp_path / "q.sql").write_text("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1';\n"
                                    "SELECT '{{ a }}',\n  {{ b }};\n")
    ws1.reset()
    done = sqlprovider_exec("q.sql", "--var", "c=1")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("sqlprovider: error: q.sql: unfilled placeholders: a (line 2), b (line 3); "
                           "pass them with --var NAME=VALUE\n")
    assert ws1.calls() == []


def test_first_error_stops_with_exit_1_and_file_line(sqlprovider_exec, tmp_path):
    (tmp_path / "bad.sql").write_text("SELECT 1 AS a;\n\n-- next\nSELECT nope\n  FROM model_registry_webhooks\n"
                                      "  WHERE deployment_name = 'ws1';\nSELECT 3 AS c;\n")
    done = sqlprovider_exec("bad.sql", "-o", "csv")
    assert (done.returncode, done.stdout) == (1, "a\n1\n")
    assert done.stderr == "sqlprovider: error: bad.sql:4: no such column: nope\n"


def test_api_error_is_one_line_with_place(sqlprovider_exec):
    done = sqlprovider_exec("-e", "SELECT 1;\nEXEC model_registry_webhooks.delete @deployment_name='ws1' @id='nope'")
    assert done.returncode == 1
    assert done.stderr.startswith("sqlprovider: error: -e:2: ws1: DELETE /api/2.0/mlflow/registry-webhooks/delete "
                                  "failed: RESOURCE_DOES_NOT_EXIST")
    assert done.stderr.count("\n") == 1


def test_outfile_and_unwritable_outfile(sqlprovider_exec, tmp_path):
    done = sqlprovider_exec("-e", ROW, "-o", "csv", "-f", "out.csv")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (tmp_path / "out.csv").read_text() == FORMATS["csv"]
    done = sqlprovider_exec("-e", ROW, "-f", "missing/out.csv")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "sqlprovider: error: cannot write -f missing/out.csv: No such file or directory\n"


def test_missing_file_is_one_line(sqlprovider_exec):
    done = sqlprovider_exec("nope.sql")
    assert (done.returncode, done.stderr) == (1, "sqlprovider: error: cannot read nope.sql: No such file or directory\n")


COUNT_FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"


def test_broken_pipe_stops_quietly(ws1, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sqlprovider", "exec", "-o", "jsonl", "-e", COUNT_FOREVER],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout.readline() == '{"x": 1}\n'
    proc.stdout.close()  # as `| head -1` does
    assert proc.wait(timeout=30) == 1
    assert proc.stderr.read() == ""


def test_interrupt_is_one_line(ws1, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sqlprovider", "exec", "-o", "jsonl", "-e", COUNT_FOREVER],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert proc.stderr.read() == "sqlprovider: interrupted\n"


def test_deployment_and_max_affected_options(sqlprovider_exec, ws1):
    for name in ("a", "b", "c"):
        ws1.create(model_name=name)
    done = sqlprovider_exec("-d", "ws1", "-o", "csv", "-e", "SELECT model_name, deployment_name FROM "
                            "model_registry_webhooks ORDER BY 1")
    assert (done.returncode, done.stdout, done.stderr) == (0, "model_name,deployment_name\na,ws1\nb,ws1\nc,ws1\n", "")
    ws1.reset()
    done = sqlprovider_exec("--deployment", "ws1", "--max-affected", "2", "-e",
                            "UPDATE model_registry_webhooks SET status = 'DISABLED'")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("sqlprovider: error: -e:1: UPDATE would change 3 rows, more than the cap of 2 "
                                  "(max_affected); ")
    assert [call[0] for call in ws1.calls()] == ["GET"]  # the listing that counted them; no PATCH


@pytest.mark.parametrize("args, message", [
    (("-d", "a.b"), "sqlprovider: error: deployment_name 'a.b' is not a workspace name"),
    (("--max-affected", "0"), "sqlprovider exec: error: argument --max-affected: expected a whole number of "
                              "at least 1, not '0'"),
])
def test_bad_connection_options_are_one_line(sqlprovider_exec, args, message):
    done = sqlprovider_exec(*args, "-e", "SELECT 1")
    assert done.returncode in (1, 2) and done.stdout == ""
    assert done.stderr.splitlines()[-1].startswith(message)


def test_an_unquoted_placeholder_cannot_smuggle_a_statement(sqlprovider_exec, ws1, tmp_path):
    """The review's case: `max_results = {{ n }}` with a value holding a DELETE ran the DELETE. Now the
    file is refused before any statement runs, and the webhook is still there."""
    api = ws1
    api.create()
    (tmp_path / "list.sql").write_text(
        "SELECT 1 AS first;\nSELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1'\n"
        "  AND max_results = {{ n }};\n")
    api.reset()
    done = sqlprovider_exec("list.sql", "--var",
                            "n=10; DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("sqlprovider: error: list.sql: placeholder n (line 3) is outside quotes, so its value must be one "
                           "SQL literal (a number, or a string in single quotes); put the placeholder inside "
                           "quotes ('{{ n }}') to pass text\n")
    assert api.calls() == [] and len(api.list()) == 1
