/** One line of the results table, and how the table is printed. */
export interface Row {
  suite: string;
  name: string;
  /** What the figures are (MB/s, CPU s/GiB, MB, ms, …). */
  unit: string;
  ferry: number | null;
  /** The baseline measured in the same run (floor client, ideal, or the smaller size). */
  baseline: number | null;
  baselineName: string;
  /** ferry / baseline, or growth factor. */
  ratio: number | null;
  target: string;
  met: boolean | null;
  note?: string;
  samples?: Record<string, unknown>;
}

const fmt = (value: number | null, digits = 2): string =>
  value === null || Number.isNaN(value) ? '—' : value.toFixed(digits);

export function table(rows: readonly Row[]): string {
  const header = ['suite', 'measure', 'unit', 'Ferry', 'baseline', 'ratio', 'target', 'ok'];
  const lines = rows.map((row) => [
    row.suite,
    row.name,
    row.unit,
    fmt(row.ferry),
    row.baseline === null ? '—' : `${fmt(row.baseline)} (${row.baselineName})`,
    fmt(row.ratio),
    row.target,
    row.met === null ? '' : row.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)].join('\n');
}
