// light balance: what the light wallet proved, rechecked against its headers as they are now; no
// network, no server's figure.
import { CliError, command } from '../../../shared/node/cli/command.js';
import { createWalletHint } from '../../datadir.js';
import { localKeys, openKeys } from '../../keys.js';
import { printJson } from '../../terminal.js';
import { LightHeaders } from '../../light/headers.js';
import { balanceJson, lightBalance, printBalance } from '../../light/report.js';
import { chainStoreExists } from '../../../shared/node/store/lmdb-store.js';
import { lightDir } from '../../light/headers.js';

export function openExistingLight(datadir: string, params: Parameters<typeof LightHeaders.open>[1]): LightHeaders {
  if (!chainStoreExists(lightDir(datadir)))
    throw new CliError(`no light wallet headers in ${lightDir(datadir)}: run \`mvb-wallet --datadir ${datadir} light sync\` first`);
  return LightHeaders.open(datadir, params);
}

export const lightBalanceCommand = command({
  name: 'balance',
  readsDataDir: createWalletHint,
  describe: "each local address's balance from proven transactions only",
  async handler(_args, _opts, ctx) {
    const keys = localKeys(openKeys(ctx), ctx.settings.params.addressVersion);
    const headers = openExistingLight(ctx.datadir, ctx.settings.params);
    try {
      const b = lightBalance(headers, keys, ctx.settings.params.coinbaseMaturity);
      if (ctx.json) printJson(ctx, balanceJson(headers, b));
      else printBalance(ctx, headers, b);
      return 0;
    } finally {
      headers.close();
    }
  },
});
