#!/usr/bin/env node
import { main } from '../shared/node/cli/runner.js';
import { explorerCommands } from './cmds/run.js';

await main('mvb-explorer', explorerCommands, { app: 'tool' });
