"""Cold start: `sqlprovider exec -e "SELECT 1"` loads no module it does not need (issue 8, lazy imports).

Each check runs in a fresh interpreter and reads sys.modules, since this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("http.server", "sqlglot", "requests", "jinja2", "yaml")  # jinja2, yaml: only `sqlprovider stack`


def modules_after(code: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter; return its last stdout line (JSON) and which HEAVY modules it loaded."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DATABRICKS_CONFIG_FILE": os.devnull})
    assert proc.returncode == 0, proc.stderr
    *printed, loaded = proc.stdout.splitlines()
    return {"loaded": json.loads(loaded), "printed": "\n".join(printed)}


def test_building_the_parser_loads_no_server_http_client_or_parser() -> None:
    assert modules_after("from sqlprovider.cli import main as cli\ncli.build_parser()")["loaded"] == []


def test_plain_statements_need_no_sqlglot() -> None:
    code = """from sqlprovider.engine import statements
script = statements.fill_template("SELECT 1;\\nSELECT count(*) FROM t WHERE a = 'x;y'", {})
for part in statements.split_statements(script):
    assert statements.statement_kind(part.text) == "select"
    assert statements.rewrite_names(part.text, {"a.b.c": "c"}) == part.text"""
    assert "sqlglot" not in modules_after(code)["loaded"]


def test_a_dotted_name_still_loads_sqlglot() -> None:
    code = """from sqlprovider.engine import statements
assert statements.rewrite_names("SELECT * FROM a.b.c", {"a.b.c": "c"}) == "SELECT * FROM c\""""
    assert "sqlglot" in modules_after(code)["loaded"]


@pytest.fixture(scope="module")
def exec_select_1() -> dict[str, object]:
    return modules_after('from sqlprovider.cli import main as cli\nassert cli.main(["exec", "-e", "SELECT 1"]) == 0')


@pytest.mark.parametrize("module", HEAVY)
def test_exec_select_1_does_not_load(exec_select_1: dict[str, object], module: str) -> None:
    assert exec_select_1["printed"] == "+---+\n| 1 |\n+---+\n| 1 |\n+---+"
    assert module not in exec_select_1["loaded"]


def test_port_option_keeps_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlprovider.cli import main as cli

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["sandbox", "serve", "--port", "70000"])
    assert "argument --port: invalid port value: '70000'" in capsys.readouterr().err
