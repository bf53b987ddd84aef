/**
 * `node test/bench/profile.ts PROVIDER [SIZE_MIB]` — one Ferry upload against the provider's bench
 * emulator under `node --cpu-prof`, then the functions with the most self time. The profile itself is
 * left in bench-results/profiles/ for Chrome DevTools. Not a benchmark: profiling slows Ferry down.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchFiles } from './lib/files.ts';
import { MiB, REPO_ROOT } from './lib/measure.ts';
import { startTarget, type ProviderId } from './suites/providers.ts';
import { ferryAccount, runFerry } from './suites/transfer.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const provider = (process.argv[2] ?? 'twentythree') as ProviderId;
const sizeMiB = Number(process.argv[3] ?? 256);
const files = await BenchFiles.create();
const outDir = join(REPO_ROOT, 'bench-results', 'profiles', `${provider}-${Date.now()}`);
await mkdir(outDir, { recursive: true });
const target = await startTarget(provider);
try {
  const src = await files.dir('src');
  const sources =
    provider === 'selfcommunity'
      ? await Promise.all(Array.from({ length: 40 }, (_, i) => files.random(src, `p-${i}.png`, 4_500_000)))
      : [await files.sparse(src, 'big.mp4', sizeMiB * MiB)];
  const setup = await ferryAccount(target, await files.dir('data'));
  const bytes = provider === 'selfcommunity' ? 40 * 4_500_000 : sizeMiB * MiB;
  const sample = await runFerry(target, setup, sources, bytes, ['--cpu-prof', '--cpu-prof-dir', outDir]);
  process.stdout.write(
    `${provider}: ${sample.mbPerSecond.toFixed(1)} MB/s, ${sample.cpuSecondsPerGiB?.toFixed(2)} CPU s/GiB (profiled)\n`,
  );
  const [name] = (await readdir(outDir)).filter((file) => file.endsWith('.cpuprofile'));
  if (!name) throw new Error('no profile was written');
  const profile = JSON.parse(await readFile(join(outDir, name), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  // Only the transfer: from the first sample with got on the stack to the last one, as the benchmark's
  // window (first request to last reply) leaves start-up and shutdown out.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const inGot = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (nodes.get(at)?.callFrame.url.includes('node_modules/got/')) return true;
    }
    return false;
  };
  const first = profile.samples.findIndex(inGot);
  const last = profile.samples.findLastIndex(inGot);
  const window = profile.samples.slice(Math.max(0, first), last + 1);
  const hitsOf = new Map<number, number>();
  for (const id of window) hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
  const total = window.length;
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = hitsOf.get(node.id) ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '');
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + hits);
    const group = file.startsWith('node_modules/')
      ? file.split('/').slice(0, 2).join('/')
      : file.startsWith('node:')
        ? file
        : file
          ? file.split('/').slice(0, 2).join('/')
          : `(${functionName})`;
    byFile.set(group, (byFile.get(group) ?? 0) + hits);
  }
  const top = (map: Map<string, number>, n: number): string =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`)
      .join('\n');
  process.stdout.write(
    `\nself time by function (${total} of ${profile.samples.length} samples, the transfer window):\n${top(self, 30)}\n\nby module:\n${top(byFile, 20)}\n\nprofile: ${join(outDir, name)}\n`,
  );
} finally {
  await target.close();
  await files.cleanup();
}
