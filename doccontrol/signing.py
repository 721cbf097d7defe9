"""SSH signatures over statements: made with the signer's own key, verified in process.

A signature is an SSHSIG (the format of `ssh-keygen -Y sign` and of git's SSH-signed commits)
over a statement's canonical bytes, in the namespace "doccontrol". Anyone holding the
repository's files can check it offline, with doccontrol or with `ssh-keygen -Y verify`.

- Signing uses the signer's key: an unencrypted OpenSSH private key file is used in process;
  anything else (a public key whose private half is in an ssh-agent, a passphrase-protected
  key, a `key::` literal as git's user.signingkey allows) goes through `ssh-keygen -Y sign`.
- Verifying is done in process with the `sshsig` library (no process per signature), and a
  result is remembered by the hash of the signed bytes and the signature, which never change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sshsig
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sshsig.sshsig import SshsigSignature

from . import parallel

NAMESPACE = "doccontrol"
SUPPORTED_KEY_TYPES = ("ssh-ed25519", "ssh-rsa")
MIN_RSA_BITS = 1024  # what ssh-keygen itself takes; a key once listed in an approved roster must stay readable
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
# A private key block (OpenSSH, PEM or PKCS#8), or a PuTTY key file: the markers with key data between them.
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[A-Za-z0-9+/=:,\-\s]{64,}?"
                         rb"-----END [A-Z0-9 ]*PRIVATE KEY-----"
                         rb"|PuTTY-User-Key-File-[0-9]+: [^\n]+\n(?:[^\n]*\n){0,8}?Private-Lines: [0-9]+")


class SigningError(Exception):
    """A key that cannot sign, explained for the user."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.fix = fix


class InvalidSignature(Exception):
    """The signature does not verify for these bytes (or is not an SSH signature at all)."""


@dataclass(frozen=True)
class PublicKey:
    """An OpenSSH public key as the roster lists it: `TYPE BASE64` (a comment is not part of it)."""

    type: str
    data: str

    @classmethod
    def parse(cls, line: str) -> PublicKey:
        """Parse `ssh-ed25519 AAAA… comment`; ValueError says what is wrong."""
        fields = line.split()
        if len(fields) < 2:
            raise ValueError("not an OpenSSH public key (expected `ssh-ed25519 AAAA…`)")
        key_type, data = fields[0], fields[1]
        if key_type not in SUPPORTED_KEY_TYPES:
            raise ValueError(f"key type {key_type} is not supported (use ssh-ed25519, or ssh-rsa)")
        try:
            parsed = sshsig.PublicKey.from_openssh_str(f"{key_type} {data}")
        except (ValueError, NotImplementedError) as error:
            raise ValueError(f"the key data is not a valid {key_type} key ({error or 'bad encoding'})") from None
        if parsed.algo_name != key_type:
            raise ValueError("the key data does not match its type")
        if key_type == "ssh-rsa":
            bits = serialization.load_ssh_public_key(f"{key_type} {data}".encode("ascii")).key_size  # type: ignore[union-attr]
            if bits < MIN_RSA_BITS:
                raise ValueError(f"an RSA key of {bits} bits is too short (ssh-keygen refuses keys under "
                                 f"{MIN_RSA_BITS} bits): make an ed25519 key (ssh-keygen -t ed25519)")
        return cls(key_type, data)

    @property
    def openssh(self) -> str:
        return f"{self.type} {self.data}"

    @property
    def fingerprint(self) -> str:
        """`SHA256:…` exactly as `ssh-keygen -lf` prints it."""
        digest = hashlib.sha256(base64.b64decode(self.data)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    @property
    def short(self) -> str:
        """The first characters of the fingerprint: enough to tell keys apart on a page."""
        return self.fingerprint[:19]


def short_fingerprint(fingerprint: str) -> str:
    return fingerprint[:19]


# -- verifying ---------------------------------------------------------------------------------

def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


_ARMORED = re.compile(ARMOR_BEGIN + r"\n((?:[A-Za-z0-9+/=]+\n)+)" + ARMOR_END + r"\n?")
_ED25519_KEY = _string(b"ssh-ed25519") + struct.pack(">I", 32)  # then the key's 32 bytes
_MESSAGE_HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}  # what ssh-keygen signs with
_SIGNATURE_TYPES = (b"ssh-ed25519", b"rsa-sha2-512", b"rsa-sha2-256")  # what ssh-keygen signs with


