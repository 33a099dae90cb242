"""reviewbot: proves lock-fix pull requests in a sandbox and posts one ranked review."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reviewbot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
