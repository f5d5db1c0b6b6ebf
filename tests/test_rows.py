"""API object -> SQL row: what a listed webhook looks like to SQLite, odd values included."""

from __future__ import annotations

from sqlprovider.resources import WEBHOOKS


def test_a_full_object_becomes_its_row_in_column_order():
    item = {"id": "a" * 32, "model_name": "m", "creation_timestamp": 1700000000000, "description": "d",
            "events": ["MODEL_VERSION_CREATED", "COMMENT_CREATED"],
            "http_url_spec": {"url": "https://x.example/h", "enable_ssl_verification": True},
            "last_updated_timestamp": 1700000000001, "status": "ACTIVE"}
    assert WEBHOOKS.row_from_item(item) == (
        "a" * 32, "m", 1700000000000, "d", '["MODEL_VERSION_CREATED","COMMENT_CREATED"]',
        '{"url":"https://x.example/h","enable_ssl_verification":true}', None, 1700000000001, "ACTIVE")


def test_omitted_fields_are_null():
    assert WEBHOOKS.row_from_item({"id": "b" * 32}) == ("b" * 32,) + (None,) * 8


def test_odd_types_still_give_sqlite_values():
    row = WEBHOOKS.row_from_item({
        "id": "c" * 32,
        "description": {"nested": ["x"]},  # an object where text was expected: kept as JSON text
        "creation_timestamp": True,  # a boolean: SQLite's 1
        "events": "MODEL_VERSION_CREATED",  # a bare string in a JSON column: a JSON string
        "job_spec": {"job_id": 2**70},  # beyond 64 bits: still exact
        "status": 1.5,
    })
    assert row == ("c" * 32, None, 1, '{"nested":["x"]}', '"MODEL_VERSION_CREATED"', None,
                   '{"job_id":1180591620717411303424}', None, 1.5)


def test_non_ascii_text_stays_readable_in_json_columns():
    row = WEBHOOKS.row_from_item({"id": "d" * 32, "http_url_spec": {"url": "https://hooks.example/ü"},
                                  "job_spec": {"workspace_url": "https://é.example", "n": 2**70}})
    assert row[5] == '{"url":"https://hooks.example/ü"}'
    assert row[6] == '{"workspace_url":"https://é.example","n":1180591620717411303424}'


def test_write_only_fields_a_server_returns_anyway_are_masked():
    row = WEBHOOKS.row_from_item({"id": "e" * 32, "http_url_spec": {"url": "https://x.example", "secret": "LEAK"},
                                  "job_spec": {"job_id": "1", "access_token": "dapiLEAK"}})
    assert row[5] == '{"url":"https://x.example","secret":"***"}'
    assert row[6] == '{"job_id":"1","access_token":"***"}'
