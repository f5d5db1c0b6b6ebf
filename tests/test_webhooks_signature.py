"""verify_signature: the check a receiver runs on the raw body and the X-Databricks-Signature header."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sqlprovider.webhooks import sign, verify_signature

BODY = b'{"event":"MODEL_VERSION_CREATED","webhook_id":"1f0c","model_name":"churn","version":"3"}'
SECRET = "whsec-0123456789"
GOOD = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()


def test_sign_is_the_hex_hmac_sha256_of_the_body():
    assert sign(BODY, SECRET) == GOOD
    assert len(GOOD) == 64


@pytest.mark.parametrize("header", [
    GOOD,
    GOOD.upper(),
    f"  {GOOD}\n",
    f"\t{GOOD.upper()} ",
])
def test_accepts_the_right_signature(header):
    assert verify_signature(BODY, SECRET, header) is True


@pytest.mark.parametrize("header", [
    None,
    "",
    "   ",
    GOOD[:-1],                      # one digit short
    GOOD + "0",                     # one digit long
    GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1"),  # last digit wrong
    "sha256=" + GOOD,               # a prefix Databricks does not send
    "z" * 64,                       # not hex
    "é" * 64,                       # not ASCII: compare_digest would raise on such a str
    "\x00" * 64,
    hashlib.sha256(BODY).hexdigest(),  # a plain digest, not keyed
    12345,                          # not a string at all
])
def test_refuses_anything_else_without_raising(header):
    assert verify_signature(BODY, SECRET, header) is False


def test_wrong_secret_or_changed_body_fails():
    assert verify_signature(BODY, SECRET + "x", GOOD) is False
    assert verify_signature(BODY + b" ", SECRET, GOOD) is False
    # re-serialised JSON has other bytes: verify the raw body, not a parsed-and-dumped copy
    assert verify_signature(BODY.replace(b",", b", "), SECRET, GOOD) is False


def test_empty_secret_never_verifies():
    assert verify_signature(BODY, "", sign(BODY, "")) is False
    assert verify_signature(BODY, None, GOOD) is False  # type: ignore[arg-type]


def test_bytes_like_bodies_are_accepted():
    assert verify_signature(bytearray(BODY), SECRET, GOOD) is True
    assert verify_signature(memoryview(BODY), SECRET, GOOD) is True


def test_a_parsed_or_decoded_body_is_a_programming_error():
    with pytest.raises(TypeError, match="raw request body as bytes"):
        verify_signature(BODY.decode(), SECRET, GOOD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_signature({"event": "MODEL_VERSION_CREATED"}, SECRET, GOOD)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", [SECRET.encode(), bytearray(SECRET.encode()), 12345])
def test_a_secret_that_is_not_a_str_is_a_type_error(secret):
    with pytest.raises(TypeError, match=r"the webhook secret as a str \(.*\), not (bytes|bytearray|int)$"):
        verify_signature(BODY, secret, GOOD)
    with pytest.raises(TypeError, match=r"the webhook secret as a str"):
        sign(BODY, secret)


def test_the_checks_on_body_and_secret_come_before_the_header_is_looked_at():
    with pytest.raises(TypeError):
        verify_signature(BODY, SECRET.encode(), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_signature(BODY.decode(), "", None)  # type: ignore[arg-type]


def test_docstring_shows_flask_and_fastapi_receivers():
    doc = verify_signature.__doc__ or ""
    assert "request.get_data()" in doc and "await request.body()" in doc
    assert "TypeError" in doc and "bytes secret" in doc
