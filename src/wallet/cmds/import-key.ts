// import-key <name> <file>: imports an existing secp256k1 private key PEM (PKCS#8, encrypted
// PKCS#8 or SEC1 "EC PRIVATE KEY"). An encrypted key stays encrypted under the same passphrase; a
// plain one is stored plain unless --encrypt. The coin index is then rescanned for the key, so
// payments made to it before the import show up.
import { readFileSync } from 'node:fs';
import { encodeAddress } from '../../shared/core/address.js';
import { CliError, command, flag } from '../../shared/node/cli/command.js';
import { hash160 } from '../../shared/core/hash.js';
import { publicKeyOf } from '../../shared/core/ecdsa.js';
import { checkNewKeyName, isEncryptedPem, pemToSecret } from '../../shared/node/store/keystore.js';
import { equalBytes } from '../../shared/core/bytes.js';
import { formatCoins } from '../../shared/core/amount.js';
import { getPassphrase, localKeys, openKeys } from '../keys.js';
import { colours, printJson } from '../terminal.js';
import { withWallet } from '../wallet.js';

export const importKey = command({
  name: 'import-key',
  describe: 'import a private key from a PEM file (PKCS#8, encrypted PKCS#8 or SEC1)',
  args: ['<name>', '<file>'],
  options: { encrypt: flag('--encrypt', 'store an unencrypted key encrypted with a passphrase (from $MVB_PASSPHRASE, else asked)') },
  async handler([name, file], opts, ctx) {
    const version = ctx.settings.params.addressVersion;
    const ks = openKeys(ctx);
    checkNewKeyName(name!);
    const taken = ks.names().find((n) => n.toLowerCase() === name!.toLowerCase());
    if (taken !== undefined) throw new CliError(`a key named "${taken}" already exists`);
    let pem: string;
    try {
      pem = readFileSync(file!, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!pem.includes('-----BEGIN')) throw new CliError(`${file} is not a PEM file`);
    let passphrase: string | undefined;
    let secret: Uint8Array;
    if (isEncryptedPem(pem)) {
      passphrase = await getPassphrase(ctx, `the key file ${file}`);
      secret = pemToSecret(pem, passphrase);
    } else {
      secret = pemToSecret(pem);
      if (opts.encrypt) passphrase = await getPassphrase(ctx, `the imported key "${name}"`, { confirm: true });
    }
    const pkh = hash160(publicKeyOf(secret));
    const dup = localKeys(ks, version).find((k) => equalBytes(k.pubkeyHash, pkh));
    if (dup) throw new CliError(`this key is already in the wallet as "${dup.name}"`);
    const info = ks.save(name!, secret, passphrase);
    const address = encodeAddress(info.pubkeyHash, version);
    // Past payments to the key: the index picks them up from the local chain now.
    let found: { coins: number; balance: bigint } | undefined;
    try {
      found = await withWallet(ctx, ({ db }) => {
        const mine = db.walletCoins().filter((c) => equalBytes(Buffer.from(c.pkh, 'hex'), pkh));
        return { coins: mine.length, balance: mine.reduce((a, c) => a + BigInt(c.value), 0n) };
      });
    } catch {
      /* the next command that opens the wallet rescans */
    }
    if (ctx.json) {
      printJson(ctx, { name, address, encrypted: info.encrypted, ...(found ? { balance: formatCoins(found.balance) } : {}) });
    } else {
      ctx.io.out(`${colours(ctx).bold(name!)} ${address}${info.encrypted ? ' (encrypted)' : ''}`);
      if (found && found.coins > 0)
        ctx.io.out(`found ${found.coins} unspent output(s) worth ${formatCoins(found.balance)} in the local chain`);
    }
    return 0;
  },
});
