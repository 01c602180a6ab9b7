#!/usr/bin/env python3
"""The lab's link emulator: an Ethernet switch in user space for kernels without sch_netem.

`mvb lab` runs it inside the switch namespace of an emulated network (src/lab/netns.ts):
  python3 lab-switch.py CONFIG.json        (switch: forwards frames between the host ports)
  python3 lab-switch.py --offload-off IF   (in a host: checksum/segmentation offload off on IF)
CONFIG is {"ports": ["port1", ...], "shapes": [[shape|null, ...], ...], "seed": N} where
shapes[i][j] is what happens to frames from host i to host j: {"delayMs", "jitterMs",
"lossPercent", "rateMbit"}, null = not linked. Each frame is read from its port with a packet
socket, the source MAC is learnt, and a copy for each receiving port (one, or all for broadcast)
is scheduled for now + serialisation at the pair's rate + delay (+ normal jitter, never
reordering a pair), or dropped with the pair's loss. ARP always passes unshaped, so an unlinked
pair still resolves addresses but exchanges no IP packet.
Control, one JSON object per line on stdin, each answered "ok" on stdout once applied:
  {"cut": [[i, j], ...]}   ordered pairs that lose everything (a partition); [] heals
  {"mute": [i, ...]}       hosts whose UDP (status and transaction broadcasts) is dropped
  {"stats": true}          answers {"forwarded": N, "dropped": N}
It exits on stdin's end or SIGTERM. Python 3 standard library only.
"""
import array
import fcntl
import heapq
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SIOCETHTOOL = 0x8946
# Legacy ethtool set commands (linux/ethtool.h): tx checksum, scatter-gather, TSO, GSO, GRO.
ETHTOOL_SET = (0x17, 0x19, 0x1F, 0x24, 0x2C)
MAX_QUEUE = 200_000


def offload_off(ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for cmd in ETHTOOL_SET:
        buf = array.array('I', [cmd, 0])
        addr, _ = buf.buffer_info()
        try:
            fcntl.ioctl(s, SIOCETHTOOL, struct.pack('16sP', ifname.encode(), addr))
        except OSError:
            pass  # not supported by this device: nothing to switch off
    s.close()


class Switch:
    def __init__(self, cfg):
        self.ports = cfg['ports']
        self.shapes = cfg['shapes']
        self.rng = random.Random(cfg.get('seed', 1))
        n = len(self.ports)
        self.cut = set()
        self.mute = set()
        self.busy = [[0.0] * n for _ in range(n)]
        self.last_due = [[0.0] * n for _ in range(n)]
        self.mac_port = {}
        self.queue = []
        self.seq = 0
        self.forwarded = 0
        self.dropped = 0
        self.socks = []
        self.sel = selectors.DefaultSelector()
        for i, name in enumerate(self.ports):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((name, 0))
            s.setblocking(False)
            self.socks.append(s)
            self.sel.register(s, selectors.EVENT_READ, i)

    def control(self, line):
        msg = json.loads(line)
        if 'cut' in msg:
            self.cut = {(int(a), int(b)) for a, b in msg['cut']}
        if 'mute' in msg:
            self.mute = {int(a) for a in msg['mute']}
        if msg.get('stats'):
            return json.dumps({'forwarded': self.forwarded, 'dropped': self.dropped})
        return 'ok'

    def schedule(self, src, dst, frame, now, is_ip, is_udp):
        if is_ip:
            shape = self.shapes[src][dst]
            if shape is None or (src, dst) in self.cut or (is_udp and src in self.mute):
                self.dropped += 1
                return
            if shape['lossPercent'] > 0 and self.rng.random() * 100 < shape['lossPercent']:
                self.dropped += 1
                return
            depart = now
            if shape['rateMbit'] > 0:
                depart = max(now, self.busy[src][dst]) + len(frame) * 8 / (shape['rateMbit'] * 1e6)
                self.busy[src][dst] = depart
            due = depart + shape['delayMs'] / 1000
            if shape['jitterMs'] > 0:
                due += self.rng.gauss(0, shape['jitterMs'] / 1000)
            due = max(due, self.last_due[src][dst], now)
            self.last_due[src][dst] = due
        else:
            due = now
        if len(self.queue) >= MAX_QUEUE:
            self.dropped += 1
            return
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, dst, frame))

    def receive(self, src):
        s = self.socks[src]
        for _ in range(64):
            try:
                frame, addr = s.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            now = time.monotonic()
            dst_mac, src_mac = frame[0:6], frame[6:12]
            self.mac_port[src_mac] = src
            ethertype = struct.unpack('!H', frame[12:14])[0]
            is_ip = ethertype == 0x0800
            is_udp = is_ip and len(frame) > 23 and frame[23] == 17
            target = self.mac_port.get(dst_mac) if not (dst_mac[0] & 1) else None
            dsts = [target] if target is not None else [j for j in range(len(self.ports)) if j != src]
            for dst in dsts:
                if dst != src:
                    self.schedule(src, dst, frame, now, is_ip, is_udp)

    def send_due(self):
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, _, dst, frame = heapq.heappop(self.queue)
            try:
                self.socks[dst].send(frame)
                self.forwarded += 1
            except OSError:
                self.dropped += 1

    def run(self):
        stdin = sys.stdin.fileno()
        os.set_blocking(stdin, False)
        self.sel.register(stdin, selectors.EVENT_READ, -1)
        pending = ''
        print('ready', flush=True)
        while True:
            timeout = None
            if self.queue:
                timeout = max(0.0, self.queue[0][0] - time.monotonic())
            for key, _ in self.sel.select(timeout):
                if key.data >= 0:
                    self.receive(key.data)
                    continue
                try:
                    chunk = os.read(stdin, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    return
                pending += chunk.decode()
                while '\n' in pending:
                    line, pending = pending.split('\n', 1)
                    if line.strip():
                        print(self.control(line), flush=True)
            self.send_due()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--offload-off':
        offload_off(sys.argv[2])
        return
    if len(sys.argv) != 2:
        sys.exit('usage: lab-switch.py CONFIG.json | --offload-off IFNAME')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    Switch(cfg).run()


if __name__ == '__main__':
    main()
