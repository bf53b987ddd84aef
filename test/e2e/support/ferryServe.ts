/**
 * Runs `ferry serve` as a child process on a temp data folder, the way a person would, and reads the
 * address (with its token) from the line it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServeProcess {
  /** The printed address, `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  stderr: () => string;
  close(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url));

/** `bin`: another checkout's bin/ferry.js (benchmarks comparing two checkouts); this checkout's by default. */
export async function startFerryServe(
  dataDir: string,
  env: Record<string, string> = {},
  bin: string = BIN,
): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [bin, '--data-dir', dataDir, 'serve', '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`ferry serve did not print its address in time:\n${out}\n${err}`)),
      30_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Ferry is at (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry serve exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    url,
    stderr: () => err,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
