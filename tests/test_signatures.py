"""Signatures are verified in process: ed25519 with libsodium, RSA with the sshsig library, and only in the form
ssh-keygen writes: what doccontrol accepts, `ssh-keygen -Y verify` accepts."""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import secrets
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from doccontrol import signing
from doccontrol.signing import InvalidSignature, load_signer

DATA = "批准 QP-SH-001 B/0 sha256:0123".encode()


def make_key(folder: Path, name: str, kind: str, bits: int = 2048) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *(["-b", str(bits)] if kind == "rsa" else []), "-N", "", "-C", name,
                    "-f", str(key)], check=True)
    return key


def keygen_sign(key: Path, data: bytes, namespace: str = "doccontrol", *options: str) -> str:
    done = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(key), *options],
                          input=data, capture_output=True, check=True)
    return done.stdout.decode("ascii")


def outer_fields(armored: str) -> list[bytes]:
    """An SSHSIG's fields: magic and version, public key, namespace, reserved, hash algorithm, signature."""
    raw = base64.b64decode("".join(armored.strip().split("\n")[1:-1]))
    fields, position = [raw[:10]], 10
    while position < len(raw):
        size = struct.unpack(">I", raw[position:position + 4])[0]
        fields.append(raw[position + 4:position + 4 + size])
        position += 4 + size
    return fields


def armor(fields: list[bytes], tail: bytes = b"") -> str:
    raw = fields[0] + b"".join(struct.pack(">I", len(field)) + field for field in fields[1:]) + tail
    text = base64.b64encode(raw).decode()
    return "\n".join([signing.ARMOR_BEGIN, *[text[i:i + 76] for i in range(0, len(text), 76)], signing.ARMOR_END])


def outcome(check, data: bytes, armored: str) -> str:
    try:
        return check(data, armored)
    except InvalidSignature:
        return "invalid"


def keygen_verifies(tmp_path: Path, key: Path, data: bytes, armored: str) -> bool:
    kind, blob = Path(str(key) + ".pub").read_text().split()[:2]
    (tmp_path / "allowed").write_text(f"signer {kind} {blob}\n")
    (tmp_path / "sig").write_text(armored)
    done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "signer",
                           "-n", "doccontrol", "-s", str(tmp_path / "sig")], input=data, capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {"ed": make_key(folder, "ed", "ed25519"), "other": make_key(folder, "other", "ed25519"),
            "rsa": make_key(folder, "rsa", "rsa"), "1024": make_key(folder, "1024", "rsa", bits=1024),
            "short": short_rsa_key(folder)}


def cases(keys) -> dict[str, tuple[str, bytes, str]]:
    """Signatures good and bad, each as (the key it names, data, armored)."""
    good = keygen_sign(keys["ed"], DATA)
    fields = outer_fields(good)
    rsa = outer_fields(keygen_sign(keys["rsa"], DATA))
    other = outer_fields(keygen_sign(keys["other"], DATA))
    flipped = bytearray(fields[5])
    flipped[-1] ^= 1
    return {
        "ssh-keygen, ed25519": ("ed", DATA, good),
        "doccontrol's own signer": ("ed", DATA, load_signer(str(keys["ed"])).sign(DATA)),
        "ssh-keygen, sha256": ("ed", DATA, keygen_sign(keys["ed"], DATA, "doccontrol", "-O", "hashalg=sha256")),
        "ssh-keygen, rsa": ("rsa", DATA, keygen_sign(keys["rsa"], DATA)),
        "doccontrol's own signer, rsa": ("rsa", DATA, load_signer(str(keys["rsa"])).sign(DATA)),
        "other bytes": ("ed", DATA + b" ", good),
        "a bit of the signature flipped": ("ed", DATA, armor([*fields[:5], bytes(flipped)])),
        "another key named as the signer": ("other", DATA, armor([fields[0], other[1], *fields[2:]])),
        "another namespace": ("ed", DATA, keygen_sign(keys["ed"], DATA, "git")),
        "the key with a byte more": ("ed", DATA, armor([fields[0], fields[1] + b"\0", *fields[2:]])),
        "the rsa key with a byte more": ("rsa", DATA, armor([rsa[0], rsa[1] + b"\0", *rsa[2:]])),
        "the signature with a byte more": ("ed", DATA, armor([*fields[:5], fields[5] + b"\0"])),
        "the signature's algorithm renamed": ("ed", DATA, armor([*fields[:5], fields[5].replace(b"ssh-ed25519",
                                                                                                b"ssh-ed25518")])),
        "an rsa signature named ed25519": ("rsa", DATA, armor([*rsa[:5], rsa[5].replace(b"rsa-sha2-512",
                                                                                        b"ssh-ed25519")])),
        "a hash ssh-keygen never uses": ("ed", DATA, armor([*fields[:4], b"sha1", fields[5]])),
        "bytes after the signature": ("ed", DATA, armor(fields, b"\0\0\0\0")),
        "text before the armor": ("ed", DATA, "signed by me\n" + good),
        "CRLF line ends": ("ed", DATA, good.replace("\n", "\r\n")),
        "no END line": ("ed", DATA, good.replace(signing.ARMOR_END, "")),
        "a character base64 does not have": ("ed", DATA, good.replace("\n", "!\n", 2).replace("!\n", "\n", 1)),
        "padding after the end": ("ed", DATA, good.replace(signing.ARMOR_END, "====\n" + signing.ARMOR_END)),
        "an RSA key of 1024 bits": ("1024", DATA, keygen_sign(keys["1024"], DATA)),
        "an RSA key of 768 bits": ("short", DATA, rsa_sign_by_hand(keys["short"], DATA)),
    }


