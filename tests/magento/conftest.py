"""A scriptable fake Magento over httpx.MockTransport, and a retry policy that never waits."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
import pytest

from m2pos.magento import BearerToken, MagentoClient, RetryPolicy

BASE_URL = "https://shop.test"
REST = "/rest/default/V1"

Reply = httpx.Response | BaseException | Callable[[httpx.Request], "httpx.Response"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(body), headers={"Content-Type": "application/json", **(headers or {})}
    )


def error_response(
    status: int, message: str, parameters: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    return json_response(body, status, headers)


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    """The decoded query pairs, in order, as Magento's PHP would see them."""
    query = request.url.raw_path.decode().partition("?")[2]
    return parse_qsl(query, keep_blank_values=True)


def body_of(request: httpx.Request) -> Any:
    return orjson.loads(request.content) if request.content else None


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    replies: list[Reply]
    calls: int = 0


@dataclass
class FakeMagento:
    """Routes match ``METHOD`` and a regex on the raw path after ``/rest/<store>/V1``.

    A route's replies are used in order; the last one repeats. A reply is a response, an exception
    to raise (as a broken network would), or a function of the request.
    """

    routes: list[Route] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *replies: Reply) -> Route:
        route = Route(method, re.compile(f"^{path}$"), list(replies))
        self.routes.insert(0, route)  # later registrations win
        return route

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raw_path = request.url.raw_path.decode().partition("?")[0]
        path = re.sub(r"^/rest/[^/]+/V1", "", raw_path)
        for route in self.routes:
            if route.method == request.method and route.pattern.match(path):
                reply = route.replies[min(route.calls, len(route.replies) - 1)]
                route.calls += 1
                if isinstance(reply, BaseException):
                    raise reply
                if isinstance(reply, httpx.Response):
                    return reply
                return reply(request)
        return error_response(404, "Request does not match any route.")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def sent(self, method: str, path_regex: str) -> list[httpx.Request]:
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if r.method == method and pattern.search(r.url.raw_path.decode().partition("?")[0])
        ]


@dataclass
class Sleeps:
    """Records the waits the retry loop asks for instead of waiting."""

    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake() -> FakeMagento:
    return FakeMagento()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(fake: FakeMagento, sleeps: Sleeps) -> Callable[..., MagentoClient]:
    def make(**kwargs: Any) -> MagentoClient:
        kwargs.setdefault("auth", BearerToken("admin-token"))
        kwargs.setdefault("retry", RetryPolicy(sleep=sleeps, jitter=0.0))
        return MagentoClient(BASE_URL, transport=fake.transport(), **kwargs)

    return make


def search_result(items: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    return {
        "items": items,
        "search_criteria": {"filter_groups": []},
        "total_count": len(items) if total is None else total,
    }
