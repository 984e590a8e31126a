#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A UDP DNS server for tests: answers A and AAAA from a table, holding the
answer for some names a while, each query in a thread of its own so that a
held answer delays no other.

  dns-answer.py ADDR PORT NAME=ADDR[,ADDR...][@DELAY_S]...

A name not in the table gets NXDOMAIN; a name whose record type is not in
its list gets an empty NOERROR answer.  Each query is logged on stderr.
"""
import ipaddress
import socket
import sys
import threading
import time


def parse_table(args):
    table = {}
    for arg in args:
        name, _, rest = arg.partition("=")
        rest, _, delay = rest.partition("@")
        addrs = [ipaddress.ip_address(a) for a in rest.split(",") if a]
        table[name.lower().rstrip(".")] = (addrs, float(delay or 0))
    return table


def question(query):
    """(name, qtype, end of question) of the first question."""
    labels, i = [], 12
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode(errors="replace"))
        i += 1 + query[i]
    qtype = int.from_bytes(query[i + 1:i + 3], "big")
    return ".".join(labels).lower(), qtype, i + 5


def answer(query, table):
    name, qtype, end = question(query)
    entry = table.get(name)
    flags = 0x8180 if entry else 0x8183  # QR RD RA, rcode 0 or 3
    records = b""
    count = 0
    for addr in entry[0] if entry else []:
        rtype = 1 if addr.version == 4 else 28
        if rtype != qtype:
            continue
        records += (b"\xc0\x0c" + rtype.to_bytes(2, "big") + b"\x00\x01" +
                    (60).to_bytes(4, "big") + len(addr.packed).to_bytes(2, "big") +
                    addr.packed)
        count += 1
    header = (query[:2] + flags.to_bytes(2, "big") + b"\x00\x01" +
              count.to_bytes(2, "big") + b"\x00\x00\x00\x00")
    return name, entry[1] if entry else 0, header + query[12:end] + records


def serve(sock, query, peer, table):
    try:
        name, delay, reply = answer(query, table)
    except (IndexError, ValueError):
        return
    print("query %s from %s delay %g" % (name, peer[0], delay), file=sys.stderr, flush=True)
    if delay:
        time.sleep(delay)
    sock.sendto(reply, peer)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    table = parse_table(sys.argv[3:])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    while True:
        query, peer = sock.recvfrom(512)
        threading.Thread(target=serve, args=(sock, query, peer, table), daemon=True).start()


if __name__ == "__main__":
    main()
