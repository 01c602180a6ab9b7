#!/usr/bin/env node
import { main } from '../shared/node/cli/runner.js';
import { mvbCommands } from './commands.js';

await main('mvb', mvbCommands, { app: 'tool', description: 'mvb tools: demo network, devnet, simulator, benchmarks' });
