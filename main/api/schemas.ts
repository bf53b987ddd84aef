/**
 * The zod schema of every command's input. Inputs are strict objects: an unknown field is an error
 * rather than something silently ignored, so a renderer typo shows at once. The table is checked
 * against `contract.ts` at compile time (everything the contract allows, the schema accepts).
 */
import { z } from 'zod';
import { JOB_STATES } from '../core/jobState.ts';
import { parseBwLimit } from '../core/bwlimit.ts';
import { proxySettingProblem } from '../engine/proxySetting.ts';
import { AUTO_COPY_LINKS, LANGUAGES, type CommandInput, type CommandName } from './contract.ts';

const MAX_IDS = 10_000;

/** Keys of settings, secrets and per-upload options: plain identifiers (no `__proto__` games). */
const key = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, 'must be a plain name (letters, digits, _ . -)');

const stringMap = z
  .record(key, z.string().max(10_000, 'must be at most 10,000 characters'))
  .refine((value) => Object.keys(value).length <= 100, 'must have at most 100 entries');

const accountName = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const accountRef = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const jobId = z.int('must be a whole number').positive('must be a positive job id');
const jobIds = z.array(jobId).min(1, 'must name at least one job').max(MAX_IDS, `must name at most ${MAX_IDS} jobs`);
const concurrency = z.int('must be a whole number').min(1, 'must be at least 1').max(16, 'must be at most 16');
const accountId = z.int('must be a whole number').positive('must be a positive account id');
const search = z.string().max(500, 'must be at most 500 characters');
const limit = z
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(1000, 'must be at most 1000')
  .default(100);
const offset = z.int('must be a whole number').min(0, 'must not be negative').default(0);
const baseUrl = z.string().max(2048, 'must be at most 2048 characters').nullable();
const finishedState = z.enum(['completed', 'failed', 'canceled']);
const path = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .refine((value) => !value.includes('\0'), 'must not contain a NUL character');

const syncRuleId = z.int('must be a whole number').positive('must be a positive sync rule id');
const glob = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1000, 'must be at most 1000 characters')
  .refine((value) => !value.includes('\0'), 'must not contain a NUL character');
const globs = z.array(glob).max(100, 'must have at most 100 globs');

export const noInput = z.strictObject({}).optional();

export const THEMES = ['system', 'light', 'dark'] as const;

/** A bandwidth limit in rclone syntax; the message names the bad token (main/core/bwlimit.ts). */
export const bwlimitText = z
  .string('must be text')
  .max(2_000, 'must be at most 2,000 characters')
  .superRefine((text, context) => {
    const parsed = parseBwLimit(text);
    if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.reason });
  });
/**
 * An Electron accelerator for the clipboard hotkey: modifiers joined by `+`, then one key (a letter,
 * digit, F1-F24, a named key or punctuation). Electron has the last word when it registers it.
 */
const ACCELERATOR =
  /^(?:(?:CommandOrControl|CmdOrCtrl|Command|Cmd|Control|Ctrl|Alt|Option|AltGr|Shift|Super|Meta)\+)*(?:[A-Za-z0-9]|F(?:[1-9]|1[0-9]|2[0-4])|Plus|Space|Tab|Capslock|Numlock|Scrolllock|Backspace|Delete|Insert|Return|Enter|Up|Down|Left|Right|Home|End|PageUp|PageDown|Escape|Esc|PrintScreen|num[0-9]|numdec|numadd|numsub|nummult|numdiv|[)!@#$%^&*(:;<=>,_.?/~`{}[\]|\\"'-])$/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !/\s/.test(value);
  } catch {
    return false;
  }
}

