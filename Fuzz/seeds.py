#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpus (Fuzz/corpus/*/seed-*), byte for byte as
docs/PROTOCOL.md §3 and §4 lay them out: a valid frame of every type, whole calls, and the
malformed inputs the decoder must refuse in a documented way. Inputs the fuzzer found are kept
beside them as found-*. Run from anywhere: python3 Fuzz/seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(ftype, stream=0, payload=b"", flags=0, reserved=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">IBBHI", n, ftype, flags, reserved, stream) + payload


def short(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">H", len(b)) + b


def metadata(entries):
    out = struct.pack(">H", len(entries))
    for key, value in entries:
        v = value.encode() if isinstance(value, str) else value
        out += short(key) + struct.pack(">I", len(v)) + v
    return out


def headers_payload(path="", timeout=0, entries=()):
    return short(path) + struct.pack(">Q", timeout) + metadata(list(entries))


def trailers_payload(code=0, message="", details=b"", entries=()):
    return bytes([code]) + short(message) + struct.pack(">I", len(details)) + details + metadata(list(entries))


SETTINGS, HEADERS, MESSAGE, TRAILERS, RST, WINDOW, PING, GOAWAY = range(8)
DEFAULTS = [(1, 65536), (2, 100), (3, 4194304), (4, 1048576), (5, 8388608), (6, 8192)]
REQUEST = headers_payload("/banjie.v1.CaseService/SubmitCase", 5_000_000,
                          [("idempotency-key", "k-1"), ("note", "窗口 3 号"), ("trace-bin", b"\x00\x01\xff")])
HEALTH = headers_payload("/grpc.health.v1.Health/Check")

frames = {
    # Valid frames, one or more of each type.
    "settings": frame(SETTINGS, payload=b"".join(struct.pack(">HI", i, v) for i, v in DEFAULTS)),
    "settings-ack": frame(SETTINGS, flags=1),
    "settings-unknown-id": frame(SETTINGS, payload=struct.pack(">HI", 0x99, 7) + struct.pack(">HI", 2, 1)),
    "headers-request": frame(HEADERS, 1, REQUEST),
    "headers-response-end-stream": frame(HEADERS, 3, headers_payload(), flags=2),
    "message-unary": frame(MESSAGE, 1, b"\x0a\x02hi", flags=3),
    "message-fragments": frame(MESSAGE, 1, b"\x01" * 40) + frame(MESSAGE, 1, b"\x02" * 9, flags=1),
    "message-empty-end-stream": frame(MESSAGE, 5, flags=2),
    "trailers-ok": frame(TRAILERS, 1, trailers_payload()),
    "trailers-error": frame(TRAILERS, 7, trailers_payload(9, "cannot complete a case in state RECEIVED", b"\x08\x09", [("k", "v"), ("x-bin", b"\xc3\x28")])),
    "rst-stream": frame(RST, 9, struct.pack(">I", 1) + short("cancelled")),
    "window-update-connection": frame(WINDOW, 0, struct.pack(">I", 65536)),
    "window-update-stream": frame(WINDOW, 11, struct.pack(">I", 0x7FFFFFFF)),
    "ping": frame(PING, 0, struct.pack(">Q", 0x0102030405060708)),
    "ping-ack": frame(PING, 0, struct.pack(">Q", 42), flags=1),
    "goaway": frame(GOAWAY, 0, struct.pack(">II", 13, 0) + short("server is shutting down")),
    "unknown-type": frame(0x42, 1, b"\x09\x09", flags=3),
    # Whole exchanges (docs/PROTOCOL.md §14, after the preface).
    "call-request": frame(SETTINGS, flags=1) + frame(HEADERS, 1, HEALTH) + frame(MESSAGE, 1, flags=3),
    "call-response": frame(HEADERS, 1, headers_payload()) + frame(MESSAGE, 1, b"\x08\x01", flags=1) + frame(TRAILERS, 1, trailers_payload()),
    # What the receiver ignores: reserved bits, undefined flags, bit 31 of stream ids, bytes after a reason.
    "ignored-bits": frame(MESSAGE, 0x80000001, b"\x01", flags=0xFF, reserved=0xFFFF) + frame(GOAWAY, 0x80000000, struct.pack(">II", 0x80000005, 1) + short("bye") + b"tail"),
    "rst-stream-trailing-bytes": frame(RST, 3, struct.pack(">I", 8) + short("") + b"\x00\x01"),
    # Connection errors.
    "length-4gib": frame(MESSAGE, 1, length=0xFFFFFFFF),
    "length-above-max-frame": frame(MESSAGE, 1, length=16385),
    "headers-on-stream-0": frame(HEADERS, 0, HEALTH),
    "ping-on-stream-1": frame(PING, 1, bytes(8)),
    "ping-wrong-size": frame(PING, 0, b"\x01\x02\x03"),
    "settings-not-multiple-of-6": frame(SETTINGS, payload=b"\x00\x01\x00\x00\x40"),
    "settings-ack-with-payload": frame(SETTINGS, flags=1, payload=struct.pack(">HI", 1, 16384)),
    "window-update-0-connection": frame(WINDOW, 0, bytes(4)),
    "window-update-wrong-size": frame(WINDOW, 1, bytes(5)),
    "goaway-truncated": frame(GOAWAY, 0, b"\x00\x00\x00"),
    "goaway-reason-not-utf8": frame(GOAWAY, 0, struct.pack(">II", 1, 1) + short(b"\xc3\x28")),
    # Stream errors (malformed frames).
    "window-update-0-stream": frame(WINDOW, 1, bytes(4)),
    "window-update-2-31-stream": frame(WINDOW, 1, struct.pack(">I", 0x80000000)),
    "rst-stream-truncated": frame(RST, 1, b"\x00\x00"),
    "headers-bad-path": frame(HEADERS, 1, headers_payload("nope")),
    "headers-upper-case-key": frame(HEADERS, 1, headers_payload("/a/b", 0, [("Key", "A")])),
    "headers-value-not-utf8": frame(HEADERS, 1, headers_payload("/a/b", 0, [("k", b"\xc3\x28")])),
    "headers-count-too-large": frame(HEADERS, 1, short("/a/b") + bytes(8) + b"\xff\xff"),
    "headers-trailing-byte": frame(HEADERS, 1, HEALTH + b"\x01"),
    "headers-above-limit": frame(HEADERS, 1, headers_payload("/a/b", 0, [("k", "a" * 1100)])),
    "trailers-status-200": frame(TRAILERS, 1, trailers_payload(200)),
    # Partial input: the decoder waits and consumes nothing.
    "half-a-header": bytes([0, 0, 0, 9, 1, 0]),
    "frame-then-half-a-frame": frame(HEADERS, 1, HEALTH) + frame(MESSAGE, 1, b"\x01\x02\x03", flags=3)[:14],
}

