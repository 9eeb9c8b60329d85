#!/usr/bin/env python3
"""byte_proxy.py LISTEN_PORT TARGET_PORT COUNTER_FILE: a loopback TCP proxy that counts the
bytes each way (for the sharding benchmark: what the shards send the coordinator).

Every 0.05 s it writes "to_target from_target" (cumulative bytes) to COUNTER_FILE."""
import os
import socket
import sys
import threading
import time

listen_port, target_port, counter_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
counts = [0, 0]  # bytes to the target (the shard), bytes from it
lock = threading.Lock()


def pump(src, dst, slot):
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            with lock:
                counts[slot] += len(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream, 0), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, 1), daemon=True).start()


def report():
    while True:
        with lock:
            line = "%d %d\n" % (counts[0], counts[1])
        tmp = counter_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line)
        os.replace(tmp, counter_file)
        time.sleep(0.05)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(64)
threading.Thread(target=report, daemon=True).start()
while True:
    conn, _ = server.accept()
    serve(conn)
