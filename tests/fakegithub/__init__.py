"""A stateful fake of GitHub (REST API + git smart HTTP) for the test-suite, e2e tests and benchmarks.

    from tests.fakegithub import FakeGitHub

    with FakeGitHub() as fake:
        app = fake.create_app()
        ...

Every JSON response is checked against GitHub's OpenAPI description (`fake.contract_violations`).
"""

from .contract import ContractViolation
from .faults import FaultRule
from .middleware import Call
from .server import FakeGitHub
from .state import AppIdentity

__all__ = ["AppIdentity", "Call", "ContractViolation", "FakeGitHub", "FaultRule"]
