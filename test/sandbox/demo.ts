/**
 * `npm run demo`: starts the sandbox emulators on loopback, creates one demo account per provider in a
 * temporary data folder, uploads sample files to each through the real `ferry` command code, and prints
 * the results. Pass --keep to leave the emulators running (Ctrl-C to stop) and try `ferry` by hand.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { startFileHost } from './fileHost.ts';
import { startOfauthSandbox } from './ofauth.ts';
import { startOktopostSandbox } from './oktopost.ts';
import { startSelfCommunitySandbox } from './selfcommunity.ts';
import { startTwentyThreeSandbox } from './twentythree.ts';
import { startXvidSandbox } from './xvid.ts';

const keep = process.argv.includes('--keep');
// The emulators finish server-side work at once; poll them quickly instead of the real 2 s.
process.env.FERRY_POLL_INITIAL_MS ??= '200';
const root = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
const dataDir = join(root, 'data');
const ferry = (...args: string[]): Promise<number> => main(['--data-dir', dataDir, ...args]);

const selfcommunity = await startSelfCommunitySandbox();
const twentythree = await startTwentyThreeSandbox();
// Parts go to a pre-signed storage host that refuses the OFAuth credentials, the harder of the two plan forms.
const ofauth = await startOfauthSandbox({ partSize: 512 * 1024, partsOn: 'storage' });
const oktopost = await startOktopostSandbox();
const xvid = await startXvidSandbox();
// Oktopost pulls files from a public URL; the file host plays that web server.
const fileHost = await startFileHost();
console.log(`SelfCommunity sandbox: ${selfcommunity.url}`);
console.log(`TwentyThree sandbox:   ${twentythree.url}`);
console.log(`OFAuth sandbox:        ${ofauth.url}`);
console.log(`Oktopost sandbox:      ${oktopost.apiUrl}`);
console.log(`Xvid MediaHub sandbox: ${xvid.apiUrl}`);
console.log(`File host (for URLs):  ${fileHost.url}`);
console.log(`Data folder:           ${dataDir}\n`);

const sample = async (name: string, size: number): Promise<string> => {
  const path = join(root, name);
  await writeFile(path, randomBytes(size));
  return path;
};

let failures = 0;
const step = async (label: string, ...args: string[]): Promise<void> => {
  console.log(`$ ferry ${args.join(' ')}`);
  const code = await ferry(...args);
  if (code !== 0) {
    failures += 1;
    console.log(`  (${label} exited with ${code})`);
  }
};

await step(
  'add selfcommunity',
  'accounts',
  'add',
  'selfcommunity',
  '--name',
  'community',
  '--base-url',
  selfcommunity.url,
  '--secret',
  `accessToken=${selfcommunity.token}`,
);
await step(
  'add twentythree',
  'accounts',
  'add',
  'twentythree',
  '--name',
  'videos',
  '--base-url',
  twentythree.url,
  '--secret',
  'consumerKey=ck',
  '--secret',
  'consumerSecret=cs',
  '--secret',
  'accessToken=at',
  '--secret',
  'accessTokenSecret=as',
  '--set',
  'chunkSize=262144',
);
await step(
  'add ofauth',
  'accounts',
  'add',
  'ofauth',
  '--name',
  'vault',
  '--base-url',
  ofauth.url,
  '--secret',
  `apiKey=${ofauth.apiKey}`,
  '--secret',
  `connectionId=${ofauth.connectionId}`,
);
await step(
  'add oktopost',
  'accounts',
  'add',
  'oktopost',
  '--name',
  'social',
  '--base-url',
  oktopost.apiUrl,
  '--secret',
  `accountId=${oktopost.accountId}`,
  '--secret',
  `apiKey=${oktopost.apiKey}`,
);
await step(
  'add xvid',
  'accounts',
  'add',
  'xvid',
  '--name',
  'mediahub',
  '--base-url',
  xvid.apiUrl,
  '--secret',
  'clientId=xvid-client',
  '--secret',
  'clientSecret=xvid-secret',
  '--set',
  'pipelineId=pipeline-1',
  '--set',
  'objectKeyPrefix=uploads/',
);
const published = await fileHost.publish(randomBytes(2_500_000), 'launch.mp4', 'video/mp4');
await step(
  'upload selfcommunity',
  'upload',
  '--account',
  'community',
  '--wait',
  await sample('holiday.png', 1_234_567),
  await sample('poster.jpg', 204_801),
);
await step(
  'upload twentythree',
  'upload',
  '--account',
  'videos',
  '--wait',
  await sample('clip.mp4', 3_000_000),
  await sample('teaser.mov', 700_000),
);
await step(
  'upload ofauth',
  'upload',
  '--account',
  'vault',
  '--wait',
  await sample('vault-photo.jpg', 1_800_000),
  await sample('vault-clip.mp4', 300_000),
);
await step('upload oktopost', 'upload', '--account', 'social', '--wait', published.url);
await step('upload xvid', 'upload', '--account', 'mediahub', '--wait', await sample('master.mp4', 2_000_000));
await step('list', 'list');

console.log(
  `\nThe emulators received: SelfCommunity ${selfcommunity.media.length} media, TwentyThree ${twentythree.photos.length} photos, ` +
    `OFAuth ${ofauth.media.length} media, Oktopost ${oktopost.media.size} media, Xvid ${xvid.s3Posts.length} files.`,
);
if (keep) {
  console.log(`Emulators keep running; try: npx ferry --data-dir ${dataDir} list   (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
}
for (const server of [selfcommunity, twentythree, ofauth, oktopost, xvid, fileHost]) await server.close();
process.exitCode = failures === 0 ? 0 : 1;
