#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A SOCKS5 client for tests of sockfwd --socks5-server, byte by byte.

  socks5-client.py SERVER PORT TARGET TPORT [options]
    --cmd N        request command (1 CONNECT, 2 BIND, 3 UDP ASSOCIATE)
    --atyp N       force this address type byte (a bad one: 7)
    --name         send TARGET as a name (ATYP 3) even if it is a literal
    --user U --password-file F   offer only method 2 and log in
    --methods HEX  the method list to offer instead (e.g. "00", "0102")
    --bytewise     send the handshake one byte per segment, 20 ms apart
    --pipeline N   greeting, (login,) request and N data bytes in one write;
                   then read the replies and expect the N bytes echoed
    --raw HEX      send these bytes only, print what comes back
    --hold S       after the reply, keep the tunnel S seconds (echo check)
Prints one line per reply: "method 00", "auth 00", "reply 00 bound
ADDR:PORT", then "echo ok N", and at the end "eof" or "reset" or
"timeout" for how the server closed (when it did).  Exit 0 when the
reply was 0 (and the echo, if any, matched), 1 otherwise.
"""
import argparse
import ipaddress
import socket
import sys
import time


def greeting(args):
    if args.methods is not None:
        methods = bytes.fromhex(args.methods)
    else:
        methods = b"\x02" if args.user else b"\x00"
    return bytes([5, len(methods)]) + methods


def login(args):
    if not args.user:
        return b""
    with open(args.password_file, "rb") as f:
        password = f.read().split(b"\n")[0]
    user = args.user.encode()
    return bytes([1, len(user)]) + user + bytes([len(password)]) + password


def request(args):
    try:
        ip = None if args.name else ipaddress.ip_address(args.target)
    except ValueError:
        ip = None
    if ip is None:
        name = args.target.encode()
        addr = bytes([3, len(name)]) + name
    else:
        addr = bytes([1 if ip.version == 4 else 4]) + ip.packed
    if args.atyp is not None:
        addr = bytes([args.atyp]) + addr[1:]
    return bytes([5, args.cmd, 0]) + addr + args.tport.to_bytes(2, "big")


def send(sock, data, bytewise):
    if not bytewise:
        sock.sendall(data)
        return
    for b in data:
        sock.sendall(bytes([b]))
        time.sleep(0.02)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_reply(sock):
    head = read_exact(sock, 4)
    if head[3] == 1:
        rest = read_exact(sock, 6)
        host = str(ipaddress.ip_address(rest[:4]))
    elif head[3] == 4:
        rest = read_exact(sock, 18)
        host = "[%s]" % ipaddress.ip_address(rest[:16])
    else:
        n = read_exact(sock, 1)
        rest = n + read_exact(sock, n[0] + 2)
        host = rest[1:-2].decode(errors="replace")
    port = int.from_bytes(rest[-2:], "big")
    print("reply %02x bound %s:%d" % (head[1], host, port), flush=True)
    return head[1]


def ending(sock):
    """How the server closed: eof, reset, or timeout (nothing in 5 s)."""
    sock.settimeout(5)
    try:
        while sock.recv(4096):
            pass
        print("eof")
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")


def handshake(sock, args, data):
    bytewise = args.bytewise
    if args.pipeline is not None:
        send(sock, greeting(args) + login(args) + request(args) + data, False)
    else:
        send(sock, greeting(args), bytewise)
    method = read_exact(sock, 2)
    print("method %02x" % method[1], flush=True)
    if method[1] == 0xFF:
        return 1
    if method[1] == 2:
        if args.pipeline is None:
            send(sock, login(args), bytewise)
        status = read_exact(sock, 2)
        print("auth %02x" % status[1], flush=True)
        if status[1] != 0:
            return 1
    if args.pipeline is None:
        send(sock, request(args), bytewise)
    return read_reply(sock)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("server")
    p.add_argument("port", type=int)
    p.add_argument("target")
    p.add_argument("tport", type=int)
    p.add_argument("--cmd", type=int, default=1)
    p.add_argument("--atyp", type=int)
    p.add_argument("--name", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password-file")
    p.add_argument("--methods")
    p.add_argument("--bytewise", action="store_true")
    p.add_argument("--pipeline", type=int)
    p.add_argument("--raw")
    p.add_argument("--hold", type=float, default=0)
    args = p.parse_args()

    sock = socket.create_connection((args.server, args.port), timeout=15)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.raw is not None:
        sock.sendall(bytes.fromhex(args.raw))
        sock.settimeout(5)
        try:
            got = sock.recv(4096)
            print("got %s" % got.hex(), flush=True)
        except (ConnectionResetError, socket.timeout):
            got = b""
        ending(sock)
        return 0
    data = bytes((i * 7 + 3) & 0xFF for i in range(args.pipeline or 0))
    try:
        code = handshake(sock, args, data)
    except EOFError:
        print("eof")
        return 1
    except ConnectionResetError:
        print("reset")
        return 1
    if code != 0:
        ending(sock)
        return 1
    if data:
        echo = read_exact(sock, len(data))
        if echo != data:
            print("echo differs")
            return 1
        print("echo ok %d" % len(data), flush=True)
    if args.hold:
        time.sleep(args.hold)
        sock.sendall(b"ping")
        if read_exact(sock, 4) != b"ping":
            print("echo differs")
            return 1
        print("echo ok after %g s" % args.hold, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
