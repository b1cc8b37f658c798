"""X-Series settings: each bad key is named as written in the file with the page that documents it,
the address is normalised, an emptied console field means "not set", and the token never shows."""

from __future__ import annotations

from typing import Any

import pytest

from m2pos.pos.lightspeed_xseries import LightspeedXSeries, xseries_settings
from m2pos.settings import SettingsError, settings_from_dict

TOKEN = "lsxs_pt_secret-token-value"


def _settings(**pos: Any) -> Any:
    table = {"kind": "lightspeed_xseries", "base_url": "https://shop.retail.lightspeed.app", "token": TOKEN}
    return xseries_settings(settings_from_dict({"pos": {**table, **pos}}).pos)


def test_bad_keys_are_each_named_with_the_docs() -> None:
    with pytest.raises(SettingsError) as raised:
        _settings(
            base_url="shop.retail.lightspeed.app",
            max_attempts=0,
            lightspeed_xseries={"sku_field": "barcode", "colour": "red"},
        )
    text = str(raised.value)
    for key in (
        "pos.base_url",
        "pos.max_attempts",
        "pos.lightspeed_xseries.sku_field",
        "pos.lightspeed_xseries.colour",
    ):
        assert key in text
    assert "docs/pos/lightspeed_xseries.md" in text and "'barcode'" in text


def test_a_missing_token_is_named() -> None:
    with pytest.raises(SettingsError) as raised:
        xseries_settings(settings_from_dict({"pos": {"kind": "lightspeed_xseries"}}).pos)
    assert "pos.token" in str(raised.value)


@pytest.mark.parametrize(
    "given",
    [
        "https://shop.retail.lightspeed.app",
        "https://shop.retail.lightspeed.app/api",
        "https://shop.retail.lightspeed.app/api/",
        "https://shop.retail.lightspeed.app/api/2.0/",
    ],
)
def test_the_address_is_normalised_to_the_api_root(given: str) -> None:
    assert _settings(base_url=given).base_url == "https://shop.retail.lightspeed.app/api/"


def test_an_emptied_console_field_means_not_set() -> None:
    options = _settings(
        lightspeed_xseries={"register_id": "", "user_id": "", "default_customer_id": ""}
    ).options
    assert options.register_id is None and options.user_id is None and options.default_customer_id is None
    assert options.payment_type == "Magento" and options.create_payments


def test_the_token_never_shows() -> None:
    settings = _settings()
    adapter = LightspeedXSeries(settings)
    texts = (repr(settings), str(settings), repr(adapter), repr(adapter.client))
    assert all(TOKEN not in text for text in texts)
