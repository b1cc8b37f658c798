"""Open everything one store's sync needs from its settings, and close it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from m2pos.engine.context import Clock, StoreContext, system_clock
from m2pos.engine.ratelimit import RateLimitedTransport, RateLimiter
from m2pos.ledger import Ledger
from m2pos.magento import BearerToken, MagentoClient, OAuth1Credentials
from m2pos.pos import PointOfSale, open_pos
from m2pos.settings import MagentoSettings, Settings


def magento_auth(settings: MagentoSettings) -> httpx.Auth | None:
    if settings.bearer_token is not None:
        return BearerToken(settings.bearer_token.get_secret_value())
    if settings.consumer_key is not None:
        assert settings.consumer_secret and settings.access_token and settings.access_token_secret
        return OAuth1Credentials(
            settings.consumer_key.get_secret_value(),
            settings.consumer_secret.get_secret_value(),
            settings.access_token.get_secret_value(),
            settings.access_token_secret.get_secret_value(),
        )
    return None


def magento_client(
    settings: MagentoSettings, transport: httpx.AsyncBaseTransport | None = None
) -> MagentoClient:
    """A client whose every request spends from the store's Magento request-rate budget."""
    limiter = RateLimiter(settings.requests_per_second)
    inner = transport or httpx.AsyncHTTPTransport()
    return MagentoClient(
        settings.base_url,
        store_code=settings.store_code,
        auth=magento_auth(settings),
        page_size=settings.page_size,
        timeout=settings.timeout_seconds,
        transport=RateLimitedTransport(inner, limiter),
    )


@asynccontextmanager
async def open_store(
    settings: Settings,
    *,
    ledger: Ledger | None = None,
    pos: PointOfSale | None = None,
    magento_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = system_clock,
) -> AsyncIterator[StoreContext]:
    own_ledger = ledger is None
    ledger = ledger or Ledger.open(settings.state.database_url)
    own_pos = pos is None
    pos = pos or open_pos(settings.pos)
    magento = magento_client(settings.magento, magento_transport)
    try:
        yield StoreContext(settings=settings, ledger=ledger, magento=magento, pos=pos, clock=clock)
    finally:
        await magento.aclose()
        if own_pos:
            await pos.aclose()
        if own_ledger:
            ledger.close()
