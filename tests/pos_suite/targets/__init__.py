"""One module per POS: its sandbox served over HTTP, and how to read what m2pos made in it.

Each module has ``VARIANTS`` (name → the ``[pos.<kind>]`` options of a document type) and
``start(directory, options)``, a context manager yielding a :class:`tests.pos_suite.target.PosUnderTest`.
Register it in ``TARGETS``; every scenario of ``tests/pos_suite/`` then runs against every variant.
"""

from __future__ import annotations

from types import ModuleType

from tests.pos_suite.targets import heartland, lightspeed_onsite, lightspeed_retail, lightspeed_xseries

TARGETS: dict[str, ModuleType] = {"lightspeed_onsite": lightspeed_onsite}
TARGETS["heartland"] = heartland
TARGETS["lightspeed_xseries"] = lightspeed_xseries
TARGETS["lightspeed_retail"] = lightspeed_retail
