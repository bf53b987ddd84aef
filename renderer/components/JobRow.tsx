import { memo, useMemo, useRef, type ReactNode } from 'react';
import type { JobView } from '../../main/api/contract.ts';
import { useTranslation } from 'react-i18next';
import { fixedText, namedText, rowT } from '../lib/cachedText.ts';
import { etaSeconds, formatBytes, formatDuration, formatSpeed } from '../lib/format.ts';
import { waitingMessage, waitingTitle } from '../lib/networkWait.ts';
import { openDetails } from '../store/details.ts';
import { selectRange, toggleSelected } from '../store/jobActions.ts';
import { jobIdAt } from '../store/lists.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import { Icon, iconForMime } from './Icon.tsx';
import { commandsFor } from './jobCommands.ts';
import { ProgressBar } from './ProgressBar.tsx';
import { ProviderMark } from './ProviderMark.tsx';
import { useBlurWhenRecycled, type RowCellsProps } from './rowSlot.ts';
import { StateChip } from './StateChip.tsx';

export const ROW_HEIGHT = 56;

let anchorIndex: number | null = null;

/**
 * Parts of a row that only a reader needs (the sub-line, the account, the action buttons). While the
 * row is light (`frozen`) they keep what they last drew, and CSS hides them (`.row.is-light`): a row
 * recycled for another job during a fast scroll then skips their render, DOM writes, layout and paint.
 * Not frozen, they draw as if this wrapper were not there.
 */
const Freeze = memo(
  function Freeze({ render }: { frozen: boolean; render: () => ReactNode }) {
    return render();
  },
  (_, next) => next.frozen,
);

/**
 * One queue row. It subscribes to its own job and its own progress entry only, so a progress message
 * for one upload re-renders that row and no other.
 *
 * `light`: the list scrolls faster than anyone reads (usePagedList's `fast`). The row then draws its
 * light form: file icon and name, size, progress, speed, time left and state as usual, while the
 * sub-line, the account and the action buttons stay hidden, as they were. Same height, same columns:
 * nothing moves when the full row comes back, as soon as the scroll slows or stops. A selected row, the
 * row open in the details and the row holding the focus (QueueView) stay full.
 */
export const JobRow = memo(function JobRow({
  index,
  top,
  light = false,
}: {
  index: number;
  top: number;
  light?: boolean;
}) {
  const id = useFerry((s) => jobIdAt(s.queue, index));
  const job = useFerry((s) => (id === undefined ? undefined : s.jobs.get(id)));

  // Rows are recycled while scrolling (rowSlot.ts): the focus leaves a row whose job changes.
  const rowRef = useRef<HTMLDivElement>(null);
  useBlurWhenRecycled(rowRef, id);

  // A row whose page is still being read keeps the elements of the job it showed last, hidden under
  // the placeholder's bar: when the page arrives (after a jump, several rows at once) React then
  // patches texts instead of building every row's ~40 elements again.
  const lastJob = useRef<JobView | undefined>(undefined);
  const loading = !job;
  const shownJob = job ?? lastJob.current;
  if (job) lastJob.current = job;
  const style = { transform: `translateY(${top}px)`, height: ROW_HEIGHT };
  if (!shownJob) {
    return (
      <div ref={rowRef} className="row is-placeholder" role="row" aria-rowindex={index + 2} style={style}>
        <div className="skeleton" />
      </div>
    );
  }
  return <JobRowCells job={shownJob} loading={loading} index={index} light={light} style={style} rowRef={rowRef} />;
});

