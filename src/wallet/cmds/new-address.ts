// new-address <name>: a fresh secp256k1 key, saved as DATADIR/keys/<name>.pem (0600, written
// atomically, never overwriting), optionally encrypted with a passphrase; prints its address.
import { encodeAddress } from '../../shared/core/address.js';
import { toHex } from '../../shared/core/bytes.js';
import { CliError, command, flag } from '../../shared/node/cli/command.js';
import { checkNewKeyName } from '../../shared/node/store/keystore.js';
import { getPassphrase, openKeys } from '../keys.js';
import { WalletDb } from '../db/index.js';
import { colours, printJson } from '../terminal.js';
import { chainDir } from '../datadir.js';

export const newAddress = command({
  name: 'new-address',
  describe: 'create a key pair and print its address',
  args: ['<name>'],
  options: { encrypt: flag('--encrypt', `protect the key with a passphrase (from $MVB_PASSPHRASE, else asked)`) },
  async handler([name], opts, ctx) {
    const ks = openKeys(ctx);
    checkNewKeyName(name!);
    const taken = ks.names().find((n) => n.toLowerCase() === name!.toLowerCase());
    if (taken !== undefined) throw new CliError(`a key named "${taken}" already exists`);
    const passphrase = opts.encrypt ? await getPassphrase(ctx, `the new key "${name}"`, { confirm: true }) : undefined;
    const info = ks.create(name!, passphrase);
    const address = encodeAddress(info.pubkeyHash, ctx.settings.params.addressVersion);
    // Tell the coin index about the key now (nothing can have paid a brand-new key); if the
    // store cannot be opened here, the next command that opens it rescans instead.
    try {
      const db = WalletDb.openShared(chainDir(ctx.datadir));
      try {
        db.registerFreshKey(toHex(info.pubkeyHash));
      } finally {
        db.close();
      }
    } catch {
      /* best effort */
    }
    if (ctx.json) printJson(ctx, { name, address, encrypted: info.encrypted });
    else ctx.io.out(`${colours(ctx).bold(name!)} ${address}${info.encrypted ? ' (encrypted)' : ''}`);
    return 0;
  },
});
