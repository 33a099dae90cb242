"""The networked setup step's only way out: a host-side HTTP(S) proxy with a destination policy.

A setup step that asks for `network: true` still runs in its own network
namespace (only loopback). Sharing the host's namespace let install scripts
reach services on the host's 127.0.0.1, abstract unix sockets, the cloud
metadata address and /proc/net/tcp (DESIGN.md, security model). Instead, the
bot runs this proxy on a unix socket in a bot-owned directory, bind-mounted
into the sandbox, where `sandbox_forwarder.py` relays 127.0.0.1:PROXY_PORT to
it; the standard proxy variables point pip, npm, yarn, pnpm, git and curl at it.

The proxy resolves each name itself, connects only to an address the policy
accepts (a public address, or a range the operator allowed) and connects to
that checked address: no second lookup, so DNS rebinding cannot turn an
approved name into 127.0.0.1. Why not a library: proxy.py and mitmproxy decide
on host names in plugins and resolve again when they connect; enforcing the
policy on the address actually dialled needs the connect step itself, which is
about a hundred lines of asyncio here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import os
import shlex
import shutil
import socket
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PROXY_PORT = 3128  # inside the sandbox's own network namespace: cannot clash with the host
SANDBOX_DIR = "/run/reviewbot"  # where the socket, forwarder, CA bundle and package files appear
SOCKET_NAME = "proxy.sock"
FORWARDER = Path(__file__).with_name("sandbox_forwarder.py")
DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEFAULT_PORTS = frozenset({80, 443})  # an install fetches over HTTP(S); not SMTP, not a database
MAX_HEAD_BYTES = 64 * 1024
REFUSAL_STORM = 500  # refusals of one target after which a setup is looping, not installing
# Variables the sandbox sets itself; an operator's pass-through list cannot override them.
RESERVED_ENV = frozenset({"PATH", "HOME", "TMPDIR", "LD_PRELOAD", "LD_LIBRARY_PATH"})

# Well-known prefixes that carry an IPv4 address inside an IPv6 one.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


# -- the policy (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses and ports a setup step may reach through the proxy."""

    allow: tuple[IPNetwork, ...] = ()  # operator-allowed ranges: any port, even private addresses
    ports: frozenset[int] = DEFAULT_PORTS

    @classmethod
    def parse(cls, ranges: list[str] | tuple[str, ...], ports: frozenset[int] = DEFAULT_PORTS) -> EgressPolicy:
        return cls(tuple(ipaddress.ip_network(r.strip(), strict=False) for r in ranges if r.strip()), ports)

    def refusal(self, address: str, port: int) -> str | None:
        """None if (address, port) may be dialled, else why not (shown to the PR's install script)."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address} is not an IP address"
        if any(ip in net for net in self.allow if net.version == ip.version):
            return None
        for candidate in _embedded(ip):
            if not candidate.is_global or candidate.is_multicast or candidate.is_reserved:
                return f"{address} is not a public address"
        if port not in self.ports:
            return f"port {port} is not one of {sorted(self.ports)}"
        return None


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address it carries (mapped, 6to4, Teredo, NAT64)."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


@dataclass(frozen=True)
class Target:
    """What a client asked the proxy for."""

    method: str
    host: str
    port: int
    forward_head: bytes  # for plain HTTP: the request head to send on (origin-form); b"" for CONNECT


class BadRequest(ValueError):
    pass


def parse_head(head: bytes) -> Target:
    """A CONNECT request or a plain-HTTP request in absolute form; anything else is refused."""
    try:
        text = head.decode("latin-1")
        request_line, _, rest = text.partition("\r\n")
        method, uri, version = request_line.split(" ")
    except ValueError as exc:
        raise BadRequest("malformed request line") from exc
    if not version.startswith("HTTP/1."):
        raise BadRequest("only HTTP/1.x")
    if method == "CONNECT":
        host, port = _split_host_port(uri, None)
        return Target(method, host, port, b"")
    parts = urlsplit(uri)
    if parts.scheme != "http" or not parts.hostname:
        raise BadRequest("plain requests must use an absolute http:// URL (https goes through CONNECT)")
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise BadRequest("bad port") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [
        line
        for line in rest.split("\r\n")
        if line and not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
    ]
    forward = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in headers) + "Connection: close\r\n\r\n"
    return Target(method, parts.hostname, port, forward.encode("latin-1"))


def _split_host_port(authority: str, default: int | None) -> tuple[str, int]:
    host, sep, port_text = authority.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        if default is None:
            raise BadRequest("CONNECT needs host:port")
        host, port_text = authority, str(default)
    try:
        port = int(port_text)
    except ValueError as exc:
        raise BadRequest("bad port") from exc
    host = host.strip("[]")
    if not host:
        raise BadRequest("empty host")
    return host, port


# -- operator settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """The host's own proxy, when the host reaches the internet only through one."""

    host: str
    port: int
    authorization: str = ""  # a Proxy-Authorization value, from user:password in the URL

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream proxy must be http://host:port, not {url!r}")
        auth = ""
        if parts.username:
            token = f"{parts.username}:{parts.password or ''}".encode()
            auth = "Basic " + base64.b64encode(token).decode()
        return cls(parts.hostname, parts.port or 3128, auth)


