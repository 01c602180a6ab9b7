// How the wallet's commands print: colour only on a real terminal (chalk's detection, NO_COLOR
// honoured, never when output is captured), tables through cli-table3, JSON, and small formatters
// for hashes, times and ages.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { type CommandContext, processOutput } from '../shared/node/cli/runner.js';

/** Whether output goes to an interactive terminal (not captured, not piped). */
export function isTerminal(ctx: CommandContext): boolean {
  return ctx.io === processOutput && process.stdout.isTTY === true;
}

export function colours(ctx: CommandContext): ChalkInstance {
  const off = ctx.io !== processOutput || (ctx.env['NO_COLOR'] !== undefined && ctx.env['NO_COLOR'] !== '');
  return new Chalk({ level: off ? 0 : chalk.level });
}

export function table(ctx: CommandContext, head: string[], aligns: ('left' | 'right' | 'center')[]): Table.Table {
  const c = colours(ctx);
  return new Table({ head: head.map((h) => c.bold(h)), colAligns: aligns, style: { head: [], border: [], compact: true } });
}

export function shortHash(h: string, n = 16): string {
  return h.length > n ? `${h.slice(0, n)}…` : h;
}

/** Local time as "2026-11-23 14:05:09". */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function printJson(ctx: CommandContext, v: unknown): void {
  ctx.io.out(JSON.stringify(v, null, 2));
}
