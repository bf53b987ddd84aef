/**
 * `ferry settings get [KEY]` and `ferry settings set KEY VALUE`: the settings of the window, through
 * the same API commands (`settings.get`, `settings.set`), so that validation and storage are the
 * API's. A value is read by the type the setting has: `true`/`false` for switches, a number for
 * numeric settings, text otherwise. Refusals are FerryErrors: exit code 2 with a one-line reason, and
 * nothing saved.
 */
import type { Command } from 'commander';
import { FerryApi } from '../api/ferryApi.ts';
import type { Settings } from '../api/contract.ts';
import { FerryError } from '../core/errors.ts';
import type { Queue } from '../engine/queue.ts';

export interface SettingsCommandIo {
  out: NodeJS.WritableStream;
}

export function registerSettingsCommands(
  program: Command,
  open: () => { queue: Queue; dataDir: string },
  io: SettingsCommandIo,
): void {
  const settings = program.command('settings').description('show or change the settings (the same as the window)');
  const write = (line: string): void => void io.out.write(`${line}\n`);

  /** Runs one API command on an API of its own (no transport, no engine: the settings table only). */
  const call = async <T>(use: (api: FerryApi) => Promise<T>): Promise<T> => {
    const { queue, dataDir } = open();
    const api = new FerryApi({ queue, dataDir, log: () => undefined });
    try {
      return await use(api);
    } finally {
      api.close();
    }
  };
  const current = (api: FerryApi): Promise<Settings> =>
    api.invoke('settings.get', undefined).then((result) => {
      if (!result.ok) throw new FerryError('invalid', `Reading the settings: ${result.error.message}`);
      return result.value;
    });
  const keyOf = (all: Settings, key: string): keyof Settings => {
    if (Object.hasOwn(all, key)) return key as keyof Settings;
    throw new FerryError('invalid', `Ferry has no setting "${key}"; the settings are ${Object.keys(all).join(', ')}`);
  };
  const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

  settings
    .command('get')
    .description('print every setting, or the value of one')
    .argument('[key]', 'a setting, e.g. bwlimit')
    .option('--json', 'JSON Lines output')
    .action(async (key: string | undefined, options: { json?: boolean }) => {
      const all = await call(current);
      if (key === undefined) {
        if (options.json) write(JSON.stringify({ event: 'settings', settings: all }));
        else for (const [name, value] of Object.entries(all)) write(`${name} = ${shown(value)}`);
        return;
      }
      const name = keyOf(all, key);
      if (options.json) write(JSON.stringify({ event: 'setting', key: name, value: all[name] }));
      else write(shown(all[name]));
    });

  settings
    .command('set')
    .description(
      'change one setting (e.g. "ferry settings set bwlimit 2M"); a running Ferry applies it within a second',
    )
    .argument('<key>', 'a setting, e.g. bwlimit')
    .argument('<value>', 'true/false, a number, or text, by the setting')
    .option('--json', 'JSON Lines output')
    .action(async (key: string, text: string, options: { json?: boolean }) => {
      const saved = await call(async (api) => {
        const all = await current(api);
        const name = keyOf(all, key);
        const value = valueFor(name, all[name], text);
        const result = await api.invoke('settings.set', { [name]: value } as Partial<Settings>);
        if (!result.ok) {
          // The API's message already names the setting ("bwlimit: …").
          const detail = result.error.message.replace(/^Invalid input for settings\.set: /, '');
          throw new FerryError('invalid', `${detail}; nothing was saved`);
        }
        return { name, value: result.value[name] };
      });
      if (options.json) write(JSON.stringify({ event: 'setting', key: saved.name, value: saved.value }));
      else write(`${saved.name} = ${shown(saved.value)}`);
    });
}

/** Reads VALUE as the type the setting has now (the contract's types: boolean, number or string). */
function valueFor(name: string, now: unknown, text: string): unknown {
  if (typeof now === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new FerryError('invalid', `Setting ${name}: "${text}" is not true or false; nothing was saved`);
  }
  if (typeof now === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value))
      throw new FerryError('invalid', `Setting ${name}: "${text}" is not a number; nothing was saved`);
    return value;
  }
  return text;
}