payloads = {
    "request": REQUEST,
    "request-no-metadata": HEALTH,
    "response-empty": headers_payload(),
    "response-metadata": headers_payload("", 0, [("x-request-id", "r-42"), ("grpc-status-details-bin", b"\x08\x05")]),
    "trailers-ok": trailers_payload(),
    "trailers-error": trailers_payload(5, "未找到案件 2026-000123", b"\x08\x05\x12\x03abc", [("retry-after", "1")]),
    "bin-value-not-utf8": headers_payload("/a/b", 1, [("x-bin", b"\xff\xfe")]),
    "path-truncated": b"\x00\x20/a/b",
    "path-not-utf8": short(b"/\xc3\x28/b") + bytes(8) + b"\x00\x00",
    "path-no-method": headers_payload("/svc/"),
    "path-with-space": headers_payload("/a b/c"),
    "key-empty": headers_payload("/a/b", 0, [("", "v")]),
    "key-upper-case": headers_payload("/a/b", 0, [("Key", "v")]),
    "value-not-utf8": headers_payload("/a/b", 0, [("k", b"\xc3\x28")]),
    "value-truncated": short("/a/b") + bytes(8) + b"\x00\x01" + short("k") + b"\x00\x00\x10\x00ab",
    "count-too-large": short("/a/b") + bytes(8) + b"\xff\xff",
    "trailing-byte": HEALTH + b"\x00",
    "status-17": trailers_payload(17),
    "details-truncated": bytes([0]) + short("") + b"\xff\xff\xff\xff\x00",
    "above-header-limit": headers_payload("/a/b", 0, [("k", "v" * 1100)]),
    "empty": b"",
}

for name, table in (("frame", frames), ("headers", payloads)):
    directory = os.path.join(HERE, "corpus", name)
    os.makedirs(directory, exist_ok=True)
    for key, data in table.items():
        with open(os.path.join(directory, "seed-" + key), "wb") as f:
            f.write(data)
    print(f"{directory}: {len(table)} seeds")
