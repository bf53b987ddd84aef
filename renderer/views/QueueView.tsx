import { EmptyState } from '../components/EmptyState.tsx';
import { FilePickerButton } from '../components/FilePickerButton.tsx';
import { Icon } from '../components/Icon.tsx';
import { JobRow, ROW_HEIGHT } from '../components/JobRow.tsx';
import { AccountFilter } from '../components/AccountFilter.tsx';
import { SearchInput } from '../components/SearchInput.tsx';
import { usePagedList } from '../components/usePagedList.ts';
import { Segmented } from '../components/Segmented.tsx';
import { etaSeconds, formatBytes, formatDuration, formatSpeed, plural } from '../lib/format.ts';
import {
  cancelJobs,
  clearSelection,
  pauseAll,
  pauseJobs,
  removeSelection,
  resumeAll,
  resumeJobs,
  retryJobs,
  selectedIds,
} from '../store/jobActions.ts';
import { setQueueFilter } from '../store/lists.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import type { FerryState, QueueStateFilter } from '../store/slices.ts';
import { AddLinkButton } from '../components/AddLinkButton.tsx';

function totalSpeed(s: FerryState): number {
  const { progress, jobs } = s;
  let sum = 0;
  for (const item of Object.values(progress)) {
    const job = jobs[item.jobId];
    if (!job || job.state === 'uploading') sum += item.bytesPerSecond;
  }
  return sum;
}

function QueueTotals() {
  const summary = useFerry((s) => s.summary);
  // Re-rendered by progress messages (a few per second), not by anything per row.
  const speed = useFerry(totalSpeed);
  const inFlightDone = useFerry((s) => {
    let extra = 0;
    for (const item of Object.values(s.progress)) {
      const job = s.jobs[item.jobId];
      if (job && job.state === 'uploading') extra += Math.max(0, item.bytesDone - job.bytesConfirmed);
    }
    return extra;
  });
  const done = Math.min(summary.bytesTotal, summary.bytesDone + inFlightDone);
  const remaining = summary.bytesTotal - done;
  const eta = etaSeconds(remaining, speed);
  const unfinished = summary.counts.active + summary.counts.paused;
  return (
    <dl className="totals" aria-label="Queue totals">
      <div>
        <dt>Files</dt>
        <dd>
          {unfinished.toLocaleString('en-US')}
          <span className="of"> left of {summary.counts.all.toLocaleString('en-US')}</span>
        </dd>
      </div>
      <div>
        <dt>Bytes</dt>
        {summary.bytesTotal === 0 ? (
          <dd>
            —<span className="of"> {unfinished > 0 ? 'sizes known once fetched' : 'none left'}</span>
          </dd>
        ) : (
          <dd>
            {formatBytes(done)}
            <span className="of">
              {' '}
              of {formatBytes(summary.bytesTotal)}
              {summary.sizeUnknown > 0 ? ` + ${plural(summary.sizeUnknown, 'link')}` : ''}
            </span>
          </dd>
        )}
      </div>
      <div>
        <dt>Speed</dt>
        <dd>{formatSpeed(speed)}</dd>
      </div>
      <div>
        <dt>Time left</dt>
        <dd>{eta === null ? '—' : formatDuration(eta)}</dd>
      </div>
    </dl>
  );
}

function SelectionBar() {
  const count = useFerry((s) => (s.selectAll ? s.queue.total : Object.keys(s.selection).length));
  if (count === 0) return null;
  const act = (run: (ids: number[]) => Promise<void>) => async () => run(await selectedIds());
  return (
    <div className="selection-bar" role="toolbar" aria-label="Selected uploads">
      <span className="selection-count">{plural(count, 'upload')} selected</span>
      <button type="button" className="button is-small" onClick={act(pauseJobs)}>
        <Icon name="pause" /> Pause
      </button>
      <button type="button" className="button is-small" onClick={act(resumeJobs)}>
        <Icon name="play" /> Resume
      </button>
      <button type="button" className="button is-small" onClick={act(retryJobs)}>
        <Icon name="retry" /> Retry
      </button>
      <button type="button" className="button is-small" onClick={act(cancelJobs)}>
        <Icon name="cancel" /> Cancel
      </button>
      <button type="button" className="button is-small is-danger" onClick={() => void removeSelection()}>
        <Icon name="trash" /> Remove
      </button>
      <span className="spacer" />
      <button type="button" className="button is-small is-ghost" onClick={clearSelection}>
        Clear selection
      </button>
    </div>
  );
}

const FILTERS: Array<{ value: QueueStateFilter; label: string }> = [
  { value: 'all', label: 'All' },
  { value: 'active', label: 'Active' },
  { value: 'paused', label: 'Paused' },
  { value: 'failed', label: 'Failed' },
  { value: 'completed', label: 'Completed' },
  { value: 'canceled', label: 'Canceled' },
];

