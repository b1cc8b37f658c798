"""Two real processes refreshing the same token pair over and over: the file lock lets only one spend
a refresh token at a time, so R-Series never sees a revoked one and nobody is locked out."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import Env

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from m2pos.pos.lightspeed_retail import LightspeedRetail, retail_settings
    from m2pos.settings import settings_from_dict

    async def main():
        pos = LightspeedRetail(retail_settings(settings_from_dict(json.loads(sys.argv[1])).pos))
        for n in range(int(sys.argv[2])):
            token = await pos.client._access_token()
            await pos.client._refresh(token)  # as after a 401 or an expiry
            assert await pos.find_document(f"none-{n}") is None
        await pos.aclose()

    asyncio.run(main())
    """
)


def test_two_processes_refreshing_together_never_spend_a_revoked_token(env: Env) -> None:
    settings = json.dumps(env.settings())
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, settings, "8"], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
    state = env.sandbox.tokens.state
    assert state.rejected_refreshes == 0
    assert state.refreshes >= 9  # the first, then each worker's (some adopt the other's instead)
    assert env.adapter().client.store.read() is not None
