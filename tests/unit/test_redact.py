from reviewbot.redact import PLACEHOLDER, redact


def test_known_token_shapes_are_redacted() -> None:
    text = (
        "token ghs_"
        + "a" * 36
        + " and github_pat_"
        + "B" * 30
        + " key sk-proj-"
        + "c" * 30
        + " Authorization: Bearer abc.def.ghi url https://user:pass@example.invalid/x"
    )
    out = redact(text)
    assert "ghs_" not in out and "github_pat_" not in out and "sk-proj" not in out
    assert "abc.def.ghi" not in out and "user:pass" not in out
    assert out.count(PLACEHOLDER) == 5


def test_explicit_secret_values_and_plain_text() -> None:
    assert redact("the value s3cr3t-v4lue leaked", ("s3cr3t-v4lue",)) == f"the value {PLACEHOLDER} leaked"
    assert redact("4/4 pass, lock released") == "4/4 pass, lock released"


def test_cloud_and_registry_keys_are_redacted() -> None:
    secrets = [
        "ASIA" + "Q" * 16,  # AWS temporary access key id
        "AIza" + "b" * 35,  # Google API key
        "npm_" + "c" * 36,
        "glpat-" + "d" * 20,
    ]
    text = " ".join(secrets) + " aws_secret_access_key = " + "e/F+" * 10
    out = redact(text)
    assert not any(secret in out for secret in secrets) and "e/F+" not in out
    assert out.count(PLACEHOLDER) == 5
    assert "aws_secret_access_key = " + PLACEHOLDER in out


# -- the stream: redaction before any tail is cut ----------------------------------------------------------

from reviewbot.redact import StreamRedactor  # noqa: E402

KEY_BODY = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + f"{i:012d}" for i in range(200)]
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_BODY) + "\n-----END RSA PRIVATE KEY-----\n"


def _stream(data: bytes, chunk: int) -> str:
    redactor = StreamRedactor()
    out = "".join(redactor.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))
    return out + redactor.finish()


def test_a_private_key_is_swallowed_whole_whatever_the_chunking() -> None:
    text = "before\n" + PRIVATE_KEY + "after\n"
    for chunk in (1, 7, 64, 4096, 65536):
        out = _stream(text.encode(), chunk)
        assert out == f"before\n{PLACEHOLDER}\nafter\n", chunk
        assert not any(line[:20] in out for line in KEY_BODY)


def test_a_key_left_open_swallows_the_rest_and_text_after_an_end_is_shown() -> None:
    out = _stream(("x\n-----BEGIN PRIVATE KEY-----\n" + "\n".join(KEY_BODY[:5])).encode(), 10)
    assert out == f"x\n{PLACEHOLDER}"
    two = _stream((PRIVATE_KEY + "mid ghp_" + "a" * 36 + "\n" + PRIVATE_KEY + "end").encode(), 33)
    assert two == f"{PLACEHOLDER}\nmid {PLACEHOLDER}\n{PLACEHOLDER}\nend"


def test_tokens_split_across_64k_chunk_boundaries_are_redacted() -> None:
    token = "ghs_" + "Z" * 36
    for split in range(1, len(token)):
        filler = "x" * (65535 - split) + " "
        data = (filler + token + " tail\n").encode()  # the token straddles byte 65536
        out = _stream(data, 65536)
        assert token not in out and out.endswith(f"{PLACEHOLDER} tail\n")


def test_a_very_long_line_is_released_without_splitting_a_token() -> None:
    token = "npm_" + "q" * 36
    line = " ".join(["word"] * 20000 + [token] + ["word"] * 20000 + ["Authorization: Bearer", "abc.def"]) + "\n"
    redactor = StreamRedactor()
    parts = [redactor.feed(line[i : i + 5000].encode()) for i in range(0, len(line), 5000)]
    assert any(parts[:-1])  # released before the newline, so a line without end cannot grow without bound
    out = "".join(parts) + redactor.finish()
    assert token not in out and "abc.def" not in out and out.count(PLACEHOLDER) == 2


def test_invalid_utf8_split_across_chunks_decodes_once() -> None:
    data = "é ghp_".encode() + b"A" * 36 + b"\xff\n"
    assert _stream(data, 1) == f"é {PLACEHOLDER}\ufffd\n"


def test_one_shot_redaction_covers_a_key_cut_at_either_end() -> None:
    no_begin = "\n".join(KEY_BODY[150:]) + "\n-----END RSA PRIVATE KEY-----\nok"
    assert redact(no_begin) == f"{PLACEHOLDER}\nok"
    no_end = "ok\n-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(KEY_BODY[:3])
    assert redact(no_end) == f"ok\n{PLACEHOLDER}"
