#!/usr/bin/python3
"""gwclient.py: the Python clients of the gateway tests (test/scripts/gateway_*.sh).

Push requests are built with Debian's python3-protobuf from message classes made of the
descriptors protoc writes for Pyroscope's push.v1/types.v1 definitions (src/gateway/proto)
and the pprof schema (src/core/profile.proto); JSON bodies come from protobuf's own JSON
mapping (json_format), as Connect clients write them.

Subcommands (each prints its result on stdout, one line per request unless said otherwise):
  mkpprof  OUT [--type T:U ...] [--stack 'a;b;c=1,10' ...] [--label k=v ...] [--repeat N]
           [--time-ns N] [--gzip] [--period-type T:U] [--period N]
           a synthetic pprof profile; --label applies to the preceding --stack, --repeat N
           makes it N samples (labels set before it)
  totals   FILE
           'type:unit=N,...' of a pprof file (plain or gzipped), sorted by type
  push     URL [--json] [--gzip] [--header 'K: V' ...] --series LABELS FILE [FILE ...] ...
           one PushRequest; LABELS is a JSON object or a list of [name, value] pairs;
           FILE '-' is an empty raw_profile; --patch OLDHEX NEWHEX replaces bytes of the
           encoded message (same length: e.g. invalid UTF-8 no protobuf library writes);
           prints 'STATUS BODY'
  raw      URL PATH [--method M] [--header 'K: V' ...] [--body-file F | --body S]
           [--content-length N] [--send-bytes N] [--bytes-per-second R] [--timeout S]
           any request over a plain socket, optionally with a lying Content-Length, a body
           cut short (--send-bytes, then the socket is closed for writing) or trickled;
           prints 'STATUS BODY', or 'closed' / 'timeout' / 'error: ...'
  stream   URL LOG --stop-file F [--threads N] [--file PPROF] [--service S]
           durability writer: each thread pushes one profile per request, labels
           seq=<thread>-<n>, until the stop file exists; LOG gets 'start ID' before and
           'ack ID' after a 200 ('fail ID STATUS' otherwise); no retries
  mkpush   OUT --files LIST [--service S] [--pods N] [--one-row]
           one Push body (application/proto) per listed pprof file, OUT/push_N.bin, and
           OUT/bodies.list naming them (for test/gateway/goload, the benchmark's load generator);
           --one-row leaves out profiles whose sample labels would split them into several rows
           (and those protobuf refuses)
  feed     URL DIR [--threads N] [--progress N]
           the demo through the gateway: every file of a `pe_gen --out-dir DIR` folder, in
           time order, sent the way its service's SDK would (checkout: /ingest multipart as
           pyroscope-go; cart: Push with gzip as the Python SDK; search: Push as Alloy)
"""
import argparse
import calendar
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The push messages' .proto files (src/gateway/proto): Pyroscope's public push.v1/types.v1
# definitions, field numbers as published (compared against them when this client was written).
PROTO_DIR = os.path.join(REPO, "src", "gateway", "proto")
_modules = {}


def protos():
    """Message classes for push.v1, types.v1 and the pprof schema, built from the
    FileDescriptorSet that protoc writes (Python's own `types` module would shadow a
    generated types/v1 package)."""
    if _modules:
        return _modules
    from google.protobuf import descriptor_pb2, message_factory
    cache = os.environ.get("GWCLIENT_CACHE")     # a folder: protoc runs once per test script
    desc = os.path.join(cache, "gwclient.desc") if cache else None
    if cache:
        os.makedirs(cache, exist_ok=True)
    if not desc or not os.path.exists(desc):
        with tempfile.TemporaryDirectory(prefix="gwclient_proto.") as out:
            tmp = os.path.join(out, "all.desc")
            subprocess.run(["protoc", "-I", PROTO_DIR,
                            "-I", os.path.join(REPO, "src", "core"), "--include_imports",
                            "--descriptor_set_out=" + tmp,
                            "types/v1/types.proto", "push/v1/push.proto", "profile.proto"],
                           check=True)
            if desc:
                os.replace(tmp, desc)
            else:
                desc = tmp
                with open(desc, "rb") as f:
                    raw = f.read()
    fds = descriptor_pb2.FileDescriptorSet()
    if os.path.exists(desc):
        with open(desc, "rb") as f:
            raw = f.read()
    fds.ParseFromString(raw)
    classes = message_factory.GetMessages(list(fds.file))

    class Namespace:
        def __init__(self, prefix):
            self.prefix = prefix

        def __getattr__(self, name):
            return classes[self.prefix + name]

    _modules["push"] = Namespace("push.v1.")
    _modules["types"] = Namespace("types.v1.")
    _modules["profile"] = Namespace("perftools.profiles.")
    return _modules


