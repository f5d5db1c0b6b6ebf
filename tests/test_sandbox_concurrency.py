"""Concurrent clients and several Sandbox instances on one data file: no lost writes, no repeated ids."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from sqlprovider.sandbox import Sandbox

API = "/api/2.0/mlflow/registry-webhooks/"


def create(sb: Sandbox, session: requests.Session, description: str) -> str:
    response = session.post(sb.url + API + "create", headers={"Authorization": f"Bearer {sb.token}"}, json={
        "events": ["MODEL_VERSION_CREATED"], "description": description,
        "http_url_spec": {"url": "https://h.example"}}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["webhook"]["id"]


def list_all(sb: Sandbox) -> list[dict]:
    hooks, token = [], None
    while True:
        params = {"max_results": 1000, **({"page_token": token} if token else {})}
        page = requests.get(sb.url + API + "list", params=params,
                            headers={"Authorization": f"Bearer {sb.token}"}, timeout=30).json()
        hooks += page.get("webhooks", [])
        token = page.get("next_page_token")
        if not token:
            return hooks


def test_eight_threads_create_two_hundred_webhooks(sandbox):
    def worker(n: int) -> list[str]:
        with requests.Session() as session:
            return [create(sandbox, session, f"t{n}-{i}") for i in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [i for batch in pool.map(worker, range(8)) for i in batch]
    assert len(ids) == 200 and len(set(ids)) == 200
    hooks = list_all(sandbox)
    assert sorted(h["id"] for h in hooks) == sorted(ids)
    assert len({h["description"] for h in hooks}) == 200
    for n in range(8):  # each thread's webhooks are listed in the order it created them
        mine = [h["description"] for h in hooks if h["description"].startswith(f"t{n}-")]
        assert mine == [f"t{n}-{i}" for i in range(25)]


def test_two_sandboxes_on_one_file_see_each_others_writes(tmp_path):
    path = tmp_path / "shared.db"
    with Sandbox(data_path=path) as a, Sandbox(data_path=path) as b:
        with requests.Session() as session:
            first = create(a, session, "from a")
            second = create(b, session, "from b")
        assert [h["id"] for h in list_all(a)] == [first, second]
        assert list_all(b) == list_all(a)
        assert a.workspace_id == b.workspace_id

        response = requests.patch(b.url + API + "update", headers={"Authorization": f"Bearer {b.token}"},
                                  json={"id": first, "description": "changed by b"}, timeout=30)
        assert response.status_code == 200
        assert list_all(a)[0]["description"] == "changed by b"
        requests.delete(a.url + API + "delete", params={"id": second},
                        headers={"Authorization": f"Bearer {a.token}"}, timeout=30)
        assert [h["id"] for h in list_all(b)] == [first]


def test_concurrent_writers_on_two_sandboxes_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    with Sandbox(data_path=path) as a, Sandbox(data_path=path) as b:
        barrier = threading.Barrier(8)

        def worker(n: int) -> list[str]:
            sb = (a, b)[n % 2]
            barrier.wait()
            with requests.Session() as session:
                return [create(sb, session, f"w{n}-{i}") for i in range(15)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = [i for batch in pool.map(worker, range(8)) for i in batch]
        assert len(set(ids)) == 120
        assert sorted(h["id"] for h in list_all(a)) == sorted(ids) == sorted(h["id"] for h in list_all(b))


def test_concurrent_updates_of_one_webhook_are_all_applied_in_some_order(sandbox):
    with requests.Session() as session:
        hook = create(sandbox, session, "start")

    def update(n: int) -> int:
        response = requests.patch(sandbox.url + API + "update", headers={"Authorization": f"Bearer {sandbox.token}"},
                                  json={"id": hook, "description": f"d{n}"}, timeout=30)
        assert response.status_code == 200
        return response.json()["webhook"]["last_updated_timestamp"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(update, range(40)))
    assert len(set(stamps)) == 40  # every update got its own, strictly later, timestamp
    [final] = list_all(sandbox)
    assert final["last_updated_timestamp"] == max(stamps)
