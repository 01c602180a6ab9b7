// Every `mvb-wallet` command, registered in one list (one module per command, Lodestar style).
import type { CliCommand } from '../shared/node/cli/runner.js';
import { history } from './cmds/history.js';
import { importKey } from './cmds/import-key.js';
import { listAddresses } from './cmds/list-addresses.js';
import { join } from './cmds/join.js';
import { light } from './cmds/light/index.js';
import { newAddress } from './cmds/new-address.js';
import { resync } from './cmds/resync.js';
import { send } from './cmds/send.js';
import { status } from './cmds/status.js';
import { sync } from './cmds/sync/index.js';

export const walletCommands: readonly CliCommand[] = [
  join,
  newAddress,
  importKey,
  listAddresses,
  send,
  sync,
  resync,
  status,
  history,
  light,
];
