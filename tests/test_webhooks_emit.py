"""Simulated registry events: which webhooks get them, the generic+specific stage pair, the payloads,
`POST /api/2.0/sandbox/emit` and `sqlprovider sandbox emit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sqlprovider.cli import main as cli
from sqlprovider.webhooks.receiver import Receiver
from sqlprovider.sandbox import Sandbox

API = "/api/2.0/mlflow/registry-webhooks/"
EMIT = "/api/2.0/sandbox/emit"
SECRET = "whsec-emit-4242"
REPO = Path(__file__).resolve().parents[1]

TRANSITIONED = "MODEL_VERSION_TRANSITIONED_STAGE"
TO_PRODUCTION = "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"
TO_STAGING = "MODEL_VERSION_TRANSITIONED_TO_STAGING"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(secret=SECRET, path="/hooks") as r:
        yield r


def create(sb: Sandbox, events: list[str], url: str | None = None, **fields) -> str:
    spec = {"http_url_spec": {"url": url, "secret": SECRET}} if url else {}
    answer = requests.post(sb.url + API + "create", json={"events": events, **spec, **fields},
                           headers={"Authorization": f"Bearer {sb.token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["webhook"]["id"]


def received(receiver: Receiver) -> list[tuple[str | None, str | None]]:
    return [(d["webhook_id"], d["event"]) for d in receiver.deliveries]


# -- who gets an event -----------------------------------------------------------------------------

def test_only_active_webhooks_fire(sandbox, receiver):
    active = create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url, model_name="churn")
    create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url, model_name="churn", status="DISABLED")
    test_mode = create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url, model_name="churn", status="TEST_MODE")
    answer = sandbox.emit("MODEL_VERSION_CREATED", "churn", "3")
    assert [(d["webhook_id"], d["event"], d["status_code"]) for d in answer] == [
        (active, "MODEL_VERSION_CREATED", 200)]
    assert received(receiver) == [(active, "MODEL_VERSION_CREATED")]

    requests.patch(sandbox.url + API + "update", json={"id": test_mode, "status": "ACTIVE"},
                   headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10).raise_for_status()
    assert [d["webhook_id"] for d in sandbox.emit("MODEL_VERSION_CREATED", "churn")] == [active, test_mode]


def test_model_webhooks_match_their_model_and_registry_wide_ones_match_every_model(sandbox, receiver):
    churn = create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url, model_name="churn")
    create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url, model_name="fraud")
    everywhere = create(sandbox, ["MODEL_VERSION_CREATED", "REGISTERED_MODEL_CREATED"], receiver.url)
    create(sandbox, ["COMMENT_CREATED"], receiver.url, model_name="churn")  # another event

    assert [d["webhook_id"] for d in sandbox.emit("MODEL_VERSION_CREATED", "churn")] == [churn, everywhere]
    assert [d["webhook_id"] for d in sandbox.emit("MODEL_VERSION_CREATED", "other")] == [everywhere]
    assert [d["webhook_id"] for d in sandbox.emit("REGISTERED_MODEL_CREATED", "brand-new")] == [everywhere]
    assert sandbox.emit("MODEL_VERSION_TAG_SET", "churn") == []


def test_no_webhooks_no_deliveries(sandbox):
    assert sandbox.emit("MODEL_VERSION_CREATED", "churn") == []
    assert sandbox.deliveries == []


# -- the generic and the stage-specific event ------------------------------------------------------

def test_a_transition_fires_the_generic_and_the_specific_event(sandbox, receiver):
    both = create(sandbox, [TRANSITIONED, TO_PRODUCTION], receiver.url, model_name="churn")
    generic = create(sandbox, [TRANSITIONED], receiver.url, model_name="churn")
    specific = create(sandbox, [TO_PRODUCTION], receiver.url)
    staging = create(sandbox, [TO_STAGING], receiver.url)

    answer = sandbox.emit(TRANSITIONED, "churn", "4", from_stage="staging", to_stage="PRODUCTION")
    assert [(d["webhook_id"], d["event"]) for d in answer] == [
        (both, TRANSITIONED), (generic, TRANSITIONED), (both, TO_PRODUCTION), (specific, TO_PRODUCTION)]
    assert staging not in {d["webhook_id"] for d in answer}
    assert all(d["verified"] for d in receiver.deliveries)
    for d in receiver.deliveries:
        assert d["payload"] == {
            "event": d["event"], "webhook_id": d["webhook_id"], "event_timestamp": d["payload"]["event_timestamp"],
            "model_name": "churn", "version": "4", "to_stage": "Production", "from_stage": "Staging",
            "text": "Registered model 'churn' version 4 transitioned from Staging to Production."}


def test_emitting_the_specific_event_also_fires_the_generic_one(sandbox, receiver):
    generic = create(sandbox, [TRANSITIONED], receiver.url)
    specific = create(sandbox, [TO_STAGING], receiver.url)
    answer = sandbox.emit(TO_STAGING, "churn", "2")
    assert [(d["webhook_id"], d["event"]) for d in answer] == [(generic, TRANSITIONED), (specific, TO_STAGING)]
    assert [d["payload"]["to_stage"] for d in receiver.deliveries] == ["Staging", "Staging"]
    assert "from_stage" not in receiver.deliveries[0]["payload"]


def test_transition_requests_pair_the_same_way(sandbox, receiver):
    hook = create(sandbox, ["TRANSITION_REQUEST_CREATED", "TRANSITION_REQUEST_TO_ARCHIVED_CREATED"], receiver.url)
    answer = sandbox.emit("TRANSITION_REQUEST_CREATED", "churn", "7", "Production", "archived", comment="retire it")
    assert [d["event"] for d in answer] == ["TRANSITION_REQUEST_CREATED", "TRANSITION_REQUEST_TO_ARCHIVED_CREATED"]
    assert {d["webhook_id"] for d in answer} == {hook}
    assert receiver.deliveries[1]["payload"] == {
        "event": "TRANSITION_REQUEST_TO_ARCHIVED_CREATED", "webhook_id": hook,
        "event_timestamp": receiver.deliveries[1]["payload"]["event_timestamp"], "model_name": "churn",
        "version": "7", "to_stage": "Archived", "from_stage": "Production", "comment": "retire it",
        "text": "A user requested that version 7 of registered model 'churn' be transitioned "
                "from Production to Archived."}


def test_a_transition_to_the_none_stage_has_no_specific_event(sandbox, receiver):
    create(sandbox, [TRANSITIONED, TO_ARCHIVED := "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED"], receiver.url)
    assert [d["event"] for d in sandbox.emit(TRANSITIONED, "churn", to_stage="none")] == [TRANSITIONED]
    assert TO_ARCHIVED not in {d["event"] for d in receiver.deliveries}


# -- payloads and delivery details -----------------------------------------------------------------

def test_registered_model_created_has_no_version(sandbox, receiver):
    create(sandbox, ["REGISTERED_MODEL_CREATED"], receiver.url)
    sandbox.emit("REGISTERED_MODEL_CREATED", "brand-new", version="9")
    [got] = receiver.deliveries
    assert got["payload"] == {"event": "REGISTERED_MODEL_CREATED", "webhook_id": got["webhook_id"],
                              "event_timestamp": got["payload"]["event_timestamp"], "model_name": "brand-new",
                              "text": "A new registered model 'brand-new' was created."}


def test_job_webhooks_get_the_simulated_run_now(sandbox):
    hook = create(sandbox, ["COMMENT_CREATED"], model_name="churn",
                  job_spec={"job_id": 42, "access_token": "dapi-job-token", "workspace_url": "https://ws.example"})
    [answer] = sandbox.emit("COMMENT_CREATED", "churn", "5", comment="looks good")
    assert answer == {"webhook_id": hook, "event": "COMMENT_CREATED", "job_id": "42", "status_code": 200,
                      "duration_ms": answer["duration_ms"]}
    [run] = sandbox.deliveries
    assert run["url"] == "https://ws.example/api/2.1/jobs/run-now"
    message = json.loads(run["body"]["notebook_params"]["event_message"])
    assert (message["event"], message["version"], message["comment"]) == ("COMMENT_CREATED", "5", "looks good")


def test_failed_deliveries_report_an_error_and_do_not_stop_the_others(sandbox, receiver, unused_url):
    down = create(sandbox, ["MODEL_VERSION_CREATED"], unused_url + "?token=hidden")
    up = create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url)
    first, second = sandbox.emit("MODEL_VERSION_CREATED", "churn")
    assert first == {"webhook_id": down, "event": "MODEL_VERSION_CREATED", "url": unused_url, "status_code": 502,
                     "duration_ms": first["duration_ms"],
                     "error": f"delivery failed: connection refused by {unused_url}"}
    assert (second["webhook_id"], second["status_code"], "error" in second) == (up, 200, False)


def test_an_unsendable_authorization_fails_its_own_delivery_only(sandbox, receiver):
    bad = create(sandbox, ["MODEL_VERSION_CREATED"],
                 http_url_spec={"url": receiver.url, "authorization": "Token 中文-hidden"})
    good = create(sandbox, ["MODEL_VERSION_CREATED"], receiver.url)
    error = ("delivery failed: http_url_spec.authorization cannot be sent as an HTTP header (it has characters "
             f"outside Latin-1); nothing was sent to {receiver.url}")
    answer = post_emit(sandbox, {"event": "MODEL_VERSION_CREATED", "model_name": "churn"})
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["deliveries"]
    assert first == {"webhook_id": bad, "event": "MODEL_VERSION_CREATED", "url": receiver.url, "status_code": 502,
                     "duration_ms": first["duration_ms"], "error": error}
    assert (second["webhook_id"], second["status_code"], "error" in second) == (good, 200, False)
    first, second = sandbox.emit("MODEL_VERSION_CREATED", "churn")  # in process: no exception either
    assert (first["error"], second["webhook_id"], second["status_code"]) == (error, good, 200)
    assert received(receiver) == [(good, "MODEL_VERSION_CREATED")] * 2
    assert [row.get("error") for row in _log(sandbox)] == [error, None, error, None]
    assert "hidden" not in answer.text and "hidden" not in json.dumps(_log(sandbox))


@pytest.fixture
def unused_url(closed_port) -> str:
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{closed_port}/gone"


# -- input validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"event": "MODEL_VERSION_DELETED"}, "Invalid event 'MODEL_VERSION_DELETED'. Valid events are: "
                                         "MODEL_VERSION_CREATED, MODEL_VERSION_TRANSITIONED_STAGE, "),
    ({"event": TRANSITIONED}, f"Event {TRANSITIONED} needs to_stage (one of None, Staging, Production, Archived)."),
    ({"event": TO_PRODUCTION, "to_stage": "Staging"},
     f"Event {TO_PRODUCTION} moves to Production; to_stage Staging contradicts it."),
    ({"event": "COMMENT_CREATED", "to_stage": "Staging"},
     "from_stage and to_stage apply only to transition events, not to COMMENT_CREATED."),
    ({"event": TRANSITIONED, "to_stage": "Prod"},
     "Invalid value for 'to_stage': 'Prod'. Valid stages are: None, Staging, Production, Archived."),
    ({"event": TO_PRODUCTION, "from_stage": "x"},
     "Invalid value for 'from_stage': 'x'. Valid stages are: None, Staging, Production, Archived."),
    ({"event": "MODEL_VERSION_CREATED", "version": "v2"},
     "Invalid value for 'version': it must be a positive integer such as \"1\"."),
    ({"event": "MODEL_VERSION_CREATED", "version": "0"},
     "Invalid value for 'version': it must be a positive integer such as \"1\"."),
    ({"event": "MODEL_VERSION_CREATED", "model_name": ""}, "Missing value for required parameter 'model_name'."),
])
def test_bad_input_raises_value_error(sandbox, kwargs, message):
    kwargs = {"model_name": "churn", **kwargs}
    with pytest.raises(ValueError) as info:
        sandbox.emit(**kwargs)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_emit_needs_a_started_sandbox(tmp_path):
    with pytest.raises(RuntimeError, match="not running"):
        Sandbox(data_path=tmp_path / "x.db").emit("MODEL_VERSION_CREATED", "churn")


# -- over HTTP -------------------------------------------------------------------------------------

def post_emit(sb: Sandbox, body, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or sb.token}"}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(sb.url + EMIT, data=data, headers=headers, timeout=30)


def test_http_emit_answers_one_object_per_delivery(sandbox, receiver):
    hook = create(sandbox, [TRANSITIONED, TO_PRODUCTION], receiver.url, model_name="churn")
    answer = post_emit(sandbox, {"event": TO_PRODUCTION, "model_name": "churn", "version": 3,
                                 "from_stage": "Staging"})
    assert answer.status_code == 200
    deliveries = answer.json()["deliveries"]
    assert deliveries == [
        {"webhook_id": hook, "event": event, "url": receiver.url, "status_code": 200,
         "duration_ms": deliveries[i]["duration_ms"]} for i, event in enumerate([TRANSITIONED, TO_PRODUCTION])]
    assert all(type(d["duration_ms"]) is int and d["duration_ms"] >= 0 for d in deliveries)
    assert [d["payload"]["version"] for d in receiver.deliveries] == ["3", "3"]


def test_http_emit_with_no_match_still_has_the_deliveries_key(sandbox):
    answer = post_emit(sandbox, {"event": "MODEL_VERSION_CREATED", "model_name": "churn"})
    assert (answer.status_code, answer.json()) == (200, {"deliveries": []})


@pytest.mark.parametrize("body, status, code, message", [
    ({"model_name": "churn"}, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'event'."),
    ({"event": "MODEL_VERSION_CREATED"}, 400, "INVALID_PARAMETER_VALUE",
     "Missing value for required parameter 'model_name'."),
    ({"event": "NOPE", "model_name": "m"}, 400, "INVALID_PARAMETER_VALUE", None),
    ({"event": TRANSITIONED, "model_name": "m"}, 400, "INVALID_PARAMETER_VALUE",
     f"Event {TRANSITIONED} needs to_stage (one of None, Staging, Production, Archived)."),
    ({"event": "MODEL_VERSION_CREATED", "model_name": "m", "version": True}, 400, "INVALID_PARAMETER_VALUE",
     "Invalid value for 'version': it must be a positive integer such as \"1\"."),
    ({"event": "MODEL_VERSION_CREATED", "model_name": "m", "version": [1]}, 400, "INVALID_PARAMETER_VALUE",
     "Invalid value for 'version': it must be a positive integer such as \"1\"."),
    ({"event": 5, "model_name": "m"}, 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected a string for field 'event'."),
    ({"event": "MODEL_VERSION_CREATED", "model_name": "m", "to_stage": {}}, 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected a string for field 'to_stage'."),
    (b"[1, 2]", 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected a JSON object."),
    (b"{not json", 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - failed to parse given JSON."),
])
def test_http_emit_bad_input_is_a_400_never_a_500(sandbox, body, status, code, message):
    answer = post_emit(sandbox, body)
    assert answer.status_code == status
    assert answer.json()["error_code"] == code
    if message is not None:
        assert answer.json()["message"] == message


def test_http_emit_is_authenticated(sandbox):
    body = {"event": "MODEL_VERSION_CREATED", "model_name": "churn"}
    assert requests.post(sandbox.url + EMIT, json=body, timeout=10).status_code == 401
    assert post_emit(sandbox, body, token="wrong").status_code == 403
    assert requests.get(sandbox.url + EMIT, headers={"Authorization": f"Bearer {sandbox.token}"},
                        timeout=10).json() == {"error_code": "ENDPOINT_NOT_FOUND",
                                               "message": "No API found for 'GET /sandbox/emit'"}


# -- the CLI ---------------------------------------------------------------------------------------

def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["sandbox", "emit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_emits_to_a_running_sandbox(sandbox, receiver, capsys):
    hook = create(sandbox, [TRANSITIONED, TO_PRODUCTION], receiver.url, model_name="churn")
    code, out, err = run_cli(capsys, TRANSITIONED, "--model", "churn", "--version", "2", "--from-stage", "Staging",
                             "--to-stage", "production", "--url", sandbox.url, "--token", sandbox.token)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    durations = [d["duration_ms"] for d in _log(sandbox)]
    assert lines == [f"{hook}  {TRANSITIONED}  {receiver.url}  200  {durations[0]} ms",
                     f"{hook}  {TO_PRODUCTION}  {receiver.url}  200  {durations[1]} ms"]
    assert sandbox.token not in out


def _log(sb: Sandbox) -> list[dict]:
    answer = requests.get(sb.url + "/api/2.0/sandbox/deliveries/list",
                          headers={"Authorization": f"Bearer {sb.token}"}, timeout=10)
    return answer.json().get("deliveries", [])


def test_cli_emits_on_a_data_file_and_reports_errors(tmp_path, receiver, unused_url, capsys):
    data = tmp_path / "cli.db"
    with Sandbox(data_path=data) as sb:
        job = create(sb, ["MODEL_VERSION_CREATED"], model_name="churn",
                     job_spec={"job_id": "77", "access_token": "dapi-job"})
        down = create(sb, ["MODEL_VERSION_CREATED"], unused_url)
    code, out, err = run_cli(capsys, "MODEL_VERSION_CREATED", "--model", "churn", "--data", str(data))
    assert (code, err) == (0, "")
    first, second = out.splitlines()
    assert first.startswith(f"{job}  MODEL_VERSION_CREATED  job 77  200  ") and first.endswith(" ms")
    assert second.startswith(f"{down}  MODEL_VERSION_CREATED  {unused_url}  502  ")
    assert second.endswith(f" ms  error: delivery failed: connection refused by {unused_url}")

    code, out, err = run_cli(capsys, "COMMENT_CREATED", "--model", "churn", "--data", str(data))
    assert (code, out, err) == (0, "no matching ACTIVE webhooks\n", "")


@pytest.mark.parametrize("args, message", [
    (["NOPE", "--model", "m"], "Invalid event 'NOPE'. Valid events are: MODEL_VERSION_CREATED, "),
    ([TRANSITIONED, "--model", "m"], f"Event {TRANSITIONED} needs to_stage"),
    (["MODEL_VERSION_CREATED", "--model", "m", "--url", "http://127.0.0.1:1"], "--url and --token go together"),
    (["MODEL_VERSION_CREATED", "--model", "m", "--token", "t"], "--url and --token go together"),
    (["MODEL_VERSION_CREATED", "--model", "m", "--url", "http://127.0.0.1:1", "--token", "t", "--data", "x.db"],
     "--data cannot be combined with --url: the running sandbox has its own data file"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run_cli(capsys, *args)  # without --url: the isolated default data file
    assert (code, out) == (2, "")
    assert err.startswith(f"sqlprovider: error: {message}") and err.count("\n") == 1


def test_cli_with_a_data_file_that_does_not_exist_exits_2_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "no" / "such dir" / "x.db"
    code, out, err = run_cli(capsys, "MODEL_VERSION_CREATED", "--model", "churn", "--data", str(missing))
    assert (code, out) == (2, "")
    assert err == (f"sqlprovider: error: no sandbox data file at {missing}: create one with "
                   f"`sqlprovider sandbox serve --data '{missing}'` (or leave out --data to use the default one)\n")
    assert not (tmp_path / "no").exists()


def test_cli_reports_an_http_error_of_the_running_sandbox(sandbox, capsys):
    code, out, err = run_cli(capsys, "MODEL_VERSION_CREATED", "--model", "m", "--url", sandbox.url,
                             "--token", "not-the-token")
    assert (code, out, err) == (2, "", "sqlprovider: error: Invalid access token.\n")


def test_cli_process_uses_the_default_data_file(tmp_path, receiver):
    with Sandbox(data_path=tmp_path / "sandbox.db") as sb:  # the default under SQLPROVIDER_DATA_DIR
        hook = create(sb, ["MODEL_VERSION_TAG_SET"], receiver.url, model_name="churn")
    env = {**os.environ, "SQLPROVIDER_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "sqlprovider", "sandbox", "emit", "MODEL_VERSION_TAG_SET",
                           "--model", "churn", "--version", "12"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"{hook}  MODEL_VERSION_TAG_SET  {receiver.url}  200  ")
    assert received(receiver) == [(hook, "MODEL_VERSION_TAG_SET")] and receiver.deliveries[0]["verified"] is True
