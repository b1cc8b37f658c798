"""Validate Magento REST traffic against the official 2.4.8 Swagger 2.0 schema.

The schema is loaded once and turned into JSON Schema (draft 4, which Swagger 2.0 definitions
follow). Four places where the official schema and real Magento disagree are adapted, each backed
by ../shared/docs/domain/magento2-rest-api.md:

* Required keys may be ``null``: Magento omits null *optional* keys but renders required ones,
  e.g. ``payment.account_status: null`` in Adobe's own order sample (§5 "List vs single, and nulls").
* ``error-response.parameters`` is declared as an array, but Magento renders named placeholders
  as an object, e.g. ``{"resources": "Magento_Sales::sales"}`` (§4 "Error responses").
* A successful response to a request with ``fields=`` is a projection: Magento keeps only the keys
  listed, so ``search_criteria``, ``total_count`` and required item keys (``grand_total``,
  ``customer_email``…) may be missing (§3 "Partial responses: ``?fields=``": the doc's example
  answers only ``{"items": [...]}``). Such responses are validated with every ``required`` list
  dropped; the types of the keys that are present are still checked. Error bodies are not projected.
* The body of the legacy ``PUT /V1/products/{productSku}/stockItems/{itemId}`` is a *partial*
  stock item: the schema marks 23 stock-item keys required, but "real Magento merges the given
  fields onto the existing item, so partial bodies work in practice" (§8 "Legacy CatalogInventory",
  tagged [U] there: to verify on a real store), and the client sends only ``qty`` and
  ``is_in_stock``. For that request body only, the stock item's required keys are dropped;
  ``stockItem`` itself stays required, and the types are still checked.

Each adaptation is tested in ``test_schema_adaptations.py``, including that it stays narrow.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "reference" / "magento" / "admin-schema-2.4.8.yaml"

_INDEX = re.compile(r"\[\d+\]")
_SNAKE_TO_CAMEL = {"filter_groups": "filterGroups", "condition_type": "conditionType"}

# Request bodies that real Magento merges onto an existing entity, so required keys may be omitted:
# (method, template) → the definition whose ``required`` list is dropped for that body only.
PARTIAL_REQUEST_BODIES = {
    ("PUT", "/V1/products/{productSku}/stockItems/{itemId}"): "catalog-inventory-data-stock-item-interface",
}


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/V1/orders/{id}"
    operation: dict[str, Any]


class ContractError(AssertionError):
    """A request or response does not follow the official schema."""


class MagentoSchema:
    def __init__(self, document: dict[str, Any]) -> None:
        self._definitions = {name: _relax(schema) for name, schema in document["definitions"].items()}
        self._definitions["error-response"]["properties"]["parameters"] = {"type": ["array", "object"]}
        # Projections (``fields=``) may drop any key: the same definitions without ``required``.
        self._projected_definitions = {name: _drop_required(d) for name, d in self._definitions.items()}
        self._partial_body_definitions = {
            key: {**self._definitions, name: _drop_required(self._definitions[name], deep=False)}
            for key, name in PARTIAL_REQUEST_BODIES.items()
        }
        self._routes: list[tuple[re.Pattern[str], Route]] = []
        for template, methods in document["paths"].items():
            pattern = _template_pattern(template)
            for method, operation in methods.items():
                self._routes.append((pattern, Route(method.upper(), template, operation)))
        # Literal paths win over templated ones (``/V1/orders/items`` before ``/V1/orders/{id}``).
        self._routes.sort(key=lambda entry: entry[1].template.count("{"))

    def route(self, method: str, rest_path: str) -> Route:
        """The operation for a path such as ``/rest/default/V1/orders/5``."""
        v1_path = "/V1/" + rest_path.split("/V1/", 1)[1]
        for pattern, route in self._routes:
            if route.method == method and pattern.match(v1_path):
                return route
        raise ContractError(f"{method} {v1_path} is not a route of the official schema")

    def check_request(self, method: str, rest_path: str, query: list[tuple[str, str]], body: Any) -> Route:
        route = self.route(method, rest_path)
        declared = {p["name"] for p in route.operation.get("parameters", []) if p["in"] == "query"}
        for name, _value in query:
            if name == "fields":  # the partial-response parameter applies to every route
                continue
            canonical = _INDEX.sub("[0]", name)
            for snake, camel in _SNAKE_TO_CAMEL.items():
                canonical = canonical.replace(f"[{snake}]", f"[{camel}]")
            if canonical not in declared:
                raise ContractError(f"{method} {route.template}: query parameter {name!r} is not declared")
        body_params = [p for p in route.operation.get("parameters", []) if p["in"] == "body"]
        if body_params:
            if body is None:
                raise ContractError(f"{method} {route.template}: the request has no body")
            schema = _relax(body_params[0]["schema"])
            definitions = self._partial_body_definitions.get((route.method, route.template))
            self._validate(schema, body, f"request body of {method} {route.template}", definitions)
        elif body is not None:
            raise ContractError(f"{method} {route.template}: the schema declares no request body")
        return route

    def check_response(
        self,
        method: str,
        rest_path: str,
        status: int,
        body: Any,
        query: list[tuple[str, str]] | None = None,
    ) -> None:
        """Validate a response; pass the request's ``query`` so a ``fields=`` projection is recognised."""
        route = self.route(method, rest_path)
        projected = 200 <= status < 300 and any(name == "fields" for name, _ in query or ())
        responses = route.operation["responses"]
        spec = responses.get(str(status)) or (responses.get("default") if status >= 400 else None)
        if spec is None:
            if 200 <= status < 300:
                return  # a void operation (e.g. POST source-items answers ``[]``)
            raise ContractError(f"{method} {route.template}: status {status} is not declared")
        if "schema" in spec:
            what = f"response {status} of {method} {route.template}"
            if projected:
                schema = _drop_required(_relax(spec["schema"]))
                self._validate(schema, body, f"projected {what}", self._projected_definitions)
            else:
                self._validate(_relax(spec["schema"]), body, what)

    def definition(self, name: str) -> dict[str, Any]:
        return self._definitions[name]

    def validate_definition(self, name: str, instance: Any) -> None:
        self._validate({"$ref": f"#/definitions/{name}"}, instance, name)

    def _validate(
        self,
        schema: dict[str, Any],
        instance: Any,
        what: str,
        definitions: dict[str, Any] | None = None,
    ) -> None:
        validator = Draft4Validator({**schema, "definitions": definitions or self._definitions})
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in errors]
            lines = lines[:10]
            raise ContractError(f"{what} does not follow the schema:\n  " + "\n  ".join(lines))


