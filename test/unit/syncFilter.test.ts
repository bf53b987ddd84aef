import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSyncFilter, isTemporaryName } from '../../main/sync/syncFilter.ts';

const DIR = join('/', 'home', 'ann', 'Drop');
const rule = { dir: DIR, include: [], exclude: [], recursive: true, afterUpload: 'keep' as const, moveTo: 'uploaded' };
const at = (...parts: string[]): string => join(DIR, ...parts);

describe('sync filter', () => {
  it.each([
    ['report.pdf.tmp', true],
    ['movie.mp4.part', true],
    ['photo.jpg.crdownload', true],
    ['~$budget.xlsx', true],
    ['.DS_Store', true],
    ['.hidden.png', true],
    ['notes.txt~', true],
    ['Thumbs.db', true],
    ['photo.png', false],
    ['tmp.png', false],
    ['part-1.png', false],
  ])('treats %s as temporary: %s', (name, temporary) => {
    expect(isTemporaryName(name)).toBe(temporary);
  });

  it('ignores temporary names and dot-folders at any depth, and nothing outside the folder is accepted', () => {
    const filter = createSyncFilter(rule);
    expect(filter.accepts(at('trip', 'a.png'))).toBe(true);
    expect(filter.ignores(at('.git'))).toBe(true);
    expect(filter.accepts(at('.cache', 'a.png'))).toBe(false);
    expect(filter.accepts(at('trip', 'a.png.part'))).toBe(false);
    expect(filter.accepts(join('/', 'elsewhere', 'a.png'))).toBe(false);
    expect(filter.ignores(DIR)).toBe(false);
    expect(filter.accepts(DIR)).toBe(false);
  });

  it('ignores the move target only when uploaded files are moved there', () => {
    expect(createSyncFilter({ ...rule, afterUpload: 'move' }).ignores(at('uploaded', 'a.png'))).toBe(true);
    expect(createSyncFilter({ ...rule, afterUpload: 'move', moveTo: 'sent' }).ignores(at('uploaded', 'a.png'))).toBe(
      false,
    );
    expect(createSyncFilter(rule).ignores(at('uploaded', 'a.png'))).toBe(false);
  });

  it('takes only the top level when not recursive', () => {
    const filter = createSyncFilter({ ...rule, recursive: false });
    expect(filter.accepts(at('a.png'))).toBe(true);
    expect(filter.ignores(at('sub', 'deeper', 'b.png'))).toBe(true);
    expect(filter.accepts(at('sub', 'a.png'))).toBe(false);
  });

  it('matches a glob without a slash against the name at any depth, one with a slash against the relative path', () => {
    const filter = createSyncFilter({
      ...rule,
      include: ['*.png', 'docs/**/*.pdf'],
      exclude: ['raw/**', 'draft-*', './private/*'],
    });
    expect(filter.accepts(at('a.png'))).toBe(true);
    expect(filter.accepts(at('trip', 'day1', 'a.png'))).toBe(true);
    expect(filter.accepts(at('a.jpg'))).toBe(false);
    expect(filter.accepts(at('docs', 'x', 'manual.pdf'))).toBe(true);
    expect(filter.accepts(at('manual.pdf'))).toBe(false);
    expect(filter.accepts(at('raw', 'a.png'))).toBe(false);
    expect(filter.accepts(at('trip', 'raw', 'a.png'))).toBe(true);
    expect(filter.accepts(at('trip', 'draft-a.png'))).toBe(false);
    expect(filter.accepts(at('private', 'a.png'))).toBe(false);
    expect(filter.relative(at('trip', 'a.png'))).toBe('trip/a.png');
  });
});
