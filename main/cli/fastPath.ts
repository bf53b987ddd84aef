/**
 * What the `ferry` command can do before its command-line parser (commander) and the rest of
 * main/cli/main.ts load, which are most of `ferry providers`' start-up: bin/ferry.js answers
 * `ferry providers [--json]`, typed just so, with `printProviders`, and main.ts calls the same function
 * for every other spelling, so both print the same bytes (test/integration/cliStartup.test.ts).
 */
import { providerInfo } from '../api/views.ts';
import { PROVIDER_DESCRIPTIONS } from '../providers/catalog.ts';

/**
 * `ferry providers`: the providers and the account fields each needs. It is the API's `providers.list`
 * answer, printed without opening the queue or loading the adapters: the same descriptions the
 * registry's adapters carry (test/unit/providerCatalog.test.ts).
 */
export function printProviders(out: NodeJS.WritableStream, json: boolean): void {
  for (const provider of PROVIDER_DESCRIPTIONS.map(providerInfo)) {
    // A field's unset parts (default, hint, choices) are left out, as before the API view.
    const fields = provider.fields.map((field) =>
      Object.fromEntries(Object.entries(field).filter(([, value]) => value !== null)),
    );
    if (json) {
      out.write(
        `${JSON.stringify({
          event: 'provider',
          id: provider.id,
          name: provider.name,
          sources: provider.capabilities.sources,
          baseUrlRequired: provider.capabilities.baseUrlRequired,
          defaultBaseUrl: provider.capabilities.defaultBaseUrl,
          fields,
        })}\n`,
      );
    } else {
      const secrets = provider.fields.filter((f) => f.kind === 'secret').map((f) => f.key);
      const settings = provider.fields
        .filter((f) => f.kind === 'setting')
        .map((f) => `${f.key}${f.required ? '' : '?'}`);
      const base = provider.capabilities.defaultBaseUrl ?? 'base URL required';
      out.write(
        `${provider.id.padEnd(14)} ${provider.name.padEnd(14)} ${provider.capabilities.sources === 'url' ? 'URLs ' : 'files'}  ${base}` +
          `\n${''.padEnd(16)}secrets: ${secrets.join(', ') || '-'}; settings: ${settings.join(', ') || '-'}\n`,
      );
    }
  }
}

/**
 * `ferry list | head`: the reader has what it wanted and closed the pipe. Like a Unix tool that gets
 * SIGPIPE, stop quietly instead of reporting the EPIPE as Ferry's own failure. A `ferry run` stopped
 * this way resumes from its acknowledged parts at the next start, as after any exit.
 */
export function stopQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
