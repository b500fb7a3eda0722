"""Device signing secrets, encrypted with a KMS key; the plaintext never reaches the table.

Decrypted secrets are cached for a few minutes per warm Lambda: a KMS call per request would cost more
than the request itself, and a rotated secret takes effect within the cache age.
"""

from __future__ import annotations

import base64
import threading
import time

from shared import resources
from shared.adapters.aws import client

CACHE_SECONDS = 300


class DeviceSecretVault:
    def __init__(self, key_id: str = resources.DEVICE_SECRETS_KEY_ALIAS) -> None:
        self._key_id = key_id
        self._cache: dict[str, tuple[float, str, str]] = {}
        self._lock = threading.Lock()

    def seal(self, device_id: str, secret: str) -> str:
        out = client("kms").encrypt(
            KeyId=self._key_id, Plaintext=secret.encode(), EncryptionContext={"device_id": device_id}
        )
        return base64.b64encode(out["CiphertextBlob"]).decode()

    def reveal(self, device_id: str, ciphertext: str) -> str:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(device_id)
            if hit and hit[0] > now and hit[1] == ciphertext:
                return hit[2]
        out = client("kms").decrypt(
            CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext={"device_id": device_id}
        )
        secret = out["Plaintext"].decode()
        with self._lock:
            self._cache[device_id] = (now + CACHE_SECONDS, ciphertext, secret)
        return secret
