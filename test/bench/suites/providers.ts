/**
 * How each benchmarked provider is set up: its emulator (in this process), the `ferry accounts add`
 * arguments for it, and the floor client with its configuration.
 */
import { join } from 'node:path';
import { startOfauthSandbox } from '../../sandbox/ofauth.ts';
import { startSelfCommunitySandbox } from '../../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../../sandbox/twentythree.ts';
import { startXvidSandbox } from '../../sandbox/xvid.ts';
import type { Fault } from '../../sandbox/harness.ts';
import { REPO_ROOT } from '../lib/measure.ts';

export type ProviderId = 'selfcommunity' | 'twentythree' | 'ofauth' | 'xvid';

export interface BenchTarget {
  provider: ProviderId;
  /** Origin of the emulator (the server the window is measured on). */
  url: string;
  /** `ferry accounts add …` arguments after `--name NAME`. */
  accountArgs: string[];
  floorScript: string;
  floorConfig(files: readonly string[], filesAtOnce: number): unknown;
  /** Requests that end the transfer window (default: anything but GET, i.e. not status polls). */
  isWork?: (method: string, path: string) => boolean;
  fault(fault: Fault): void;
  close(): Promise<void>;
}

export const TWENTYTHREE_CHUNK = 8 * 1024 * 1024;
const floor = (name: string): string => join(REPO_ROOT, 'test', 'bench', 'floor', `${name}.ts`);

export async function startTarget(provider: ProviderId): Promise<BenchTarget> {
  switch (provider) {
    case 'selfcommunity': {
      // keepBytes: false — the emulator still checks each complete's MD5, against one it updates as
      // chunks arrive, instead of assembling and hashing every file when its complete comes in.
      const sandbox = await startSelfCommunitySandbox({ keepBytes: false });
      return {
        provider,
        url: sandbox.url,
        accountArgs: ['selfcommunity', '--base-url', sandbox.url, '--secret', `accessToken=${sandbox.token}`],
        floorScript: floor('selfcommunity'),
        floorConfig: (files, filesAtOnce) => ({ baseUrl: sandbox.url, token: sandbox.token, files, filesAtOnce }),
        fault: (fault) => sandbox.fault(fault),
        close: () => sandbox.close(),
      };
    }
    case 'twentythree': {
      // keepBytes: false — the emulator checks every chunk but keeps no bytes and hashes nothing
      // (otherwise a 1 GiB upload would hold 1 GiB in this process and hash it inside the window).
      const sandbox = await startTwentyThreeSandbox({ keepBytes: false });
      const keys = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' };
      return {
        provider,
        url: sandbox.url,
        accountArgs: [
          'twentythree',
          '--base-url',
          sandbox.url,
          ...Object.entries(keys).flatMap(([key, value]) => ['--secret', `${key}=${value}`]),
          '--set',
          `chunkSize=${TWENTYTHREE_CHUNK}`,
        ],
        floorScript: floor('twentythree'),
        floorConfig: (files, filesAtOnce) => ({
          baseUrl: sandbox.url,
          keys,
          files,
          chunkSize: TWENTYTHREE_CHUNK,
          parallel: 3,
          filesAtOnce,
        }),
        fault: (fault) => sandbox.fault(fault),
        close: () => sandbox.close(),
      };
    }
    case 'ofauth': {
      // The emulator's own 60/min bucket is disabled: it persists across runs, so a second run would
      // start with an empty bucket. Both clients still pace themselves by the documented limit.
      const sandbox = await startOfauthSandbox({ rateLimit: null, keepBytes: false });
      return {
        provider,
        url: sandbox.url,
        accountArgs: [
          'ofauth',
          '--base-url',
          sandbox.url,
          '--secret',
          `apiKey=${sandbox.apiKey}`,
          '--secret',
          `connectionId=${sandbox.connectionId}`,
        ],
        floorScript: floor('ofauth'),
        floorConfig: (files, filesAtOnce) => ({
          baseUrl: sandbox.url,
          apiKey: sandbox.apiKey,
          connectionId: sandbox.connectionId,
          files,
          parallel: 2,
          filesAtOnce,
          rateLimit: { perMinute: 60, burst: 90 },
        }),
        fault: (fault) => sandbox.fault(fault),
        close: () => sandbox.close(),
      };
    }
    case 'xvid': {
      const sandbox = await startXvidSandbox({ completingPolls: 0 });
      return {
        provider,
        url: sandbox.url,
        accountArgs: [
          'xvid',
          '--base-url',
          sandbox.apiUrl,
          '--secret',
          `clientId=${sandbox.clientId}`,
          '--secret',
          `clientSecret=${sandbox.clientSecret}`,
          '--set',
          `pipelineId=${sandbox.pipelineId}`,
        ],
        floorScript: floor('xvid'),
        floorConfig: (files, filesAtOnce) => ({
          apiUrl: sandbox.apiUrl,
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
          pipelineId: sandbox.pipelineId,
          files,
          filesAtOnce,
        }),
        fault: (fault) => sandbox.fault(fault),
        close: () => sandbox.close(),
      };
    }
    default: {
      const unknown: never = provider;
      throw new Error(`unknown provider ${String(unknown)}`);
    }
  }
}
