#!/usr/bin/env python3
"""How a merchant verifies a Hashcart webhook (the snippet docs/WEBHOOKS.md shows).

    verify(signature_header, raw_body_bytes, secret) -> bool

Used as a script by Hashcart's tests: verify_webhook.py SECRET SIGNATURE BODY_FILE [--now UNIX]
exits 0 if the delivery is authentic.
"""
import hashlib
import hmac
import sys
import time


def verify(signature_header: str, body: bytes, secret: str, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """True if `body` was signed by Hashcart with `secret` less than `tolerance_seconds` ago."""
    try:
        pairs = [part.split("=", 1) for part in signature_header.split(",")]
        timestamp = next(value for key, value in pairs if key == "t")
        signatures = [value for key, value in pairs if key == "v1"]  # two while a rotated secret still signs
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (StopIteration, ValueError):
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, received) for received in signatures) and age <= tolerance_seconds


if __name__ == "__main__":
    secret, signature, body_file = sys.argv[1], sys.argv[2], sys.argv[3]
    now = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--now" else None
    with open(body_file, "rb") as f:
        sys.exit(0 if verify(signature, f.read(), secret, now=now) else 1)
