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
import { startSelfCommunitySandbox } from './selfcommunity.ts';
import { startTwentyThreeSandbox } from './twentythree.ts';

const keep = process.argv.includes('--keep');
const root = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
const dataDir = join(root, 'data');
const ferry = (...args: string[]): Promise<number> => main(['--data-dir', dataDir, ...args]);

const selfcommunity = await startSelfCommunitySandbox();
const twentythree = await startTwentyThreeSandbox({ outcome: 'text' });
console.log(`SelfCommunity sandbox: ${selfcommunity.url}`);
console.log(`TwentyThree sandbox:   ${twentythree.url}`);
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
  'accounts', 'add', 'selfcommunity', '--name', 'community', '--base-url', selfcommunity.url,
  '--secret', `accessToken=${selfcommunity.token}`,
);
await step(
  'add twentythree',
  'accounts', 'add', 'twentythree', '--name', 'videos', '--base-url', twentythree.url,
  '--secret', 'consumerKey=ck', '--secret', 'consumerSecret=cs', '--secret', 'accessToken=at',
  '--secret', 'accessTokenSecret=as', '--set', 'chunkSize=262144',
);
await step('upload selfcommunity', 'upload', '--account', 'community', '--wait',
  await sample('holiday.png', 1_234_567), await sample('poster.jpg', 204_801));
await step('upload twentythree', 'upload', '--account', 'videos', '--wait',
  await sample('clip.mp4', 3_000_000), await sample('teaser.mov', 700_000));
await step('list', 'list');

console.log(
  `\nThe emulators received ${selfcommunity.media.length} SelfCommunity media and ${twentythree.photos.length} TwentyThree photos.`,
);
if (keep) {
  console.log(`Emulators keep running; try: npx ferry --data-dir ${dataDir} list   (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
}
await selfcommunity.close();
await twentythree.close();
process.exitCode = failures === 0 ? 0 : 1;
