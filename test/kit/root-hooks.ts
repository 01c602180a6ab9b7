// Mocha root hooks (loaded by .mocharc.json's "require"): a stopped run stops what it started,
// and a finished one stops anything a failed test left behind (see processes.ts).
import { installSignalHandlers, stopAllTracked } from './processes.js';

export const mochaHooks = {
  beforeAll(): void {
    installSignalHandlers();
  },
  afterAll(): void {
    stopAllTracked();
  },
};