def signer_key(data: bytes, armored: str) -> str:
    """The fingerprint of the key whose signature over data this is; InvalidSignature otherwise.

    Only the form ssh-keygen writes counts (see `_sshsig`), so that whatever doccontrol accepts, `ssh-keygen -Y
    verify` accepts too. An ed25519 signature is verified with libsodium, twice as fast as OpenSSL's Ed25519 (the
    most of a cold verify's work); any other key type by the sshsig library."""
    outer = _sshsig(armored)
    if outer.public_key.startswith(_ED25519_KEY):  # (and the signature is ssh-ed25519's)
        return _ed25519_signer(data, outer)
    return _sshsig_signer(data, armored, outer)


def _sshsig(armored: str) -> SshsigSignature:
    """The SSHSIG of an armored signature, when it is in the form ssh-keygen writes: one structure in doccontrol's
    namespace and nothing after it, no reserved data, a message hash ssh-keygen uses, and the signature one
    algorithm name and its bytes; InvalidSignature otherwise."""
    armor = _ARMORED.fullmatch(armored) if isinstance(armored, str) else None
    if armor is None:
        raise InvalidSignature("not an SSH signature (in the armor ssh-keygen writes)")
    text = armor.group(1).replace("\n", "")
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
        if base64.b64encode(raw).decode("ascii") != text:  # padding where none belongs, or bits left over
            raise ValueError("not base64 as ssh-keygen writes it")
        outer = SshsigSignature(raw)
        algorithm, rest = _read_string(outer.signature)
        signature, rest = _read_string(rest)
    except (ValueError, NotImplementedError):
        raise InvalidSignature("not an SSH signature") from None
    if outer.namespace != NAMESPACE.encode():
        raise InvalidSignature(f"the signature is for another use (namespace {outer.namespace!r}), not doccontrol's")
    ed25519 = algorithm == b"ssh-ed25519"
    standard = (bytes(outer) == raw and not rest and outer.hash_algo in _MESSAGE_HASHES
                and algorithm in _SIGNATURE_TYPES and ed25519 == outer.public_key.startswith(_ED25519_KEY)
                and (not ed25519 or (len(signature) == 64 and len(outer.public_key) == len(_ED25519_KEY) + 32)))
    if not standard:
        raise InvalidSignature("the signature is not in the form ssh-keygen writes")
    return outer


def _read_string(data: bytes) -> tuple[bytes, bytes]:
    """An SSH string's bytes, and what follows it; ValueError when data is too short to hold it."""
    size = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else -1
    if size < 0 or len(data) < 4 + size:
        raise ValueError("truncated")
    return data[4:4 + size], data[4 + size:]


def _ed25519_signer(data: bytes, outer: SshsigSignature) -> str:
    signed = _signed_blob(outer.hash_algo, _MESSAGE_HASHES[outer.hash_algo](data).digest())
    try:
        VerifyKey(outer.public_key[len(_ED25519_KEY):]).verify(signed, outer.signature[-64:])
    except (BadSignatureError, ValueError):
        raise InvalidSignature("the signature does not match") from None
    return "SHA256:" + base64.b64encode(hashlib.sha256(outer.public_key).digest()).decode().rstrip("=")


def _sshsig_signer(data: bytes, armored: str, outer: SshsigSignature) -> str:
    """What the sshsig library says of an SSHSIG: the signer's fingerprint, or InvalidSignature (also for whatever
    the library itself fails on: a verifier fails closed). The key must be in its standard encoding."""
    try:
        found = sshsig.check_signature(data, armored, namespace=NAMESPACE)
    except sshsig.InvalidSignature as error:
        raise InvalidSignature(str(error) or "the signature does not match") from None
    except Exception:  # noqa: BLE001 - e.g. the library asserts on a signature of another algorithm
        raise InvalidSignature("the signature could not be read") from None
    try:
        key = PublicKey.parse(found.openssh_str())
    except ValueError as error:  # e.g. an RSA key too short to trust
        raise InvalidSignature(str(error)) from None
    if base64.b64decode(key.data) != outer.public_key:
        raise InvalidSignature("the signature is not in the form ssh-keygen writes")
    return key.fingerprint


def _signed_blob(hash_algorithm: bytes, hashed: bytes) -> bytes:
    """What an SSHSIG's inner signature covers (PROTOCOL.sshsig): the namespace, and the message's hash."""
    return b"SSHSIG" + _string(NAMESPACE.encode()) + _string(b"") + _string(hash_algorithm) + _string(hashed)


