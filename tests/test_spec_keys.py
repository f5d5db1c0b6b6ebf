"""Spec objects: every key is checked against the resource definition, and a masked secret is refused,
before any request (a misspelt or masked write-only value could never be seen again)."""

from __future__ import annotations

import pytest

import sqlprovider

INSERT = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, job_spec) "
          "VALUES ('ws1', 'MODEL_VERSION_CREATED', ?, ?)")
URL_KEYS = "url, enable_ssl_verification, secret, authorization"


@pytest.mark.parametrize("http_url_spec, job_spec, message", [
    ('{"url": "https://h.example.com", "secert": "s"}', None,
     f"http_url_spec: unknown key 'secert'; did you mean 'secret'? valid keys are {URL_KEYS}"),
    ('{"url": "https://h.example.com", "enable_ssl_verificaton": false}', None,
     f"http_url_spec: unknown key 'enable_ssl_verificaton'; did you mean 'enable_ssl_verification'? "
     f"valid keys are {URL_KEYS}"),
    ('{"url": "https://h.example.com", "zzz": 1}', None,
     f"http_url_spec: unknown key 'zzz'; valid keys are {URL_KEYS}"),
    (None, '{"job_id": "1", "acess_token": "t"}',
     "job_spec: unknown key 'acess_token'; did you mean 'access_token'? valid keys are job_id, workspace_url, "
     "access_token"),
    ('{"url": "https://h.example.com", "secret": "***"}', None,
     "http_url_spec.secret is ***, the mask shown in place of a secret (in output, dry-run listings and logs): "
     "give the real value again"),
    (None, '{"job_id": "1", "access_token": "***"}',
     "job_spec.access_token is ***, the mask shown in place of a secret (in output, dry-run listings and logs): "
     "give the real value again"),
])
def test_bad_spec_keys_and_masked_secrets_are_refused_before_any_request(ws1, conn, http_url_spec, job_spec,
                                                                          message):
    ws1.reset()
    with pytest.raises(sqlprovider.ValidationError) as info:
        conn.execute(INSERT, (http_url_spec, job_spec))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert ws1.calls() == []


def test_update_checks_spec_keys_too(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    with pytest.raises(sqlprovider.ValidationError, match="unknown key 'secert'; did you mean 'secret'"):
        conn.execute("UPDATE model_registry_webhooks SET http_url_spec = '{\"url\": \"https://x.example.com\", "
                     "\"secert\": \"s\"}' WHERE deployment_name = 'ws1' AND id = ?", (hook["id"],))
    assert ws1.calls() == []


def test_every_valid_key_is_sent_as_given(ws1, conn):
    ws1.reset()
    conn.execute(INSERT, ('{"url": "https://h.example.com", "enable_ssl_verification": false, "secret": "s", '
                          '"authorization": "Bearer b"}', None))
    assert ws1.calls() == [("POST", "create", (), {
        "events": ["MODEL_VERSION_CREATED"],
        "http_url_spec": {"url": "https://h.example.com", "enable_ssl_verification": False, "secret": "s",
                          "authorization": "Bearer b"}})]
