#!/usr/bin/env python3
"""A minimal banjie/1 client written from docs/PROTOCOL.md alone (standard library only).

  python3 scripts/protocol_client.py --host 127.0.0.1 --port 7443 --ca ca.pem \\
      --cert clerk.pem --key clerk.key [--server-name localhost] [--dump] health|info|hold

hold: a health check, "first SERVING", then a second one on the same connection once a line
arrives on standard input, "second SERVING" (keeps a connection open across a server change).

Exit status: 0 on status 0 (OK), else the gRPC status code: the call's, 14 (UNAVAILABLE)
when the connection fails, 4 (DEADLINE_EXCEEDED) when a read times out."""
import argparse
import socket
import ssl
import struct
import sys

PREFACE = b"BANJIE/1"  # §2
SETTINGS, HEADERS, MESSAGE, TRAILERS, RST_STREAM, WINDOW_UPDATE, PING, GOAWAY = range(8)  # §3.2
NAMES = "SETTINGS HEADERS MESSAGE TRAILERS RST_STREAM WINDOW_UPDATE PING GOAWAY".split()
ACK = END_MESSAGE = 0x1  # SETTINGS/PING: ACK; MESSAGE: END_MESSAGE
END_STREAM = 0x2  # HEADERS/MESSAGE
# §3.3 id -> default: 1 MAX_FRAME_SIZE, 2 MAX_CONCURRENT_STREAMS, 3 MAX_MESSAGE_SIZE,
# 4 INITIAL_STREAM_WINDOW, 5 INITIAL_CONNECTION_WINDOW, 6 MAX_HEADER_SIZE
DEFAULTS = {1: 65536, 2: 100, 3: 4 << 20, 4: 1 << 20, 5: 8 << 20, 6: 8192}
STATUS = ("OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS "
          "PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE "
          "UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED").split()  # §3.6
PROTOCOL_ERROR, FRAME_SIZE_ERROR = 1, 5  # GOAWAY codes (§3.10)


class CallError(Exception):
    """A failed call: gRPC status code, message; goaway: the GOAWAY code of a connection error."""
    def __init__(self, code, message, goaway=None):
        super().__init__(message)
        self.code, self.message, self.goaway = code, message, goaway


# ---- Encoding (§3) ----------------------------------------------------------------------------
def frame(ftype, flags, stream, payload=b""):
    """§3.1: length u32 · type u8 · flags u8 · reserved u16 (0) · stream id u32; then payload."""
    return struct.pack(">IBBHI", len(payload), ftype, flags, 0, stream & 0x7FFFFFFF) + payload


def short_string(text):  # §0: u16 length + UTF-8
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data


def headers_payload(path, timeout_us=0):
    """§3.4: path · timeout in µs u64 (0 = none) · metadata count u16 (none sent here)."""
    return short_string(path) + struct.pack(">QH", timeout_us, 0)


def goaway(last_stream, code, message):  # §3.10: last stream id u32 · code u32 · message
    return frame(GOAWAY, 0, 0, struct.pack(">II", last_stream, code) + short_string(message))


# ---- Decoding ---------------------------------------------------------------------------------
class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("payload truncated")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def u(self, fmt):  # one big-endian integer: B, H, I or Q
        return struct.unpack(">" + fmt, self.take(struct.calcsize(fmt)))[0]

    def text(self):
        return self.take(self.u("H")).decode("utf-8")

    def metadata(self):  # §4: keys ending in -bin carry bytes, all others UTF-8
        entries = []
        for _ in range(self.u("H")):
            key = self.text()
            value = self.take(self.u("I"))
            entries.append((key, value if key.endswith("-bin") else value.decode("utf-8")))
        return entries


def parse_trailers(payload):  # §3.6: status u8 · message · details (u32 + bytes) · metadata
    r = Reader(payload)
    code, message, details = r.u("B"), r.text(), r.take(r.u("I"))
    return code, message, details, r.metadata()


