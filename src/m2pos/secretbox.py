"""Encryption at rest for the secrets saved from the web console (Fernet: AES-128-CBC + HMAC).

The key comes from ``M2POS_SECRET_KEY`` (what several workers share) or from the file
``state.secret_key_file``, created with mode 0600 the first time a secret is saved. Without the key
the saved secrets cannot be read: keep it with the database's backups, apart from them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from m2pos.settings import SettingsError

KEY_VARIABLE = "M2POS_SECRET_KEY"


class SecretBox:
    def __init__(self, key_file: Path, environ: Mapping[str, str] | None = None) -> None:
        self._key_file = key_file
        self._environ = os.environ if environ is None else environ
        self._fernet: Fernet | None = None

    def encrypt(self, plaintext: str) -> str:
        return self._cipher(create=True).encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str, what: str) -> str:
        """``what`` names the setting in the error when the key is missing or not the right one."""
        try:
            return self._cipher(create=False).decrypt(token.encode()).decode()
        except InvalidToken:
            raise SettingsError(
                f"{what}: saved in the console with another encryption key; restore the key "
                f"({KEY_VARIABLE} or {self._key_file}) or enter the secret again in Connections"
            ) from None

    def _cipher(self, create: bool) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self._key(create))
        return self._fernet

    def _key(self, create: bool) -> bytes:
        from_environment = self._environ.get(KEY_VARIABLE)
        if from_environment:
            return from_environment.encode()
        if self._key_file.exists():
            return self._key_file.read_bytes().strip()
        if not create:
            raise SettingsError(
                f"secrets were saved in the console but the encryption key is missing "
                f"({KEY_VARIABLE} or {self._key_file}); restore it or enter the secrets again"
            )
        key = Fernet.generate_key()
        self._key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key + b"\n")
        return key
