#!/usr/bin/env python3
"""The baseline for `mvb bench mine`: a plain Python hashlib double-SHA-256 loop over an 80-byte
header, changing the nonce each time. Prints hashes per second. Usage: python3 scripts/python-baseline.py [seconds]"""
import hashlib
import struct
import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
prefix = bytes((i * 37 + 11) & 0xFF for i in range(76))
n = 0
start = time.perf_counter()
end = start + seconds
while time.perf_counter() < end:
    for nonce in range(n, n + 10000):
        hashlib.sha256(hashlib.sha256(prefix + struct.pack('<I', nonce)).digest()).digest()
    n += 10000
rate = n / (time.perf_counter() - start)
print(f'{{"hashesPerSecond": {rate:.0f}}}')