def proto_fields(data):
    """Protobuf wire format by hand: {field number: value}, the last occurrence winning."""
    def varint(i):
        value = shift = 0
        while True:
            value, i, shift = value | (data[i] & 0x7F) << shift, i + 1, shift + 7
            if data[i - 1] < 0x80:
                return value, i
    fields, i = {}, 0
    while i < len(data):
        key, i = varint(i)
        if key & 7 == 0:
            fields[key >> 3], i = varint(i)
        elif key & 7 in (1, 2, 5):
            n, i = varint(i) if key & 7 == 2 else ({1: 8, 5: 4}[key & 7], i)
            fields[key >> 3], i = data[i:i + n], i + n
        else:
            raise ValueError("unsupported protobuf wire type %d" % (key & 7))
    return fields


def dump(direction, data):
    """What --dump prints: the preface and each frame, header line then payload, 16 bytes a line."""
    if data.startswith(PREFACE):
        print('%s preface "BANJIE/1"\n      %s' % (direction, data[:8].hex(" ")))
        data = data[8:]
    while data:
        length, ftype, flags, _, stream = struct.unpack(">IBBHI", data[:12])
        name = NAMES[ftype] if ftype < len(NAMES) else "type 0x%02x" % ftype
        print("%s %s flags=0x%02x stream=%d length=%d" % (direction, name, flags, stream, length))
        for i in [0] + list(range(12, 12 + length, 16)):
            print("      " + data[i:min(i + (12 if i == 0 else 16), 12 + length)].hex(" "))
        data = data[12 + length:]