# ------------------------------------------------------------------ pprof


def make_pprof(types, stacks, time_ns=0, period_type=None, period=0):
    """types: ["cpu:nanoseconds", ...]; stacks: [(frames, values, {label: value})]."""
    from google.protobuf.internal.encoder import _VarintBytes
    pb = protos()["profile"]
    p = pb.Profile()
    strings = {"": 0}
    p.string_table.append("")

    def s(x):
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:      # bytes from the command line that are not UTF-8
                x = x.encode("utf-8", "surrogateescape")
        if isinstance(x, bytes):
            # raw bytes (e.g. invalid UTF-8) go in as they are: proto3 string fields
            # refuse them in Python, so the table is patched on the wire below
            key = ("bytes", x)
        else:
            key = x
        if key not in strings:
            strings[key] = len(strings)
            p.string_table.append(x if isinstance(x, str) else "\ufffd" * len(x))
        return strings[key]

    for t in types:
        ty, unit = t.split(":")
        p.sample_type.add(type=s(ty), unit=s(unit))
    funcs = {}
    for frames, values, labels in stacks:
        locs = []
        for name in frames:
            if name not in funcs:
                fid = len(funcs) + 1
                p.function.add(id=fid, name=s(name), system_name=s(name), filename=s("main.go"))
                loc = p.location.add(id=fid)
                loc.line.add(function_id=fid, line=fid)
                funcs[name] = fid
            locs.append(funcs[name])
        smp = p.sample.add(location_id=list(reversed(locs)), value=list(values))
        for k, v in labels.items():
            smp.label.add(key=s(k), str=s(v))
    p.time_nanos = time_ns
    if period_type:
        ty, unit = period_type.split(":")
        p.period_type.type = s(ty)
        p.period_type.unit = s(unit)
        p.period = period
    data = p.SerializeToString()
    # patch placeholder strings with their raw bytes (same length in bytes is not needed:
    # rebuild the string table fields at the end of the message)
    raw = [k[1] for k in strings if isinstance(k, tuple)]
    if raw:
        p2 = pb.Profile()
        p2.CopyFrom(p)
        del p2.string_table[:]
        data = p2.SerializeToString()
        table = b""
        ordered = sorted(strings.items(), key=lambda kv: kv[1])
        for key, _ in ordered:
            b = key[1] if isinstance(key, tuple) else key.encode()
            table += b"\x32" + _VarintBytes(len(b)) + b
        data += table
    return data


def cmd_mkpprof(a):
    stacks = []
    for item in a.items:
        kind, val = item
        if kind == "stack":
            frames, _, vals = val.rpartition("=")
            stacks.append((frames.split(";"), [int(x) for x in vals.split(",")], {}))
        elif kind == "repeat":
            stacks.extend([stacks[-1]] * (int(val) - 1))
        else:
            k, _, v = val.partition("=")
            stacks[-1][2][k] = v
    data = make_pprof(a.type or ["samples:count"], stacks, a.time_ns, a.period_type, a.period)
    if a.gzip:
        data = gzip.compress(data)
    with open(a.out, "wb") as f:
        f.write(data)


