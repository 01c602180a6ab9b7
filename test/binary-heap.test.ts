// The heap under the mempool's template and eviction orders: whatever goes in comes out in the
// caller's order, ties kept apart by the caller's tie-break, across interleaved pushes and pops.
import assert from 'node:assert/strict';
import { BinaryHeap } from '../src/shared/node/mempool/binary-heap.js';

describe('BinaryHeap', () => {
  it('pops in order for 200 random interleavings of pushes and pops (values with ties, a tie-break by arrival)', () => {
    let x = 12345;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    type Item = { v: number; seq: number };
    const before = (a: Item, b: Item): boolean => a.v < b.v || (a.v === b.v && a.seq > b.seq);
    for (let round = 0; round < 200; round++) {
      const heap = new BinaryHeap<Item>(before);
      const model: Item[] = [];
      for (let op = 0; op < 300; op++) {
        if (rnd(3) && op < 250) {
          const item = { v: rnd(20), seq: op };
          heap.push(item);
          model.push(item);
        } else {
          model.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
          assert.equal(heap.peek(), model[0]);
          assert.equal(heap.pop(), model.shift());
        }
        assert.equal(heap.size, model.length);
      }
    }
  });

  it('is empty after clear, and popping an empty heap gives undefined', () => {
    const heap = new BinaryHeap<number>((a, b) => a < b);
    [3, 1, 2].forEach((v) => heap.push(v));
    assert.equal(heap.pop(), 1);
    heap.clear();
    assert.equal(heap.size, 0);
    assert.equal(heap.pop(), undefined);
    assert.equal(heap.peek(), undefined);
  });
});
