/**
 * One engine per data folder, whatever happens to processes and pids: the engine lock is held through
 * the operating system's file locks, so a killed holder frees it at once (even as an unreaped zombie),
 * a pid file naming some live unrelated process blocks nothing, and two processes starting together
 * never both get it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, LockedError, PID_FILE, acquireRunLock } from '../../main/engine/runLock.ts';
import { Fixtures, REPO_ROOT, sleep } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
const children: ChildProcess[] = [];
/** Holders started under a `sleep`: not our children, so killed by pid. */
const holders: number[] = [];

afterEach(async () => {
  for (const pid of holders.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await fixtures.cleanup();
});

/**
 * A process that takes the lock of LOCK_DIR. `hold`: takes it at once, prints "locked PID" and keeps
 * it until killed. `race`: prints "ready", then for each line on stdin: "try" tries and prints
 * "won PID" or "lost"; "release" lets go of a lock it holds and prints "released". `hold` does not keep
 * the RunLock it gets, on purpose: the lock must hold all the same.
 */
const HOLDER = `
import { acquireRunLock, LockedError } from ${JSON.stringify(join(REPO_ROOT, 'main/engine/runLock.ts'))};
import { createInterface } from 'node:readline';
const dir = process.env.LOCK_DIR;
const attempt = () => {
  try { acquireRunLock(dir); return true; }
  catch (error) { if (error instanceof LockedError) return false; throw error; }
};
if (process.env.MODE === 'hold') {
  if (attempt()) process.stdout.write('locked ' + process.pid + '\\n'); else process.stdout.write('refused\\n');
  setInterval(() => {}, 60_000);
} else {
  const held = [];
  createInterface({ input: process.stdin }).on('line', (command) => {
    if (command === 'try') {
      try { held.push(acquireRunLock(dir)); process.stdout.write('won ' + process.pid + '\\n'); }
      catch (error) { if (!(error instanceof LockedError)) throw error; process.stdout.write('lost\\n'); }
    } else {
      for (const lock of held.splice(0)) lock.release();
      process.stdout.write('released\\n');
    }
  });
  process.stdout.write('ready\\n');
}
`;

function holderArgs(): string[] {
  return ['--input-type=module', '--no-warnings', '-e', HOLDER];
}

/** Resolves with the first line the child prints that matches `pattern`; bounded by `ms`. */
function line(child: ChildProcess, pattern: RegExp, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (piece: string): void => {
      text += piece;
      const found = text.split('\n').find((candidate) => pattern.test(candidate));
      if (found === undefined) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(found);
    };
    const timer = setTimeout(() => {
      child.stdout!.off('data', onData);
      reject(new Error(`no line matching ${pattern} within ${ms} ms; got ${JSON.stringify(text)}`));
    }, ms);
    child.stdout!.setEncoding('utf8').on('data', onData);
  });
}

/**
 * Starts a holder whose parent is a `sleep` that never waits for it: once killed, the holder stays a
 * zombie (its pid still answers kill(pid, 0)) until the sleep ends.
 */
