"""A networked setup step against the real sandbox and proxy: out to the registries, nowhere else.

Every witness is on this machine (its loopback, its own eth0 address, an abstract
unix socket); the only outside traffic is one small download from PyPI and npm.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.model import RunProblem, Verdict
from reviewbot.proof.egress import (
    DEFAULT_CA_BUNDLE,
    PROXY_PORT,
    REFUSAL_STORM,
    EgressPolicy,
    EgressProxy,
    SetupNetwork,
    Upstream,
)
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.run_health import failed_setup
from reviewbot.proof.sandbox import Limits, Sandbox, SandboxRequest
from reviewbot.samples.repos import RepoWriter
from tests.hostile import LoopbackHTTP, LoopbackListener
from tests.registries import non_public_registry_ranges
from tests.waiting import wait_until

pytestmark = pytest.mark.sandbox


def run(
    tmp_path: Path, command: str, network: bool = True, net: SetupNetwork | None = None, wall_clock_s: float = 60
) -> tuple[int | None, str]:
    worktree = tmp_path / "worktree"
    worktree.mkdir(exist_ok=True)
    sandbox = Sandbox(tmp_path / "state", setup_network=net or SetupNetwork())
    log = tmp_path / f"run-{uuid.uuid4().hex[:6]}.log"
    outcome = sandbox.run(
        SandboxRequest(
            command=command,
            worktree=worktree,
            out_dir=tmp_path / "out",
            network=network,
            limits=Limits(wall_clock_s=wall_clock_s),
            log_path=log,
        )
    )
    return outcome.exit_code, log.read_text()


def own_address() -> str | None:
    """A non-loopback address of this machine (a private one, like an internal service's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            return probe.getsockname()[0]
        except OSError:
            return None


def test_networked_setup_reaches_no_host_service_directly_or_through_the_proxy(tmp_path: Path) -> None:
    addresses = ["127.0.0.1", "127.0.0.2", *([own_address()] if own_address() else [])]
    listeners = [LoopbackListener(address) for address in addresses]
    for listener in listeners:
        listener.__enter__()
    try:
        tries = []
        for address, listener in zip(addresses, listeners, strict=True):
            port = listener.port
            tries += [
                f"python -c \"import socket; socket.create_connection(('{address}', {port}), timeout=2)\" "
                f"&& echo DIRECT-{address}",
                f"curl -fsS -m 5 http://{address}:{port}/ && echo HTTP-{address}",
                f"curl -fsS -m 5 https://{address}:{port}/ && echo CONNECT-{address}",
            ]
        # Names that resolve to loopback: `localhost`, and this host's name (in /etc/hosts).
        port = listeners[0].port
        tries += [
            f"curl -fsS -m 5 https://localhost:{port}/ && echo NAME-localhost",
            f"curl -fsS -m 5 https://{socket.gethostname()}:{port}/ && echo NAME-host",
            "curl -fsS -m 5 http://169.254.169.254/latest/meta-data/ && echo METADATA",
        ]
        _, log = run(tmp_path, "; ".join(tries) + "; true")
    finally:
        for listener in listeners:
            listener.__exit__(None, None, None)
    assert [listener.accepted for listener in listeners] == [[] for _ in listeners], log
    assert not any(marker in log for marker in ("DIRECT-", "HTTP-", "CONNECT-", "NAME-", "METADATA")), log
    # The proxy refused them (403), rather than failing to be there.
    assert log.count("error: 403") == 2 * len(addresses) + 3, log


def test_networked_setup_cannot_reach_a_host_abstract_socket(tmp_path: Path) -> None:
    name = f"reviewbot-test-{uuid.uuid4().hex[:8]}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen()
    server.settimeout(0.1)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        _, log = run(
            tmp_path,
            f"python -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); print('REACHED')\"",
        )
    finally:
        stop.set()
        thread.join()
        server.close()
    assert accepted == [] and "REACHED" not in log, log


def test_networked_setup_sees_no_host_listener(tmp_path: Path) -> None:
    with LoopbackListener() as listener:
        code, log = run(tmp_path, "cat /proc/net/tcp /proc/net/tcp6")
    assert code == 0, log
    rows = [line.split() for line in log.splitlines() if line.split()[:1] and line.split()[0][:-1].isdigit()]
    listening = {int(row[1].rsplit(":", 1)[1], 16) for row in rows if row[3] == "0A"}
    assert rows and 3128 in listening  # the table is read: the sandbox's own relay is in it
    assert listener.port not in listening, log


def registry_network() -> SetupNetwork:
    """What an operator on this network sets: the registries' addresses, if they are not public ones."""
    try:
        ranges = non_public_registry_ranges()
    except OSError as exc:
        pytest.skip(f"this host cannot resolve the package registries: {exc}")
    return SetupNetwork(policy=EgressPolicy.parse(ranges), ca_bundle=DEFAULT_CA_BUNDLE)


@pytest.mark.network
def test_networked_setup_installs_from_the_registries_through_the_proxy(tmp_path: Path) -> None:
    net = registry_network()
    code, log = run(
        tmp_path,
        "python -m pip download --no-deps --no-cache-dir six==1.17.0 -d /workspace/dl "
        "&& npm view is-number@7.0.0 version",
        net=net,
        wall_clock_s=120,
    )
    assert code == 0, log
    assert [p.name for p in (tmp_path / "worktree" / "dl").iterdir()] == ["six-1.17.0-py2.py3-none-any.whl"]
    assert log.rstrip().endswith("7.0.0"), log


def test_operator_settings_reach_setup_runs_only(tmp_path: Path) -> None:
    """The CA bundle and the named package variables are in a networked setup, never in a test run."""
    bundle = tmp_path / "corp-ca.crt"
    bundle.write_text("CORPORATE-CA-" + uuid.uuid4().hex)
    net = SetupNetwork(ca_bundle=bundle, env={"PIP_INDEX_URL": "https://mirror.example/simple"})
    show = 'cat "$SSL_CERT_FILE" "$PIP_CERT" "$NODE_EXTRA_CA_CERTS"; echo; echo index=$PIP_INDEX_URL; ls /run'
    _, setup_log = run(tmp_path, show, network=True, net=net)
    _, suite_log = run(tmp_path, show + "; env", network=False, net=net)
    assert setup_log.count(bundle.read_text()) == 3 and "index=https://mirror.example/simple" in setup_log
    assert bundle.read_text() not in suite_log and "mirror.example" not in suite_log
    assert "PROXY" not in suite_log.upper() and "reviewbot" not in suite_log.split("index=")[1]


def test_only_the_setup_step_of_a_proof_gets_the_network(tmp_path: Path) -> None:
    """Through the engine: setup fetches from an allowed host service; the suite, run after it, cannot."""
    with LoopbackHTTP() as server:
        writer = RepoWriter(tmp_path / "repo")
        fetch = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{server.port}/{{}}', timeout=3)"
        writer.write(
            {
                "lockfile.py": "X = 1\n",
                "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
                ".github/reviewbot.yml": dedent(f'''
                setup:
                  run: python -c "{fetch.format("setup")}" && echo ok > installed
                  network: true
            '''),
            }
        )
        writer.commit("base")
        writer.branch("fix")
        writer.write(
            {
                "lockfile.py": "X = 2\n",
                "tests/test_net.py": dedent(f"""
            import os, urllib.request, pytest

            def test_no_network_and_no_proxy_in_a_suite():
                assert not any("proxy" in name.lower() for name in os.environ)
                with pytest.raises(OSError):
                    {fetch.format("suite")}
        """),
            }
        )
        writer.commit("fix")
        writer.checkout("main")
        sandbox = Sandbox(tmp_path / "state", setup_network=SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"])))
        proof = ProofEngine(tmp_path / "data", sandbox=sandbox).prove(
            ProofRequest(source=str(tmp_path / "repo"), base="main", head="fix")
        )
    assert proof.verdict == Verdict.WEAK, proof.reason  # the suite's test passed on head and base
    assert server.paths == ["/setup", "/setup"]


# -- the proxy itself, on the host ----------------------------------------------------------------


def ask(socket_path: Path, head: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(str(socket_path))
        client.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := client.recv(4096)):
            answer += chunk
        return answer


def test_proxy_tunnels_to_an_allowed_address_and_refuses_a_name_that_resolves_to_loopback(tmp_path: Path) -> None:
    with LoopbackListener() as listener:
        allowed = SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"]))
        with EgressProxy(tmp_path / "a.sock", allowed) as proxy:
            answer = ask(tmp_path / "a.sock", f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 200") and proxy.dialled == [("127.0.0.1", listener.port)]
        with EgressProxy(tmp_path / "b.sock", SetupNetwork()) as proxy:
            for host in ("localhost", socket.gethostname(), "127.0.0.1", "[::ffff:127.0.0.1]"):
                answer = ask(tmp_path / "b.sock", f"CONNECT {host}:443 HTTP/1.1\r\n\r\n".encode())
                assert answer.startswith(b"HTTP/1.1 403"), (host, answer)
            assert proxy.dialled == []
        wait_until(lambda: listener.accepted, "the listener accepted the one tunnel", timeout=10)
    assert len(listener.accepted) == 1


def test_proxy_caps_its_connections(tmp_path: Path) -> None:
    with LoopbackListener() as listener:
        net = SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"]), max_connections=2)
        with EgressProxy(tmp_path / "p.sock", net):
            held = []
            for _ in range(2):
                client = socket.socket(socket.AF_UNIX)
                client.connect(str(tmp_path / "p.sock"))
                client.sendall(f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode())
                assert client.recv(100).startswith(b"HTTP/1.1 200")
                held.append(client)
            answer = ask(tmp_path / "p.sock", f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode())
            for client in held:
                client.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer


@pytest.mark.network
def test_doctor_reports_that_a_setup_reaches_the_indexes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewbot.cli import main

    allow = [str(net) for net in registry_network().policy.allow]
    for name in ("REVIEWBOT_SETUP_ALLOW", "REVIEWBOT_SETUP_ENV", "REVIEWBOT_SETUP_UPSTREAM_PROXY"):
        monkeypatch.setenv(name, "")  # the flags write these; monkeypatch puts them back
    flags = [part for cidr in allow for part in ("--setup-allow", cidr)]
    assert main(["--data-dir", str(tmp_path), *flags, "doctor"]) == 0
    out = capsys.readouterr().out
    assert "setup reaches index: ok https://pypi.org/simple/ HTTP 200" in out, out
    assert "setup reaches index: ok https://registry.npmjs.org/ HTTP 200" in out, out


def test_proxy_closes_an_idle_tunnel(tmp_path: Path) -> None:
    with LoopbackListener() as listener:
        net = SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"]), idle_timeout_s=0.5)
        with EgressProxy(tmp_path / "i.sock", net), socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(tmp_path / "i.sock"))
            client.sendall(f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode())
            assert client.recv(100).startswith(b"HTTP/1.1 200")
            assert client.recv(100) == b""  # closed by the proxy, not by the silent listener


class FakeUpstream:
    """A host's own proxy, on loopback: records each request line, answers 200, then closes."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
                    data += chunk
                self.requests.append(data)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")


def test_an_upstream_proxy_gets_the_checked_address_and_never_a_refused_one(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    try:
        net = SetupNetwork(upstream=Upstream.parse(f"http://me:pw@127.0.0.1:{upstream.port}"))
        with EgressProxy(tmp_path / "u.sock", net):
            refused = ask(tmp_path / "u.sock", b"CONNECT 169.254.169.254:443 HTTP/1.1\r\n\r\n")
            chained = ask(tmp_path / "u.sock", b"CONNECT 151.101.0.223:443 HTTP/1.1\r\n\r\n")
            ask(
                tmp_path / "u.sock",
                b"GET http://151.101.0.223/simple/ HTTP/1.1\r\nHost: pypi.org\r\n"
                b"Proxy-Authorization: Basic c2FuZGJveA==\r\n\r\n",
            )
    finally:
        upstream.server.close()
    assert refused.startswith(b"HTTP/1.1 403") and chained.startswith(b"HTTP/1.1 200")
    assert len(upstream.requests) == 2, upstream.requests  # nothing was sent upstream for the refused one
    assert upstream.requests[0].startswith(b"CONNECT 151.101.0.223:443 HTTP/1.1\r\n")
    assert upstream.requests[1].startswith(b"GET http://151.101.0.223:80/simple/ HTTP/1.1\r\n")
    assert b"Host: pypi.org" in upstream.requests[1] and b"c2FuZGJveA" not in upstream.requests[1]
    assert all(b"Proxy-Authorization: Basic bWU6cHc=" in request for request in upstream.requests)


def test_proxy_looks_a_name_up_once_however_many_requests_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm asks for dozens of tarballs from one registry at once; a lookup per request flooded the
    resolver (dropped queries, 5 s timeouts) and held a setup for minutes."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(host)
        time.sleep(0.2)  # a resolver that takes a moment: the requests overlap
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    with EgressProxy(tmp_path / "p.sock", SetupNetwork()) as proxy:
        answers: list[bytes] = []
        threads = [
            threading.Thread(
                target=lambda: answers.append(
                    ask(
                        tmp_path / "p.sock",
                        b"GET http://registry.invalid:4873/pkg.tgz HTTP/1.1\r\nHost: registry.invalid\r\n\r\n",
                    )
                )
            )
            for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(answers) == 12 and all(a.startswith(b"HTTP/1.1 403") for a in answers), answers
    [(refusal, count)] = proxy.refused.items()
    assert refusal.startswith("registry.invalid:4873: cannot resolve registry.invalid") and count == 12
    assert asked == ["registry.invalid"]
    assert proxy.dialled == []


def test_a_setup_that_loops_on_a_refused_address_is_ended_and_named(tmp_path: Path) -> None:
    """npm re-dials a refused CONNECT hundreds of times a second until its wall clock: the run is
    ended as soon as one target has been refused REFUSAL_STORM times, and the review names it."""
    loop = (
        "import socket\n"
        "for _ in range(5000):\n"
        "    s = socket.create_connection(('127.0.0.1', PORT))\n"
        "    s.sendall(b'CONNECT private-registry.invalid:4873 HTTP/1.1\\r\\n\\r\\n')\n"
        "    s.recv(4096); s.close()\n"
    ).replace("PORT", str(PROXY_PORT))
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    (worktree / "loop.py").write_text(loop)
    sandbox = Sandbox(tmp_path / "state", setup_network=SetupNetwork())
    outcome = sandbox.run(
        SandboxRequest(
            command="python3 loop.py; sleep 300",
            worktree=worktree,
            out_dir=tmp_path / "out",
            network=True,
            limits=Limits(wall_clock_s=240),
        )
    )
    assert outcome.limit_hit == "network", outcome
    [refused] = outcome.egress_refused
    named = re.fullmatch(
        r"private-registry\.invalid:4873: cannot resolve private-registry\.invalid: .* \(×(\d+)\)", refused
    )
    assert named and int(named[1]) >= REFUSAL_STORM, refused  # a few more were in flight when the run ended
    run = failed_setup(outcome, outcome.log_tail, "npm ci")
    assert run.problem == RunProblem.SETUP
    assert run.why.startswith(
        "setup kept asking for an address the sandbox's network proxy refuses: private-registry.invalid:4873"
    ), run.why
