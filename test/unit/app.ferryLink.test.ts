/**
 * ferry:// links (main/app/ferryLink.ts): what they may do (open the window, queue a web address for
 * a pull provider) and what they never do (upload a local file), on a real queue; and the launch
 * arguments that bring them, file:// URLs from a Linux file manager, and `--cli`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult, JobView } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { handleFerryLink, parseFerryLink, type FerryLinkDeps } from '../../main/app/ferryLink.ts';
import { cliArguments, parseLaunchArgs } from '../../main/app/launchArgs.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { findAdapter } from '../../main/providers/registry.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) close();
  await fixtures.cleanup();
});

async function openQueue(): Promise<{ api: FerryApi; queue: Queue }> {
  const dir = await fixtures.tempDir('ferry-link-');
  const { db, queue } = openTestQueue(dir);
  const api = new FerryApi({ queue, db, dataDir: dir });
  await api.start();
  closers.push(() => {
    api.close();
    db.close();
  });
  for (const [provider, name, secrets] of [
    ['oktopost', 'social', { accountId: 'acct-1', apiKey: 'key-123456' }],
    ['selfcommunity', 'community', { accessToken: 'token-123456' }],
  ] as const) {
    expect((await api.invoke('accounts.add', { provider, name, baseUrl: 'http://127.0.0.1:9', secrets })).ok).toBe(
      true,
    );
    // Nothing is sent anywhere: the lanes are paused.
    expect((await api.invoke('accounts.pause', { account: name })).ok).toBe(true);
  }
  return { api, queue };
}

function deps(api: FerryApi, queue: Queue, last: string | null = 'social') {
  const notices: string[] = [];
  let shown = 0;
  const linkDeps: FerryLinkDeps = {
    showWindow: () => (shown += 1),
    notice: (level, message) => notices.push(`${level}: ${message}`),
    targetAccount: () => last,
    sourcesOf: (account) => {
      const found = queue.accounts.list().find((a) => a.name === account);
      return found ? (findAdapter(found.provider)?.capabilities.sources ?? null) : null;
    },
    enqueue: (account, paths) => api.invoke('jobs.enqueue', { account, paths }) as Promise<ApiResult<JobView[]>>,
  };
  return { linkDeps, notices, shown: () => shown };
}

describe('ferry:// links', () => {
  it('read open and enqueue, and refuse local files in every spelling', () => {
    expect(parseFerryLink('ferry://open')).toEqual({ kind: 'open' });
    expect(parseFerryLink('ferry://enqueue?url=https%3A%2F%2Fcdn.example%2Ftalk.mp4&account=social')).toEqual({
      kind: 'enqueue',
      url: 'https://cdn.example/talk.mp4',
      account: 'social',
    });
    for (const local of ['/home/me/.ssh/id_rsa', 'file:///etc/passwd', 'C:\\Users\\me\\secret.docx', '~/x.png', 'c:/x'])
      expect(parseFerryLink(`ferry://enqueue?url=${encodeURIComponent(local)}`), local).toMatchObject({
        kind: 'refused',
        reason: expect.stringMatching(/upload a file from this computer/),
      });
    expect(parseFerryLink('ferry://enqueue?url=ftp%3A%2F%2Fx.example%2Fa')).toMatchObject({ kind: 'refused' });
    expect(parseFerryLink('ferry://delete-everything')).toMatchObject({ kind: 'refused' });
  });

  it('queue a web address for a pull provider and show it in the window', async () => {
    const { api, queue } = await openQueue();
    const { linkDeps, notices, shown } = deps(api, queue);
    const link = 'ferry://enqueue?url=https%3A%2F%2Fcdn.example%2Ftalk.mp4';
    expect(await handleFerryLink(link, linkDeps)).toEqual({
      kind: 'enqueue',
      url: 'https://cdn.example/talk.mp4',
      account: 'social',
    });
    const jobs = queue.jobs.list({});
    expect(jobs.map((job) => [job.sourceKind, job.source])).toEqual([['url', 'https://cdn.example/talk.mp4']]);
    expect(shown()).toBe(1);
    expect(notices).toEqual(['info: Queued https://cdn.example/talk.mp4 for social from a ferry:// link']);
  });

  it('never queue a local file, nor a link for an account that takes files', async () => {
    const { api, queue } = await openQueue();
    const { linkDeps, notices, shown } = deps(api, queue, 'community');
    const local = `ferry://enqueue?url=${encodeURIComponent('/etc/hostname')}&account=community`;
    expect(await handleFerryLink(local, linkDeps)).toMatchObject({ kind: 'refused' });
    const fileUrl = `ferry://enqueue?url=${encodeURIComponent('file:///etc/hostname')}&account=social`;
    expect(await handleFerryLink(fileUrl, linkDeps)).toMatchObject({ kind: 'refused' });
    expect(await handleFerryLink('ferry://enqueue?url=https%3A%2F%2Fcdn.example%2Fa.png', linkDeps)).toMatchObject({
      kind: 'refused',
    });
    expect(queue.jobs.list({})).toEqual([]);
    expect(shown()).toBe(3);
    expect(notices[0]).toMatch(/^warning: A ferry:\/\/ link asked Ferry to upload a file from this computer/);
    expect(notices[1]).toBe(notices[0]);
    expect(notices[2]).toMatch(/^warning: .* for community, which takes files, not links/);
  });

  it('open the window for ferry://open', async () => {
    const { api, queue } = await openQueue();
    const { linkDeps, notices, shown } = deps(api, queue);
    expect(await handleFerryLink('ferry://open', linkDeps)).toEqual({ kind: 'open' });
    expect(shown()).toBe(1);
    expect(notices).toEqual([]);
  });
});

describe('launch arguments for links, the file manager and --cli', () => {
  const packaged = { defaultApp: false, cwd: '/home/me', appPath: '/opt/Ferry/resources/app.asar' };

  it('keep ferry:// links apart and turn file:// URLs (%U) into paths', () => {
    expect(
      parseLaunchArgs(
        ['/opt/Ferry/ferry-desktop', 'file:///home/me/My%20Videos/a.mp4', 'ferry://open', 'file://server/share/x'],
        packaged,
      ),
    ).toEqual({ files: ['/home/me/My Videos/a.mp4'], hidden: false, dataDir: null, links: ['ferry://open'] });
  });

  it('hand everything after --cli to the ferry command', () => {
    expect(cliArguments(['/opt/Ferry/ferry-desktop', '--cli', 'upload', '--account', 'x', 'a.png'])).toEqual([
      'upload',
      '--account',
      'x',
      'a.png',
    ]);
    expect(cliArguments(['/opt/Ferry/ferry-desktop', 'a.png'])).toBeNull();
  });
});
