"""The web console shows Heartland's own settings sections, and every key it edits is editable and
valid for the adapter."""

from __future__ import annotations

from m2pos.pos.heartland import heartland_settings
from m2pos.settings import settings_from_dict
from m2pos.settings_store import EDITABLE
from m2pos.web._forms import connection_sections, order_sections


def test_heartland_sections_are_shown_and_their_keys_editable() -> None:
    orders = [s.title for s in order_sections("heartland")]
    connections = [s.title for s in connection_sections("heartland")]
    assert "Heartland Retail" in orders and "Heartland Retail" in connections
    fields = [f for s in order_sections("heartland") + connection_sections("heartland") for f in s.fields]
    keys = [f.key for f in fields if f.key.startswith("pos.")]
    assert all(key in EDITABLE for key in keys), keys
    assert EDITABLE["pos.api_token"] is True  # a secret
    defaults = {f.key.split(".")[-1]: f.default for f in fields if f.key.startswith("pos.heartland.")}
    pos = {"kind": "heartland", "base_url": "http://x/api/", "api_token": "t", "heartland": defaults}
    options = heartland_settings(settings_from_dict({"pos": pos}).pos).heartland
    assert options.location_id == 1 and options.sku_field == "public_id"
