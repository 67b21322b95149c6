#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes N new API keys in keygate's format to KEYS, one a line, and the SHA-256 of each (hex,
as the store keeps them) to HASHES, so that a benchmark can fill a store with keys it can also
send. The format is SPEC 9's, as src/core/crypto.c makes it: "kg_key_", 256 random bits in
base64url (43 characters), then a checksum: the first 4 bytes of the SHA-256 of all that, in
base64url (6 characters). Usage: keys.py N KEYS HASHES"""
import base64
import hashlib
import os
import sys


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def main():
    n = int(sys.argv[1])
    with open(sys.argv[2], "w") as keys, open(sys.argv[3], "w") as hashes:
        for _ in range(n):
            body = "kg_key_" + b64url(os.urandom(32))
            key = body + b64url(hashlib.sha256(body.encode()).digest()[:4])
            keys.write(key + "\n")
            hashes.write(hashlib.sha256(key.encode()).hexdigest() + "\n")


if __name__ == "__main__":
    main()
