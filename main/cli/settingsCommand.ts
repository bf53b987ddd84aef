/**
 * `ferry settings get [KEY]` and `ferry settings set KEY VALUE`: the settings of the window, through
 * the same API commands (`settings.get`, `settings.set`), so that validation and storage are the
 * API's. A value is read by the type the setting has: `true`/`false` for switches, a number for
 * numeric settings, text otherwise. Refusals are FerryErrors: exit code 2 with a one-line reason, and
 * nothing saved.
 */
import type { Command } from 'commander';
import type { Settings } from '../api/contract.ts';
import { FerryError } from '../core/errors.ts';
import type { ApiCall } from './apiCall.ts';

export interface SettingsCommandIo {
  out: NodeJS.WritableStream;
}

export function registerSettingsCommands(program: Command, call: ApiCall, io: SettingsCommandIo): void {
  const settings = program.command('settings').description('show or change the settings (the same as the window)');
  const write = (line: string): void => void io.out.write(`${line}\n`);
  const current = (): Promise<Settings> => call('settings.get', undefined);
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
      const all = await current();
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
      const all = await current();
      const name = keyOf(all, key);
      const value = valueFor(name, all[name], text);
      let saved: Settings;
      try {
        saved = await call('settings.set', { [name]: value } as Partial<Settings>);
      } catch (error) {
        // Loaded here, not at start-up: the API (which loads it too) has run by now.
        const { ApiError } = await import('../api/apiError.ts');
        if (!(error instanceof ApiError)) throw error;
        // The API's message already names the setting ("bwlimit: …").
        const detail = error.message.replace(/^Invalid input for settings\.set: /, '');
        throw new ApiError(error.code, `${detail}; nothing was saved`);
      }
      if (options.json) write(JSON.stringify({ event: 'setting', key: name, value: saved[name] }));
      else write(`${name} = ${shown(saved[name])}`);
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