@dataclass(frozen=True)
class SetupNetwork:
    """What the operator gives a networked setup step, and only it (never a suite or a claim)."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    upstream: Upstream | None = None
    ca_bundle: Path | None = None  # bound read-only, named by PIP_CERT, SSL_CERT_FILE, ...
    env: Mapping[str, str] = field(default_factory=dict)  # host values of the named variables
    pip_conf: Path | None = None
    npmrc: Path | None = None
    max_connections: int = 32
    idle_timeout_s: float = 60.0
    connect_timeout_s: float = 15.0

    @classmethod
    def from_settings(cls, settings: object | None = None, environ: Mapping[str, str] | None = None) -> SetupNetwork:
        """From REVIEWBOT_SETUP_* settings; the pass-through values are read from the host's environment."""
        if settings is None:
            from reviewbot.settings import load_settings

            settings = load_settings()
        environ = os.environ if environ is None else environ
        names = [n for n in settings.setup_env if n not in RESERVED_ENV and not n.startswith("REVIEWBOT")]
        ca = settings.setup_ca_bundle
        upstream = settings.setup_upstream_proxy
        return cls(
            policy=EgressPolicy.parse(settings.setup_allow),
            upstream=Upstream.parse(upstream) if upstream else None,
            ca_bundle=Path(ca) if ca else None,
            env={n: environ[n] for n in names if n in environ},
            pip_conf=settings.setup_pip_conf,
            npmrc=settings.setup_npmrc,
        )


# -- what the sandbox gets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """Binds, environment and command wrapper for one networked run; build_argv adds them."""

    ro_binds: tuple[tuple[str, str], ...]  # (host path, sandbox path)
    env: Mapping[str, str]
    python: str

    def bwrap_args(self) -> list[str]:
        """Read-only binds, in folders made 0755 first (bwrap would make them 0700: the run's user could not enter)."""
        args = ["--perms", "0755", "--dir", str(Path(SANDBOX_DIR).parent), "--perms", "0755", "--dir", SANDBOX_DIR]
        for host_path, inside in self.ro_binds:
            args += ["--ro-bind", host_path, inside]
        return args

    def wrap(self, command: str) -> str:
        """Start the forwarder (it returns once listening), then the setup command."""
        forwarder = f"{SANDBOX_DIR}/forwarder.py"
        return (
            f"{shlex.quote(self.python)} {forwarder} {SANDBOX_DIR}/egress/{SOCKET_NAME} {PROXY_PORT} "
            f"&& exec /bin/sh -c {shlex.quote(command)}"
        )


