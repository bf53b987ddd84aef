#!/usr/bin/env node
// The `ferry` command. Node 24 runs the TypeScript sources as they are (type stripping), so there is
// no build step between `npm ci` and `npx ferry`.
import { main } from '../main/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
