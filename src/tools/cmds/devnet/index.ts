// `mvb devnet`: a local network in the background. Each subcommand is its own module with typed
// options: start, status, stop, fund.
import { commandGroup } from '../../../shared/node/cli/command.js';
import { fundCommand } from './fund.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { stopCommand } from './stop.js';

export const devnetCommand = commandGroup({
  name: 'devnet',
  describe: 'A local network in the background: `start`, `status`, `stop`, `fund`',
  subcommands: [startCommand, statusCommand, stopCommand, fundCommand],
});