def binding_for(net: SetupNetwork, socket_dir: Path) -> Binding:
    """Pure: the sandbox side of `net`, with the proxy's socket in `socket_dir`."""
    proxy = f"http://127.0.0.1:{PROXY_PORT}"
    env: dict[str, str] = dict(net.env)
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "npm_config_proxy",
        "npm_config_https_proxy",
        "YARN_HTTP_PROXY",
        "YARN_HTTPS_PROXY",
        "PIP_PROXY",
    ):
        env[name] = proxy
    env.update({"NO_PROXY": "", "no_proxy": "", "NODE_USE_ENV_PROXY": "1"})
    binds = [(str(socket_dir), f"{SANDBOX_DIR}/egress"), (str(FORWARDER), f"{SANDBOX_DIR}/forwarder.py")]
    if net.ca_bundle is not None and net.ca_bundle.is_file():
        ca = f"{SANDBOX_DIR}/ca-bundle.crt"
        binds.append((str(net.ca_bundle), ca))
        for name in (
            "PIP_CERT",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "CURL_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "npm_config_cafile",
            "GIT_SSL_CAINFO",
        ):
            env[name] = ca
    if net.pip_conf is not None and net.pip_conf.is_file():
        binds.append((str(net.pip_conf), f"{SANDBOX_DIR}/pip.conf"))
        env["PIP_CONFIG_FILE"] = f"{SANDBOX_DIR}/pip.conf"
    if net.npmrc is not None and net.npmrc.is_file():
        binds.append((str(net.npmrc), f"{SANDBOX_DIR}/npmrc"))
        env["npm_config_userconfig"] = f"{SANDBOX_DIR}/npmrc"
    return Binding(tuple(binds), env, sys.executable)


@contextlib.contextmanager
def session(net: SetupNetwork, uid: int | None) -> Iterator[tuple[Binding, EgressProxy]]:
    """A proxy that lives exactly as long as one setup run, on a socket only that run's uid can open."""
    socket_dir = Path(tempfile.mkdtemp(prefix="reviewbot-egress-"))  # 0700, short enough for AF_UNIX
    try:
        if uid is not None:
            os.chown(socket_dir, uid, uid)
        proxy = EgressProxy(socket_dir / SOCKET_NAME, net, uid)
        with proxy:
            yield binding_for(net, socket_dir), proxy
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


# -- `reviewbot doctor` ---------------------------------------------------------------------------


def index_urls(net: SetupNetwork) -> list[str]:
    """The package indexes a setup would use: the operator's (passed through) or the public defaults."""
    urls = [net.env.get("PIP_INDEX_URL") or "https://pypi.org/simple/"]
    urls += (net.env.get("PIP_EXTRA_INDEX_URL") or "").split()
    urls.append(
        net.env.get("npm_config_registry") or net.env.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org/"
    )
    shown = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):  # no credentials: urllib would not send them, and they are printed
            shown.append(
                parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl()
                if parts.hostname
                else url
            )
    return list(dict.fromkeys(shown))


def probe_command(urls: list[str]) -> str:
    """A shell command for a networked sandbox run: one `ok`/`FAILED` line per URL, through the proxy."""
    script = (
        "import sys, urllib.request as r\n"
        "for url in sys.argv[1:]:\n"
        "    try:\n"
        "        status = r.urlopen(r.Request(url, method='HEAD'), timeout=20).status\n"
        "        print('ok', url, 'HTTP', status)\n"
        "    except Exception as exc:\n"
        "        print('FAILED', url, str(exc).replace(chr(10), ' '))\n"
    )
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} " + " ".join(shlex.quote(u) for u in urls)