/** Stored settings: each key is read on its own so that one bad value does not reset the others. */
export const SETTINGS_FIELDS = {
  globalConcurrency: z.int().min(1).max(32).catch(4),
  closeToTray: z.boolean().catch(true),
  startAtLogin: z.boolean().catch(false),
  notifications: z.boolean().catch(true),
  theme: z.enum(THEMES).catch('system'),
  syncQuietSeconds: z.int().min(1).max(86_400).catch(60),
  syncTrashDays: z.int().min(1).max(3_650).catch(30),
  bwlimit: z
    .string()
    .max(2_000)
    .refine((text) => parseBwLimit(text).ok)
    .catch('off'),
  proxy: z
    .string()
    .max(2_000)
    .refine((value) => proxySettingProblem(value, 'global') === null)
    .catch('system'),
  autoCopyLink: z.enum(AUTO_COPY_LINKS).catch('off'),
  language: z.enum(LANGUAGES).catch('system'),
  clipboardHotkey: z.string().max(100).catch(''),
  autoUpdate: z.boolean().catch(true),
  updateUrl: z.string().max(2_000).catch(''),
};

export const INPUT_SCHEMAS = {
  'app.status': noInput,
  'providers.list': noInput,
  'accounts.list': noInput,
  'accounts.add': z.strictObject({
    provider: z.string().min(1, 'must not be empty').max(50, 'must be at most 50 characters'),
    name: accountName,
    baseUrl: baseUrl.optional(),
    settings: stringMap.optional(),
    secrets: stringMap.optional(),
    concurrency: concurrency.optional(),
  }),
  'accounts.update': z.strictObject({
    account: accountRef,
    name: accountName.optional(),
    baseUrl: baseUrl.optional(),
    settings: stringMap.optional(),
    secrets: stringMap.optional(),
    concurrency: concurrency.optional(),
  }),
  'accounts.remove': z.strictObject({ account: accountRef }),
  'accounts.test': z.strictObject({ account: accountRef }),
  'accounts.pause': z.strictObject({ account: accountRef }),
  'accounts.resume': z.strictObject({ account: accountRef }),
  'accounts.setConcurrency': z.strictObject({ account: accountRef, concurrency }),
  'jobs.enqueue': z.strictObject({
    account: accountRef,
    paths: z
      .array(path)
      .min(1, 'must name at least one file, folder or URL')
      .max(MAX_IDS, `must name at most ${MAX_IDS} items`),
    options: stringMap.optional(),
  }),
  'jobs.list': z.strictObject({
    states: z
      .array(z.enum(JOB_STATES))
      .max(JOB_STATES.length * 2, 'has too many entries')
      .optional(),
    accountId: accountId.optional(),
    search: search.optional(),
    limit,
    offset,
    after: z.strictObject({ position: z.number('must be a number'), id: z.int('must be a whole number') }).optional(),
  }),
  'jobs.get': z.strictObject({ id: jobId }),
  'jobs.pause': z.strictObject({ ids: jobIds }),
  'jobs.resume': z.strictObject({ ids: jobIds }),
  'jobs.cancel': z.strictObject({ ids: jobIds }),
  'jobs.retry': z.strictObject({ ids: jobIds }),
  'jobs.remove': z.strictObject({ ids: jobIds }),
  'jobs.pauseAll': noInput,
  'jobs.resumeAll': noInput,
  'jobs.moveToTop': z.strictObject({ ids: jobIds }),
  'jobs.summary': noInput,
  'history.list': z.strictObject({
    states: z.array(finishedState).max(6, 'has too many entries').optional(),
    accountId: accountId.optional(),
    search: search.optional(),
    limit,
    offset,
  }),
  'history.export': z.strictObject({
    format: z.enum(['csv', 'json']),
    states: z.array(finishedState).max(6, 'has too many entries').optional(),
    accountId: accountId.optional(),
    search: search.optional(),
  }),
  'settings.get': noInput,
  'settings.set': z.strictObject({
    globalConcurrency: z
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(32, 'must be at most 32')
      .optional(),
    closeToTray: z.boolean('must be true or false').optional(),
    startAtLogin: z.boolean('must be true or false').optional(),
    notifications: z.boolean('must be true or false').optional(),
    theme: z.enum(THEMES, `must be one of ${THEMES.join(', ')}`).optional(),
    syncQuietSeconds: z
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1 second')
      .max(86_400, 'must be at most 86,400 (a day)')
      .optional(),
    syncTrashDays: z
      .int('must be a whole number of days')
      .min(1, 'must be at least 1 day')
      .max(3_650, 'must be at most 3,650 days')
      .optional(),
    bwlimit: bwlimitText.optional(),
    proxy: z
      .string('must be text')
      .max(2_000, 'must be at most 2,000 characters')
      .superRefine((value, context) => {
        const problem = proxySettingProblem(value, 'global');
        if (problem !== null) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    autoCopyLink: z.enum(AUTO_COPY_LINKS, `must be one of ${AUTO_COPY_LINKS.join(', ')}`).optional(),
    language: z.enum(LANGUAGES, `must be one of ${LANGUAGES.join(', ')}`).optional(),
    clipboardHotkey: z
      .string('must be text')
      .max(100, 'must be at most 100 characters')
      .refine(
        (value) => value === '' || ACCELERATOR.test(value),
        'must be a key combination such as CommandOrControl+Shift+U (modifiers joined by +, then one key), or empty for none',
      )
      .optional(),
    autoUpdate: z.boolean('must be true or false').optional(),
    updateUrl: z
      .string('must be text')
      .max(2_000, 'must be at most 2,000 characters')
      .refine(
        (value) => value === '' || isHttpUrl(value),
        'must be the http(s) address of the folder holding the update files (latest.yml), or empty for none',
      )
      .optional(),
  }),
  'sync.list': noInput,
  'sync.add': z.strictObject({
    account: accountRef,
    dir: path,
    include: globs.optional(),
    exclude: globs.optional(),
    recursive: z.boolean('must be true or false').optional(),
    afterUpload: z.enum(['keep', 'move', 'delete'], 'must be one of keep, move, delete').optional(),
    moveTo: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  }),
  'sync.remove': z.strictObject({ id: syncRuleId }),
  'sync.pause': z.strictObject({ id: syncRuleId }),
  'sync.resume': z.strictObject({ id: syncRuleId }),
  'sync.pauseAll': noInput,
  'sync.resumeAll': noInput,
  'sync.trashList': noInput,
  'sync.trashRestore': z.strictObject({
    id: z.int('must be a whole number').positive('must be a positive trash entry id'),
  }),
} as const;

export type InputSchemas = typeof INPUT_SCHEMAS;
/** What a handler receives: the input after parsing (defaults filled in). */
export type ParsedInput<K extends CommandName> = z.output<InputSchemas[K]>;

/**
 * Compile-time check that the schemas cover the contract: a command missing here, or a contract input
 * the schema would refuse, is a type error on this line.
 */
type Accepts<K extends CommandName> = CommandInput<K> extends z.input<InputSchemas[K]> ? true : false;
const _coversContract: { [K in CommandName]: Accepts<K> } = {
  'app.status': true,
  'providers.list': true,
  'accounts.list': true,
  'accounts.add': true,
  'accounts.update': true,
  'accounts.remove': true,
  'accounts.test': true,
  'accounts.pause': true,
  'accounts.resume': true,
  'accounts.setConcurrency': true,
  'jobs.enqueue': true,
  'jobs.list': true,
  'jobs.get': true,
  'jobs.pause': true,
  'jobs.resume': true,
  'jobs.cancel': true,
  'jobs.retry': true,
  'jobs.remove': true,
  'jobs.pauseAll': true,
  'jobs.resumeAll': true,
  'jobs.moveToTop': true,
  'jobs.summary': true,
  'history.list': true,
  'history.export': true,
  'settings.get': true,
  'settings.set': true,
  'sync.list': true,
  'sync.add': true,
  'sync.remove': true,
  'sync.pause': true,
  'sync.resume': true,
  'sync.pauseAll': true,
  'sync.resumeAll': true,
  'sync.trashList': true,
  'sync.trashRestore': true,
};
void _coversContract;
