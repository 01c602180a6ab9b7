// The TCP frame reader keeps unread bytes from an offset into one growing buffer: frames split at
// every possible place across chunks, many frames in one chunk, and a chunk that ends inside a
// frame header all give back exactly the frames sent; a bad checksum is still a FrameError.
import assert from 'node:assert/strict';
import { loadSettings } from '../src/shared/node/cli/config.js';
import { FrameError, FrameReader, MsgType, encodeFrame, frameChecksum, maxPayloadBytes } from '../src/shared/node/net/protocol.js';
import { sha256d } from '../src/shared/core/hash.js';
import { sfc32 } from './kit/prng.js';

const params = loadSettings({ network: 'devnet' }).params;

function frames(random: () => number, n: number): { type: MsgType; payload: Uint8Array }[] {
  const types = [MsgType.Block, MsgType.Headers, MsgType.NotFound, MsgType.HeadersPush];
  return Array.from({ length: n }, (_, i) => {
    const size = i % 7 === 0 ? 0 : Math.floor(random() * 20_000);
    return { type: types[i % types.length]!, payload: Uint8Array.from({ length: size }, () => Math.floor(random() * 256)) };
  });
}

describe('FrameReader', () => {
  it('the checksum is the first 4 bytes of HASH256 of the payload (core sha256d)', () => {
    const payload = new TextEncoder().encode('mvb frame');
    assert.deepEqual(frameChecksum(payload), sha256d(payload).subarray(0, 4));
  });

  for (const seed of [1, 2, 3]) {
    it(`gives back every frame of a stream cut into random chunks (seed ${seed})`, () => {
      const next = sfc32(seed);
      const random = (): number => next() / 2 ** 32;
      const sent = frames(random, 60);
      const stream = Uint8Array.from(sent.flatMap((f) => [...encodeFrame(params, f.type, f.payload)]));
      const reader = new FrameReader(params, maxPayloadBytes(params));
      const got: { type: MsgType; payload: Uint8Array }[] = [];
      for (let at = 0; at < stream.length;) {
        // Mostly small chunks (splits inside headers), now and then one holding many frames.
        const len = random() < 0.1 ? 100_000 : 1 + Math.floor(random() * 3000);
        got.push(...reader.push(stream.subarray(at, at + len)));
        at += len;
      }
      assert.equal(reader.buffered, 0);
      assert.equal(got.length, sent.length);
      got.forEach((f, i) => {
        assert.equal(f.type, sent[i]!.type);
        assert.deepEqual(f.payload, sent[i]!.payload);
      });
    });
  }

  it('a byte at a time, then a bad checksum: FrameError', () => {
    const frame = encodeFrame(params, MsgType.Block, Uint8Array.of(1, 2, 3));
    const reader = new FrameReader(params, maxPayloadBytes(params));
    const got = [];
    for (const b of frame) got.push(...reader.push(Uint8Array.of(b)));
    assert.equal(got.length, 1);
    const bad = frame.slice();
    bad[bad.length - 1]! ^= 1;
    assert.throws(
      () => reader.push(bad),
      (e: unknown) => e instanceof FrameError && e.reason === 'checksum',
    );
  });
});
