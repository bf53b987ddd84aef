/**
 * Which paths of a watched folder are candidates for upload. Pure: the watcher, the rescan and the
 * tests all ask the same questions.
 */
import { relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { SyncRule } from '../db/syncRepository.ts';

/**
 * Names that are written by something still at work (browsers, editors, office suites, sync
 * clients) or that belong to the system. They never become uploads; the final name, once the
 * writer renames the file, does.
 */
const TEMPORARY = [
  /\.(tmp|temp|part|partial|crdownload|download|swp|swx)$/i,
  /^~\$/, // Office lock files
  /~$/, // editor backups
  /^\./, // dot-files: .DS_Store, .~lock.*#, ._AppleDouble, partial rsync files
  /^(Thumbs\.db|desktop\.ini)$/i,
];

export function isTemporaryName(name: string): boolean {
  return TEMPORARY.some((pattern) => pattern.test(name));
}

export interface SyncFilter {
  /** True for paths the watcher must not even look at (dot-folders, the move target, temporary names). */
  ignores(absolutePath: string): boolean;
  /** True when the file at this path should be uploaded (not ignored, included, not excluded). */
  accepts(absolutePath: string): boolean;
  /** The path relative to the watched folder, with `/` separators (what globs are matched against). */
  relative(absolutePath: string): string;
}

/**
 * Globs are relative to the watched folder, picomatch syntax; a glob without a slash matches the base
 * name at any depth (`*.png` takes `trip/a.png` too), one with a slash matches the whole relative path.
 */
export function createSyncFilter(
  rule: Pick<SyncRule, 'dir' | 'include' | 'exclude' | 'recursive' | 'afterUpload' | 'moveTo'>,
): SyncFilter {
  const include = rule.include.length > 0 ? globMatcher(rule.include) : () => true;
  const exclude = rule.exclude.length > 0 ? globMatcher(rule.exclude) : () => false;
  const toRelative = (absolutePath: string): string => relative(rule.dir, absolutePath).split(sep).join('/');

  const ignores = (absolutePath: string): boolean => {
    const rel = toRelative(absolutePath);
    if (rel === '') return false;
    if (rel === '..' || rel.startsWith('../')) return true;
    const segments = rel.split('/');
    if (!rule.recursive && segments.length > 1) return true;
    // The move target holds files already uploaded: watching it would only re-discover them.
    if (rule.afterUpload === 'move' && segments[0] === rule.moveTo) return true;
    return segments.some((segment) => isTemporaryName(segment));
  };

  return {
    ignores,
    relative: toRelative,
    accepts(absolutePath) {
      if (ignores(absolutePath)) return false;
      const rel = toRelative(absolutePath);
      if (rel === '') return false;
      return include(rel) && !exclude(rel);
    },
  };
}

/**
 * picomatch's own `basename` option applies to every pattern, slash or not, so the two kinds are
 * split here: gitignore-like behaviour, which is what people expect from `*.png` and `raw/**`.
 */
function globMatcher(globs: readonly string[]): (relativePath: string) => boolean {
  const options = { dot: false } as const;
  const byName = globs.filter((glob) => !glob.includes('/'));
  const byPath = globs.filter((glob) => glob.includes('/')).map((glob) => glob.replace(/^\.\//, ''));
  const name = byName.length > 0 ? picomatch(byName, options) : () => false;
  const path = byPath.length > 0 ? picomatch(byPath, options) : () => false;
  return (relativePath) => path(relativePath) || name(relativePath.slice(relativePath.lastIndexOf('/') + 1));
}
