import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.service.signature import sign, verify

SECRET = "s3cr3t-webhook"
BODY = b'{"action":"opened","number":2}'
GOOD = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()


def test_sign_matches_hmac_sha256_of_the_raw_body() -> None:
    assert sign(SECRET, BODY) == GOOD
    assert sign(SECRET.encode(), BODY) == GOOD
    assert len(GOOD) == len("sha256=") + 64


def test_githubs_documented_example() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign("It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify(["It's a Secret to Everybody"], b"Hello, World!", expected) is True


def test_verify_accepts_the_right_signature() -> None:
    assert verify([SECRET], BODY, GOOD) is True
    assert verify((SECRET,), BODY, GOOD) is True


def test_rotation_accepts_any_configured_secret() -> None:
    old, new = "old-secret", "new-secret"
    assert verify([new, old], BODY, sign(old, BODY)) is True
    assert verify([new, old], BODY, sign(new, BODY)) is True
    assert verify([new, old], BODY, sign("third-secret", BODY)) is False
    assert verify([new], BODY, sign(old, BODY)) is False


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        GOOD[len("sha256=") :],  # bare digest, no prefix
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),  # the legacy header's format
        "SHA256=" + GOOD[len("sha256=") :],  # prefix is case-sensitive
        " " + GOOD,
        GOOD + " ",
        GOOD + "\n",
        GOOD[:-1],  # 63 hex digits
        GOOD + "0",  # 65 hex digits
        GOOD[:-2] + "zz",  # not hex
        GOOD[:-2] + " 0",  # bytes.fromhex would skip the space
        "sha256=" + "0" * 64,
        "sha256=" + GOOD,  # doubled prefix
    ],
)
def test_malformed_or_wrong_headers_are_rejected(header: str | None) -> None:
    assert verify([SECRET], BODY, header) is False


def test_empty_secrets_are_never_accepted() -> None:
    empty_signature = "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    assert verify([], BODY, GOOD) is False
    assert verify([""], BODY, empty_signature) is False
    assert verify(["", SECRET], BODY, empty_signature) is False
    assert verify(["", SECRET], BODY, GOOD) is True  # an empty entry does not disable the others
    with pytest.raises(ValueError, match="empty webhook secret"):
        sign("", BODY)


def test_a_single_string_is_not_a_list_of_secrets() -> None:
    with pytest.raises(TypeError, match="sequence of secrets"):
        verify(SECRET, BODY, GOOD)  # type: ignore[arg-type]


def test_body_must_be_the_raw_bytes() -> None:
    with pytest.raises(TypeError, match="raw request body"):
        verify([SECRET], BODY.decode(), GOOD)  # type: ignore[arg-type]


def test_one_bit_change_in_the_body_is_rejected() -> None:
    flipped = bytes([BODY[0] ^ 0x01]) + BODY[1:]
    assert flipped != BODY
    assert verify([SECRET], flipped, GOOD) is False
    assert verify([SECRET], BODY + b"\n", GOOD) is False


def test_uppercase_hex_of_the_right_digest_is_the_same_signature() -> None:
    assert verify([SECRET], BODY, "sha256=" + GOOD[len("sha256=") :].upper()) is True


secrets = st.one_of(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=40))


@given(secret=secrets, body=st.binary(max_size=512))
def test_property_sign_then_verify(secret: str | bytes, body: bytes) -> None:
    header = sign(secret, body)
    assert header.startswith("sha256=") and len(header) == 71
    assert verify([secret], body, header) is True  # type: ignore[list-item]


@given(secret=secrets, body=st.binary(max_size=512), other=st.binary(max_size=512))
def test_property_another_body_fails(secret: str | bytes, body: bytes, other: bytes) -> None:
    if other == body:
        other = body + b"\x00"
    assert verify([secret], other, sign(secret, body)) is False  # type: ignore[list-item]
