"""Verifies an omk in-toto bundle with the in-toto Python library, as a third party would.

Usage: python verify-intoto.py BUNDLE PUBLIC_KEY_PEM

Every line of BUNDLE must be a DSSE envelope that the in-toto library's envelope type accepts
with the Ed25519 key in PUBLIC_KEY_PEM (SubjectPublicKeyInfo PEM), and its payload an in-toto
Statement v1. omk names a key by the SHA-256 of its raw public key bytes, and the library
matches signatures to keys by that id. Prints one line per envelope; exits 1 on the first
envelope that does not verify, naming it.
"""

import hashlib
import json
import sys

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from in_toto.models.metadata import Envelope
from securesystemslib.signer import SSlibKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def main(bundle_path: str, key_path: str) -> int:
    with open(key_path, "rb") as key_file:
        public_key = load_pem_public_key(key_file.read())
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    keyid = hashlib.sha256(raw).hexdigest()
    key = SSlibKey.from_crypto(public_key, keyid=keyid)
    count = 0
    with open(bundle_path, encoding="utf-8") as bundle:
        for number, line in enumerate(bundle, start=1):
            if not line.strip():
                continue
            try:
                envelope = Envelope.from_dict(json.loads(line))
                envelope.verify([key], 1)
                statement = json.loads(envelope.payload)
            except Exception as error:  # noqa: BLE001 - every failure is a verdict here
                print(f"envelope {number}: not verified: {type(error).__name__}: {error}")
                return 1
            if statement.get("_type") != STATEMENT_TYPE:
                print(f"envelope {number}: the payload is not an in-toto Statement v1")
                return 1
            print(f"envelope {number}: {statement['predicateType']} verified")
            count += 1
    print(f"verified {count} envelopes signed by key {keyid}")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
