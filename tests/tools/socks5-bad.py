#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A SOCKS5 proxy that misbehaves in one chosen way per port, for sockfwd's
end-to-end tests (tests/test-sockfwd-socks5.sh).

    socks5-bad.py --listen ADDR --ready FILE MODE=PORT...
    socks5-bad.py --garbage     (writes GARBAGE, below, to stdout)

Modes (each answers the greeting and CONNECT of RFC 1928, no-auth only):
  split          a valid exchange, every reply byte in a segment of its own
                 (TCP_NODELAY, a pause between), then a real tunnel to the
                 requested IPv4 target, both ways, half-close passed on
  greeting-ver   greeting answered with version 4
  reply-ver      CONNECT answered with version 4 (code 0, an IPv4 address)
  bad-atyp       CONNECT answered with address type 7
  reply-close    a valid CONNECT reply, then close
  garbage        a valid CONNECT reply and, in the same segment, GARBAGE
                 (below), then its write side shut; reads until EOF
  cut-reply      the first 4 bytes of a valid CONNECT reply, then close
Writes FILE once every port listens.  Runs until killed.
"""
import socket
import sys
import threading
import time

GARBAGE = b"not a SOCKS reply: the target's first bytes\n" * 100
REPLY_OK = b"\x05\x00\x00\x01\xcb\x00\x71\x02\x13\x89"  # 203.0.113.2:5001


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("client closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_request(sock):
    """Greeting was answered: the CONNECT request, as (host, port)."""
    head = recv_exact(sock, 4)
    if head[3] == 1:
        host = socket.inet_ntop(socket.AF_INET, recv_exact(sock, 4))
    elif head[3] == 4:
        host = socket.inet_ntop(socket.AF_INET6, recv_exact(sock, 16))
    else:
        host = recv_exact(sock, recv_exact(sock, 1)[0]).decode()
    port = int.from_bytes(recv_exact(sock, 2), "big")
    return host, port


def send_split(sock, data):
    """One byte per segment: Nagle off, and time for each to leave."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(data)):
        sock.sendall(data[i:i + 1])
        time.sleep(0.02)


def pipe(src, dst):
    while True:
        data = src.recv(65536)
        if not data:
            break
        dst.sendall(data)
    dst.shutdown(socket.SHUT_WR)


def tunnel(client, host, port):
    target = socket.create_connection((host, port))
    down = threading.Thread(target=pipe, args=(target, client))
    down.start()
    pipe(client, target)
    down.join()
    target.close()


def serve(mode, client):
    greeting = recv_exact(client, 2)
    recv_exact(client, greeting[1])
    if mode == "greeting-ver":
        client.sendall(b"\x04\x00")
        return
    if mode == "split":
        send_split(client, b"\x05\x00")
    else:
        client.sendall(b"\x05\x00")
    host, port = read_request(client)
    if mode == "split":
        send_split(client, REPLY_OK)
        tunnel(client, host, port)
    elif mode == "reply-ver":
        client.sendall(b"\x04" + REPLY_OK[1:])
    elif mode == "bad-atyp":
        client.sendall(b"\x05\x00\x00\x07" + REPLY_OK[4:])
    elif mode == "reply-close":
        client.sendall(REPLY_OK)
    elif mode == "garbage":
        client.sendall(REPLY_OK + GARBAGE)
        client.shutdown(socket.SHUT_WR)
        while client.recv(65536):
            pass
    elif mode == "cut-reply":
        client.sendall(REPLY_OK[:4])


def handle(mode, client):
    try:
        serve(mode, client)
    except (OSError, EOFError) as e:
        print("socks5-bad %s: %s" % (mode, e), file=sys.stderr, flush=True)
    finally:
        client.close()


def accept_loop(mode, listener):
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(mode, client), daemon=True).start()


def main():
    args = sys.argv[1:]
    if args == ["--garbage"]:
        sys.stdout.buffer.write(GARBAGE)
        return
    if len(args) < 5 or args[0] != "--listen" or args[2] != "--ready":
        sys.exit(__doc__)
    addr, ready = args[1], args[3]
    threads = []
    for spec in args[4:]:
        mode, port = spec.split("=")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((addr, int(port)))
        listener.listen(64)
        threads.append(threading.Thread(target=accept_loop, args=(mode, listener),
                                        daemon=True))
    for t in threads:
        t.start()
    open(ready, "w").close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