SIGNATURES_PER_WORKER = 4000


def _worker_count(signatures: int) -> int:
    """Processes worth forking to verify this many signatures (see `parallel.worker_count`)."""
    return parallel.worker_count(signatures, SIGNATURES_PER_WORKER)


def _key_or_none(signed: tuple[bytes, str]) -> str | None:
    try:
        return signer_key(*signed)
    except InvalidSignature:
        return None


# What a statement being made carries in place of its signature while the workflow judges it: the workflow tells
# its verifier that this stands for the signer's key (for that statement's bytes only), so a result judged with
# such a line must never be remembered for a ledger file (see cache.JudgedRecords).
PENDING = "pending signature"


def signature_digest(data: bytes, armored: str) -> str:
    """What a verification result is remembered by: the signed bytes and the signature, hashed."""
    return hashlib.sha256(data + b"\0" + armored.encode("utf-8", "replace")).hexdigest()


class _Batch:
    """Signatures being verified in worker processes; `wait` keeps the successes in the verifier."""

    def __init__(self, verifier: Verifier, todo: list[tuple[str, bytes, str]] | None = None,
                 shared: parallel.Shared | None = None):
        self.verifier = verifier
        self.todo = todo or []
        self.shared = shared

    def abort(self) -> None:
        """Stop the workers, their work unfinished (the caller failed meanwhile)."""
        if self.shared is not None:
            self.shared.abort()
            self.shared = None

    def wait(self) -> None:
        if self.shared is None:
            return
        found = self.shared.results()
        self.shared = None
        if found is None:
            return  # key_of verifies each in turn
        for (digest, _, _), key in zip(self.todo, found):
            if key is not None:
                self.verifier.known[digest] = key
                self.verifier.added += 1


class Verifier:
    """Verifies signatures once each: results are kept by the hash of the signed bytes and signature.

    `known` may come from a sealed cache (see cache.signature_cache); only successes are kept,
    so a damaged cache can cost time but never make a bad signature pass.
    """

    def __init__(self, known: dict[str, str] | None = None):
        self.known = known if known is not None else {}
        self.added = 0

    def verify_all(self, signed: list[tuple[bytes, str]]) -> None:
        """Verify at once the signatures not yet known, in one process per core when there are enough of them
        to pay for the processes (a cold verify of thousands). Only successes are kept; `key_of` then finds
        them, and judges a failure itself, as before."""
        self.start(signed).wait()

    def start(self, signed: list[tuple[bytes, str]]) -> _Batch:
        """Start verifying these signatures in worker processes (as `verify_all` does) and return at once: the
        caller may do other work, and must call `wait` on the batch before it asks `key_of`."""
        if len(signed) - len(self.known) < 2 * SIGNATURES_PER_WORKER:
            return _Batch(self)  # most are known already (a warm run): not worth hashing them all
        todo = [(digest, data, armored) for data, armored in signed
                if (digest := signature_digest(data, armored)) not in self.known]
        workers = _worker_count(len(todo))
        if workers < 2:
            return _Batch(self)
        pending = [(data, armored) for _, data, armored in todo]
        return _Batch(self, todo, parallel.Shared(_key_or_none, pending, workers))

    def key_of(self, data: bytes, armored: str) -> str:
        digest = signature_digest(data, armored)
        found = self.known.get(digest)
        if found is None:
            found = signer_key(data, armored)
            self.known[digest] = found
            self.added += 1
        return found


# -- signing -----------------------------------------------------------------------------------

@dataclass
class Signer:
    """A key to sign with: its public half (to find its owner in the roster) and how to use it."""

    public: PublicKey
    source: str
    _private: object | None = None
    _keygen_file: Path | None = None  # the key file ssh-keygen signs with; None: the public key (ssh-agent holds it)

    def sign(self, data: bytes) -> str:
        if self._private is not None:
            return _sign_in_process(self._private, self.public, data)
        if self._keygen_file is not None:
            return _sign_with_ssh_keygen(self._keygen_file, data, self.source)
        with tempfile.TemporaryDirectory(prefix="doccontrol-key-") as folder:  # ssh-keygen reads the key from a file
            key_file = Path(folder) / "key.pub"
            key_file.write_text(self.public.openssh + "\n", encoding="utf-8")
            return _sign_with_ssh_keygen(key_file, data, self.source)


