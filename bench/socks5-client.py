#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The SOCKS5 client of bench/router.sh (iperf3 cannot speak SOCKS5).

  socks5-client.py bulk PROXY TARGET SECONDS
      through PROXY (HOST:PORT, or "-" for none) to TARGET, send zeros for
      SECONDS, half-close and wait for the server's close (a sink that reads
      to EOF: every byte has arrived); prints "bytes=N seconds=S".
  socks5-client.py connect PROXY TARGET COUNT
      COUNT times: connect, SOCKS5 handshake (no authentication, CONNECT to
      an IPv4 TARGET), one 64-byte exchange with an echo server, close;
      prints "connections=N seconds=S per_second=R".

One request at a time, as curl does: greeting, wait for the method; CONNECT,
wait for the reply.  Any protocol error ends the run with a message.
"""
import socket
import sys
import time

BUF = bytes(256 * 1024)


def hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def read_full(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def open_via(proxy, target):
    """A connected socket to target, through proxy unless it is None."""
    sock = socket.create_connection(proxy or target)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if proxy is None:
        return sock
    sock.sendall(b"\x05\x01\x00")
    if read_full(sock, 2) != b"\x05\x00":
        raise ConnectionError("proxy refused the no-authentication method")
    host, port = target
    sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + port.to_bytes(2, "big"))
    head = read_full(sock, 4)
    if head[1] != 0:
        raise ConnectionError("CONNECT refused, reply %d" % head[1])
    bound = {1: 4, 4: 16}.get(head[3])
    if bound is None:
        bound = read_full(sock, 1)[0]
    read_full(sock, bound + 2)
    return sock


def bulk(proxy, target, seconds):
    sock = open_via(proxy, target)
    view = memoryview(BUF)
    sent = 0
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        sent += sock.send(view)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(65536):
        pass
    took = time.monotonic() - start
    sock.close()
    print("bytes=%d seconds=%.3f" % (sent, took))


def connect(proxy, target, count):
    payload = bytes(64)
    start = time.monotonic()
    for _ in range(count):
        sock = open_via(proxy, target)
        sock.sendall(payload)
        read_full(sock, len(payload))
        sock.close()
    took = time.monotonic() - start
    print("connections=%d seconds=%.3f per_second=%.0f" % (count, took, count / took))


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("bulk", "connect"):
        sys.exit(__doc__)
    proxy = None if sys.argv[2] == "-" else hostport(sys.argv[2])
    target = hostport(sys.argv[3])
    try:
        if sys.argv[1] == "bulk":
            bulk(proxy, target, float(sys.argv[4]))
        else:
            connect(proxy, target, int(sys.argv[4]))
    except OSError as err:
        sys.exit("socks5-client: %s" % err)


main()
