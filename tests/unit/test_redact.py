from reviewbot.redact import PLACEHOLDER, redact


def test_known_token_shapes_are_redacted() -> None:
    text = (
        "token ghs_" + "a" * 36 + " and github_pat_" + "B" * 30 + " key sk-proj-" + "c" * 30
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
