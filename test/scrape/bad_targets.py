#!/usr/bin/env python3
"""Misbehaving pprof endpoints for the scraping tests.

    bad_targets.py MODE:PORT ...

Every path on PORT answers as MODE does:
  html      200 text/html page (a login or error page instead of a profile)
  garbage   200 application/octet-stream bytes that are not pprof
  bomb      200 application/octet-stream gzip that inflates to 64 MiB of zeros
  trickle   200 with a 1 MB Content-Length, one byte every 0.5 s for 10 minutes
  redirect  302 to itself, forever
  error500  500 with a text body
  many      200 a valid pprof with MANY_SAMPLES samples (one more than the
            gateway's default --max-samples)
Prints "ready" once every port listens.
"""
import http.server
import socketserver
import sys
import threading
import time
import zlib


def make_bomb():
    c = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = b"\0" * (1 << 20)
    parts = [c.compress(zeros) for _ in range(64)]
    parts.append(c.flush())
    return b"".join(parts)


BOMB = make_bomb()
MANY_SAMPLES = 16001


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    """A length-delimited protobuf field."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def make_many():
    # profile.proto: sample_type 1, sample 2, location 4, function 5, string_table 6
    strings = [b"", b"samples", b"count", b"main"]
    msg = field(1, b"\x08\x01\x10\x02")                       # samples/count
    sample = field(2, field(1, b"\x01") + field(2, b"\x01"))   # location 1, value 1
    msg += sample * MANY_SAMPLES
    msg += field(4, b"\x08\x01" + field(4, b"\x08\x01"))      # location 1: function 1
    msg += field(5, b"\x08\x01\x10\x03")                      # function 1: "main"
    for s in strings:
        msg += field(6, s)
    return msg


MANY = make_many()


class Handler(http.server.BaseHTTPRequestHandler):
    mode = "html"

    def log_message(self, *args):
        pass

    def body(self, status, ctype, data, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        m = self.mode
        if m == "html":
            self.body(200, "text/html; charset=utf-8",
                      b"<!doctype html><html><body><h1>Sign in</h1></body></html>\n")
        elif m == "garbage":
            self.body(200, "application/octet-stream",
                      b"\x0a\xff\xff\xff\xff\x0fnot a profile at all" * 8)
        elif m == "bomb":
            self.body(200, "application/octet-stream", BOMB)
        elif m == "many":
            self.body(200, "application/octet-stream", MANY)
        elif m == "redirect":
            self.body(302, "text/plain", b"moved\n", [("Location", self.path)])
        elif m == "error500":
            self.body(500, "text/plain", b"internal error\n")
        elif m == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            end = time.time() + 600
            try:
                while time.time() < end:
                    self.wfile.write(b"\x0a")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
        else:
            self.body(404, "text/plain", b"unknown mode\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    servers = []
    for arg in sys.argv[1:]:
        mode, port = arg.split(":")
        handler = type("H_" + mode, (Handler,), {"mode": mode})
        srv = Server(("127.0.0.1", int(port)), handler)
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
