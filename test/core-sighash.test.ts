// Legacy signature hashes against Bitcoin Core's src/test/data/sighash.json: 500 random
// transactions, script codes, input indices and hash types, each with the hash Core computes.
import assert from 'node:assert/strict';
import { decodeTx, fromHex, hashToHex, legacySighash, encodeTx, toHex } from '../src/shared/core/index.js';
import { loadVector } from './kit/vectors.js';

type SighashCase = [rawTx: string, scriptCode: string, inputIndex: number, hashType: number, expected: string];

describe('core: legacy sighash (Bitcoin Core sighash.json)', () => {
  const rows = loadVector<unknown[][]>('bitcoin-core/sighash.json');
  // The first row is a header naming the columns; every test row has five fields.
  const cases = rows.filter((r): r is SighashCase => r.length === 5);

  it('holds 500 cases', () => {
    assert.equal(cases.length, 500);
    assert.equal(rows.length - cases.length, 1, 'only the header row is not a case');
  });

  it('reproduces every signature hash', () => {
    let negativeHashTypes = 0;
    for (const [k, [rawTx, scriptHex, inputIndex, hashType, expected]] of cases.entries()) {
      // hashType is Core's signed int32 nHashType; it is serialized as 4 little-endian bytes.
      assert.ok(Number.isInteger(hashType) && hashType >= -0x80000000 && hashType <= 0x7fffffff, `case ${k}: hashType is an int32`);
      if (hashType < 0) negativeHashTypes++;
      const tx = decodeTx(fromHex(rawTx));
      assert.equal(toHex(encodeTx(tx)), rawTx, `case ${k}: tx round trip`);
      const got = legacySighash(tx, inputIndex, fromHex(scriptHex), hashType);
      assert.equal(hashToHex(got), expected, `case ${k}: sighash (input ${inputIndex}, hashType ${hashType})`);
    }
    // The file exercises the sign bit of nHashType; make sure the loop really covered that.
    assert.ok(negativeHashTypes > 0);
  });
});
