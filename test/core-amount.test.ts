import assert from 'node:assert/strict';
import { AmountError, formatCoins, formatSigned, parseCoins } from '../src/shared/core/amount.js';

describe('wallet amounts', () => {
  it('parses decimal coin strings exactly into base units', () => {
    assert.equal(parseCoins('12.5'), 1_250_000_000n);
    assert.equal(parseCoins('0.00000001'), 1n);
    assert.equal(parseCoins('1'), 100_000_000n);
    assert.equal(parseCoins('0'), 0n);
    assert.equal(parseCoins('21000000'), 2_100_000_000_000_000n);
    assert.equal(parseCoins('20999999.99999999'), 2_099_999_999_999_999n);
    assert.equal(parseCoins('0.1'), 10_000_000n);
    assert.equal(parseCoins('0.30000000'), 30_000_000n);
    assert.equal(parseCoins('007.5'), 750_000_000n);
    // Issue 12: ".5" is how many people write half a coin.
    assert.equal(parseCoins('.5'), 50_000_000n);
  });

  it('rejects more than 8 decimals, negatives, exponents and junk', () => {
    for (const bad of [
      '1.123456789',
      '-1',
      '-0.5',
      '1e3',
      '1E-8',
      'abc',
      '',
      ' 1',
      '1 ',
      '1.',
      '.',
      '.x',
      '+1',
      '0x10',
      '1,5',
      '1.2.3',
      'NaN',
      'Infinity',
      '21000000.00000001',
      '99999999999999999999',
    ]) {
      assert.throws(() => parseCoins(bad), AmountError, bad);
    }
    assert.throws(() => parseCoins('1.123456789'), /at most 8 decimals/);
    assert.throws(() => parseCoins('-1'), /negative/);
  });

  it('prints 8 decimals, signed where asked', () => {
    assert.equal(formatCoins(1_250_000_000n), '12.50000000');
    assert.equal(formatCoins(1n), '0.00000001');
    assert.equal(formatCoins(0n), '0.00000000');
    assert.equal(formatCoins(-100_010_000n), '-1.00010000');
    assert.equal(formatSigned(100_000_000n), '+1.00000000');
    assert.equal(formatSigned(-100_010_000n), '-1.00010000');
    assert.equal(formatSigned(0n), '0.00000000');
    for (const s of ['0.00000001', '12.50000000', '20999999.99999999']) assert.equal(formatCoins(parseCoins(s)), s);
  });
});
