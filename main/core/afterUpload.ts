/**
 * What a watched folder does with a file once it is uploaded, and where "move" puts it. Kept here,
 * importing nothing, so that `ferry sync add --help` can list them without loading the database or
 * the sync service (db/syncRepository.ts and sync/syncRules.ts re-export them).
 */
export const AFTER_UPLOAD_ACTIONS = ['keep', 'move', 'delete'] as const;
export type AfterUpload = (typeof AFTER_UPLOAD_ACTIONS)[number];

/** The subfolder `--after move` uses when no `--move-to` is given. */
export const DEFAULT_MOVE_TO = 'uploaded';
