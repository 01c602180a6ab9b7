// Coin selection order: larger coins first (fewest inputs); among equal values, the most confirmed
// first, so a payment does not hang on the last few blocks and survives their reorganisation.
import assert from 'node:assert/strict';
import type { WalletCoin } from '../src/wallet/db/index.js';
import { byValueThenDepth } from '../src/wallet/spend.js';

const coin = (outpoint: string, value: string, height: number): WalletCoin => ({ outpoint, value, height, coinbase: true, pkh: '00' });

describe('wallet: coin selection order', () => {
  it('larger value first, then lower height, then outpoint', () => {
    const coins = [
      coin('c:0', '5000000000', 12),
      coin('a:0', '5000000000', 3),
      coin('b:1', '7000000000', 20),
      coin('b:0', '5000000000', 3),
      coin('d:0', '100', 1),
    ];
    assert.deepEqual(
      [...coins].sort(byValueThenDepth).map((c) => c.outpoint),
      ['b:1', 'a:0', 'b:0', 'c:0', 'd:0'],
    );
  });

  it('is a total order: equal coins compare 0 and the order does not depend on the input order', () => {
    const a = coin('a:0', '1', 1);
    assert.equal(byValueThenDepth(a, { ...a }), 0);
    const coins = [coin('x:0', '9', 9), coin('y:0', '9', 2), coin('z:0', '8', 1)];
    const once = [...coins].sort(byValueThenDepth).map((c) => c.outpoint);
    assert.deepEqual(
      [...coins]
        .reverse()
        .sort(byValueThenDepth)
        .map((c) => c.outpoint),
      once,
    );
    assert.deepEqual(once, ['y:0', 'x:0', 'z:0']);
  });
});