def _relax(schema: dict[str, Any]) -> dict[str, Any]:
    """Let required properties be null (real Magento renders them as null, see module doc)."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        properties = node.get("properties", {})
        required = node.get("required")
        for key in required if isinstance(required, list) else ():
            prop = properties.get(key)
            if prop is not None and "type" in prop and isinstance(prop["type"], str):
                prop["type"] = [prop["type"], "null"]
        for value in node.values():
            if isinstance(value, dict):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, dict))
        # Swagger's ``xml`` hints are not JSON Schema; harmless, but keep the validator quiet.
        node.pop("xml", None)
    return schema


def _drop_required(schema: dict[str, Any], *, deep: bool = True) -> dict[str, Any]:
    """``schema`` without ``required`` lists (only at its top level when not ``deep``)."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node.get("required"), list):  # not a property that happens to be named "required"
            del node["required"]
        if not deep:
            break
        for value in node.values():
            if isinstance(value, dict):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, dict))
    return schema


def _template_pattern(template: str) -> re.Pattern[str]:
    # Match raw (still percent-encoded) paths, so a SKU sent as ``A%2FB`` stays one segment.
    literal_parts = re.split(r"\{[^}]+\}", template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in literal_parts) + "$")


@cache
def load_schema() -> MagentoSchema:
    with SCHEMA_PATH.open("rb") as handle:
        # The C loader is the safe one too, and parses the 1 MB schema in half a second.
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return MagentoSchema(document)
