"""An httpx transport that records every exchange, for contract tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Exchange:
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    request_body: Any
    status: int
    response_body: Any


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        request_content = request.content
        self.exchanges.append(
            Exchange(
                method=request.method,
                raw_path=request.url.raw_path.decode().split("?", 1)[0],
                query=list(request.url.params.multi_items()),
                request_body=json.loads(request_content) if request_content else None,
                status=response.status_code,
                response_body=json.loads(content) if content else None,
            )
        )
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )
