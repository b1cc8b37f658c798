"""Settings: the keys are validated with their names, secrets never show, the console has the
R-Series sections and may edit their keys."""

from __future__ import annotations

import pytest

from m2pos.pos import validate_pos_settings
from m2pos.pos.registry import POS_KINDS
from m2pos.settings import SettingsError, settings_from_dict
from m2pos.settings_store import EDITABLE
from m2pos.web._forms import connection_sections, order_sections

from .conftest import Env


def test_bad_keys_are_named(env: Env) -> None:
    data = env.settings(download_orders_as="invoice", sku_field="barcode")
    with pytest.raises(SettingsError) as raised:
        validate_pos_settings(settings_from_dict(data).pos)
    text = str(raised.value)
    assert "pos.lightspeed_retail.download_orders_as" in text and "pos.lightspeed_retail.sku_field" in text
    assert "lightspeed_retail" in POS_KINDS


def test_secrets_never_show(env: Env) -> None:
    pos = env.adapter()
    settings = settings_from_dict(env.settings()).pos
    secret, refresh = env.sandbox.oauth.client_secret, env.sandbox.oauth.initial_refresh_token
    for text in (repr(pos), repr(pos.client), repr(pos.settings), repr(settings), str(pos.settings)):
        assert secret not in text and refresh not in text


def test_the_console_sections_and_their_keys() -> None:
    (section,) = [s for s in order_sections("lightspeed_retail") if "Retail" in s.title]
    connection = [s for s in connection_sections("lightspeed_retail") if "Retail" in s.title]
    keys = [f.key for f in section.fields] + [f.key for s in connection for f in s.fields]
    assert "pos.lightspeed_retail.download_orders_as" in keys
    assert all(k in EDITABLE for k in keys)
    assert EDITABLE["pos.client_secret"] and EDITABLE["pos.refresh_token"]
