"""Request signing (shared.protocol.signing): round trip, and any single change breaks the signature."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from shared.protocol import signing

_NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
secrets_ = st.text(min_size=1, max_size=64)
timestamps = st.integers(min_value=0, max_value=2**40).map(str)
nonces = st.text(alphabet=_NONCE_ALPHABET, min_size=8, max_size=64)
bodies = st.binary(max_size=2048)


@given(secrets_, timestamps, nonces, bodies)
def test_verify_accepts_its_own_signature(secret, ts, nonce, body):
    signature = signing.sign(secret, ts, nonce, body)
    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    assert signing.verify(secret, ts, nonce, body, signature)
    assert signing.verify(secret, ts, nonce, body, signature.upper())  # hex case is not significant


@given(secrets_, timestamps, nonces, bodies.filter(bool), st.data())
def test_any_single_byte_change_to_the_body_breaks_it(secret, ts, nonce, body, data):
    signature = signing.sign(secret, ts, nonce, body)
    i = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    assert not signing.verify(secret, ts, nonce, tampered, signature)


def _mutate(text: str, data, alphabet: str) -> str:
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(st.sampled_from(alphabet).filter(lambda c: c != text[i]))
    return text[:i] + ch + text[i + 1 :]


@given(secrets_, timestamps, nonces, bodies, st.data())
def test_any_single_character_change_to_timestamp_or_nonce_breaks_it(secret, ts, nonce, body, data):
    signature = signing.sign(secret, ts, nonce, body)
    assert not signing.verify(secret, _mutate(ts, data, "0123456789"), nonce, body, signature)
    assert not signing.verify(secret, ts, _mutate(nonce, data, _NONCE_ALPHABET), body, signature)


@given(secrets_, secrets_, timestamps, nonces, bodies)
def test_another_secret_does_not_verify(secret, other, ts, nonce, body):
    assume(secret != other)
    assert not signing.verify(other, ts, nonce, body, signing.sign(secret, ts, nonce, body))


@given(st.text(alphabet="0123456789abcdefABCDEF", max_size=70))
def test_garbage_signatures_are_refused_not_raised(signature):
    expected = signing.sign("k", "1795392000", "nonce-0001", b"{}")
    assume(signature.lower() != expected)
    assert not signing.verify("k", "1795392000", "nonce-0001", b"{}", signature)


def test_non_ascii_signature_is_refused_not_raised():
    assert not signing.verify("k", "1795392000", "nonce-0001", b"{}", "签名" * 32)


def test_signed_headers_verify_and_match_the_gateway_rules():
    body = b'{"type":"heartbeat"}'
    headers = signing.signed_headers("lx-nanchang-st-01-e1", "s3cret", body, unix_now=1795392000)
    assert headers[signing.HEADER_DEVICE] == "lx-nanchang-st-01-e1"
    assert headers[signing.HEADER_TIMESTAMP] == "1795392000"
    assert re.fullmatch(r"[A-Za-z0-9_\-]{8,64}", headers[signing.HEADER_NONCE])
    ts, nonce = headers[signing.HEADER_TIMESTAMP], headers[signing.HEADER_NONCE]
    assert signing.verify("s3cret", ts, nonce, body, headers[signing.HEADER_SIGNATURE])


def test_string_to_sign_layout():
    """The documented layout: timestamp, nonce and hex(sha256(body)), newline-separated."""
    assert signing.string_to_sign("1795392000", "abc12345", b"") == (
        b"1795392000\nabc12345\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