function JobRowCells({ job, loading, index, light, style, rowRef }: RowCellsProps) {
  const progress = useFerry((s) => (loading ? undefined : s.progress[job.id]));
  const selected = useFerry((s) => !loading && (s.selectAll || s.selection[job.id] === true));
  const open = useFerry((s) => !loading && s.detailsId === job.id);
  // One translation hook per row: it re-renders the row when the language changes. The texts themselves
  // come from lib/cachedText.ts, cached per language (a dozen new rows a frame while scrolling).
  const { i18n } = useTranslation();
  const language = i18n.language;
  const name = job.name;
  // Made when the name or language changes, not per progress message.
  const labels = useMemo(
    () => ({ select: namedText('job.select', name), progress: namedText('job.progressOf', name) }),
    [language, name],
  );

  const size = progress?.total ?? job.size;
  const done = Math.max(progress?.bytesDone ?? 0, job.bytesConfirmed);
  const percent = job.state === 'completed' ? 100 : size ? (done / size) * 100 : null;
  const speed = job.state === 'uploading' ? (progress?.bytesPerSecond ?? 0) : 0;
  const eta = size && speed > 0 ? etaSeconds(size - done, speed) : null;
  const tone =
    job.state === 'failed'
      ? 'danger'
      : job.state === 'completed'
        ? 'success'
        : job.state === 'paused' || job.state === 'canceled'
          ? 'muted'
          : job.state === 'waiting'
            ? 'warning'
            : 'accent';
  const frozen = light === true && !selected && !open && !loading;

  const onClick = (event: React.MouseEvent): void => {
    if ((event.target as HTMLElement).closest('button, input')) return;
    if (event.shiftKey && anchorIndex !== null) selectRange(anchorIndex, index);
    else {
      toggleSelected(job.id, event.metaKey || event.ctrlKey);
      anchorIndex = index;
      if (!event.metaKey && !event.ctrlKey) void openDetails(job.id);
    }
  };

  return (
    <div
      ref={rowRef}
      className={`row${selected ? ' is-selected' : ''}${open ? ' is-open' : ''}${loading ? ' is-loading' : ''}${frozen ? ' is-light' : ''}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      data-job-id={loading ? undefined : job.id}
      data-state={loading ? undefined : job.state}
      style={style}
      onClick={loading ? undefined : onClick}
    >
      <div className="cell cell-check" role="gridcell">
        <input
          type="checkbox"
          aria-label={labels.select}
          checked={selected}
          onChange={() => {
            if (ferryStore.getState().selectAll)
              ferryStore.setState({ selectAll: false, selection: { [job.id]: true } });
            else toggleSelected(job.id, true);
            anchorIndex = index;
          }}
        />
      </div>
      <div className="cell cell-name" role="gridcell">
        <span className="file-icon" aria-hidden="true">
          <Icon name={job.sourceKind === 'url' ? 'globe' : iconForMime(job.mime)} size={18} />
        </span>
        <div className="name-stack">
          <button type="button" className="name-link" onClick={() => void openDetails(job.id)} title={job.source}>
            {job.name}
          </button>
          <Freeze frozen={frozen} render={() => subline(job)} />
        </div>
      </div>
      <div className="cell cell-account" role="gridcell">
        <Freeze
          frozen={frozen}
          render={() => (
            <>
              <ProviderMark provider={job.provider} name={job.provider ?? undefined} />
              <span className="ellipsis">{job.accountName ?? '—'}</span>
            </>
          )}
        />
      </div>
      <div className="cell cell-num" role="gridcell">
        {formatBytes(size)}
      </div>
      {job.state === 'failed' && job.error ? (
        // A failed upload has no speed or time left: its reason takes their room.
        <div className="cell cell-reason" role="gridcell" title={job.error.message}>
          <span className="reason-text">{job.error.message}</span>
        </div>
      ) : (
        <>
          <div className="cell cell-progress" role="gridcell">
            <ProgressBar
              value={percent}
              label={labels.progress}
              tone={tone}
              indeterminate={job.state === 'processing' || job.state === 'finalizing'}
            />
            <span className="percent">{percent === null ? '' : `${Math.floor(percent)}%`}</span>
          </div>
          <div className="cell cell-num cell-speed" role="gridcell">
            {formatSpeed(speed)}
          </div>
          <div className="cell cell-num cell-eta" role="gridcell">
            {eta === null ? '—' : formatDuration(eta)}
          </div>
        </>
      )}
      <div className="cell cell-state" role="gridcell">
        <StateChip job={job} />
      </div>
      <div className="cell cell-actions" role="gridcell">
        <Freeze frozen={frozen} render={() => actionButtons(job)} />
      </div>
    </div>
  );
}

function subline(job: JobView): ReactNode {
  return job.state === 'failed' && job.error ? (
    <span className="subline is-error">{fixedText(`errorKind.${job.error.kind}`)}</span>
  ) : job.state === 'waiting' && job.error ? (
    <span className="subline is-warning" title={waitingTitle(job.error.message, rowT)}>
      {waitingMessage(job.error.message, rowT)}
    </span>
  ) : (
    <span className="subline">{job.result?.url ?? (job.sourceKind === 'url' ? job.source : job.mime)}</span>
  );
}

function actionButtons(job: JobView): ReactNode {
  return commandsFor(job)
    .slice(0, 3)
    .map((command) => (
      <button
        key={command.id}
        type="button"
        className={`icon-button${command.danger ? ' is-danger' : ''}`}
        aria-label={command.label}
        title={command.label}
        onClick={command.run}
      >
        <Icon name={command.icon} />
      </button>
    ));
}
