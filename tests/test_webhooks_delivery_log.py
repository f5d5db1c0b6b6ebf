"""The delivery log: a row per delivery from `test` and `emit`, `GET /api/2.0/sandbox/deliveries/list`
with paging and a webhook_id filter, kept in the data file across restarts."""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterator

import pytest
import requests

from sqlprovider.webhooks.receiver import Receiver
from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.store import Store

API = "/api/2.0/mlflow/registry-webhooks/"
LOG = "/api/2.0/sandbox/deliveries/list"
SECRET = "whsec-log-secret-777"
AUTHORIZATION = "Bearer receiver-credential-999"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(path="/hooks") as r:
        yield r


def create(sb: Sandbox, **body) -> str:
    answer = requests.post(sb.url + API + "create", json={"events": ["MODEL_VERSION_CREATED"], **body},
                           headers={"Authorization": f"Bearer {sb.token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["webhook"]["id"]


def run_test(sb: Sandbox, webhook_id: str) -> dict:
    answer = requests.post(sb.url + API + "test", json={"id": webhook_id},
                           headers={"Authorization": f"Bearer {sb.token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def get_log(sb: Sandbox, token: str | None = None, **query) -> requests.Response:
    return requests.get(sb.url + LOG, params=query, headers={"Authorization": f"Bearer {token or sb.token}"},
                        timeout=10)


def whole_log(sb: Sandbox, **query) -> list[dict]:
    answer = get_log(sb, **query)
    assert answer.status_code == 200, answer.text
    assert "next_page_token" not in answer.json()
    return answer.json().get("deliveries", [])


def test_rows_for_test_and_emit_deliveries(sandbox, receiver, closed_port):
    before = int(time.time() * 1000)
    url = receiver.url.replace("http://", "http://user:pw@") + "?key=hidden#frag"
    http = create(sandbox, model_name="churn", http_url_spec={"url": url, "secret": SECRET,
                                                              "authorization": AUTHORIZATION})
    job = create(sandbox, model_name="churn", job_spec={"job_id": 42, "access_token": "dapi-job-token"})
    down_url = f"http://127.0.0.1:{closed_port}/down"
    down = create(sandbox, http_url_spec={"url": down_url})

    run_test(sandbox, http)
    sandbox.emit("MODEL_VERSION_CREATED", "churn", "2")
    rows = whole_log(sandbox)
    after = int(time.time() * 1000)

    variable = [(row.pop("duration_ms"), row.pop("delivered_at")) for row in rows]
    assert all(type(d) is int and 0 <= d <= after - before for d, _ in variable)
    assert all(before <= at <= after for _, at in variable)
    assert [at for _, at in variable] == sorted(at for _, at in variable)
    assert rows == [
        {"id": 1, "webhook_id": http, "event": "MODEL_VERSION_CREATED", "source": "test", "url": receiver.url,
         "status_code": 200},
        {"id": 2, "webhook_id": http, "event": "MODEL_VERSION_CREATED", "source": "emit", "url": receiver.url,
         "status_code": 200},
        {"id": 3, "webhook_id": job, "event": "MODEL_VERSION_CREATED", "source": "emit", "job_id": "42",
         "status_code": 200},
        {"id": 4, "webhook_id": down, "event": "MODEL_VERSION_CREATED", "source": "emit", "url": down_url,
         "status_code": 502, "error": f"delivery failed: connection refused by {down_url}"},
    ]


def test_the_log_holds_no_credentials(sandbox, receiver, tmp_path):
    url = receiver.url.replace("http://", "http://user:pw@") + "?key=hidden"
    hook = create(sandbox, http_url_spec={"url": url, "secret": SECRET, "authorization": AUTHORIZATION})
    run_test(sandbox, hook)
    sandbox.emit("MODEL_VERSION_CREATED", "churn")
    with sqlite3.connect(sandbox.data_path) as db:
        stored = repr(db.execute("SELECT * FROM deliveries").fetchall())
    for secret in (SECRET, AUTHORIZATION, "receiver-credential-999", "pw", "hidden"):
        assert secret not in stored
    assert len(whole_log(sandbox)) == 2


def test_empty_log_is_an_empty_object(sandbox):
    assert get_log(sandbox).json() == {}


def test_paging_and_the_webhook_id_filter(sandbox, receiver):
    first = create(sandbox, http_url_spec={"url": receiver.url})
    second = create(sandbox, http_url_spec={"url": receiver.url})
    for _ in range(3):
        sandbox.emit("MODEL_VERSION_CREATED", "churn")  # first, second, first, second, ...
    ids, token, pages = [], None, 0
    while True:
        page = get_log(sandbox, max_results=4, **({"page_token": token} if token else {})).json()
        pages += 1
        ids += [row["id"] for row in page["deliveries"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert (ids, pages) == ([1, 2, 3, 4, 5, 6], 2)

    mine = get_log(sandbox, webhook_id=second, max_results=2).json()
    assert [(row["id"], row["webhook_id"]) for row in mine["deliveries"]] == [(2, second), (4, second)]
    rest = get_log(sandbox, webhook_id=second, max_results=2, page_token=mine["next_page_token"]).json()
    assert [row["id"] for row in rest["deliveries"]] == [6] and "next_page_token" not in rest
    assert [row["id"] for row in whole_log(sandbox, webhook_id=first)] == [1, 3, 5]
    assert get_log(sandbox, webhook_id="no-such-webhook").json() == {}


def test_the_default_page_is_100_and_max_results_is_capped_at_1000(sandbox):
    store = Store(sandbox.data_path)  # a second writer on the same file, as another sandbox process would be
    try:
        for i in range(1001):
            store.log_delivery({"webhook_id": "w", "event": "MODEL_VERSION_CREATED", "source": "emit",
                                "url": "http://127.0.0.1/x", "status_code": 200, "duration_ms": 1, "delivered_at": i})
    finally:
        store.close()
    assert len(get_log(sandbox).json()["deliveries"]) == 100
    capped = get_log(sandbox, max_results=5000).json()
    assert len(capped["deliveries"]) == 1000 and capped["next_page_token"]
    last = get_log(sandbox, page_token=capped["next_page_token"]).json()
    assert [row["id"] for row in last["deliveries"]] == [1001] and "next_page_token" not in last


@pytest.mark.parametrize("query, message", [
    ({"max_results": "0"}, "Invalid value for parameter 'max_results': it must be a positive integer "
                           "(at most 1000 are returned per page)."),
    ({"max_results": "ten"}, "Invalid value for parameter 'max_results': it must be a positive integer "
                             "(at most 1000 are returned per page)."),
    ({"page_token": "garbage!"}, "Invalid page_token: it was not returned by a previous list call."),
    ({"page_token": base64.urlsafe_b64encode(b'{"after":9223372036854775808}').decode()},
     "Invalid page_token: it was not returned by a previous list call."),
    ({"page_token": base64.urlsafe_b64encode(b'{"after":-99999999999999999999}').decode()},
     "Invalid page_token: it was not returned by a previous list call."),
])
def test_bad_paging_input_is_a_400(sandbox, query, message):
    answer = get_log(sandbox, **query)
    assert (answer.status_code, answer.json()) == (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": message})


def test_the_log_endpoint_is_authenticated(sandbox):
    assert requests.get(sandbox.url + LOG, timeout=10).status_code == 401
    assert get_log(sandbox, token="wrong").status_code == 403
    assert requests.post(sandbox.url + LOG, headers={"Authorization": f"Bearer {sandbox.token}"},
                         timeout=10).json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_the_log_persists_across_restarts(tmp_path, receiver):
    data = tmp_path / "persist.db"
    with Sandbox(data_path=data) as sb:
        hook = create(sb, http_url_spec={"url": receiver.url})
        run_test(sb, hook)
    with Sandbox(data_path=data) as sb:
        sb.emit("MODEL_VERSION_CREATED", "churn")
        assert [(row["id"], row["source"], row["webhook_id"]) for row in whole_log(sb)] == [
            (1, "test", hook), (2, "emit", hook)]


def test_an_old_data_file_without_the_log_table_gains_it(tmp_path, receiver):
    data = tmp_path / "old.db"
    with Sandbox(data_path=data) as sb:
        hook = create(sb, http_url_spec={"url": receiver.url})
    with sqlite3.connect(data) as db:
        db.execute("DROP TABLE deliveries")
    with Sandbox(data_path=data) as sb:
        assert get_log(sb).json() == {}
        run_test(sb, hook)
        assert [row["id"] for row in whole_log(sb)] == [1]
