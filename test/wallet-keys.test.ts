import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../src/shared/core/address.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import { pemToSecret } from '../src/shared/node/store/keystore.js';
import { removeDir, tempDir } from './kit/procs.js';
import { wallet } from './kit/wallet-net.js';

const DEVNET_VERSION = 30;
const NO_SETS = {};

function addressOfPem(pem: string, passphrase?: string): string {
  return encodeAddress(hash160(publicKeyOf(pemToSecret(pem, passphrase))), DEVNET_VERSION);
}

describe('wallet keys: new-address and import-key', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('wallet-keys');
  });
  afterEach(() => removeDir(dir));

  it('a wrong passphrase is "wrong passphrase" for 300 encrypted keys, also when the AES padding passes by chance (about 1 in 256)', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: `right ${i}` }) as string;
      assert.throws(() => pemToSecret(pem, 'wrong'), /^KeyError: wrong passphrase$|wrong passphrase/, `key ${i}`);
      refused++;
    }
    assert.equal(refused, 300);
  });

  it('new-address saves a 0600 PEM named after the key and prints its address', async () => {
    const r = await wallet(dir, NO_SETS, ['new-address', 'alice']);
    assert.equal(r.code, 0, r.err);
    const [name, address] = r.out.trim().split(/\s+/);
    assert.equal(name, 'alice');
    assert.equal(decodeAddress(address!).version, DEVNET_VERSION);
    const pem = join(dir, 'keys', 'alice.pem');
    assert.equal(statSync(pem).mode & 0o777, 0o600);
    assert.match(readFileSync(pem, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
    assert.equal(addressOfPem(readFileSync(pem, 'utf8')), address);
    const j = await wallet(dir, NO_SETS, ['new-address', 'bob', '--json']);
    const info = JSON.parse(j.out) as { name: string; address: string; encrypted: boolean };
    assert.deepEqual({ name: info.name, encrypted: info.encrypted }, { name: 'bob', encrypted: false });
    assert.notEqual(info.address, address);
  });

  it('keeps names unique and refuses invalid ones', async () => {
    assert.equal((await wallet(dir, NO_SETS, ['new-address', 'alice'])).code, 0);
    const before = readFileSync(join(dir, 'keys', 'alice.pem'), 'utf8');
    const dup = await wallet(dir, NO_SETS, ['new-address', 'alice']);
    assert.equal(dup.code, 1);
    assert.match(dup.err, /^error: a key named "alice" already exists$/m);
    const dupCase = await wallet(dir, NO_SETS, ['new-address', 'ALICE']);
    assert.equal(dupCase.code, 1);
    assert.match(dupCase.err, /already exists/);
    assert.equal(readFileSync(join(dir, 'keys', 'alice.pem'), 'utf8'), before, 'the existing key is untouched');
    for (const bad of ['../evil', 'a b', '.hidden', '-x', 'x.pub', 'x'.repeat(65), 'a/b', 'ü', '']) {
      const r = await wallet(dir, NO_SETS, ['new-address', '--', bad]);
      assert.equal(r.code, 1, bad);
      assert.match(r.err, /invalid name/, bad);
    }
    assert.deepEqual(readdirSync(join(dir, 'keys')).sort(), ['alice.pem', 'alice.pub.pem']);
    assert.ok(!existsSync(join(dir, 'evil.pem')));
  });

  it('--encrypt stores encrypted PKCS#8; signing needs the right passphrase', async () => {
    const noPass = await wallet(dir, NO_SETS, ['new-address', 'vault', '--encrypt']);
    assert.equal(noPass.code, 1);
    assert.match(noPass.err, /needs a passphrase: set MVB_PASSPHRASE or run in a terminal/);
    assert.ok(!existsSync(join(dir, 'keys', 'vault.pem')), 'nothing saved without a passphrase');

    const r = await wallet(dir, NO_SETS, ['new-address', 'vault', '--encrypt'], { env: { MVB_PASSPHRASE: 'correct horse' } });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\(encrypted\)/);
    const pem = readFileSync(join(dir, 'keys', 'vault.pem'), 'utf8');
    assert.match(pem, /-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(addressOfPem(pem, 'correct horse'), r.out.split(/\s+/)[1]);

    // The passphrase is checked before anything else about the payment.
    const none = await wallet(dir, NO_SETS, ['send', 'vault', '1', 'vault']);
    assert.equal(none.code, 1);
    assert.match(none.err, /key "vault" needs a passphrase/);
    const wrong = await wallet(dir, NO_SETS, ['send', 'vault', '1', 'vault'], { env: { MVB_PASSPHRASE: 'wrong' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^error: wrong passphrase$/m);
    const right = await wallet(dir, NO_SETS, ['send', 'vault', '1', 'vault'], { env: { MVB_PASSPHRASE: 'correct horse' } });
    assert.equal(right.code, 1);
    assert.match(right.err, /insufficient funds: vault has 0\.00000000 spendable/, 'unlocked, then stopped for lack of funds');
  });

  it('import-key takes PKCS#8, SEC1 and encrypted PKCS#8, keeping encryption state', async () => {
    const kp = () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    const files: Record<string, string> = {
      pkcs8: kp().export({ type: 'pkcs8', format: 'pem' }) as string,
      sec1: kp().export({ type: 'sec1', format: 'pem' }) as string,
      enc: kp().export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw1' }) as string,
      plainToEnc: kp().export({ type: 'pkcs8', format: 'pem' }) as string,
      p256: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      junk: 'hello\n',
    };
    for (const [n, text] of Object.entries(files)) writeFileSync(join(dir, `${n}.pem`), text);
    const imp = (name: string, file: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      wallet(dir, NO_SETS, ['import-key', name, join(dir, `${file}.pem`), ...extra], { env });

    const a = await imp('a', 'pkcs8');
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out.split(/\s+/)[1], addressOfPem(files['pkcs8']!));
    assert.match(readFileSync(join(dir, 'keys', 'a.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
    assert.equal(statSync(join(dir, 'keys', 'a.pem')).mode & 0o777, 0o600);

    const b = await imp('b', 'sec1');
    assert.equal(b.code, 0, b.err);
    assert.equal(b.out.split(/\s+/)[1], addressOfPem(files['sec1']!));

    const encNoPass = await imp('c', 'enc');
    assert.match(encNoPass.err, /needs a passphrase/);
    const encWrong = await imp('c', 'enc', [], { MVB_PASSPHRASE: 'nope' });
    assert.equal(encWrong.code, 1);
    assert.match(encWrong.err, /wrong passphrase/);
    const c = await imp('c', 'enc', [], { MVB_PASSPHRASE: 'pw1' });
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /\(encrypted\)/);
    const storedC = readFileSync(join(dir, 'keys', 'c.pem'), 'utf8');
    assert.match(storedC, /ENCRYPTED PRIVATE KEY/);
    assert.equal(addressOfPem(storedC, 'pw1'), addressOfPem(files['enc']!, 'pw1'), 'same key, same passphrase');

    const d = await imp('d', 'plainToEnc', ['--encrypt'], { MVB_PASSPHRASE: 'pw2' });
    assert.equal(d.code, 0, d.err);
    assert.equal(addressOfPem(readFileSync(join(dir, 'keys', 'd.pem'), 'utf8'), 'pw2'), addressOfPem(files['plainToEnc']!));

    const again = await imp('a2', 'pkcs8');
    assert.equal(again.code, 1);
    assert.match(again.err, /already in the wallet as "a"/);
    assert.match((await imp('a', 'sec1')).err, /a key named "a" already exists/);
    assert.match((await imp('e', 'p256')).err, /not on secp256k1/);
    assert.match((await imp('e', 'junk')).err, /not a PEM file/);
    assert.match((await imp('e', 'missing')).err, /cannot read .*ENOENT/);

    const list = await wallet(dir, NO_SETS, ['list-addresses', '--json']);
    assert.equal(list.code, 0, list.err);
    const names = (JSON.parse(list.out) as { name: string }[]).map((x) => x.name);
    assert.deepEqual(names, ['a', 'b', 'c', 'd']);
  });
});
