#!/usr/bin/env python3
"""A slow DNS server for `make bench`: every query on 127.0.0.1:PORT (UDP) is
answered after DELAY_MS, concurrently (a burst is not serialised): A queries
with 192.0.2.1 (TTL 60), anything else with an empty NOERROR answer.

usage: slowdns.py PORT DELAY_MS"""
import asyncio
import struct
import sys


class Slow(asyncio.DatagramProtocol):
    def __init__(self, delay):
        self.delay = delay

    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        qid, _, qd = struct.unpack("!HHH", data[:6])
        end = 12
        while end < len(data) and data[end] != 0:
            end += data[end] + 1
        end += 5                                   # root label, QTYPE, QCLASS
        if qd != 1 or end > len(data):
            return
        question = data[12:end]
        qtype = struct.unpack("!H", data[end - 4:end - 2])[0]
        answers = b""
        if qtype == 1:
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([192, 0, 2, 1])
        flags = 0x8180                             # response, RD, RA, NOERROR
        reply = struct.pack("!HHHHHH", qid, flags, 1, 1 if answers else 0, 0, 0) + question + answers
        asyncio.get_running_loop().call_later(self.delay, self.t.sendto, reply, addr)


async def main():
    port, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
    await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: Slow(delay), local_addr=("127.0.0.1", port))
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