function QueueList() {
  const total = useFerry((s) => s.queue.total);
  const ready = useFerry((s) => s.queue.ready);
  const { parent, virtualizer, items } = usePagedList('queue', total, ROW_HEIGHT);

  if (!ready && total === 0) return <div className="list-scroll" ref={parent} />;
  return (
    <div className="list-scroll" ref={parent}>
      <div className="list-body" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => (
          <JobRow key={item.key} index={item.index} top={item.start} />
        ))}
      </div>
    </div>
  );
}

export function QueueView() {
  const filter = useFerry((s) => s.queueFilter);
  const counts = useFerry((s) => s.summary.counts);
  const total = useFerry((s) => s.queue.total);
  const ready = useFerry((s) => s.queue.ready);
  const accounts = useFerry((s) => s.accounts.length);
  const booted = useFerry((s) => s.booted);
  const staging = useFerry((s) => s.staging);
  const filtered = filter.state !== 'all' || filter.accountId !== null || filter.search.trim() !== '';
  const rowCount = useFerry((s) => (s.selectAll ? s.queue.total : Object.keys(s.selection).length));

  let empty: React.ReactNode = null;
  if (booted && accounts === 0) {
    empty = (
      <EmptyState
        icon="accounts"
        title="Add an account to start"
        actions={
          <button type="button" className="button is-primary" onClick={() => ferryStore.setState({ view: 'accounts' })}>
            <Icon name="plus" /> Add an account
          </button>
        }
      >
        Ferry uploads to SelfCommunity, TwentyThree, OFAuth, Oktopost and Xvid MediaHub. Connect an account first; then
        drop files anywhere on this window.
      </EmptyState>
    );
  } else if (ready && total === 0 && !filtered) {
    empty = (
      <EmptyState
        icon="upload"
        title="Drop files here"
        actions={
          <>
            <FilePickerButton className="button is-primary" />
            <AddLinkButton />
          </>
        }
      >
        Drag files or whole folders anywhere onto this window, then pick the account they go to. Uploads resume where
        they stopped, even after a restart.
      </EmptyState>
    );
  } else if (ready && total === 0) {
    empty = (
      <EmptyState
        icon="search"
        title="No uploads match"
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void setQueueFilter({ state: 'all', accountId: null, search: '' })}
          >
            Show every upload
          </button>
        }
      >
        Nothing in the queue matches these filters.
      </EmptyState>
    );
  }

  return (
    <section className="view" aria-labelledby="queue-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="queue-title">Queue</h1>
          <div className="header-actions">
            <AddLinkButton />
            <FilePickerButton label="Add files" />
            <button type="button" className="button" onClick={() => void pauseAll()} disabled={counts.active === 0}>
              <Icon name="pause" /> Pause all
            </button>
            <button type="button" className="button" onClick={() => void resumeAll()} disabled={counts.paused === 0}>
              <Icon name="play" /> Resume all
            </button>
          </div>
        </div>
        <QueueTotals />
        {staging ? (
          <div className="staging-note" role="status">
            <Icon name="upload" /> Adding {plural(staging.files, 'file')} to the queue… {formatBytes(staging.sent)} of{' '}
            {formatBytes(staging.total)}
          </div>
        ) : null}
        <div className="toolbar">
          <Segmented
            label="Filter by state"
            value={filter.state}
            options={FILTERS.map((f) => ({ ...f, count: counts[f.value] }))}
            onChange={(state) => void setQueueFilter({ state })}
          />
          <span className="spacer" />
          <AccountFilter value={filter.accountId} onChange={(accountId) => void setQueueFilter({ accountId })} />
          <SearchInput
            label="Search uploads"
            placeholder="Search by name"
            value={filter.search}
            onChange={(search) => void setQueueFilter({ search })}
          />
        </div>
      </header>
      <SelectionBar />
      <div
        className="list"
        role="grid"
        aria-label="Uploads"
        aria-rowcount={total + 1}
        aria-multiselectable="true"
        data-selected={rowCount}
      >
        <div className="row row-head" role="row" aria-rowindex={1}>
          <div className="cell cell-check" role="columnheader">
            <span className="visually-hidden">Selected</span>
          </div>
          <div className="cell cell-name" role="columnheader">
            Name
          </div>
          <div className="cell cell-account" role="columnheader">
            Account
          </div>
          <div className="cell cell-num" role="columnheader">
            Size
          </div>
          <div className="cell cell-progress" role="columnheader">
            Progress
          </div>
          <div className="cell cell-num cell-speed" role="columnheader">
            Speed
          </div>
          <div className="cell cell-num cell-eta" role="columnheader">
            ETA
          </div>
          <div className="cell cell-state" role="columnheader">
            State
          </div>
          <div className="cell cell-actions" role="columnheader">
            <span className="visually-hidden">Actions</span>
          </div>
        </div>
        {empty ?? <QueueList />}
      </div>
    </section>
  );
}
