"""Open everything one store's sync needs from its settings, and close it again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from m2pos.engine.context import Clock, StoreContext, system_clock
from m2pos.engine.health import WatchedPos
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


# The store's request-rate budget of one system ("magento", "pos") at a rate: distributed mode
# hands in budgets shared by every worker (m2pos.engine.budgets); None: this process's own.
LimiterFactory = Callable[[str, float], RateLimiter]


def magento_client(
    settings: MagentoSettings,
    transport: httpx.AsyncBaseTransport | None = None,
    limiter: RateLimiter | None = None,
) -> MagentoClient:
    """A client whose every request spends from the store's Magento request-rate budget."""
    limiter = limiter or RateLimiter(settings.requests_per_second)
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
    limiters: LimiterFactory | None = None,
) -> AsyncIterator[StoreContext]:
    own_ledger = ledger is None
    ledger = ledger or Ledger.open(settings.state.database_url)
    own_pos = pos is None
    pos = WatchedPos(pos or _open_pos(settings, limiters), ledger, clock)
    magento = _magento(settings, limiters, magento_transport)
    ctx = StoreContext(
        settings=settings,
        ledger=ledger,
        magento=magento,
        pos=pos,
        clock=clock,
        owns_pos=own_pos,
        limiters=limiters,
    )
    try:
        yield ctx
    finally:
        await ctx.magento.aclose()  # the current clients: apply_settings may have replaced them
        if own_pos:
            await ctx.pos.aclose()
        if own_ledger:
            ledger.close()


async def apply_settings(ctx: StoreContext, settings: Settings) -> bool:
    """Take settings saved meanwhile (the web console); True when anything changed.

    The Magento client and the POS adapter are reopened only when their own section changed (a
    POS handed in by the caller, as in tests, is kept). The ledger's database cannot change here.
    """
    if settings == ctx.settings:
        return False
    if settings.magento != ctx.settings.magento:
        previous_client, ctx.magento = ctx.magento, _magento(settings, ctx.limiters)
        await previous_client.aclose()
    if settings.pos != ctx.settings.pos and ctx.owns_pos:
        reopened = WatchedPos(_open_pos(settings, ctx.limiters), ctx.ledger, ctx.clock)
        previous_pos, ctx.pos = ctx.pos, reopened
        await previous_pos.aclose()
    ctx.settings = settings
    return True


def _magento(
    settings: Settings, limiters: LimiterFactory | None, transport: httpx.AsyncBaseTransport | None = None
) -> MagentoClient:
    rate = settings.magento.requests_per_second
    return magento_client(settings.magento, transport, limiters("magento", rate) if limiters else None)


def _open_pos(settings: Settings, limiters: LimiterFactory | None) -> PointOfSale:
    rate = settings.pos.requests_per_second
    return open_pos(settings.pos, limiters("pos", rate) if limiters else None)
