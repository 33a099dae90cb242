"""Who is calling: installation tokens, user tokens, app JWTs — checked the way GitHub checks them.

Both the REST API and git smart HTTP accept `Authorization: token X` / `Bearer X`, and HTTP
Basic with the token as password (user `x-access-token` for installation tokens) or as the
user name. App JWTs must be RS256 signed by the app's key with `iss` = app id, `iat` in the
past and `exp` in the future (60 s clock drift allowed) and at most 10 minutes ahead.
"""

from __future__ import annotations

import base64
import binascii
import time

import jwt

from .state import Principal, State

JWT_LEEWAY = 60
JWT_MAX_LIFETIME = 600


class AuthError(Exception):
    """A 401 with GitHub's message."""

    def __init__(self, message: str, status: int = 401):  # GitHub answers 401 to every bad credential
        super().__init__(message)
        self.message = message
        self.status = status


def credential(header: str | None) -> tuple[str, str] | None:
    """('token'|'bearer'|'basic', secret) from an Authorization header; None when absent."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("token", "bearer"):
        return scheme, value
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=False).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return "basic", ""
        username, _, password = decoded.partition(":")
        # GitHub takes the token as the password, or as the user name with an empty / x-oauth-basic password.
        if password and password != "x-oauth-basic":
            return "basic", password
        return "basic", username
    return "invalid", value


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and not value.startswith(("ghs_", "ghp_", "gho_", "ghu_"))


def verify_app_jwt(state: State, value: str) -> Principal:
    """The app a JWT authenticates, or AuthError with the message GitHub sends."""
    try:
        claims = jwt.decode(value, options={"verify_signature": False})
        header = jwt.get_unverified_header(value)
    except jwt.PyJWTError:
        raise AuthError("A JSON web token could not be decoded") from None
    if header.get("alg") != "RS256":
        raise AuthError("A JSON web token could not be decoded")
    iss = claims.get("iss")
    try:
        app_id = int(iss)
    except (TypeError, ValueError):
        raise AuthError("'Issuer' claim ('iss') must be an Integer") from None
    app = state.apps.get(app_id)
    if app is None:
        raise AuthError("Integration not found")
    try:
        claims = jwt.decode(
            value,
            app.public_key,
            algorithms=["RS256"],
            leeway=JWT_LEEWAY,
            options={"require": ["iat", "exp", "iss"], "verify_iat": False, "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
            "the assertion expires"
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"Missing '{exc.claim}' claim in the JSON web token") from None
    except jwt.PyJWTError:
        raise AuthError("A JSON web token could not be decoded") from None
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or iat > now + JWT_LEEWAY:
        raise AuthError(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        )
    if not isinstance(exp, (int, float)) or exp > now + JWT_MAX_LIFETIME + JWT_LEEWAY:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future")
    if exp - iat > JWT_MAX_LIFETIME + JWT_LEEWAY:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future")
    return Principal(kind="app", app=app)


def principal_for(state: State, header: str | None, allow_jwt: bool = True) -> Principal:
    """The caller behind an Authorization header; AuthError for bad or expired credentials."""
    cred = credential(header)
    if cred is None:
        return Principal(kind="anonymous")
    scheme, secret = cred
    if scheme == "invalid" or not secret:
        raise AuthError("Bad credentials")
    token = state.lookup_token(secret)
    if token is not None:
        if token.expired():
            raise AuthError("Bad credentials")
        return Principal(kind=token.kind, user=token.user, token=token)
    if allow_jwt and scheme == "bearer" and looks_like_jwt(secret):
        return verify_app_jwt(state, secret)
    raise AuthError("Bad credentials")


def identify(state: State, header: str | None) -> int | str | None:
    """Best-effort caller id for the call log; never raises."""
    try:
        return principal_for(state, header).call_id
    except AuthError:
        return "invalid"
