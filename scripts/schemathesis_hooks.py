"""schemathesis hooks for Hashcart (SCHEMATHESIS_HOOKS=schemathesis_hooks, scripts/ on PYTHONPATH).

A real client draws a fresh Idempotency-Key for each new request; schemathesis draws from a small
space (and its coverage phase sends the same boundary values again and again), so it sends one
key with different requests, which Hashcart rightly refuses (422: the key was used with another
request). Just before each call, a key it sends is replaced by one of its own, so the checks look
at what the server does with new requests; key reuse and replays are tested by the Swift suites
(IdempotencyKeyTests, ModeIsolationTests).
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key":
                headers[name] = "st-" + uuid.uuid4().hex
