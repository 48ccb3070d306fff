# HMAC-SHA256 of coordination/plan_signature.py against the published test vectors of RFC 4231
# (section 4: test cases 1-7, HMAC-SHA-256 column). Portable: pytest on CPython and
# tests/micropython_runner.py on MicroPython, which has no hmac module of its own.
from binascii import hexlify

from controller.coordination.plan_signature import hmac_sha256, sign_hex, verify_hex

LONG_KEY = b"\xaa" * 131
RFC4231 = (
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\x0c" * 20, b"Test With Truncation",
     "a3b6167473100ee06e0c796c2955552b"),  # truncated to 128 bits in the RFC
    (LONG_KEY, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (LONG_KEY, b"This is a test using a larger than block-size key and a larger than block-size data."
               b" The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
)


def test_hmac_sha256_gives_the_rfc_4231_test_vectors():
    for n, (key, data, want) in enumerate(RFC4231):
        got = hexlify(hmac_sha256(key, data)).decode()
        assert got[:len(want)] == want, "test case %d: %s" % (n + 1, got)


def test_a_signature_verifies_and_any_change_does_not():
    key, data, want = RFC4231[0]
    assert sign_hex(key, data) == want
    assert verify_hex(key, data, want)
    assert not verify_hex(key, data + b"!", want)
    assert not verify_hex(key[1:] + b"\x0c", data, want)
    assert not verify_hex(key, data, want[:-1] + ("0" if want[-1] != "0" else "1"))
    assert not verify_hex(key, data, want[:-2])
    assert not verify_hex(key, data, "zz" * 32)
