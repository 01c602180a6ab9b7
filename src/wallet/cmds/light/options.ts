// The light wallet's shared options, parsed and bounded in one place: explorers (Esplora base
// URLs), block servers (HOST:PORT), and the deadlines.
import { CliError, listOption, numberOption } from '../../../shared/node/cli/command.js';
import type { BlockServerAddr } from '../../light/header-sync.js';
import { MAX_SERVERS } from '../../light/header-sync.js';
import { MAX_EXPLORERS } from '../../light/scan.js';

export const EXPLORER_OPTION = listOption(
  '--explorer <url>',
  `an explorer's base URL speaking Esplora's REST API (mvb explorer, electrs), repeatable up to ${MAX_EXPLORERS}: a second one shows payments the first hides`,
);

export const LIGHT_OPTIONS = {
  explorer: EXPLORER_OPTION,
  peer: listOption(
    '--peer <host:port>',
    `a miner's block server to ask for headers, repeatable up to ${MAX_SERVERS} (default: those heard announcing on the status port)`,
  ),
  timeout: numberOption(
    '--timeout <seconds>',
    'deadline of each request, and of the wait for a first miner on the status port',
    1,
    3600,
    10,
  ),
  deadline: numberOption('--deadline <seconds>', 'stop after this long in all', 1, 86400, 300),
};

export function parseExplorers(list: readonly string[], need: boolean): string[] {
  if (need && list.length === 0) throw new CliError('give at least one --explorer URL (an Esplora API, e.g. http://127.0.0.1:3000)', 2);
  if (list.length > MAX_EXPLORERS) throw new CliError(`at most ${MAX_EXPLORERS} --explorer URLs`, 2);
  return list.map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new CliError(`invalid --explorer "${u.slice(0, 100)}": expected a URL such as http://127.0.0.1:3000`, 2);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || u.length > 2048 || url.search || url.hash)
      throw new CliError(`invalid --explorer "${u.slice(0, 100)}": expected an http(s) base URL without query`, 2);
    return u.replace(/\/+$/, '');
  });
}

export function parsePeers(list: readonly string[]): BlockServerAddr[] {
  if (list.length > MAX_SERVERS) throw new CliError(`at most ${MAX_SERVERS} --peer block servers`, 2);
  return list.map((p) => {
    const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]{2,39}\]):(\d{1,5})$/.exec(p);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new CliError(`invalid --peer "${p.slice(0, 100)}": expected HOST:PORT of a block server`, 2);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}
