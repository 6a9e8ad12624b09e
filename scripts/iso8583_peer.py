#!/usr/bin/env python3
"""The sending side of the card feed, built on pyiso8583 (PyPI), a codec nobody at Hashcart wrote.

    iso8583_peer.py HOST PORT PLAN.json

PLAN is a list of steps. {"message": {field: value, ...}} encodes the message with pyiso8583's
default_ascii spec, sends it in a 2-byte big-endian length frame and decodes the response the
same way. {"raw": HEX, "expect_response": bool} sends raw bytes as one frame (garbage). Prints a
JSON list, one entry per step: the decoded response's fields, or null for no response.
"""
import json
import socket
import struct
import sys

import iso8583
from iso8583.specs import default_ascii


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed by Hashcart")
        data += chunk
    return data


def main():
    host, port, plan_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(plan_path) as plan_file:
        plan = json.load(plan_file)
    results = []
    with socket.create_connection((host, port), timeout=20) as sock:
        for step in plan:
            if "message" in step:
                raw, _ = iso8583.encode(dict(step["message"]), default_ascii)
            else:
                raw = bytes.fromhex(step["raw"])
            expect = step.get("expect_response", True)
            sock.sendall(struct.pack(">H", len(raw)) + bytes(raw))
            if not expect:
                results.append(None)
                continue
            (length,) = struct.unpack(">H", read_exact(sock, 2))
            decoded, _ = iso8583.decode(bytearray(read_exact(sock, length)), default_ascii)
            results.append({key: value for key, value in decoded.items() if key not in ("p", "1")})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
