"""The integration and admin credentials the sandbox accepts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SandboxCredentials:
    """An activated integration (four OAuth values, 32 characters each as Magento issues them) and
    an admin user for ``POST /V1/integration/admin/token``."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    admin_username: str = "admin"
    admin_password: str = "sandbox-admin-123"  # noqa: S105 - a published demo password
    consumer_id: int = 1  # appears in "The nonce is already being used by the consumer with ID %1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Published demo values (32 characters, like the keys Magento generates), not secrets.
DEMO_CREDENTIALS = SandboxCredentials(
    consumer_key="m2possandboxconsumerkey000000001",
    consumer_secret="m2possandboxconsumersecret000001",  # noqa: S106
    access_token="m2possandboxaccesstoken000000001",  # noqa: S106
    access_token_secret="m2possandboxaccesstokensecret001",  # noqa: S106
)
