"""Magento's REST error bodies and the HTTP status its ErrorProcessor gives each exception kind."""

from __future__ import annotations

import secrets
from typing import Any

JsonParams = dict[str, Any] | list[Any]

NO_SUCH_ENTITY = "The entity that was requested doesn't exist. Verify the entity and try again."
NO_ROUTE = "Request does not match any route."
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
INPUT_EXCEPTIONS = "One or more input exceptions have occurred."
INVALID_TYPE = 'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.'


class MagentoError(Exception):
    """An error rendered exactly like Magento's ``Rest\\Response::_renderMessages``.

    ``message`` keeps its raw ``%placeholders``; clients substitute ``parameters`` themselves.
    """

    def __init__(
        self,
        status: int,
        message: str,
        parameters: JsonParams | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def no_such_entity() -> MagentoError:
    return MagentoError(404, NO_SUCH_ENTITY)


def no_route() -> MagentoError:
    return MagentoError(404, NO_ROUTE)


def not_authorized(resources: tuple[str, ...]) -> MagentoError:
    # AuthorizationException: 401, the route's ACL resources comma-joined.
    return MagentoError(401, NOT_AUTHORIZED, {"resources": ", ".join(resources)})


def bad_request(message: str, parameters: JsonParams | None = None) -> MagentoError:
    return MagentoError(400, message, parameters)


def required_fields(names: list[str]) -> MagentoError:
    """InputException with one ``addError`` per missing field, as ServiceInputProcessor raises it."""
    if len(names) == 1:
        return MagentoError(400, REQUIRED_FIELD, {"fieldName": names[0]})
    return MagentoError(
        400,
        INPUT_EXCEPTIONS,
        errors=[{"message": REQUIRED_FIELD, "parameters": {"fieldName": n}} for n in names],
    )


def invalid_type(value: Any, type_name: str) -> MagentoError:
    return MagentoError(400, INVALID_TYPE, {"value": str(value), "type": type_name})


def internal_error() -> MagentoError:
    """Any non-Localized exception outside developer mode: masked, with a uniqid-style report id."""
    report = "webapi-" + secrets.token_hex(7)[:13]
    return MagentoError(
        500, f"Internal Error. Details are available in Magento log file. Report ID: {report}"
    )
