"""Checks every response of the fake against GitHub's own OpenAPI description.

A fake is only useful if it answers the way GitHub does, so each REST response is matched
to its path template, method and status code in `openapi/rest-api-subset.json` and its
JSON body validated against the documented schema (Draft 2020-12, after turning OpenAPI
3.0's `nullable: true` into a `null` type). Anything that does not fit — a body that breaks
the schema, a status the description does not list, or an endpoint it does not describe —
becomes a `ContractViolation` on the server, and the test fixtures fail on those.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

SPEC_PATH = Path(__file__).parent / "openapi" / "rest-api-subset.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Parameters GitHub lets contain slashes (git refs, file paths, branch and label names).
SLASHY_PARAMS = {"ref", "path", "branch", "name"}
# GitHub documents its generic error body once per endpoint; undocumented error statuses
# (401 everywhere, injected 5xx, ...) must still look like it.
GENERIC_ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "documentation_url": {"type": "string"},
        "status": {"type": "string"},
        "errors": {"type": "array"},
    },
}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class ContractViolation:
    method: str
    path: str
    status: int
    template: str | None
    error: str

    def __str__(self) -> str:
        where = f" ({self.template})" if self.template and self.template != self.path else ""
        return f"{self.method} {self.path}{where} -> {self.status}: {self.error}"


def oas30_to_jsonschema(schema):
    """A copy of an OpenAPI 3.0 schema object with `nullable` expressed the JSON Schema way."""
    if isinstance(schema, list):
        return [oas30_to_jsonschema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: oas30_to_jsonschema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = oas30_to_jsonschema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [oas30_to_jsonschema(sub) for sub in value]
        elif key in ("nullable", "example", "discriminator", "xml", "externalDocs"):
            continue
        else:
            out[key] = copy.deepcopy(value)
    if schema.get("nullable") is True:
        if "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"] if "null" not in kinds else kinds
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            # `nullable` next to oneOf/anyOf/allOf without a type: GitHub means "or null".
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(_DATE_TIME.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc) and " " not in value

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or "@" in value

    return checker


@functools.lru_cache(maxsize=4)
def load_spec(path: str = str(SPEC_PATH)) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def template_regex(template: str) -> re.Pattern[str]:
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
        pattern += re.escape(literal)
        if name:
            pattern += ".+?" if name in SLASHY_PARAMS else "[^/]+"
    return re.compile(f"^{pattern}$")


def _prose_forms(template: str, method: str, body: object) -> object:
    """Request shapes GitHub's descriptions allow in prose but not in the schema (None: accept as is).

    Labels: "You can also pass an array of labels directly" (and, for PUT, a single string, or an
    empty array to remove all labels) — PyGithub sends the bare array.
    """
    if template.endswith("/issues/{issue_number}/labels") and method in ("POST", "PUT"):
        if isinstance(body, str):
            body = [body]
        if isinstance(body, list):
            if not body and method == "PUT":
                return None
            return {"labels": body}
        if isinstance(body, dict) and body.get("labels") == [] and method == "PUT":
            return None
    return body


class Contract:
    """Path-template matching and cached validators over one OpenAPI description."""

    def __init__(self, spec_path: Path = SPEC_PATH):
        self.spec = load_spec(str(spec_path))
        self.violations: list[ContractViolation] = []
        # Request bodies the *client* sent that the description does not allow (the code under test's bugs).
        self.request_violations: list[ContractViolation] = []
        self.checked = 0
        self._lock = threading.Lock()
        self._validators: dict[tuple, Draft202012Validator] = {}
        self._formats = _format_checker()
        templates = []
        for template in self.spec["paths"]:
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            templates.append((literal, template, template_regex(template)))
        templates.sort(key=lambda item: -item[0])
        self._templates = [(template, regex) for _, template, regex in templates]

    # -- matching ----------------------------------------------------------------------------

    def match(self, path: str) -> str | None:
        for template, regex in self._templates:
            if regex.match(path):
                return template
        return None

    def operation(self, template: str, method: str) -> dict | None:
        item = self.spec["paths"].get(template, {})
        return item.get(method.lower())

    def _response(self, operation: dict, status: int) -> tuple[bool, dict | None]:
        """(documented, json schema or None) for one status of one operation."""
        responses = operation.get("responses", {})
        response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if response is None:
            response = responses.get("default")
            if response is None:
                return False, None
        content = response.get("content", {})
        media = content.get("application/json")
        if media is None:
            media = next((m for t, m in content.items() if t.endswith("json")), None)
        return True, (media or {}).get("schema")

    def _validator(self, key: tuple, schema: dict) -> Draft202012Validator:
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = Draft202012Validator(oas30_to_jsonschema(schema), format_checker=self._formats)
                self._validators[key] = validator
            return validator

    # -- checking ----------------------------------------------------------------------------

    def record(self, method: str, path: str, status: int, template: str | None, error: str) -> ContractViolation:
        violation = ContractViolation(method, path, status, template, error[:800])
        with self._lock:
            self.violations.append(violation)
        return violation

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> ContractViolation | None:
        """Validate one response; returns (and records) the violation if it breaks the contract."""
        with self._lock:
            self.checked += 1
        method = method.upper()
        template = self.match(path)
        operation = self.operation(template, method) if template else None
        if operation is None:
            return self.record(
                method, path, status, template, "undocumented endpoint: not in GitHub's OpenAPI description"
            )

        documented, schema = self._response(operation, status)
        is_json = "json" in content_type.lower()
        if not documented and status < 400:
            return self.record(method, path, status, template, f"undocumented status {status} for {method} {template}")
        if schema is None:
            if status >= 400 and body:
                schema = GENERIC_ERROR_SCHEMA
            elif body and status < 400:
                return self.record(method, path, status, template, f"status {status} is documented without a body")
            else:
                return None
        if not body:
            return self.record(method, path, status, template, "empty body where a JSON document is documented")
        if not is_json:
            return self.record(method, path, status, template, f"content-type {content_type!r} is not JSON")
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return self.record(method, path, status, template, f"invalid JSON: {exc}")
        validator = self._validator((template, method, status), schema)
        error = best_match(validator.iter_errors(instance))
        if error is None:
            return None
        return self.record(method, path, status, template, f"{error.json_path}: {error.message}")

    def check_request(self, method: str, path: str, body: object) -> ContractViolation | None:
        """Validate a request's JSON body against the documented requestBody (the client's side of the contract)."""
        template = self.match(path)
        operation = self.operation(template, method) if template else None
        if operation is None or body is None:
            return None
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not media or "schema" not in media:
            return None
        body = _prose_forms(template, method.upper(), body)
        if body is None:
            return None
        validator = self._validator((template, method.upper(), "request"), media["schema"])
        error = best_match(validator.iter_errors(body))
        if error is None:
            return None
        violation = ContractViolation(
            method.upper(), path, 0, template, f"request body: {error.json_path}: {error.message}"[:800]
        )
        with self._lock:
            self.request_violations.append(violation)
        return violation

    def check_routes(self, routes: list[tuple[str, str]]) -> list[ContractViolation]:
        """Every (method, template) the fake serves must be one GitHub documents."""
        found = []
        for method, template in routes:
            if self.operation(template, method) is None:
                found.append(
                    self.record(
                        method.upper(),
                        template,
                        0,
                        template,
                        "undocumented endpoint: the fake serves a route GitHub does not describe",
                    )
                )
        return found
