"""Every file in queries/ runs against the sandbox deployment, as the README promises."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.workspace import deployments
from sqlprovider.cli import script

QUERIES = Path(__file__).resolve().parent.parent / "queries"
SPEC = '{"url": "https://hooks.example.com/q", "secret": "s3cret-value"}'


@pytest.fixture
def embedded():
    """The embedded 'sandbox' deployment, fresh for each test (its data dir is the test's tmp dir)."""
    deployments.stop_embedded_sandbox()
    yield
    deployments.stop_embedded_sandbox()


def run_file(conn, name: str, **variables) -> list[dict]:
    out = io.StringIO()
    source = script.Source(name, (QUERIES / name).read_text())
    script.run(conn, [source], variables, out, "jsonl")
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_seed_example_runs_verbatim_against_the_sandbox(embedded):
    with sqlprovider.connect() as conn:
        created = run_file(conn, "create_webhook.sql", events='["MODEL_VERSION_CREATED"]', description="from seed",
                           http_url_spec=SPEC, job_spec="", model_name="seed-model", status="", deployment_name="sandbox")
        hook = created[0]["webhook"]
        assert (hook["model_name"], hook["description"], hook["events"]) == ("seed-model", "from seed",
                                                                           ["MODEL_VERSION_CREATED"])
        assert hook["http_url_spec"] == {"url": "https://hooks.example.com/q", "enable_ssl_verification": True}

        listed = run_file(conn, "list_webhooks.sql", deployment_name="sandbox", events="MODEL_VERSION_CREATED",
                          max_results="10", model_name="seed-model", page_token="")
        assert [r["id"] for r in listed] == [hook["id"]]

        updated = run_file(conn, "update_webhook.sql", id=hook["id"], description="", events="", http_url_spec="",
                           job_spec="", status="DISABLED", deployment_name="sandbox")
        assert updated[0]["webhook"]["status"] == "DISABLED"
        assert updated[0]["webhook"]["description"] == "from seed"

        tested = run_file(conn, "test_webhook.sql", deployment_name="sandbox", id=hook["id"], event="MODEL_VERSION_CREATED")
        assert list(tested[0]) == ["status_code", "body"]

        assert run_file(conn, "delete_webhook.sql", id=hook["id"], deployment_name="sandbox") == []
        assert run_file(conn, "list_webhooks.sql", deployment_name="sandbox", events="", max_results="",
                        model_name="", page_token="") == []


def test_every_query_file_is_covered():
    assert sorted(p.name for p in QUERIES.glob("*.sql")) == [
        "create_webhook.sql", "delete_webhook.sql", "list_webhooks.sql", "quickstart.sql", "test_webhook.sql",
        "update_webhook.sql"]


def test_quickstart_runs_from_the_command_line(tmp_path):
    env = {**os.environ, "SQLPROVIDER_DATA_DIR": str(tmp_path)}
    for run in range(2):  # the tour cleans up after itself, so it runs again with the same output
        done = subprocess.run([sys.executable, "-m", "sqlprovider", "exec", str(QUERIES / "quickstart.sql")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        out = done.stdout
        assert out.startswith("-- 0. Start clean: remove what an earlier run of this tour left behind.\n"
                              "(0 rows affected)\n\n-- 1. Create three webhooks.")
        assert "\n-- 4. Test a delivery" in out and '|         200 | {"run_id": 1, "number_in_job": 1} |' in out
        for text in ("fraud-detector", "churn-model", "TEST_MODE", "REGISTERED_MODEL_CREATED"):
            assert text in out
        assert "quickstart-signing-secret" not in out and "quickstart-job-token" not in out