GOOD = {"ssh-keygen, ed25519", "doccontrol's own signer", "ssh-keygen, sha256", "ssh-keygen, rsa",
        "doccontrol's own signer, rsa", "an RSA key of 1024 bits"}


def test_a_signature_counts_only_when_ssh_keygen_verifies_it(keys, tmp_path):
    """doccontrol accepts the signatures ssh-keygen writes, names the key ssh-keygen verifies them with, and accepts
    no form ssh-keygen rejects. (The sshsig library alone accepts a key or a signature with a byte more, bytes
    after the SSHSIG, loose armor and RSA keys of any size, and stops with an AssertionError on a renamed
    signature algorithm.)"""
    fingerprints = {name: signing.PublicKey.parse(Path(str(key) + ".pub").read_text()).fingerprint
                    for name, key in keys.items() if name != "short"}
    for name, (key, data, armored) in cases(keys).items():
        expected = fingerprints[key] if name in GOOD else "invalid"
        assert outcome(signing.signer_key, data, armored) == expected, name
        assert keygen_verifies(tmp_path, keys[key], data, armored) == (name in GOOD), name
    with pytest.raises(ValueError, match="an RSA key of 768 bits is too short"):
        signing.PublicKey.parse(Path(str(keys["short"]) + ".pub").read_text())


def rsa_sign_by_hand(key: Path, data: bytes) -> str:
    """An SSHSIG as ssh-keygen would write it, made with any RSA key (doccontrol's signer refuses a short one)."""
    private = serialization.load_ssh_private_key(key.read_bytes(), None)
    blob = signing._signed_blob(b"sha512", hashlib.sha512(data).digest())
    signature = signing._string(b"rsa-sha2-512") + signing._string(
        private.sign(blob, padding.PKCS1v15(), hashes.SHA512()))  # type: ignore[union-attr,call-arg]
    public = base64.b64decode(Path(str(key) + ".pub").read_text().split()[1])
    return armor([b"SSHSIG" + struct.pack(">I", 1), public, b"doccontrol", b"", b"sha512", signature]) + "\n"


def short_rsa_key(folder: Path) -> Path:
    """A 768-bit RSA key (which ssh-keygen will not make), written as OpenSSH key files."""
    def prime(bits: int) -> int:
        while True:
            candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # the top two bits: 768 bits for two
            if all(pow(base, candidate - 1, candidate) == 1 for base in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31)):
                return candidate

    while True:
        p, q = prime(384), prime(384)
        if p != q and math.gcd(65537, (p - 1) * (q - 1)) == 1:
            break
    d = pow(65537, -1, (p - 1) * (q - 1))
    private = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                    rsa.RSAPublicNumbers(65537, p * q)).private_key()
    key = folder / "short"
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))
    key.chmod(0o600)
    (folder / "short.pub").write_bytes(private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                                         serialization.PublicFormat.OpenSSH))
    return key


def test_libsodium_and_the_sshsig_library_agree_on_ed25519(keys):
    """An ed25519 signature is verified with libsodium; the library says the same of these, good or bad. (libsodium
    is the stricter of the two: it refuses a non-canonical S, which OpenSSL and ssh-keygen take, and a
    small-order key.)"""
    compared = []
    for name, (_, data, armored) in cases(keys).items():
        try:
            outer = signing._sshsig(armored)
        except InvalidSignature:
            continue
        if outer.public_key.startswith(signing._ED25519_KEY):
            compared.append(name)
            assert outcome(functools.partial(ed25519, outer=outer), data, armored) == \
                outcome(functools.partial(library, outer=outer), data, armored), name
    assert len(compared) == 6 and "ssh-keygen, ed25519" in compared and "other bytes" in compared


def ed25519(data: bytes, armored: str, outer) -> str:
    return signing._ed25519_signer(data, outer)


def library(data: bytes, armored: str, outer) -> str:
    return signing._sshsig_signer(data, armored, outer)
