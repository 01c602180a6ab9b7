#!/usr/bin/env node
import { main } from '../shared/node/cli/runner.js';
import { minerCommands } from './cmds/run.js';

await main('mvb-miner', minerCommands, { app: 'miner' });
