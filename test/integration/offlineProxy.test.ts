/**
 * Offline through a proxy: when uploads go through an HTTP proxy (the `proxy` package on loopback),
 * the proxy is the host this process must reach. It goes away in the middle of a chunked upload (its
 * port closed, its connections cut) while the emulator behind it stays up: the job waits for the
 * network, named by the proxy's address, without using up a retry, and only the proxy is probed.
 * When a proxy listens again on the same port, the upload resumes through it: byte-exact, finalized
 * once, no acknowledged part sent again. The monitor's backoff runs on a manual clock.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxy } from 'proxy';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkMonitor, tcpProbe } from '../../main/engine/networkMonitor.ts';
import { Fixtures, resentCount, waitFor } from '../support/ferryHarness.ts';
import { ManualClock, offlineSubject } from '../support/offlineRig.ts';

const fixtures = new Fixtures();

/** An HTTP proxy on loopback that can stop listening and listen again on the same port. */
class FlakyProxy {
  port = 0;
  /** Plain requests it forwarded: "METHOD absolute-URL". */
  readonly requests: string[] = [];
  /** Forwarded requests whose answer has not been passed back to the client yet. */
  inFlight = 0;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createProxy(createServer());
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.requests.push(`${request.method} ${request.url}`);
      this.inFlight += 1;
      response.on('close', () => (this.inFlight -= 1));
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Gone from the network: listening stops and every open connection is cut. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  }
}

afterEach(async () => {
  await fixtures.cleanup();
});

describe('a proxy that goes away mid-upload', () => {
  it.each(['selfcommunity', 'twentythree'] as const)(
    '%s: the job waits for the proxy without using retries, and resumes byte-exact when it listens again',
    async (provider) => {
      const proxy = new FlakyProxy();
      await proxy.listen();
      fixtures.track(proxy);
      const clock = new ManualClock();
      const probed: string[] = [];
      const network = new NetworkMonitor({
        clock,
        probe: (origin) => {
          probed.push(origin);
          return tcpProbe(origin, 2_000);
        },
      });
      // Every request goes through the proxy: the global proxy setting names it.
      const w = fixtures.openEngine(await fixtures.tempDir('ferry-offline-proxy-data-'), {
        network,
        proxy: { global: () => proxy.url },
      });
      const { queue, engine } = w;
      const subject = fixtures.track(
        await offlineSubject(provider, queue, await fixtures.tempDir('ferry-offline-proxy-')),
      );
      const changes: string[] = [];
      engine.on('network', (change) => changes.push(`${change.state} ${change.host}`));

      subject.hold();
      const [job] = await queue.enqueue(subject.account, [subject.source]);
      engine.start();
      await waitFor('the held request to arrive', () => subject.held());
      // TwentyThree sends chunks side by side: the ones beside the held chunk must have their answers
      // back before the proxy goes. Cut mid-answer, a chunk the server kept is sent again (which that
      // protocol allows, but this test counts as a re-send), and one answered late would change the
      // count taken here.
      await waitFor('only the held request to be in flight', () => proxy.inFlight === 1);
      const ackedBefore = subject.acked().length;
      expect(ackedBefore).toBeGreaterThan(0);
      const emulator = new URL(subject.hosts[0]!).host;
      // The parts so far went through the proxy.
      expect(proxy.requests.some((request) => request.includes(`//${emulator}/`))).toBe(true);

      await proxy.close();
      const waiting = await waitFor('the job to wait for the network', () => {
        const current = queue.jobs.get(job!.id);
        return current?.state === 'waiting' && current.error?.message.startsWith('Waiting for network:')
          ? current
          : null;
      });
      const proxyHost = `127.0.0.1:${proxy.port}`;
      expect(waiting.error?.message).toBe(`Waiting for network: ${proxyHost} cannot be reached (ECONNREFUSED)`);
      // The proxy is what cannot be reached, not the emulator behind it (which is up all along).
      expect(engine.offlineHosts().map((host) => host.host)).toEqual([proxyHost]);
      expect(changes).toEqual([`offline ${proxyHost}`]);

      // A minute on the monitor's clock: every probe refused, every one of them at the proxy.
      const settled = (): boolean => clock.pending > 0 || network.offlineHosts().length === 0;
      await clock.advance(60_000, settled);
      expect(probed.length).toBeGreaterThanOrEqual(15);
      expect(new Set(probed)).toEqual(new Set([proxy.url]));
      const during = queue.jobs.get(job!.id)!;
      expect(during.state).toBe('waiting');
      expect(during.retryStreak).toBe(0);
      expect(subject.acked().length).toBe(ackedBefore);

      // A proxy listens again on the same port: the next probe (at most 4 s away) finds it.
      const forwardedBefore = proxy.requests.length;
      await proxy.listen();
      expect(proxy.url).toBe(`http://${proxyHost}`);
      await clock.advance(4_000, settled);
      expect(network.offlineHosts()).toEqual([]);
      expect(changes).toEqual([`offline ${proxyHost}`, `online ${proxyHost}`]);
      await waitFor(
        'the job to complete',
        () => ['completed', 'failed'].includes(queue.jobs.get(job!.id)!.state),
        20_000,
      );

      const done = queue.jobs.get(job!.id)!;
      expect(done.error?.message ?? null).toBe(null);
      expect(done.state).toBe('completed');
      expect(queue.jobs.list({ states: ['failed'] })).toEqual([]);
      // The rest of the upload went through the proxy again, and the emulator holds the file exactly once.
      expect(proxy.requests.slice(forwardedBefore).some((request) => request.includes(`//${emulator}/`))).toBe(true);
      expect(subject.check()).toEqual([]);
      expect(resentCount(subject.acked())).toBe(0);
    },
    30_000,
  );
});
