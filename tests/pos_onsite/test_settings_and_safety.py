"""Settings validation (messages name the key as written in TOML), secrets kept out of reprs, errors
and logs, and XML from the server parsed safely."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from m2pos.pos import open_pos
from m2pos.pos.lightspeed_onsite import LightspeedOnSite, onsite_settings
from m2pos.pos.port import PosError
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox._tls import temporary_certificate
from m2pos.settings import SettingsError, settings_from_dict

from .conftest import PASSWORD, PRIVATE_ID, Env

BASE = {
    "kind": "lightspeed_onsite",
    "username": "lightspeed",
    "password": PASSWORD,
    "app_private_id": PRIVATE_ID,
}


def _error(pos: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as refused:
        onsite_settings(settings_from_dict({"pos": pos}).pos, source="m2pos.toml")
    return str(refused.value)


def test_reserve_and_deposits_are_refused_with_invoices() -> None:
    message = _error(
        {**BASE, "lightspeed_onsite": {"reserve_order_inventory": True, "create_order_deposits": True}}
    )
    assert message.startswith("m2pos.toml: invalid settings")
    assert (
        '  pos.lightspeed_onsite.reserve_order_inventory: only works with download_orders_as = "order"'
        in message
    )
    assert '  pos.lightspeed_onsite.create_order_deposits: only works with download_orders_as = "order"' in (
        message
    )
    ok = {"download_orders_as": "order", "reserve_order_inventory": True, "create_order_deposits": True}
    settings = onsite_settings(settings_from_dict({"pos": {**BASE, "lightspeed_onsite": ok}}).pos)
    assert settings.options.reserve_order_inventory and settings.options.create_order_deposits


def test_each_bad_key_is_named() -> None:
    message = _error(
        {
            "kind": "lightspeed_onsite",
            "verify_tsl": False,
            "base_url": "ftp://pos",
            "lightspeed_onsite": {"download_orders_as": "quote", "sku_field": "sku", "tax_mode": 3},
        }
    )
    for line in (
        "  pos.username: Field required",
        "  pos.password: Field required",
        "  pos.app_private_id: Field required",
        "  pos.base_url: must start with https://",
        "  pos.verify_tsl: unknown key (see docs/pos/lightspeed_onsite.md",
        "  pos.lightspeed_onsite.download_orders_as: Input should be 'invoice' or 'order' (got 'quote')",
        "  pos.lightspeed_onsite.sku_field: Input should be 'code', 'upc', 'manufacturer_sku' or "
        "'product_id'",
        "  pos.lightspeed_onsite.tax_mode: Input should be 'tax_code_name' or 'line'",
    ):
        assert line in message


def test_defaults_and_base_url() -> None:
    settings = onsite_settings(
        settings_from_dict({"pos": {**BASE, "base_url": "https://pos.local:9630"}}).pos
    )
    assert settings.base_url == "https://pos.local:9630/api/"
    assert settings.verify_tls  # verification stays on unless the merchant turns it off
    options = settings.options
    assert (options.download_orders_as, options.sku_field, options.tax_mode) == (
        "invoice",
        "code",
        "tax_code_name",
    )
    assert (options.deposit_payment_method, options.no_tax_code) == ("Magento", "No Tax")
    assert isinstance(open_pos(settings_from_dict({"pos": BASE}).pos), LightspeedOnSite)


async def test_secrets_stay_out_of_reprs_errors_and_logs(env: Env, caplog: Any) -> None:
    settings = onsite_settings(settings_from_dict(env.settings()).pos)
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in text and PRIVATE_ID not in text
    good = env.adapter()
    assert PASSWORD not in repr(good) and PRIVATE_ID not in repr(good.client)
    with caplog.at_level(logging.DEBUG):
        wrong_password = env.adapter(password="wrong-" + PASSWORD)
        with pytest.raises(PosError) as refused:
            await wrong_password.check()
        assert "401" in refused.value.message and "pos.password" in refused.value.message
        assert not refused.value.retryable
        wrong_app = env.adapter(app_private_id="not-the-" + PRIVATE_ID)
        with pytest.raises(PosError) as refused_app:
            await wrong_app.check()
        assert "403" in refused_app.value.message and "pos.app_private_id" in refused_app.value.message
    for text in (refused.value.message, refused_app.value.message, caplog.text):
        assert PASSWORD not in text and PRIVATE_ID not in text


def _transport(body: bytes, content_type: str = "application/xml") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(handler)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<products total_count="1"><product id="1"><code>&lol2;</code></product></products>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<products><product id="1"><code>&x;</code></product></products>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL], ids=["entity-expansion", "external-entity"])
async def test_xml_with_entities_is_refused(env: Env, body: bytes) -> None:
    pos = env.adapter(transport=_transport(body))
    with pytest.raises(PosError) as refused:
        await pos.stock_levels(["MUG-001"])
    assert "DTD or entities" in refused.value.message and not refused.value.retryable
    assert "root:" not in refused.value.message


async def test_a_response_that_is_not_xml_is_a_retryable_error(env: Env) -> None:
    pos = env.adapter(transport=_transport(b"<html><body>Proxy login", "text/html"))
    with pytest.raises(PosError) as refused:
        await pos.stock_levels(["MUG-001"])
    assert refused.value.retryable and "not XML" in refused.value.message


async def test_tls_is_verified_by_default_and_can_trust_the_server_certificate(
    env: Env, tmp_path: Path
) -> None:
    strict = env.adapter(verify_tls=True)
    with pytest.raises(PosError) as refused:
        await strict.check()
    assert "self-signed" in refused.value.message and "pos.verify_tls = false" in refused.value.message
    with temporary_certificate() as (cert, key):
        other = env.adapter(verify_tls=True, ca_file=str(cert))
        with pytest.raises(PosError):  # a certificate that is not the server's is not trusted either
            await other.check()
        with serve_in_thread(env.sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as base:
            trusting = env.adapter(verify_tls=True, ca_file=str(cert), base_url=f"{base}/api/")
            assert "Lightspeed OnSite" in await trusting.check()  # the server's own certificate: trusted
            await trusting.aclose()


def test_settings_can_be_checked_before_connecting() -> None:
    from m2pos.pos import validate_pos_settings

    validate_pos_settings(settings_from_dict({"pos": BASE}).pos)
    bad = settings_from_dict({"pos": {**BASE, "lightspeed_onsite": {"create_order_deposits": True}}})
    with pytest.raises(SettingsError, match=r"pos\.lightspeed_onsite\.create_order_deposits"):
        validate_pos_settings(bad.pos, "m2pos.toml")
    with pytest.raises(SettingsError):
        open_pos(bad.pos)
