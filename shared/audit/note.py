"""Signed checkpoints: the C2SP tlog-checkpoint body in a C2SP signed note with an Ed25519 signature.

Key strings are those of golang.org/x/mod/sumdb/note: ``<name>+<key hash hex>+<base64(0x01||key)>``
(verifier) and ``PRIVATE+KEY+<name>+<hash>+<base64(0x01||seed)>`` (signer); the key hash is the first four
bytes of SHA-256(name || "\\n" || 0x01 || public key). Pure apart from the signature arithmetic, which is
``cryptography``'s.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(ValueError):
    """A note or key that does not parse or whose signature does not verify."""


def key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"bad key name {name!r}")


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("not a signer key")
        raw = base64.b64decode(parts[4])
        if raw[:1] != ED25519 or len(raw) != 33:
            raise NoteError("only Ed25519 signer keys are supported")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_hash.hex() != parts[3]:
            raise NoteError("signer key hash does not match")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public)

    def signer_key(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{base64.b64encode(ED25519 + seed).decode()}"

    def verifier_key(self) -> str:
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    def sign(self, text: str) -> str:
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        sig = base64.b64encode(self.key_hash + self.private.sign(text.encode())).decode()
        return f"{text}\n{DASH} {self.name} {sig}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    hash: bytes
    public: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise NoteError("not a verifier key")
        name, hash_hex, b64 = parts
        _check_name(name)
        raw = base64.b64decode(b64)
        if raw[:1] != ED25519 or len(raw) != 33:
            raise NoteError("only Ed25519 verifier keys are supported")
        if key_hash(name, raw[1:]).hex() != hash_hex:
            raise NoteError("verifier key hash does not match its key")
        return cls(name, bytes.fromhex(hash_hex), Ed25519PublicKey.from_public_bytes(raw[1:]))


def open_note(message: str, verifier: Verifier) -> str:
    """The text of ``message`` if ``verifier``'s signature on it verifies; NoteError otherwise."""
    text, sep, sigs = message.rpartition("\n\n")
    if not sep or not message.endswith("\n"):
        raise NoteError("malformed note")
    text += "\n"
    for line in sigs.splitlines():
        prefix = f"{DASH} {verifier.name} "
        if not line.startswith(prefix):
            continue
        raw = base64.b64decode(line[len(prefix) :])
        if raw[:4] != verifier.hash:
            continue
        try:
            verifier.public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError("signature does not verify") from None
        return text
    raise NoteError(f"no signature by {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or not lines[1].isdigit():
            raise NoteError("malformed checkpoint")
        root = base64.b64decode(lines[2])
        if len(root) != 32:
            raise NoteError("checkpoint root is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)


def open_checkpoint(message: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    cp = Checkpoint.parse(open_note(message, verifier))
    if origin is not None and cp.origin != origin:
        raise NoteError(f"checkpoint is of {cp.origin!r}, not {origin!r}")
    return cp