# ---- The connection (§2, §5-§10) --------------------------------------------------------------
class Connection:
    def __init__(self, sock, dump_frames):
        self.sock, self.dump, self.buffer = sock, dump_frames, b""
        self.peer = dict(DEFAULTS)  # the server's settings: defaults until its SETTINGS arrive
        self.send_window = DEFAULTS[5]  # §6: MESSAGE bytes we may still send on the connection
        self.credit = {0: 0}  # per stream id (0 = connection): bytes received, not yet credited
        self.stream = 0  # §5: our streams are odd and strictly increasing: 1, 3, 5...

    def send(self, data):
        """One sendall is one write: a unary request leaves in one TLS record (§13)."""
        if self.dump:
            print("C>S write of %d bytes" % len(data))
            dump("C>S", data)
        self.sock.sendall(data)

    def read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise CallError(14, "connection closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_frame(self):
        header = self.read_exact(12)
        length, ftype, flags, _, stream = struct.unpack(">IBBHI", header)  # reserved u16 ignored
        if length > DEFAULTS[1]:  # above the MAX_FRAME_SIZE we announced (§11)
            raise CallError(14, "frame of %d bytes" % length, goaway=FRAME_SIZE_ERROR)
        payload = self.read_exact(length)
        if self.dump:
            dump("S>C", header + payload)
        return ftype, flags, stream & 0x7FFFFFFF, payload  # top bit of the stream id: reserved

    def start(self):
        """§2: preface + SETTINGS each way; open no stream before the server's SETTINGS.
        Returns our SETTINGS ACK, to go out in the same write as the first call (§13)."""
        entries = b"".join(struct.pack(">HI", k, v) for k, v in sorted(DEFAULTS.items()))
        self.send(PREFACE + frame(SETTINGS, 0, 0, entries))  # §3.3: (id u16, value u32)*
        if self.read_exact(8) != PREFACE:
            raise CallError(14, "server preface is not BANJIE/1", goaway=PROTOCOL_ERROR)
        if self.dump:
            dump("S>C", PREFACE)
        ftype, flags, _, payload = self.read_frame()
        if ftype != SETTINGS or flags & ACK:
            raise CallError(14, "first server frame is not SETTINGS", goaway=PROTOCOL_ERROR)
        return self.apply_settings(payload, first=True)

    def apply_settings(self, payload, first=False):
        """§3.3: 6-byte entries; unknown ids ignored; every SETTINGS is acknowledged."""
        if len(payload) % 6:
            raise CallError(14, "SETTINGS length not a multiple of 6", goaway=FRAME_SIZE_ERROR)
        for i in range(0, len(payload), 6):
            key, value = struct.unpack(">HI", payload[i:i + 6])
            self.peer[key] = value
        if first:  # §6: only the first SETTINGS sets the connection window
            self.send_window = self.peer[5]
        return frame(SETTINGS, ACK, 0)

    def unary(self, path, request, pending=b"", timeout_us=0):
        """§5: HEADERS + MESSAGE(s), the last with END_MESSAGE|END_STREAM, in one write; then
        read HEADERS, MESSAGE..., TRAILERS (or TRAILERS alone, or RST_STREAM)."""
        self.stream += 1 if self.stream == 0 else 2
        stream = self.stream
        self.credit[stream] = 0
        if len(request) > min(self.send_window, self.peer[4], self.peer[3]):
            raise CallError(8, "request exceeds the server's window or MAX_MESSAGE_SIZE")
        out = pending + frame(HEADERS, 0, stream, headers_payload(path, timeout_us))
        size = self.peer[1]  # §3.5: fragments no larger than the server's MAX_FRAME_SIZE
        chunks = [request[i:i + size] for i in range(0, len(request), size)] or [b""]
        for i, chunk in enumerate(chunks):
            out += frame(MESSAGE, END_MESSAGE | END_STREAM if i == len(chunks) - 1 else 0, stream, chunk)
        self.send_window -= len(request)
        self.send(out)
        messages, partial = [], b""
        while True:
            ftype, flags, sid, payload = self.read_frame()
            if ftype == SETTINGS and not flags & ACK:
                self.send(self.apply_settings(payload))
            elif ftype == PING and not flags & ACK:  # §9: answer at once, same 8 bytes
                self.send(frame(PING, ACK, 0, payload))
            elif ftype == WINDOW_UPDATE and sid == 0:  # §6 (we have nothing more to send)
                self.send_window += struct.unpack(">I", payload)[0]
            elif ftype == GOAWAY:  # §10: streams above last-stream-id were never processed
                r = Reader(payload)
                last, code, message = r.u("I") & 0x7FFFFFFF, r.u("I"), r.text()
                if last < stream:
                    raise CallError(14, "GOAWAY %d (%s): the call was not processed" % (code, message))
            elif sid != stream or ftype in (HEADERS, WINDOW_UPDATE) or ftype > GOAWAY:
                continue  # other streams, ACKs, response metadata, unknown types (§3.11)
            elif ftype == MESSAGE:
                partial += payload
                self.return_credit(stream, len(payload))
                if flags & END_MESSAGE:  # §3.5: a whole serialized protobuf message
                    messages.append(partial)
                    partial = b""
            elif ftype == TRAILERS:  # §3.6: the end of the call, with or without HEADERS first
                code, message, _, _ = parse_trailers(payload)
                return messages, code, message
            elif ftype == RST_STREAM:  # §3.7: code u32 (a gRPC status) · message
                r = Reader(payload)
                code, message = r.u("I"), r.text()
                return messages, code if 0 < code <= 16 else 2, message or "stream reset by the server"

    def return_credit(self, stream, n):
        """§6: we consume at once, so all bytes are credit; WINDOW_UPDATE at a quarter window."""
        for sid, window in ((stream, DEFAULTS[4]), (0, DEFAULTS[5])):
            self.credit[sid] += n
            if self.credit[sid] >= window // 4:
                self.send(frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", self.credit[sid])))
                self.credit[sid] = 0


def connect(args):
    """§1.1: TLS 1.2+, only the county CA trusted, our certificate, ALPN banjie/1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name/IP
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=args.ca)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["banjie/1"])
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = context.wrap_socket(raw, server_hostname=args.server_name or args.host)
    alpn = sock.selected_alpn_protocol()
    if alpn != "banjie/1":
        sock.close()
        raise CallError(14, "the server did not select ALPN banjie/1 (selected %r)" % alpn)
    if args.dump:
        print("TLS %s %s, ALPN %s" % (sock.version(), sock.cipher()[0], alpn))
    return sock


def show(command, messages):
    f = proto_fields(messages[0] if messages else b"")
    if command == "health":  # grpc.health.v1.HealthCheckResponse.status = 1 (enum)
        names = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]
        print(names[f.get(1, 0)] if f.get(1, 0) < len(names) else "status %d" % f[1])
        return
    def text(fields, n):  # a string field; a value of another wire type is shown as is
        value = fields.get(n, b"")
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    for n, name in enumerate(["version", "protocol", "tls_version", "tls_cipher"], 1):
        print("%s: %s" % (name, text(f, n)))
    caller = proto_fields(f[5] if isinstance(f.get(5), bytes) else b"")  # banjie.v1.Caller
    for n, name in enumerate(["role", "organization", "person"], 1):
        print("caller.%s: %s" % (name, text(caller, n)))
    print("time_zone: %s" % text(f, 7))


def main():
    parser = argparse.ArgumentParser(description="Call banjied over banjie/1 (docs/PROTOCOL.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7443)
    parser.add_argument("--ca", required=True, help="county CA certificate (PEM)")
    parser.add_argument("--cert", required=True, help="client certificate (PEM)")
    parser.add_argument("--key", required=True, help="client private key (PEM)")
    parser.add_argument("--server-name", help="name/IP the server certificate must carry (default --host)")
    parser.add_argument("--timeout", type=float, default=10.0, help="read timeout, seconds")
    parser.add_argument("--deadline-ms", type=int, default=0, help="deadline sent in HEADERS (0 = none)")
    parser.add_argument("--dump", action="store_true", help="print every frame sent and received as hex")
    parser.add_argument("command", choices=["health", "info", "hold"])
    args = parser.parse_args()
    path = {"health": "/grpc.health.v1.Health/Check", "info": "/banjie.v1.SystemService/GetServerInfo",
            "hold": "/grpc.health.v1.Health/Check"}
    sock = conn = farewell = None
    try:
        sock = connect(args)
        conn = Connection(sock, args.dump)
        ack = conn.start()
        # The empty request: HealthCheckRequest{} and GetServerInfoRequest{} are zero bytes.
        messages, code, message = conn.unary(path[args.command], b"", ack, args.deadline_ms * 1000)
        if args.command == "hold" and code == 0:
            print("first", end=" ")
            show("health", messages)
            sys.stdout.flush()
            sys.stdin.readline()
            messages, code, message = conn.unary(path[args.command], b"", b"", args.deadline_ms * 1000)
            if code == 0:
                print("second", end=" ")
        farewell = goaway(conn.stream, 0, "client closing")  # §10: we open no more streams
    except CallError as error:
        code, message = error.code, error.message
        if conn and error.goaway is not None:  # §12: tell the server why before closing
            farewell = goaway(conn.stream, error.goaway, error.message)
    except socket.timeout:
        code, message = 4, "no answer within %.1f s" % args.timeout
        if conn and conn.stream:  # §8: give up on the call with RST_STREAM CANCELLED
            farewell = frame(RST_STREAM, 0, conn.stream, struct.pack(">I", 1) + short_string("timed out"))
    except OSError as error:  # includes ssl.SSLError: refused certificate, TLS alerts, resets
        code, message = 14, "%s: %s" % (type(error).__name__, error)
    except (ValueError, IndexError) as error:  # truncated or non-UTF-8 payloads
        code, message = 13, "malformed payload from the server: %s" % error
    try:
        if farewell:
            conn.send(farewell)
    except OSError:
        pass
    if sock:
        sock.close()
    if code != 0:
        name = STATUS[code] if code < len(STATUS) else "?"
        print("error: %s (%d): %s" % (name, code, message), file=sys.stderr)
        return code
    show("health" if args.command == "hold" else args.command, messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
