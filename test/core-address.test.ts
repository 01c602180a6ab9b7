// Base58 and Base58Check P2PKH addresses against Bitcoin Core's base58_encode_decode.json,
// key_io_valid.json and key_io_invalid.json, and bitcoinjs-lib's address.json.
import assert from 'node:assert/strict';
import { AddressError, base58, decodeAddress, encodeAddress, fromHex, toHex } from '../src/shared/core/index.js';
import { loadVector } from './kit/vectors.js';

/** Bitcoin's base58 version bytes (chainparams.cpp): P2PKH and P2SH per chain. */
const P2PKH_VERSION: Record<string, number> = { main: 0, test: 111, signet: 111, regtest: 111 };
const ALL_BITCOIN_ADDRESS_VERSIONS = new Set([0, 5, 111, 196]);

const P2PKH_SCRIPT = /^76a914([0-9a-f]{40})88ac$/;

function decodeOrError(s: string): { version: number; hash160: Uint8Array } | Error {
  try {
    return decodeAddress(s);
  } catch (e) {
    return e as Error;
  }
}

describe('core: base58 (Bitcoin Core base58_encode_decode.json)', () => {
  const cases = loadVector<[string, string][]>('bitcoin-core/base58_encode_decode.json');

  it('encodes every case', () => {
    assert.equal(cases.length, 14);
    for (const [hex, b58] of cases) assert.equal(base58.encode(fromHex(hex)), b58, hex);
  });

  it('decodes every case', () => {
    for (const [hex, b58] of cases) assert.equal(toHex(base58.decode(b58)), hex, b58);
  });
});

describe('core: addresses (Bitcoin Core key_io_valid.json)', () => {
  type Entry = [string, string, { isPrivkey: boolean; chain: string; tryCaseFlip?: boolean }];
  const entries = loadVector<Entry[]>('bitcoin-core/key_io_valid.json');
  const p2pkh = entries.filter(([, script, m]) => !m.isPrivkey && P2PKH_SCRIPT.test(script));

  it('decodes every P2PKH address to its chain version and hash160, and re-encodes it', () => {
    assert.ok(p2pkh.length > 0);
    for (const [addr, script, meta] of p2pkh) {
      const version = P2PKH_VERSION[meta.chain];
      assert.ok(version !== undefined, `unknown chain ${meta.chain}`);
      const hash = P2PKH_SCRIPT.exec(script)![1]!;
      const d = decodeAddress(addr);
      assert.equal(d.version, version, addr);
      assert.equal(toHex(d.hash160), hash, addr);
      assert.equal(encodeAddress(fromHex(hash), version), addr);
    }
  });

  it('never reads another kind of key or address as a P2PKH address of its chain', () => {
    // P2SH addresses decode (21 bytes) but with the P2SH version; WIF private keys carry 33 or
    // 34 bytes and segwit addresses are bech32, so decodeAddress rejects both.
    for (const [s, script, meta] of entries) {
      if (!meta.isPrivkey && P2PKH_SCRIPT.test(script)) continue;
      const d = decodeOrError(s);
      if (d instanceof Error) {
        assert.ok(d instanceof AddressError, `${s}: ${d.name}`);
        continue;
      }
      assert.ok(!meta.isPrivkey, `${s}: a private key must not decode as an address`);
      assert.notEqual(d.version, P2PKH_VERSION[meta.chain], `${s} (${script}) decoded with the P2PKH version`);
    }
  });
});

describe('core: addresses (Bitcoin Core key_io_invalid.json)', () => {
  const strings = loadVector<[string][]>('bitcoin-core/key_io_invalid.json').map((r) => r[0]);

  it('rejects every string, or decodes it only to a version no Bitcoin chain uses', () => {
    assert.equal(strings.length, 60);
    let rejected = 0;
    for (const s of strings) {
      const d = decodeOrError(s);
      if (d instanceof Error) {
        assert.ok(d instanceof AddressError, `${s}: threw ${d.name}, not AddressError`);
        rejected++;
        continue;
      }
      // decodeAddress checks alphabet, checksum and length only; the version byte is the
      // caller's to compare with its network's. Core rejects these few because their version is
      // none of its chains' prefixes, so assert exactly that.
      assert.equal(d.hash160.length, 20);
      assert.ok(!ALL_BITCOIN_ADDRESS_VERSIONS.has(d.version), `${s} decoded with Bitcoin version ${d.version}`);
    }
    assert.ok(rejected > strings.length / 2, 'most invalid strings fail in decodeAddress itself');
  });
});

describe('core: addresses (bitcoinjs-lib address.json)', () => {
  interface Standard {
    network: string;
    version: number;
    hash?: string;
    base58check?: string;
    bech32?: string;
  }
  const data = loadVector<{ standard: Standard[]; invalid: { fromBase58Check: { address: string; exception: string }[] } }>(
    'bitcoinjs/address.json',
  );

  it('decodes and encodes every Base58Check address (any version byte)', () => {
    const b58 = data.standard.filter((x) => x.base58check !== undefined);
    assert.ok(b58.length > 0);
    for (const x of b58) {
      const d = decodeAddress(x.base58check!);
      assert.equal(d.version, x.version, x.base58check);
      assert.equal(toHex(d.hash160), x.hash, x.base58check);
      assert.equal(encodeAddress(fromHex(x.hash!), x.version), x.base58check);
    }
  });

  it('rejects bech32 addresses and Base58Check payloads of the wrong length', () => {
    for (const x of data.standard.filter((s) => s.bech32 !== undefined))
      assert.throws(() => decodeAddress(x.bech32!), AddressError, x.bech32);
    assert.ok(data.invalid.fromBase58Check.length > 0);
    for (const x of data.invalid.fromBase58Check)
      assert.throws(() => decodeAddress(x.address), AddressError, `${x.address} (${x.exception})`);
  });

  it('refuses to encode a hash that is not 20 bytes or a version that is not a byte', () => {
    assert.throws(() => encodeAddress(new Uint8Array(19), 0), AddressError);
    assert.throws(() => encodeAddress(new Uint8Array(20), 256), AddressError);
  });
});

describe('core: decodeAddress names what is wrong (AddressError.reason)', () => {
  // 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 is the P2PKH address in bitcoinjs-lib's address.json (version 0).
  const good = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2';
  const reasonOf = (s: string, v?: number): string | undefined => {
    try {
      decodeAddress(s, v);
      return undefined;
    } catch (e) {
      assert.ok(e instanceof AddressError, String(e));
      return e.reason;
    }
  };

  it('alphabet, length, checksum and version', () => {
    assert.equal(reasonOf(good, 0), undefined);
    assert.equal(reasonOf(good.replace('B', '0')), 'alphabet');
    assert.equal(reasonOf(good.slice(0, -3)), 'length');
    assert.equal(reasonOf('1'.repeat(65)), 'length');
    assert.equal(reasonOf(good.slice(0, -1) + (good.endsWith('2') ? '3' : '2')), 'checksum');
    assert.equal(reasonOf(good, 111), 'version');
  });

  it('reports the byte count and the version byte it found', () => {
    assert.throws(
      () => decodeAddress(good, 30),
      (e: unknown) => e instanceof AddressError && e.found === 0,
    );
    assert.throws(
      () => decodeAddress(encodeAddress(new Uint8Array(20), 5).slice(0, -2)),
      (e: unknown) => e instanceof AddressError && e.reason === 'length' && typeof e.found === 'number' && e.found < 25,
    );
  });
});