def load_signer(spec: str, *, demo_folder: Path | None = None) -> Signer:
    """The signer for a key given as git's user.signingkey allows: a key file path, or `key::TYPE BASE64`.

    A private key file must not be readable by others (as ssh requires), except the published
    demonstration keys in demo_folder.
    """
    spec = spec.strip()
    if spec.startswith("key::"):
        public = _public_or_error(spec[5:], "user.signingkey")
        return Signer(public, "an ssh-agent key")
    path = Path(os.path.expanduser(spec))
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SigningError(f"cannot read the signing key {spec} ({error.strerror})",
                           "pass --key PATH, or set git config user.signingkey") from None
    if has_private_key(raw):
        return _private_signer(path, raw, demo_folder)
    public = _public_or_error(raw.decode("utf-8", "replace"), spec)
    return Signer(public, spec, _keygen_file=path)


def _public_or_error(text: str, where: str) -> PublicKey:
    try:
        return PublicKey.parse(text.strip().splitlines()[0] if text.strip() else "")
    except ValueError as error:
        raise SigningError(f"{where}: {error}", "name an SSH key file (e.g. ~/.ssh/id_ed25519)") from None


def _private_signer(path: Path, raw: bytes, demo_folder: Path | None) -> Signer:
    mode = path.stat().st_mode
    in_demo = demo_folder is not None and path.resolve().parent == demo_folder.resolve()
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and not in_demo:
        raise SigningError(f"the private key {path} can be read by other users",
                           f"chmod 600 {path} (ssh refuses such keys too)")
    try:
        private = serialization.load_ssh_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Protected by a passphrase (or a kind cryptography cannot open): ssh-keygen asks for it.
        public_file = Path(str(path) + ".pub")
        if not public_file.is_file():
            raise SigningError(f"cannot open the private key {path}",
                               f"put its public key next to it as {public_file.name}, or load it into ssh-agent "
                               "and pass the .pub file") from None
        public = _public_or_error(public_file.read_text(encoding="utf-8", errors="replace"), str(public_file))
        return Signer(public, str(path), _keygen_file=path)
    if not isinstance(private, (ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
        raise SigningError(f"{path}: only ssh-ed25519 and ssh-rsa keys can sign", "make one: ssh-keygen -t ed25519")
    line = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return Signer(PublicKey.parse(line.decode()), str(path), _private=private)


def _sign_in_process(private, public: PublicKey, data: bytes) -> str:
    """An SSHSIG exactly as `ssh-keygen -Y sign -n doccontrol` writes it (PROTOCOL.sshsig)."""
    to_sign = _signed_blob(b"sha512", hashlib.sha512(data).digest())
    if isinstance(private, ed25519.Ed25519PrivateKey):
        blob = _string(b"ssh-ed25519") + _string(private.sign(to_sign))
    else:
        blob = _string(b"rsa-sha2-512") + _string(private.sign(to_sign, padding.PKCS1v15(), hashes.SHA512()))
    outer = (b"SSHSIG" + struct.pack(">I", 1) + _string(base64.b64decode(public.data)) + _string(NAMESPACE.encode())
             + _string(b"") + _string(b"sha512") + _string(blob))
    text = base64.b64encode(outer).decode()
    lines = [text[i:i + 76] for i in range(0, len(text), 76)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def _sign_with_ssh_keygen(key_file: Path | None, data: bytes, source: str) -> str:
    try:
        done = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key_file)],
                              input=data, capture_output=True, timeout=300)
    except FileNotFoundError:
        raise SigningError("ssh-keygen is not installed, and the key cannot be used without it",
                           "install OpenSSH (Debian: apt-get install openssh-client)") from None
    except subprocess.TimeoutExpired:
        raise SigningError(f"ssh-keygen did not sign with {source} within 5 minutes") from None
    if done.returncode != 0 or ARMOR_BEGIN.encode() not in done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip() or "no signature was made"
        raise SigningError(f"ssh-keygen could not sign with {source}: {detail}",
                           "is the key loaded in ssh-agent (ssh-add), or the passphrase right?")
    return done.stdout.decode("ascii")


def has_private_key(raw: bytes) -> bool:
    """Whether these bytes hold private key material (OpenSSH, PEM or PuTTY), not merely its marker words."""
    if b"PRIVATE KEY-----" not in raw and b"PuTTY-User-Key-File" not in raw:
        return False  # the common case, without a regular expression
    return PRIVATE_KEY.search(raw) is not None
