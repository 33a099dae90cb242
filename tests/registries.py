"""The package registries as this host sees them, for tests whose setup step installs for real."""

from __future__ import annotations

import socket

from reviewbot.proof.egress import EgressPolicy

REGISTRY_HOSTS = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org")


def non_public_registry_ranges() -> list[str]:
    """The registries' addresses the egress policy would refuse, as /32 or /128 ranges.

    Some networks answer registry names with a non-public address (a mirror, a
    TLS-intercepting gateway); an operator there sets REVIEWBOT_SETUP_ALLOW to
    these, and so do the tests. Raises OSError when the names do not resolve.
    """
    found = {
        str(info[4][0]) for host in REGISTRY_HOSTS for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    }
    policy = EgressPolicy()
    return sorted(f"{a}/{32 if '.' in a else 128}" for a in found if policy.refusal(a, 443) is not None)
