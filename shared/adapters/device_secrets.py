"""Device signing secrets, envelope-encrypted under a KMS key; the plaintext never reaches the table.

Sealing asks KMS for a data key (``GenerateDataKey``) and encrypts the secret locally with AES-256-GCM, the
device id as associated data (a ciphertext moved to another device does not open). The stored value carries
the KMS-encrypted data key beside the secret: ``v2.<b64 encrypted data key>.<b64 nonce+ciphertext>``.

Revealing decrypts the data key with KMS once per warm container and data key, then opens every device's
secret locally: at scale the hot path makes no KMS call (it made one per device per container every 300 s).
A container's sealer reuses its data key for ``DATA_KEY_SECONDS``, so a handful of data keys cover the
whole fleet. Rotation is kept on both levels: a rotated device secret is sealed afresh (it takes effect at
once, the cache is keyed by the stored value), and KMS key rotation re-encrypts nothing (KMS decrypts data
keys sealed under any version of the key). Values sealed before (plain KMS ``Encrypt`` output) still open.
"""

from __future__ import annotations

import base64
import os
import threading
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared import resources
from shared.adapters.aws import client

CACHE_SECONDS = 300  # how long an opened secret is kept (the pre-envelope values re-ask KMS after that)
DATA_KEY_SECONDS = 3600  # how long one container seals with the same data key
DATA_KEYS_CACHED = 64  # plaintext data keys a container keeps (one per sealing container and hour)
PREFIX = "v2"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class DeviceSecretVault:
    def __init__(self, key_id: str = resources.DEVICE_SECRETS_KEY_ALIAS) -> None:
        self._key_id = key_id
        self._cache: dict[str, tuple[float, str, str]] = {}  # legacy values: device -> (expiry, ciphertext, secret)
        self._data_keys: dict[str, bytes] = {}  # encrypted data key (b64) -> plaintext key
        self._sealing: tuple[float, str, bytes] | None = None  # (expiry, encrypted key b64, plaintext key)
        self._lock = threading.Lock()

    def seal(self, device_id: str, secret: str) -> str:
        now = time.monotonic()
        with self._lock:
            sealing = self._sealing if self._sealing and self._sealing[0] > now else None
        if sealing is None:
            out = client("kms").generate_data_key(KeySpec="AES_256", KeyId=self._key_id,
                                                  EncryptionContext={"purpose": "device-secrets"})
            sealing = (now + DATA_KEY_SECONDS, _b64(out["CiphertextBlob"]), out["Plaintext"])
            with self._lock:
                self._sealing = sealing
                self._remember(sealing[1], sealing[2])
        _, wrapped, key = sealing
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, secret.encode(), device_id.encode())
        return f"{PREFIX}.{wrapped}.{_b64(nonce + sealed)}"

    def reveal(self, device_id: str, ciphertext: str) -> str:
        if ciphertext.startswith(PREFIX + "."):
            _, wrapped, body = ciphertext.split(".", 2)
            raw = base64.b64decode(body)
            return AESGCM(self._data_key(wrapped)).decrypt(raw[:12], raw[12:], device_id.encode()).decode()
        return self._reveal_kms(device_id, ciphertext)

    def _data_key(self, wrapped: str) -> bytes:
        with self._lock:
            key = self._data_keys.get(wrapped)
        if key is None:
            key = client("kms").decrypt(CiphertextBlob=base64.b64decode(wrapped),
                                        EncryptionContext={"purpose": "device-secrets"})["Plaintext"]
            with self._lock:
                self._remember(wrapped, key)
        return key

    def _remember(self, wrapped: str, key: bytes) -> None:
        if len(self._data_keys) >= DATA_KEYS_CACHED:
            self._data_keys.pop(next(iter(self._data_keys)))  # the oldest: dicts keep insertion order
        self._data_keys[wrapped] = key

    def _reveal_kms(self, device_id: str, ciphertext: str) -> str:
        """A value sealed before envelope encryption: one KMS call per device, cached."""
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
