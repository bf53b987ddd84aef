/**
 * `ferry serve`: the HTTP/WebSocket transport around the host (main/host/ferryHost.ts: the engine, the
 * watched folders and the API table), on a data folder the CLI and the desktop app share. The engine
 * and the watched folders run only with the folder's run lock (as `ferry run` does); when another
 * process holds it, the server still answers every command (they change the queue in SQLite, which
 * that process picks up) and follows that process's job changes through the database instead of
 * running uploads itself.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FerryApi } from '../api/ferryApi.ts';
import { FerryError } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import type { Db } from '../db/database.ts';
import { type Queue } from '../engine/queue.ts';
import { openFerryHost, type EngineTuning, type SyncTuning } from '../host/ferryHost.ts';
import type { SyncService } from '../sync/syncService.ts';
import { isLoopbackHost } from '../api/networkPolicy.ts';
import { startHttpServer, type RunningHttpServer } from './httpServer.ts';
import { PathPolicy } from './pathPolicy.ts';
import { defaultRendererDir } from './staticFiles.ts';

export interface ServeOptions {
  dataDir: string;
  /** The database the queue was built on (the caller's; it closes it). */
  db: Db;
  queue: Queue;
  host?: string;
  /**
   * Required to listen on anything but loopback: anyone who can reach the port and learns the token
   * could otherwise upload this user's files. Even then, paths in commands must lie in `allowPaths`.
   */
  allowRemote?: boolean;
  /**
   * Folders whose files (and subfolders) commands may name: `jobs.enqueue` paths, `sync.add` folders.
   * Given, or when serving beyond loopback, every other path is refused; otherwise nothing changes.
   */
  allowPaths?: readonly string[];
  /** 0 (default): any free port. */
  port?: number;
  /** Engine tuning (tests, FERRY_* variables); `maxJobsInFlight` here wins over the setting. */
  engineOptions?: EngineTuning;
  /** Watcher tuning (tests, FERRY_SYNC_* variables). */
  syncOptions?: SyncTuning;
  rendererDir?: string;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
  log?: (message: string, error?: unknown) => void;
  /** How often the database is read for changes made by the process that runs the engine. */
  followIntervalMs?: number;
}

export interface RunningServe {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly api: FerryApi;
  /** The engine of this process, or null when another process holds the run lock. */
  readonly engine: Engine | null;
  /** The watched folders of this process: with the engine, or null. */
  readonly sync: SyncService | null;
  /** Why the engine does not run here, or null. */
  readonly engineNote: string | null;
  readonly http: RunningHttpServer;
  /**
   * Stops the server, then the watched folders, then the engine (requests in flight resume next
   * time), then the lock.
   */
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    // main/serve/serve.ts in a checkout, dist/main/serve/serve.js once built.
    const built = import.meta.url.includes('/dist/main/');
    const text = readFileSync(new URL(built ? '../../../package.json' : '../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const { db, queue, dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((message: string, error?: unknown) => console.error(`ferry: ${message}`, error ?? ''));
  const token = options.token ?? randomBytes(24).toString('base64url');
  const remote = !isLoopbackHost(host);
  if (remote && !options.allowRemote) {
    throw new FerryError(
      'invalid',
      `Not listening on ${host}: it can be reached from other machines, and anyone on the network who gets the token (it travels unencrypted over plain HTTP) could upload your files and read your queue. ` +
        'Use the default --host 127.0.0.1, or add --allow-remote (and --allow-path DIR for each folder uploads may come from) if you mean it',
    );
  }
  // Checked before anything starts: a typo in a folder must not leave a server running without it.
  const pathPolicy =
    remote || (options.allowPaths?.length ?? 0) > 0 ? await PathPolicy.create(options.allowPaths ?? []) : null;

  const ferryHost = await openFerryHost({
    dataDir,
    db,
    queue,
    log,
    version: packageVersion(),
    ...(options.engineOptions ? { engineOptions: options.engineOptions } : {}),
    engineNote: (locked) =>
      `${locked.message}: this server shows and changes the queue, and that process does the uploading`,
    // Without the engine, follow the other process through the database.
    follow: { ...(options.followIntervalMs !== undefined ? { intervalMs: options.followIntervalMs } : {}) },
    // Watched folders run beside the engine, as with `ferry run`: only where this process uploads.
    watchedFolders: {
      watch: true,
      ...(options.syncOptions ? { tuning: options.syncOptions } : {}),
      onError: (error) => log(error.message),
      unavailableNotice: 'Ferry could not start watching folders; uploads from this page still work',
    },
  });
  const { api } = ferryHost;

  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      api,
      host,
      port: options.port ?? 0,
      token,
      rendererDir: options.rendererDir ?? defaultRendererDir(),
      log,
      pathPolicy,
    });
    // A name such as "localhost" is looked up when listening: what counts is the address bound.
    const bound = (http.server.address() as AddressInfo).address;
    if (!options.allowRemote && !isLoopbackHost(bound)) {
      await http.close();
      throw new Error(
        `${host} is not a loopback address (it is ${bound}); use --host 127.0.0.1, or --allow-remote if you mean it`,
      );
    }
  } catch (error) {
    await ferryHost.close();
    throw new FerryError('invalid', error instanceof Error ? error.message : String(error));
  }
  await ferryHost.start();

  let closing: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    token,
    api,
    get engine() {
      return ferryHost.engine;
    },
    get sync() {
      return ferryHost.sync;
    },
    get engineNote() {
      return ferryHost.engineNote;
    },
    http,
    close() {
      closing ??= (async () => {
        await http.close();
        await ferryHost.close();
      })();
      return closing;
    },
  };
}

export interface ServeCommandOptions {
  host: string;
  allowRemote?: boolean;
  allowPaths?: readonly string[];
  port?: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  engineOptions?: EngineTuning;
  syncOptions?: SyncTuning;
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

/** The `ferry serve` command: prints the address, serves until a signal, stops gracefully. */
export async function serveCommand(
  context: { dataDir: string; db: Db; queue: Queue },
  options: ServeCommandOptions,
): Promise<number> {
  const running = await startServe({
    dataDir: context.dataDir,
    db: context.db,
    queue: context.queue,
    host: options.host,
    ...(options.allowRemote ? { allowRemote: true } : {}),
    ...(options.allowPaths?.length ? { allowPaths: options.allowPaths } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.engineOptions ? { engineOptions: options.engineOptions } : {}),
    ...(options.syncOptions ? { syncOptions: options.syncOptions } : {}),
    log: (message, error) => {
      const detail = error instanceof Error ? (error.stack ?? error.message) : error === undefined ? '' : String(error);
      options.err.write(`ferry: ${message}${detail ? `: ${detail}` : ''}\n`);
    },
  });
  options.out.write(`Ferry is at ${running.url}\n`);
  if (!isLoopbackHost(options.host)) {
    const folders = running.http.pathPolicy?.roots.join(', ') || 'none: only files dropped onto the page';
    options.err.write(
      `ferry: listening on ${options.host} over plain HTTP: the token travels unencrypted, so use this only on a network you trust. Folders commands may name: ${folders}\n`,
    );
  }
  if (running.engineNote) options.err.write(`ferry: ${running.engineNote}\n`);
  const onSignal: { resolve: () => void } = { resolve: () => undefined };
  const stopped = options.until ?? new Promise<void>((resolve) => (onSignal.resolve = resolve));
  const handler = (): void => onSignal.resolve();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  try {
    await stopped;
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    options.out.write('Stopping Ferry: uploads in progress resume next time\n');
    await running.close();
  }
  return 0;
}
