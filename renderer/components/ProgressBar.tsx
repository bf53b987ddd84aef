/** A determinate progress bar with its value in the accessibility tree; `value` is 0..100 or null. */
export function ProgressBar({
  value,
  label,
  tone = 'accent',
  indeterminate = false,
}: {
  value: number | null;
  label: string;
  tone?: string;
  indeterminate?: boolean;
}) {
  const shown = value === null ? 0 : Math.max(0, Math.min(100, value));
  return (
    <div
      className={`progress tone-${tone}${indeterminate ? ' is-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(value === null || indeterminate ? {} : { 'aria-valuenow': Math.round(shown) })}
    >
      <div className="progress-fill" style={{ transform: `scaleX(${shown / 100})` }} />
    </div>
  );
}