def cmd_totals(a):
    """'type:unit=N,...' (sorted) of a pprof file, summed from the protobuf message."""
    with open(a.file, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    p = protos()["profile"].Profile()
    p.ParseFromString(data)
    s = p.string_table
    sums = [0] * len(p.sample_type)
    for smp in p.sample:
        for i, v in enumerate(smp.value):
            sums[i] += v
    print(",".join(sorted("%s:%s=%d" % (s[t.type], s[t.unit], n)
                          for t, n in zip(p.sample_type, sums))))


# ------------------------------------------------------------------ push


def parse_labels(text):
    v = json.loads(text)
    if isinstance(v, dict):
        return list(v.items())
    return [tuple(x) for x in v]


def push_body(series, as_json=False, gzip_body=False):
    """series: [(labels [(k, v)], [bytes, ...])] -> (body, headers)."""
    m = protos()["push"]
    req = m.PushRequest()
    for labels, profiles in series:
        s = req.series.add()
        for k, v in labels:
            s.labels.add(name=k, value=v)
        for i, prof in enumerate(profiles):
            s.samples.add(raw_profile=prof)
    if as_json:
        from google.protobuf import json_format
        body = json_format.MessageToJson(req).encode()
        headers = {"Content-Type": "application/json"}
    else:
        body = req.SerializeToString()
        headers = {"Content-Type": "application/proto"}
    headers["Connect-Protocol-Version"] = "1"
    if gzip_body:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return body, headers


def header_dict(items):
    h = {}
    for item in items or []:
        k, _, v = item.partition(":")
        h[k.strip()] = v.strip()
    return h


def split_url(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


def http_request(url, method, path, body, headers, timeout=60):
    host, port = split_url(url)
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def cmd_push(a):
    series = []
    for spec in a.series:
        labels = parse_labels(spec[0])
        profs = []
        for f in spec[1:]:
            if f == "-":
                profs.append(b"")
            else:
                with open(f, "rb") as fh:
                    profs.append(fh.read())
        series.append((labels, profs))
    body, headers = push_body(series, a.json, a.gzip and not a.patch)
    for old, new in a.patch or []:
        # bytes a protobuf library will not write (e.g. invalid UTF-8 in a string field),
        # swapped in for a placeholder of the same length
        old, new = bytes.fromhex(old), bytes.fromhex(new)
        assert len(old) == len(new) and old in body, "placeholder not found"
        body = body.replace(old, new)
    if a.gzip and a.patch:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    headers.update(header_dict(a.header))
    status, text = http_request(a.url, "POST", "/push.v1.PusherService/Push", body, headers)
    print(status, text.replace("\n", " "))


# ------------------------------------------------------------------ raw


def cmd_raw(a):
    host, port = split_url(a.url)
    body = b""
    if a.body_file:
        with open(a.body_file, "rb") as f:
            body = f.read()
    elif a.body is not None:
        body = a.body.encode()
    length = a.content_length if a.content_length is not None else len(body)
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (a.method, a.path, host, port)
    for k, v in header_dict(a.header).items():
        head += "%s: %s\r\n" % (k, v)
    if length >= 0:
        head += "Content-Length: %d\r\n" % length
    head += "\r\n"
    send = body if a.send_bytes is None else body[:a.send_bytes]
    try:
        s = socket.create_connection((host, port), timeout=a.timeout)
    except OSError as e:
        print("error:", e)
        return
    try:
        s.sendall(head.encode("latin-1"))
        if a.bytes_per_second:
            step = max(1, a.bytes_per_second // 10)
            for i in range(0, len(send), step):
                s.sendall(send[i:i + step])
                time.sleep(0.1)
        else:
            s.sendall(send)
        if a.send_bytes is not None:
            s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass    # the server answered (and closed) before reading all: read its answer
    except socket.timeout:
        print("timeout")
        return
    try:
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
    except socket.timeout:
        print("timeout")
        return
    except OSError as e:
        print("error:", e)
        return
    if not data:
        print("closed")
        return
    line, _, rest = data.partition(b"\r\n")
    parts = line.split()
    resp_body = rest.partition(b"\r\n\r\n")[2]
    status = parts[1].decode() if len(parts) > 1 else "?"
    print(status, resp_body.decode("utf-8", "replace").replace("\n", " ")[:500])


# ------------------------------------------------------------------ stream (durability)


def cmd_stream(a):
    with open(a.file, "rb") as f:
        prof = f.read()
    protos()    # once, before the threads
    lock = threading.Lock()
    log = open(a.log, "a", buffering=1)

    def writer(t):
        host, port = split_url(a.url)
        n = 0
        conn = None
        while not os.path.exists(a.stop_file):
            n += 1
            ident = "%d-%d" % (t, n)
            labels = [("__name__", "process_cpu"), ("service_name", a.service), ("seq", ident)]
            body, headers = push_body([(labels, [prof])])
            with lock:
                log.write("start %s\n" % ident)
            status = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                conn.request("POST", "/push.v1.PusherService/Push", body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status = "conn:" + type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            with lock:
                if status == 200:
                    log.write("ack %s\n" % ident)
                else:
                    log.write("fail %s %s\n" % (ident, status))
            if status != 200:
                time.sleep(0.02)
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(1, a.threads + 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    log.close()


# ------------------------------------------------------------------ bodies for a load generator


def splits(raw):
    """True when the profile's string sample labels make Pyroscope split it into series (or
    when protobuf refuses it, e.g. a string table that is not UTF-8: its rows are unknown)."""
    from google.protobuf.message import DecodeError
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    p = protos()["profile"].Profile()
    try:
        p.ParseFromString(raw)
    except DecodeError:
        return True
    for smp in p.sample:
        for l in smp.label:
            key = p.string_table[l.key]
            if l.str and not key.startswith("__") and key not in ("span_id", "trace_id", "profile_id"):
                return True
    return False


def cmd_mkpush(a):
    """One Push body per listed pprof file (series labels __name__=process_cpu, service_name,
    pod-N round-robin), written as OUT/push_N.bin; OUT/bodies.list lists them."""
    with open(a.files) as f:
        paths = [l.strip() for l in f if l.strip()]
    os.makedirs(a.out, exist_ok=True)
    names = []
    for i, path in enumerate(paths):
        with open(path, "rb") as fh:
            prof = fh.read()
        if a.one_row and splits(prof):
            continue
        labels = [("__name__", "process_cpu"), ("service_name", a.service),
                  ("pod", "pod-%d" % (i % a.pods))]
        body, _ = push_body([(labels, [prof])])
        name = os.path.join(a.out, "push_%d.bin" % i)
        with open(name, "wb") as fh:
            fh.write(body)
        names.append(name)
    with open(os.path.join(a.out, "bodies.list"), "w") as fh:
        fh.write("\n".join(names) + "\n")


# ------------------------------------------------------------------ feed (the demo through the gateway)

# How each service of the demo fleet (tools/gen/pe_gen) reaches the gateway, as its SDK would.
FEED_STYLE = {
    "checkout": "ingest",       # Go: pyroscope-go, POST /ingest multipart, ns from/until
    "cart": "push_gzip",        # Python: pyroscope-rs based SDK, Push, Content-Encoding gzip
    "search": "push",           # Java scraped by Alloy's pyroscope.write: Push, application/proto
}
HEAP_TYPE_CONFIG = json.dumps({
    "alloc_objects": {"units": "objects"}, "alloc_space": {"units": "bytes"},
    "inuse_space": {"units": "bytes", "aggregation": "average"},
    "inuse_objects": {"units": "objects", "aggregation": "average"}}).encode()


def multipart(parts):
    boundary = "profileextdemo%016x" % int.from_bytes(os.urandom(8), "big")
    out = b""
    for name, filename, data in parts:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name, filename)).encode()
        out += data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


def feed_request(path, ts_ns, labels):
    """(method path, body, headers, style) for one demo file."""
    with open(path, "rb") as f:
        prof = f.read()
    service = labels.get("service_name", "")
    style = FEED_STYLE.get(service, "push")
    if style == "ingest":
        tags = ",".join("%s=%s" % (k, v) for k, v in sorted(labels.items())
                        if k not in ("__name__", "service_name"))
        parts = [("profile", "profile.pprof", prof)]
        if labels.get("__name__") == "memory":
            parts.append(("sample_type_config", "sample_type_config.json", HEAP_TYPE_CONFIG))
        body, ctype = multipart(parts)
        q = urllib.parse.urlencode({
            "name": "%s{%s}" % (service, tags), "from": str(ts_ns),
            "until": str(ts_ns + 10 * 10 ** 9), "spyName": "gospy", "sampleRate": "100",
            "units": "", "aggregationType": ""})
        return "/ingest?" + q, body, {"Content-Type": ctype}, style
    body, headers = push_body([(sorted(labels.items()), [prof])], gzip_body=(style == "push_gzip"))
    return "/push.v1.PusherService/Push", body, headers, style


def cmd_feed(a):
    """Send every file of a pe_gen --out-dir folder (index.tsv: file, ts, labels) to the gateway,
    in time order, each the way its service's SDK would; print progress and a summary."""
    with open(os.path.join(a.dir, "index.tsv")) as f:
        next(f)
        items = []
        for line in f:
            fname, ts, labels = line.rstrip("\n").split("\t")
            t = time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")
            ts_ns = calendar.timegm(t) * 10 ** 9
            items.append((os.path.join(a.dir, fname), ts_ns, json.loads(labels)))
    protos()    # once, before the threads
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "failed": 0, "bytes": 0, "last": ""}
    by_style = {}
    host, port = split_url(a.url)
    t0 = time.monotonic()

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(items):
                break
            path, body, headers, style = feed_request(*items[i])
            try:
                conn.request("POST", path, body=body, headers=headers)
                r = conn.getresponse()
                text = r.read().decode("utf-8", "replace")
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status, text = 0, str(e)
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            with lock:
                key = (style, status)
                by_style[key] = by_style.get(key, 0) + 1
                if status == 200:
                    state["ok"] += 1
                    state["bytes"] += len(body)
                else:
                    state["failed"] += 1
                    state["last"] = "%s %s" % (status, text[:200])
                done = state["ok"] + state["failed"]
                if done % a.progress == 0 or done == len(items):
                    print("  pushed %d/%d profiles (%.0f/s), %d refused" % (
                        done, len(items), done / (time.monotonic() - t0), state["failed"]),
                        flush=True)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    secs = time.monotonic() - t0
    names = {"ingest": "POST /ingest multipart (as pyroscope-go)",
             "push_gzip": "Push, gzip (as the Python SDK)", "push": "Push (as Alloy)"}
    for (style, status), n in sorted(by_style.items()):
        print("  %-44s HTTP %s: %d" % (names.get(style, style), status, n))
    if state["failed"]:
        print("  last refusal:", state["last"])
    print("fed %d profiles in %.1f s (%.0f/s, %.1f MB), %d refused" % (
        state["ok"], secs, state["ok"] / secs, state["bytes"] / 1048576.0, state["failed"]))
    sys.exit(1 if state["failed"] else 0)


# ------------------------------------------------------------------ main


class Ordered(argparse.Action):
    """--stack and --label in command-line order."""

    def __call__(self, parser, ns, values, option_string=None):
        items = getattr(ns, "items", None) or []
        items.append((self.dest, values))
        ns.items = items


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("mkpprof")
    p.add_argument("out")
    p.add_argument("--type", action="append")
    p.add_argument("--stack", action=Ordered, dest="stack")
    p.add_argument("--label", action=Ordered, dest="label")
    p.add_argument("--repeat", action=Ordered, dest="repeat")
    p.add_argument("--time-ns", type=int, default=0)
    p.add_argument("--period-type")
    p.add_argument("--period", type=int, default=0)
    p.add_argument("--gzip", action="store_true")
    p.set_defaults(func=cmd_mkpprof, items=[])

    p = sub.add_parser("totals")
    p.add_argument("file")
    p.set_defaults(func=cmd_totals)

    p = sub.add_parser("push")
    p.add_argument("url")
    p.add_argument("--json", action="store_true")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--header", action="append")
    p.add_argument("--series", nargs="+", action="append", required=True)
    p.add_argument("--patch", nargs=2, action="append", metavar=("HEX", "HEX"))
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("raw")
    p.add_argument("url")
    p.add_argument("path")
    p.add_argument("--method", default="POST")
    p.add_argument("--header", action="append")
    p.add_argument("--body-file")
    p.add_argument("--body")
    p.add_argument("--content-length", type=int)
    p.add_argument("--send-bytes", type=int)
    p.add_argument("--bytes-per-second", type=int)
    p.add_argument("--timeout", type=float, default=30)
    p.set_defaults(func=cmd_raw)

    p = sub.add_parser("stream")
    p.add_argument("url")
    p.add_argument("log")
    p.add_argument("--stop-file", required=True)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--file", required=True)
    p.add_argument("--service", default="durability")
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("mkpush")
    p.add_argument("out")
    p.add_argument("--files", required=True)
    p.add_argument("--service", default="bench")
    p.add_argument("--pods", type=int, default=16)
    p.add_argument("--one-row", action="store_true")
    p.set_defaults(func=cmd_mkpush)

    p = sub.add_parser("feed")
    p.add_argument("url")
    p.add_argument("dir")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--progress", type=int, default=1000)
    p.set_defaults(func=cmd_feed)

    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
