#!/usr/bin/env python3
"""Derive the fixed WireGuard handshake vectors used by test_noise.c, independently of
podwire's C code: Python's hashlib BLAKE2s and the `cryptography` package's X25519 and
ChaCha20-Poly1305, following the WireGuard paper section 5.4 step by step."""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw

def priv(seed):
    k = bytearray(hashlib.blake2s(seed).digest())
    k[0] &= 248; k[31] = (k[31] & 127) | 64
    return bytes(k)

def pub(k):
    return X25519PrivateKey.from_private_bytes(k).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)

def dh(k, p):
    return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(p))

def HASH(x): return hashlib.blake2s(x).digest()
def HMAC(k, x): return hmac.new(k, x, hashlib.blake2s).digest()
def MAC(k, x): return hashlib.blake2s(x, key=k, digest_size=16).digest()
def KDF(ck, x, n):
    s = HMAC(ck, x); out = []; t = b""
    for i in range(1, n + 1):
        t = HMAC(s, t + bytes([i])); out.append(t)
    return out
def AEAD(k, counter, p, a):
    return ChaCha20Poly1305(k).encrypt(b"\0" * 4 + struct.pack("<Q", counter), p, a)

s_i, s_r = priv(b"initiator static"), priv(b"responder static")
e_i, e_r = priv(b"initiator ephemeral"), priv(b"responder ephemeral")
S_i, S_r = pub(s_i), pub(s_r)
psk = bytes(range(32))
ts = bytes.fromhex("400000006553f1000a000000")
I_i, I_r = 0x11223344, 0x55667788

C = HASH(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
H = HASH(C + b"WireGuard v1 zx2c4 Jason@zx2c4.com")
H = HASH(H + S_r)
E_i = pub(e_i)
C, = KDF(C, E_i, 1); H = HASH(H + E_i)
C, k = KDF(C, dh(e_i, S_r), 2)
static = AEAD(k, 0, S_i, H); H = HASH(H + static)
C, k = KDF(C, dh(s_i, S_r), 2)
stamp = AEAD(k, 0, ts, H); H = HASH(H + stamp)
init = struct.pack("<I", 1) + struct.pack("<I", I_i) + E_i + static + stamp
init += MAC(HASH(b"mac1----" + S_r), init) + b"\0" * 16

E_r = pub(e_r)
C, = KDF(C, E_r, 1); H = HASH(H + E_r)
C, = KDF(C, dh(e_r, E_i), 1)
C, = KDF(C, dh(e_r, S_i), 1)
C, tau, k = KDF(C, psk, 3); H = HASH(H + tau)
empty = AEAD(k, 0, b"", H); H = HASH(H + empty)
resp = struct.pack("<I", 2) + struct.pack("<I", I_r) + struct.pack("<I", I_i) + E_r + empty
resp += MAC(HASH(b"mac1----" + S_i), resp) + b"\0" * 16

T_send_i, T_recv_i = KDF(C, b"", 2)
data = struct.pack("<I", 4) + struct.pack("<I", I_r) + struct.pack("<Q", 0) + AEAD(T_send_i, 0, b"", b"")

for name, v in [("S_I_PRIV", s_i), ("S_R_PRIV", s_r), ("E_I_PRIV", e_i), ("E_R_PRIV", e_r),
                ("INITIATION", init), ("RESPONSE", resp), ("KEEPALIVE", data),
                ("T_SEND_I", T_send_i), ("T_RECV_I", T_recv_i)]:
    print('#define %s "%s"' % (name, v.hex()))
