#!/usr/bin/env node
// The lab app: `mvb lab ...` runs this (src/tools/cmds/lab.ts), as `mvb-lab` would.
import { main } from '../shared/node/cli/runner.js';
import { labCommands } from './cmds/run.js';

await main('mvb lab', labCommands, {
  app: 'tool',
  description: 'mvb network lab: real nodes over emulated links (needs root, iproute2, python3)',
});
