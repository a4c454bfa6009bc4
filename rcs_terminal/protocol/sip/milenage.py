"""The MILENAGE algorithm set (3GPP TS 35.206), the kernel of IMS AKA.

This module owns the seven 3GPP authentication functions as MILENAGE defines them on top of
AES-128 (TS 35.206 §4, the "kernel function" E_K being Rijndael with a 128-bit block):

- f1 / f1*: the network authentication code MAC-A and the resynchronisation code MAC-S;
- f2: the response RES (64 bits);
- f3 / f4: the cipher key CK and the integrity key IK;
- f5 / f5*: the anonymity keys AK (normal) and AK* (resynchronisation).

It uses the standard constants r1..r5 = 64, 0, 32, 64, 96 bits and c1..c5 = 0, 1, 2, 4, 8
(TS 35.206 §4). All the rotations are whole bytes, so they are plain slices. Values are
handled as Python integers for the 128-bit XORs: that avoids per-byte loops.

:class:`Milenage` holds K and OPc; its ``repr()`` never shows them. The USIM and network
sides of AKA (AUTN checks, AUTS, vectors) live in :mod:`rcs_terminal.protocol.sip.aka`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rcs_terminal.errors import AuthenticationError

KEY_SIZE = 16
"""Bytes in K, OP, OPc and RAND."""

SQN_SIZE = 6
"""Bytes in SQN, AK and AK*."""

AMF_SIZE = 2
"""Bytes in the Authentication Management Field."""

MAC_SIZE = 8
"""Bytes in MAC-A, MAC-S and RES."""

_C2, _C3, _C4, _C5 = 1, 2, 4, 8  # c1 is zero (TS 35.206 §4)


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _bytes(value: int) -> bytes:
    return value.to_bytes(KEY_SIZE, "big")


def _rot(block: bytes, r_bytes: int) -> bytes:
    """Rotate a 16-byte block left (towards the most significant end) by ``r_bytes``."""
    return block[r_bytes:] + block[:r_bytes]


def _check(name: str, value: bytes, size: int) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != size:
        raise AuthenticationError(f"Milenage {name} must be {size} bytes")


def _aes_block(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(bytes(key)), modes.ECB())


def compute_opc(k: bytes, op: bytes) -> bytes:
    """Derive OPc from the operator variant OP: ``OPc = E_K(OP) xor OP`` (TS 35.206 §4).

    Args:
        k: the subscriber key K (16 bytes).
        op: the operator variant configuration field OP (16 bytes).

    Returns:
        OPc, 16 bytes.

    Raises:
        AuthenticationError: when K or OP has the wrong length.
    """
    _check("K", k, KEY_SIZE)
    _check("OP", op, KEY_SIZE)
    encryptor = _aes_block(k).encryptor()
    return _bytes(_int(encryptor.update(bytes(op))) ^ _int(op))


class Milenage:
    """MILENAGE for one subscriber: K plus either OP or OPc.

    Args:
        k: the subscriber key K (16 bytes).
        op: the operator variant OP (16 bytes); OPc is derived from it.
        opc: OPc directly (16 bytes), as USIM profiles usually store it.

    Raises:
        AuthenticationError: when neither or both of ``op``/``opc`` are given, or a length is
            wrong.
    """

    __slots__ = ("_encryptor", "_opc")

    def __init__(self, k: bytes, *, op: bytes | None = None, opc: bytes | None = None) -> None:
        if (op is None) == (opc is None):
            raise AuthenticationError("Milenage needs exactly one of OP and OPc")
        _check("K", k, KEY_SIZE)
        if opc is None:
            assert op is not None
            opc = compute_opc(k, op)
        _check("OPc", opc, KEY_SIZE)
        self._opc = _int(opc)
        # ECB keeps no state between blocks, so one encryptor serves every call.
        self._encryptor = _aes_block(k).encryptor()

    def __repr__(self) -> str:
        return "Milenage(<secret>)"

    def _e(self, value: int) -> int:
        return _int(self._encryptor.update(_bytes(value)))

    def _temp(self, rand: bytes) -> int:
        _check("RAND", rand, KEY_SIZE)
        return self._e(_int(rand) ^ self._opc)

    def _out1(self, rand: bytes, sqn: bytes, amf: bytes) -> bytes:
        _check("SQN", sqn, SQN_SIZE)
        _check("AMF", amf, AMF_SIZE)
        temp = self._temp(rand)
        in1 = bytes(sqn) + bytes(amf)
        rotated = _int(_rot(_bytes(_int(in1 + in1) ^ self._opc), 8))  # r1 = 64 bits, c1 = 0
        return _bytes(self._e(temp ^ rotated) ^ self._opc)

    def _out(self, temp: int, r_bytes: int, c: int) -> bytes:
        rotated = _int(_rot(_bytes(temp ^ self._opc), r_bytes))
        return _bytes(self._e(rotated ^ c) ^ self._opc)

    def f1(self, rand: bytes, sqn: bytes, amf: bytes) -> bytes:
        """The network authentication function: MAC-A (8 bytes)."""
        return self._out1(rand, sqn, amf)[:MAC_SIZE]

    def f1star(self, rand: bytes, sqn: bytes, amf: bytes) -> bytes:
        """The resynchronisation message authentication function: MAC-S (8 bytes)."""
        return self._out1(rand, sqn, amf)[MAC_SIZE:]

    def f2345(self, rand: bytes) -> tuple[bytes, bytes, bytes, bytes]:
        """Compute RES, CK, IK and AK for ``rand``.

        Returns:
            ``(res, ck, ik, ak)``: RES is 8 bytes, CK and IK 16 bytes, AK 6 bytes.
        """
        temp = self._temp(rand)
        out2 = self._out(temp, 0, _C2)  # r2 = 0
        ck = self._out(temp, 4, _C3)  # r3 = 32 bits
        ik = self._out(temp, 8, _C4)  # r4 = 64 bits
        return out2[8:], ck, ik, out2[:SQN_SIZE]

    def f5star(self, rand: bytes) -> bytes:
        """The resynchronisation anonymity key AK* (6 bytes)."""
        return self._out(self._temp(rand), 12, _C5)[:SQN_SIZE]  # r5 = 96 bits