def policy_report(net: SetupNetwork, urls: list[str]) -> list[str]:
    """What the proxy's policy says of each index's addresses, resolved here: explains a 403 before it happens."""
    lines = []
    for url in urls:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = sorted({str(i[4][0]) for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
        except OSError as exc:
            lines.append(
                f"{host}: does not resolve here ({exc})" + ("; the upstream proxy resolves it" if net.upstream else "")
            )
            continue
        refused = {a: why for a in found if (why := net.policy.refusal(a, port))}
        if len(refused) < len(found):
            lines.append(f"{host} -> {', '.join(found)}: allowed")
        else:
            ranges = ",".join(f"{a}/{32 if '.' in a else 128}" for a in found)
            lines.append(
                f"{host} -> {', '.join(found)}: REFUSED ({'; '.join(refused.values())}); if this network "
                f"really serves the index there, allow it: REVIEWBOT_SETUP_ALLOW={ranges}"
            )
    return lines


def describe(net: SetupNetwork) -> list[str]:
    ranges = ", ".join(str(r) for r in net.policy.allow) or "none"
    upstream = f"{net.upstream.host}:{net.upstream.port}" if net.upstream else "none (dials directly)"
    ca = (
        str(net.ca_bundle)
        if net.ca_bundle and net.ca_bundle.is_file()
        else (f"{net.ca_bundle} MISSING" if net.ca_bundle else "none")
    )
    passed = ", ".join(sorted(net.env)) or "none"
    return [
        f"setup network: own namespace; out only through the egress proxy to public addresses on ports "
        f"{sorted(net.policy.ports)}, plus allowed ranges: {ranges}",
        f"setup upstream proxy: {upstream}",
        f"setup CA bundle: {ca}",
        f"setup variables passed: {passed}",
    ]


# -- the proxy (I/O) -----------------------------------------------------------------------------


class EgressProxy:
    """An asyncio HTTP/HTTPS proxy on a unix socket, in its own thread; `refused` and `dialled` are for logs and tests."""

    def __init__(self, socket_path: Path, net: SetupNetwork, uid: int | None = None):
        self.socket_path = socket_path
        self.net = net
        self.uid = uid
        self.refused: Counter[str] = Counter()  # "host:port: why" -> how many requests got that answer
        # Set once one target has been refused REFUSAL_STORM times: a package manager in a retry loop
        # (npm re-dials a refused CONNECT hundreds of times a second); the sandbox then ends the run.
        self.storm = threading.Event()
        self.dialled: list[tuple[str, int]] = []
        self._active = 0
        self._tasks: set[asyncio.Task] = set()
        self._lookups: dict[str, asyncio.Future[list[str]]] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="reviewbot-egress")

    def refusals(self, most: int = 3) -> list[str]:
        """The most refused targets with their counts, for the setup's log and the review."""
        return [f"{what} (×{count})" if count > 1 else what for what, count in self.refused.most_common(most)]

    def __enter__(self) -> EgressProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._client, path=str(self.socket_path), limit=MAX_HEAD_BYTES)
        os.chmod(self.socket_path, 0o600)
        if self.uid is not None:
            os.chown(self.socket_path, self.uid, self.uid)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._active += 1
        try:
            if self._active > self.net.max_connections:
                await _reply(writer, 503, "too many connections from this setup step")
                return
            await self._serve(reader, writer)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._active -= 1
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.net.idle_timeout_s)
        try:
            target = parse_head(head)
        except BadRequest as exc:
            await _reply(writer, 400, str(exc))
            return
        dial = await self._choose(target)
        if isinstance(dial, str):
            refusal = f"{target.host}:{target.port}: {dial}"
            self.refused[refusal] += 1
            if self.refused[refusal] >= REFUSAL_STORM:
                self.storm.set()
            await _reply(writer, 403, f"reviewbot egress refused {refusal}")
            return
        host, port = dial
        try:
            up_reader, up_writer = await self._open(target, host, port)
        except (TimeoutError, OSError, ConnectionError) as exc:
            await _reply(writer, 502, f"could not reach {target.host}:{target.port}: {exc}")
            return
        self.dialled.append((host, port))
        try:
            if target.method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(
                    target.forward_head if self.net.upstream is None else _absolute_head(head, self.net, host, port)
                )
            await self._relay(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _choose(self, target: Target) -> tuple[str, int] | str:
        """The checked address to dial, or why the target is refused."""
        policy = self.net.policy
        try:
            ipaddress.ip_address(target.host.split("%", 1)[0])
            return policy.refusal(target.host, target.port) or (target.host, target.port)
        except ValueError:
            pass
        if target.host.lower() == "localhost" or target.host.lower().endswith(".localhost"):
            return "localhost is not a public address"
        try:
            addresses = await asyncio.wait_for(
                asyncio.shield(self._resolve(target.host.lower())), self.net.connect_timeout_s
            )
        except (TimeoutError, OSError) as exc:
            if self.net.upstream is not None:  # only the host's proxy can resolve it: the name goes on
                return (
                    f"port {target.port} is not one of {sorted(policy.ports)}"
                    if target.port not in policy.ports
                    else (target.host, target.port)
                )
            return f"cannot resolve {target.host}: {exc or 'the lookup timed out'}"
        reasons = []
        for address in addresses:
            why = policy.refusal(address, target.port)
            if why is None:
                return (address, target.port)
            reasons.append(why)
        return "; ".join(dict.fromkeys(reasons)) or f"{target.host} has no address"

    def _resolve(self, host: str) -> asyncio.Future[list[str]]:
        """One lookup per name for the proxy's life, shared by every request that names it.

        A package manager asks for hundreds of tarballs at once; resolving each request anew
        sends bursts of identical queries that resolvers drop (5 s timeouts each) and fills the
        loop's lookup threads, so an unresolvable registry stalled a setup for minutes.
        """
        lookup = self._lookups.get(host)
        if lookup is None:
            lookup = asyncio.ensure_future(self._lookup(host))
            self._lookups[host] = lookup
            lookup.add_done_callback(lambda done: self._forget_if_transient(host, done))
        return lookup

    def _forget_if_transient(self, host: str, done: asyncio.Future[list[str]]) -> None:
        """A resolver that was busy ("try again") gets asked again by the next request; an answer stays."""
        failure = None if done.cancelled() else done.exception()
        if done.cancelled() or (isinstance(failure, socket.gaierror) and failure.errno == socket.EAI_AGAIN):
            self._lookups.pop(host, None)

    @staticmethod
    async def _lookup(host: str) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def _open(self, target: Target, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        upstream = self.net.upstream
        timeout = self.net.connect_timeout_s
        if upstream is None:
            return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(upstream.host, upstream.port), timeout)
        if target.method == "CONNECT":
            authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            auth = f"Proxy-Authorization: {upstream.authorization}\r\n" if upstream.authorization else ""
            writer.write(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth}\r\n".encode())
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = answer.split(b" ", 2)[1:2]
            if status != [b"200"]:
                writer.close()
                raise ConnectionError(f"upstream proxy answered {answer.splitlines()[0].decode('latin-1')}")
        return reader, writer

    async def _relay(
        self,
        a_reader: asyncio.StreamReader,
        a_writer: asyncio.StreamWriter,
        b_reader: asyncio.StreamReader,
        b_writer: asyncio.StreamWriter,
    ) -> None:
        """Copy both ways until one side closes or neither sends anything for the idle timeout."""
        last = [asyncio.get_running_loop().time()]
        idle = self.net.idle_timeout_s

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while True:
                try:
                    chunk = await asyncio.wait_for(source.read(65536), idle)
                except TimeoutError:
                    if asyncio.get_running_loop().time() - last[0] >= idle:
                        return
                    continue
                if not chunk:
                    return
                last[0] = asyncio.get_running_loop().time()
                sink.write(chunk)
                await sink.drain()

        tasks = [asyncio.ensure_future(pump(a_reader, b_writer)), asyncio.ensure_future(pump(b_reader, a_writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _absolute_head(head: bytes, net: SetupNetwork, host: str, port: int) -> bytes:
    """A plain-HTTP request for the upstream proxy: absolute form naming the checked address (the Host
    header keeps the name), our auth added, theirs dropped."""
    lines = head.decode("latin-1").split("\r\n")
    method, uri, version = lines[0].split(" ")
    parts = urlsplit(uri)
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    kept = [f"{method} {parts._replace(netloc=authority).geturl()} {version}"] + [
        line for line in lines[1:] if line and not line.lower().startswith("proxy-")
    ]
    if net.upstream is not None and net.upstream.authorization:
        kept.append(f"Proxy-Authorization: {net.upstream.authorization}")
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1")


async def _reply(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    reasons = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 503: "Service Unavailable"}
    body = (message + "\n").encode("utf-8", errors="replace")
    writer.write(
        f"HTTP/1.1 {status} {reasons[status]}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()
