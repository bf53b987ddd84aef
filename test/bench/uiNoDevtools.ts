/**
 * The queue's first load without DevTools attached: Playwright (and any CDP client) changes what the
 * page does (its selector engine, V8 re-parsing modules for source positions), so here Chromium is
 * started on its own, headless, with startup tracing, on a fresh profile per load (on a small page that
 * moves on to the queue's address 1.5 s later, after the browser's own start-up), and the figures
 * come from the trace: the end of the task that inserts the rows (React's first render with rows, the
 * longest script task after the bundle's evaluation) and the first contentful paint, both from
 * navigation start. A/B of two checkouts, alternating, each served by its own `ferry serve`.
 *
 *   node test/bench/uiNoDevtools.ts --a /work/main --b . [--reps 5] [--jobs 100000]
 *
 * Not a test; prints only.
 */
import { cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe, type ServeProcess } from '../e2e/support/ferryServe.ts';
import { BenchFiles } from './lib/files.ts';
import { median } from './lib/measure.ts';
import { loadsWithoutDevtools, type NoDevtoolsLoad } from './lib/noDevtools.ts';
import { seedQueue } from '../support/seedQueue.ts';

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    reps: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '100000' },
  },
});
if (!flags.a || !flags.b) throw new Error('uiNoDevtools needs --a DIR and --b DIR (two checkouts)');
const files = await BenchFiles.create();
const sandbox = await startSelfCommunitySandbox();
const seeded = await files.dir('no-devtools/data');
await seedQueue(seeded, Number(flags.jobs), sandbox.url);
const serves: Record<string, ServeProcess> = {};
for (const [name, root] of [
  ['A', flags.a],
  ['B', flags.b],
] as const) {
  const dir = await files.dir(`no-devtools/data-${name}`);
  await cp(seeded, dir, { recursive: true });
  serves[name] = await startFerryServe(dir, {}, join(resolve(root), 'bin', 'ferry.js'));
}

const results: Record<string, NoDevtoolsLoad[]> = { A: [], B: [] };
try {
  for (let rep = 0; rep < Number(flags.reps); rep += 1)
    for (const name of rep % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
      const [result] = await loadsWithoutDevtools(files, serves[name]!.url, 1);
      if (!result) throw new Error('no load');
      results[name]!.push(result);
      console.log(
        `${name} rep ${rep + 1}: rows in ${result.rows.toFixed(0)} ms (render task ${result.renderCpu.toFixed(0)} ms CPU, evaluation ${result.evaluateCpu.toFixed(0)} ms CPU), first contentful paint ${result.fcp.toFixed(0)} ms`,
      );
    }
} finally {
  for (const served of Object.values(serves)) await served.close();
  await sandbox.close();
  await files.cleanup();
}
const m = (name: string, key: keyof NoDevtoolsLoad): number => median(results[name]!.map((r) => r[key]));
for (const name of ['A', 'B'])
  console.log(
    `${name} medians: rows ${m(name, 'rows').toFixed(0)} ms, first contentful paint ${m(name, 'fcp').toFixed(0)} ms, render ${m(name, 'renderCpu').toFixed(1)} ms CPU, evaluation ${m(name, 'evaluateCpu').toFixed(1)} ms CPU`,
  );
console.log(
  `B/A: rows ${(m('B', 'rows') / m('A', 'rows')).toFixed(2)}, first contentful paint ${(m('B', 'fcp') / m('A', 'fcp')).toFixed(2)}`,
);
