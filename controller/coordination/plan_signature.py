# HMAC-SHA256 (RFC 2104) for coordination plans, on hashlib.sha256 alone,
# since MicroPython has no `hmac` module. Runs on the board and on the host;
# not on the tick path (a plan is checked when it arrives). Keys are bytes;
# signatures travel as 64 lowercase hex characters.
import hashlib
from binascii import hexlify, unhexlify

from controller.compat import const

BLOCK = const(64)  # SHA-256 block size in bytes
KEY_MIN_BYTES = const(16)  # a per-controller key shorter than this is refused


def hmac_sha256(key, message):
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = bytes(key) + bytes(BLOCK - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(message)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def sign_hex(key, message):
    return hexlify(hmac_sha256(key, message)).decode()


def verify_hex(key, message, signature_hex):
    # Constant-time comparison: every byte is looked at, whatever differs first.
    if not isinstance(signature_hex, str) or len(signature_hex) != 2 * 32:
        return False
    try:
        given = unhexlify(signature_hex)
    except ValueError:
        return False
    want = hmac_sha256(key, message)
    diff = 0
    for i in range(32):
        diff |= want[i] ^ given[i]
    return diff == 0


def parse_key(text, field="key"):
    # Hex text -> key bytes; ValueError names the field, the value's length and the rule.
    if not isinstance(text, str):
        raise ValueError("%s must be hex text, got %r" % (field, text))
    try:
        key = unhexlify(text)
    except ValueError:
        raise ValueError("%s is not hex (%d characters): give %d or more hex digits" % (field, len(text), 2 * KEY_MIN_BYTES))
    if len(key) < KEY_MIN_BYTES:
        raise ValueError("%s is %d bytes, below the %d-byte minimum" % (field, len(key), KEY_MIN_BYTES))
    return key