function holderUnderSleep(dir: string): ChildProcess {
  const quoted = holderArgs()
    .map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(' ');
  const shell = spawn('sh', ['-c', `'${process.execPath}' ${quoted} & exec sleep 120`], {
    env: { ...process.env, LOCK_DIR: dir, MODE: 'hold' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(shell);
  return shell;
}

function processState(pid: number): string | null {
  try {
    return /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

describe('the engine lock', () => {
  it('refuses a second holder, names the first one, and is free again once released', async () => {
    const dir = await fixtures.tempDir('ferry-lock-');
    const first = acquireRunLock(dir);
    let refused: unknown;
    try {
      acquireRunLock(dir);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(LockedError);
    expect((refused as LockedError).message).toBe(
      `Another Ferry (pid ${process.pid}) is already uploading from ${dir}`,
    );
    first.release();
    acquireRunLock(dir).release();
  });

  it.runIf(process.platform === 'linux')(
    'is taken over at once after kill -9, 20 times in a row, while each killed holder is still an unreaped zombie',
    async () => {
      const dir = await fixtures.tempDir('ferry-lock-');
      let holder = holderUnderSleep(dir);
      let pid = Number((await line(holder, /^(locked|refused)/)).split(' ')[1]);
      expect(pid).toBeGreaterThan(0);
      holders.push(pid);
      for (let round = 1; round <= 20; round += 1) {
        process.kill(pid, 'SIGKILL');
        for (let waited = 0; processState(pid) !== 'Z' && waited < 5_000; waited += 10) await sleep(10);
        // The old pid check took a zombie for a live Ferry and refused forever.
        expect(processState(pid), `holder ${pid} of round ${round} is a zombie`).toBe('Z');
        expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe(String(pid));
        holder = holderUnderSleep(dir);
        const answer = await line(holder, /^(locked|refused)/);
        expect(answer, `round ${round}`).toMatch(/^locked \d+$/);
        pid = Number(answer.split(' ')[1]);
        holders.push(pid);
      }
    },
    60_000,
  );

  it('takes no notice of a pid file, or an older Ferry lock file, naming a live process that is not Ferry', async () => {
    const dir = await fixtures.tempDir('ferry-lock-');
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(unrelated);
    await writeFile(join(dir, PID_FILE), String(unrelated.pid));
    // The format of Ferry's earlier lock: the holder's pid as text.
    await writeFile(join(dir, LOCK_FILE), String(unrelated.pid));
    const lock = acquireRunLock(dir);
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe(String(process.pid));
    lock.release();
  });

  it('goes to exactly one of two processes that try at the same instant, 50 times in a row', async () => {
    const dir = await fixtures.tempDir('ferry-lock-');
    const pair = [0, 1].map(() => {
      const child = spawn(process.execPath, holderArgs(), {
        env: { ...process.env, LOCK_DIR: dir, MODE: 'race' },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      return child;
    });
    await Promise.all(pair.map((child) => line(child, /^ready$/)));
    for (let race = 1; race <= 50; race += 1) {
      const outcomes = pair.map((child) => line(child, /^(won|lost)/));
      for (const child of pair) child.stdin!.write('try\n');
      const results = await Promise.all(outcomes);
      expect(
        results.filter((result) => result.startsWith('won')),
        `race ${race}: ${results.join(', ')}`,
      ).toHaveLength(1);
      // The winner lets go; the next race starts from a free lock.
      const released = pair.map((child) => line(child, /^released$/));
      for (const child of pair) child.stdin!.write('release\n');
      await Promise.all(released);
    }
  }, 60_000);
});

describe('two ferry run processes started together on one queue', () => {
  it('upload with exactly one engine: one runs, the other says who does, and no chunk is sent twice (3 races)', async () => {
    const { startSelfCommunitySandbox } = await import('../sandbox/selfcommunity.ts');
    const { randomFile, runFerry, spawnFerry } = await import('../support/ferryHarness.ts');
    const CHUNK = 204_800;
    for (let race = 1; race <= 3; race += 1) {
      const data = await fixtures.tempDir('ferry-lock-data-');
      const files = await fixtures.tempDir('ferry-lock-files-');
      const sandbox = fixtures.track(await startSelfCommunitySandbox());
      const added = await runFerry(data, [
        'accounts',
        'add',
        'selfcommunity',
        '--name',
        'c',
        '--base-url',
        sandbox.url,
        '--secret',
        `accessToken=${sandbox.token}`,
      ]);
      expect(added.code, added.stderr).toBe(0);
      const queued = [];
      for (let n = 0; n < 3; n += 1) queued.push(await randomFile(files, `f${n}.png`, 3 * CHUNK + n));
      const enqueued = await runFerry(data, ['upload', '--account', 'c', ...queued.map((file) => file.path)]);
      expect(enqueued.code, enqueued.stderr).toBe(0);

      // A slow server keeps the first engine busy for a couple of seconds, so the two overlap even
      // when one process starts a little later than the other.
      sandbox.fault({
        method: 'POST',
        path: '/api/v2/media/upload/chunk/',
        times: 1_000,
        action: { type: 'delay', ms: 150 },
      });
      const pair = [0, 1].map(() => spawnFerry(data, ['run', '--until-idle'], { timeoutMs: 60_000 }));
      const results = await Promise.all(pair.map((child) => child.exited));

      const ran = results.filter((result) => result.code === 0);
      const refused = results.filter((result) => /Another Ferry \(pid \d+\) is already uploading/.test(result.stderr));
      expect(ran.length, `race ${race}: ${results.map((r) => `${r.code} ${r.stderr}`).join(' | ')}`).toBe(1);
      expect(refused.length, `race ${race}`).toBe(1);
      expect(sandbox.media.map((m) => m.sha256).sort()).toEqual(queued.map((file) => file.sha256).sort());
      const chunks = sandbox.requests
        .filter((r) => r.path === '/api/v2/media/upload/chunk/')
        .map((r) => `${String(r.headers['content-range'])}`);
      // The three sizes differ, so a chunk's Content-Range (with the total) names it: none twice.
      expect(new Set(chunks).size, `race ${race}: ${chunks.join(', ')}`).toBe(chunks.length);
      expect(chunks).toHaveLength(3 + 4 + 4);
      expect(sandbox.completeCalls).toHaveLength(3);
    }
  }, 120_000);
});
