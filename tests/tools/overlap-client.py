#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP sender crafted with scapy that resends bytes the peer already has.

  overlap-client.py --iface IF --src ADDR --dst ADDR:PORT --data FILE
                    --ready FILE --go FILE [--early]
  overlap-client.py --iface IF --src ADDR --socks5-listen ADDR:PORT ... --early

Connects from ADDR (the caller drops the kernel's own RSTs in this
namespace), sends FILE by the plan below, closes with FIN and acknowledges
the peer's FIN.  With --socks5-listen it is the SOCKS5 proxy instead: it
answers the first SYN to PORT, takes a greeting without authentication and
a CONNECT request, and sends its 10-byte reply in the first segment, ahead
of the first data bytes (the helper reads the reply and leaves the rest of
that skb queued).  Some segments start before the peer's rcv_nxt and end after
it ("seq < rcv_nxt < end_seq"): TCP queues those whole and leaves the old
head to recvmsg(), which a sockmap verdict program does not go through.
One segment is all old.  Before the first resent byte the script writes
--ready and waits for --go to exist, so that the caller can wait until the
socket is in a sockmap; with --early the first segment goes before that
pause (it arrives before the socket has its program), otherwise after it.
Each segment waits for its ACK; the script exits 1 when one does not come.
The data file must be at least END_OF_PLAN bytes long.
"""
import argparse
import os
import random
import sys
import threading
import time

from scapy.all import IP, TCP, AsyncSniffer, Raw, conf, send

# (first, end) byte offsets of each segment after the handshake.
PLAN = [
    (0, 1000),  # new
    (500, 2000),  # 500 old + 1000 new
    (0, 1000),  # all old: a plain duplicate
    (2000, 8000),  # new
    (3000, 9000),  # 5000 old (more than one 4095-byte cut) + 1000 new
]
END_OF_PLAN = 9000
CHUNK = 8000  # the rest of the file, in segments of this size
TIMEOUT = 3.0


def payload_len(tcp):
    """Bytes of TCP payload, Ethernet padding not counted."""
    return tcp.underlayer.len - tcp.underlayer.ihl * 4 - tcp.dataofs * 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst")
    ap.add_argument("--socks5-listen")
    ap.add_argument("--data", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--early", action="store_true")
    args = ap.parse_args()

    with open(args.data, "rb") as f:
        data = f.read()
    if len(data) < END_OF_PLAN:
        sys.exit("overlap-client: data shorter than the plan")
    plan = list(PLAN)
    plan.insert(1 if args.early else 0, "pause")
    plan += [(o, min(o + CHUNK, len(data))) for o in range(END_OF_PLAN, len(data), CHUNK)]

    conf.verb = 0
    isn = random.randint(0, 2**32 - 1)
    if args.socks5_listen:
        lport = int(args.socks5_listen.rsplit(":", 1)[1])
    else:
        dst, dport = args.dst.rsplit(":", 1)
        dport, lport = int(dport), random.randint(40000, 60000)

    # Everything the peer sends to us, in order.
    seen = []
    cond = threading.Condition()

    def keep(pkt):
        with cond:
            seen.append(pkt)
            cond.notify_all()

    started = threading.Event()
    sniffer = AsyncSniffer(
        iface=args.iface,
        store=False,
        prn=keep,
        started_callback=started.set,
        lfilter=lambda p: IP in p and TCP in p and p[IP].dst == args.src and p[TCP].dport == lport,
    )
    sniffer.start()
    started.wait(5)
    print("overlap-client: listening", file=sys.stderr, flush=True)

    def wait_for(what, pred, since):
        """First segment from the peer after index since that pred accepts."""
        deadline = time.monotonic() + TIMEOUT
        with cond:
            while True:
                for i in range(since, len(seen)):
                    if pred(seen[i][TCP]):
                        return seen[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    sys.exit("overlap-client: no %s within %.0f s" % (what, TIMEOUT))
                cond.wait(left)

    options = [("MSS", 1460), ("SAckOK", b"")]
    prefix = b""
    if args.socks5_listen:
        syn = wait_for("SYN", lambda t: t.flags.S and not t.flags.A, 0)
        dst, dport = syn[IP].src, syn[TCP].sport
        irs = syn[TCP].seq
        ip = IP(src=args.src, dst=dst)
        mark = len(seen)
        send(ip / TCP(sport=lport, dport=dport, flags="SA", seq=isn, ack=irs + 1, window=65535, options=options))
        wait_for("ACK of our SYN", lambda t: t.flags.A and t.ack == (isn + 1) % 2**32, mark)
        rcv = (irs + 1) % 2**32
        # The greeting (no authentication), then the CONNECT request; the
        # reply goes in one segment with the first data bytes, so the helper
        # reads its 10 bytes off the head of an skb it leaves queued.
        for what, size, answer in (("greeting", 3, b"\x05\x00"), ("request", 10, None)):
            pkt = wait_for("SOCKS5 " + what, lambda t, n=size: payload_len(t) >= n and t.seq == rcv, 0)
            rcv = (rcv + payload_len(pkt[TCP])) % 2**32
            if answer:
                send(ip / TCP(sport=lport, dport=dport, flags="PA", seq=isn + 1, ack=rcv, window=65535) / Raw(answer))
                isn = (isn + len(answer)) % 2**32
        prefix = b"\x05\x00\x00\x01" + bytes(6)
        print("overlap-client: SOCKS5 request from %s:%d" % (dst, dport), file=sys.stderr)
    else:
        ip = IP(src=args.src, dst=dst)
        mark = len(seen)
        send(ip / TCP(sport=lport, dport=dport, flags="S", seq=isn, window=65535, options=options))
        synack = wait_for("SYN-ACK", lambda t: t.flags.S and t.flags.A and t.ack == (isn + 1) % 2**32, mark)
        rcv = (synack[TCP].seq + 1) % 2**32
        send(ip / TCP(sport=lport, dport=dport, flags="A", seq=isn + 1, ack=rcv, window=65535))
        print("overlap-client: connected from port %d" % lport, file=sys.stderr)
    # Offsets below are in data; the stream on the wire is prefix + data.
    isn = (isn + len(prefix)) % 2**32

    def seq_of(offset):
        return (isn + 1 + offset) % 2**32

    def acked(t, offset):
        return t.flags.A and ((t.ack - seq_of(offset)) % 2**32) < 2**31

    sent_to = 0  # end of the highest byte sent
    for step in plan:
        if step == "pause":
            with open(args.ready, "w") as f:
                f.write("%d\n" % sent_to)
            while not os.path.exists(args.go):
                time.sleep(0.05)
            continue
        first, end = step
        mark = len(seen)
        head = prefix if first == 0 else b""
        seg = TCP(sport=lport, dport=dport, flags="PA", seq=seq_of(first - len(head)), ack=rcv, window=65535)
        send(ip / seg / Raw(head + data[first:end]))
        if end <= sent_to:
            # All old: TCP answers with a duplicate ACK (with D-SACK).
            wait_for("ACK of the duplicate %d..%d" % (first, end), lambda t: acked(t, sent_to), mark)
        else:
            wait_for("ACK of %d..%d" % (first, end), lambda t, e=end: acked(t, e), mark)
        print("overlap-client: sent %d..%d, %d old" % (first, end, max(0, min(end, sent_to) - first)), file=sys.stderr)
        sent_to = max(sent_to, end)

    mark = len(seen)
    send(ip / TCP(sport=lport, dport=dport, flags="FA", seq=seq_of(len(data)), ack=rcv, window=65535))
    wait_for("ACK of our FIN", lambda t: acked(t, len(data) + 1), mark)
    fin = wait_for("FIN from the peer", lambda t: t.flags.F, 0)
    send(ip / TCP(sport=lport, dport=dport, flags="A", seq=seq_of(len(data) + 1), ack=(fin[TCP].seq + 1) % 2**32, window=65535))
    sniffer.stop()
    print("overlap-client: done, %d bytes" % len(data), file=sys.stderr)


if __name__ == "__main__":
    main()
