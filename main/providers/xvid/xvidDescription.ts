/**
 * What Ferry says about Xvid MediaHub: its account fields and capabilities.
 * Kept apart from the adapter, which loads the HTTP client and the reply parsers: `ferry providers`
 * and the provider registry's catalogue (../catalog.ts) read this without loading any of that.
 */
import type { ProviderDescription } from '../types.ts';

/** S3 takes at most 5 GB in one form POST, and Ferry sends the file as one chunk. */
export const XVID_MAX_FILE_BYTES = 5_000_000_000;

/** The account setting that says how long an upload no Job uses is kept. */
export const XVID_EXPIRY_SETTING = 'deleteUnusedAfterDays';
export const XVID_EXPIRY_LABEL = 'Delete unused uploads after (days)';
/** The setting's value for "never delete", the default: `expires_at=0`. */
export const XVID_EXPIRY_NEVER = 'never';
/**
 * The vendor states no upper bound for `expires_at`. Ten years is far beyond any use an upload waits
 * for, and keeps a typo (days typed as a date, say) from being sent.
 */
export const XVID_MAX_EXPIRY_DAYS = 3650;

export const XVID_RESUME_NOTE =
  'Xvid MediaHub resumes by sending the whole file again (its chunk convention is undocumented).';

export const xvidDescription: ProviderDescription = {
  id: 'xvid',
  displayName: 'Xvid MediaHub',
  fields: [
    {
      key: 'clientId',
      label: 'Client id',
      kind: 'secret',
      required: true,
      hint: 'OAuth2 client id of the MediaHub API application',
    },
    { key: 'clientSecret', label: 'Client secret', kind: 'secret', required: true },
    {
      key: 'pipelineId',
      label: 'Pipeline id',
      kind: 'setting',
      required: true,
      hint: 'The MediaHub pipeline that processes uploaded files',
    },
    {
      key: 'objectKeyPrefix',
      label: 'Object key prefix',
      kind: 'setting',
      required: false,
      hint: 'Put before each storage key, e.g. uploads/; Ferry adds ferry-<job id>-<8 hex digits>/<file name>',
    },
    {
      key: XVID_EXPIRY_SETTING,
      label: XVID_EXPIRY_LABEL,
      kind: 'setting',
      required: false,
      default: XVID_EXPIRY_NEVER,
      hint:
        `MediaHub deletes an uploaded file that no Job has used after this many days (1-${XVID_MAX_EXPIRY_DAYS}), ` +
        `or never; left unset, MediaHub itself would delete it after 7 days`,
    },
  ],
  capabilities: {
    sources: 'file',
    partOrder: 'serial',
    maxParallelParts: 1,
    rateLimit: null,
    defaultBaseUrl: 'https://api.xvid.com/v1',
    accepts: ['video/*', 'audio/*', 'image/*'].map((type) => ({ type, maxBytes: XVID_MAX_FILE_BYTES })),
    resumeNote: XVID_RESUME_NOTE,
  },
};
