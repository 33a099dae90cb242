"""The egress proxy's pure parts: which addresses a setup step may dial, and how requests are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.proof.egress import (
    PROXY_PORT,
    SANDBOX_DIR,
    BadRequest,
    EgressPolicy,
    SetupNetwork,
    Upstream,
    binding_for,
    parse_head,
)
from reviewbot.proof.sandbox import SandboxRequest, Toolchain, build_argv
from reviewbot.settings import Settings

REFUSED = [
    "127.0.0.1",
    "127.0.0.2",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # the cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.2",
    "203.0.113.80",  # documentation ranges
    "::1",
    "::",
    "fe80::1",
    "fd00::2",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 around 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo around 127.0.0.1
    "not-an-address",
]
ALLOWED = ["151.101.0.223", "104.16.0.35", "2a04:4e42::223", "1.1.1.1"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert EgressPolicy().refusal(address, 443) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_on_web_ports_are_allowed(address: str) -> None:
    assert EgressPolicy().refusal(address, 443) is None
    assert EgressPolicy().refusal(address, 80) is None


@pytest.mark.parametrize("port", [22, 25, 5432, 6379, 0, 8080])
def test_other_ports_are_refused_even_on_public_addresses(port: int) -> None:
    assert "port" in (EgressPolicy().refusal("151.101.0.223", port) or "")


def test_an_operator_range_opens_private_addresses_on_any_port_and_nothing_else() -> None:
    policy = EgressPolicy.parse(["10.20.0.0/16", " fd00:1::/64", ""])
    assert policy.refusal("10.20.3.4", 8081) is None
    assert policy.refusal("fd00:1::5", 443) is None
    assert policy.refusal("10.21.0.1", 443) is not None
    assert policy.refusal("169.254.169.254", 80) is not None
    assert policy.refusal("127.0.0.1", 443) is not None


@pytest.mark.parametrize(
    ("head", "method", "host", "port"),
    [
        (b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n", "CONNECT", "pypi.org", 443),
        (b"CONNECT [2a04:4e42::223]:443 HTTP/1.1\r\n\r\n", "CONNECT", "2a04:4e42::223", 443),
        (b"GET http://deb.example/x?y=1 HTTP/1.1\r\nHost: deb.example\r\n\r\n", "GET", "deb.example", 80),
        (b"GET http://h.example:8080/ HTTP/1.0\r\n\r\n", "GET", "h.example", 8080),
    ],
)
def test_requests_are_read_for_their_destination(head: bytes, method: str, host: str, port: int) -> None:
    target = parse_head(head)
    assert (target.method, target.host, target.port) == (method, host, port)


def test_a_plain_request_goes_on_in_origin_form_without_proxy_headers() -> None:
    head = (
        b"GET http://h.example/a/b?c=d HTTP/1.1\r\nHost: h.example\r\nProxy-Authorization: Basic eA==\r\n"
        b"Connection: keep-alive\r\nAccept: */*\r\n\r\n"
    )
    forward = parse_head(head).forward_head.decode()
    assert forward.startswith("GET /a/b?c=d HTTP/1.1\r\n")
    assert "Proxy-" not in forward and "keep-alive" not in forward and "Connection: close" in forward
    assert "Accept: */*" in forward


@pytest.mark.parametrize(
    "head",
    [
        b"GET /relative HTTP/1.1\r\n\r\n",  # not a proxy request
        b"GET https://pypi.org/ HTTP/1.1\r\n\r\n",  # https must tunnel
        b"CONNECT pypi.org HTTP/1.1\r\n\r\n",
        b"CONNECT pypi.org:https HTTP/1.1\r\n\r\n",
        b"garbage\r\n\r\n",
        b"CONNECT pypi.org:443 SPDY/3\r\n\r\n",
    ],
)
def test_anything_else_is_a_bad_request(head: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_head(head)


def test_upstream_proxy_url_with_credentials() -> None:
    upstream = Upstream.parse("http://me:secret@proxy.corp:8080")
    assert (upstream.host, upstream.port) == ("proxy.corp", 8080)
    assert upstream.authorization == "Basic bWU6c2VjcmV0"
    with pytest.raises(ValueError):
        Upstream.parse("socks5://proxy.corp:1080")


def test_settings_name_the_ca_bundle_ranges_and_pass_through_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REVIEWBOT_SETUP_ALLOW", "10.0.0.0/8, 192.168.5.0/24")
    monkeypatch.setenv("REVIEWBOT_SETUP_ENV", "PIP_INDEX_URL,npm_config_registry,PATH,REVIEWBOT_TOKEN,UNSET_ONE")
    monkeypatch.setenv("REVIEWBOT_SETUP_CA_BUNDLE", str(tmp_path / "ca.crt"))
    monkeypatch.setenv("REVIEWBOT_SETUP_UPSTREAM_PROXY", "http://proxy.corp:3128")
    environ = {
        "PIP_INDEX_URL": "https://mirror/simple",
        "npm_config_registry": "https://npm.mirror/",
        "PATH": "/host/bin",
        "REVIEWBOT_TOKEN": "ghs_x",
    }
    net = SetupNetwork.from_settings(Settings(), environ)
    assert net.policy.refusal("10.1.2.3", 9000) is None and net.policy.refusal("192.168.5.9", 443) is None
    assert dict(net.env) == {"PIP_INDEX_URL": "https://mirror/simple", "npm_config_registry": "https://npm.mirror/"}
    assert net.ca_bundle == tmp_path / "ca.crt"
    assert net.upstream == Upstream("proxy.corp", 3128)


def test_the_default_ca_bundle_is_the_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWBOT_SETUP_CA_BUNDLE", raising=False)
    expected = "/etc/ssl/certs/ca-certificates.crt" if Path("/etc/ssl/certs/ca-certificates.crt").is_file() else ""
    assert Settings().setup_ca_bundle == expected


def test_a_setup_binding_points_every_tool_at_the_proxy_and_the_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text("[global]\n")
    binding = binding_for(SetupNetwork(ca_bundle=ca, pip_conf=pip_conf, env={"PIP_INDEX_URL": "u"}), tmp_path)
    proxy = f"http://127.0.0.1:{PROXY_PORT}"
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "npm_config_proxy",
        "npm_config_https_proxy",
        "PIP_PROXY",
    ):
        assert binding.env[name] == proxy
    assert binding.env["NO_PROXY"] == "" and binding.env["no_proxy"] == ""
    for name in (
        "PIP_CERT",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
        "npm_config_cafile",
        "GIT_SSL_CAINFO",
    ):
        assert binding.env[name] == f"{SANDBOX_DIR}/ca-bundle.crt"
    assert binding.env["PIP_CONFIG_FILE"] == f"{SANDBOX_DIR}/pip.conf" and binding.env["PIP_INDEX_URL"] == "u"
    assert (str(ca), f"{SANDBOX_DIR}/ca-bundle.crt") in binding.ro_binds


def test_every_run_has_its_own_network_namespace_and_only_setup_gets_the_binding(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    binding = binding_for(SetupNetwork(ca_bundle=ca), tmp_path)
    common = (Toolchain.detect(), 61000, tmp_path / "p", tmp_path / "g")
    setup = build_argv(
        SandboxRequest(command="npm ci", worktree=tmp_path, out_dir=tmp_path, network=True), *common, network=binding
    )
    suite = build_argv(SandboxRequest(command="pytest", worktree=tmp_path, out_dir=tmp_path), *common)
    assert "--unshare-net" in setup and "--unshare-net" in suite
    assert str(ca) in setup and str(ca) not in suite
    assert not [part for part in suite if "PROXY" in part.upper() or part.startswith(SANDBOX_DIR)]
    assert setup[-1].endswith("exec /bin/sh -c 'npm ci'") and suite[-1] == "pytest"


def test_a_mistyped_range_is_refused_when_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("REVIEWBOT_SETUP_ALLOW", "10.0.0.0/8,10.0.0.300/32")
    with pytest.raises(ValidationError, match=r"10\.0\.0\.300"):
        Settings()
