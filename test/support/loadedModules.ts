/**
 * Preloaded into a `ferry` child with `node --import` (through NODE_OPTIONS) by
 * test/integration/cliStartup.test.ts: records the URL of every module the process loads (its own
 * files, packages, Node's built-in modules) and writes the list, one a line, to the file named by
 * FERRY_TEST_LOADED_MODULES when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  const file = process.env.FERRY_TEST_LOADED_MODULES;
  if (file) writeFileSync(file, `${loaded.join('\n')}\n`);
});
