import { EmptyState } from '../components/EmptyState.tsx';
import { FilePickerButton } from '../components/FilePickerButton.tsx';
import { Icon } from '../components/Icon.tsx';
import { JobRow, ROW_HEIGHT } from '../components/JobRow.tsx';
import { focusedRowIndex, useRowSlots } from '../components/rowSlot.ts';
import { AccountFilter } from '../components/AccountFilter.tsx';
import { SearchInput } from '../components/SearchInput.tsx';
import { usePagedList } from '../components/usePagedList.ts';
import { Segmented } from '../components/Segmented.tsx';
import { useTranslation } from 'react-i18next';
import { etaSeconds, formatBytes, formatCount, formatDuration, formatSpeed } from '../lib/format.ts';
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
    const job = jobs.get(item.jobId);
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
      const job = s.jobs.get(item.jobId);
      if (job && job.state === 'uploading') extra += Math.max(0, item.bytesDone - job.bytesConfirmed);
    }
    return extra;
  });
  const done = Math.min(summary.bytesTotal, summary.bytesDone + inFlightDone);
  const remaining = summary.bytesTotal - done;
  const eta = etaSeconds(remaining, speed);
  const unfinished = summary.counts.active + summary.counts.paused;
  const { t } = useTranslation();
  return (
    <dl className="totals" aria-label={t('queue.totals.label')}>
      <div>
        <dt>{t('queue.totals.files')}</dt>
        <dd>
          {formatCount(unfinished)}
          <span className="of"> {t('queue.totals.leftOf', { total: formatCount(summary.counts.all) })}</span>
        </dd>
      </div>
      <div>
        <dt>{t('queue.totals.bytes')}</dt>
        {summary.bytesTotal === 0 ? (
          <dd>
            —<span className="of"> {unfinished > 0 ? t('queue.totals.sizesLater') : t('queue.totals.noneLeft')}</span>
          </dd>
        ) : (
          <dd>
            {formatBytes(done)}
            <span className="of">
              {' '}
              {t('queue.totals.ofBytes', { total: formatBytes(summary.bytesTotal) })}
              {summary.sizeUnknown > 0 ? ` + ${t('queue.totals.links', { count: summary.sizeUnknown })}` : ''}
            </span>
          </dd>
        )}
      </div>
      <div>
        <dt>{t('queue.totals.speed')}</dt>
        <dd>{formatSpeed(speed)}</dd>
      </div>
      <div>
        <dt>{t('queue.totals.timeLeft')}</dt>
        <dd>{eta === null ? '—' : formatDuration(eta)}</dd>
      </div>
    </dl>
  );
}

function SelectionBar() {
  const count = useFerry((s) => (s.selectAll ? s.queue.total : Object.keys(s.selection).length));
  const { t } = useTranslation();
  if (count === 0) return null;
  const act = (run: (ids: number[]) => Promise<void>) => async () => run(await selectedIds());
  return (
    <div className="selection-bar" role="toolbar" aria-label={t('queue.selection.label')}>
      <span className="selection-count">{t('queue.selection.count', { count, n: formatCount(count) })}</span>
      <button type="button" className="button is-small" onClick={act(pauseJobs)}>
        <Icon name="pause" /> {t('actions.pause')}
      </button>
      <button type="button" className="button is-small" onClick={act(resumeJobs)}>
        <Icon name="play" /> {t('actions.resume')}
      </button>
      <button type="button" className="button is-small" onClick={act(retryJobs)}>
        <Icon name="retry" /> {t('actions.retry')}
      </button>
      <button type="button" className="button is-small" onClick={act(cancelJobs)}>
        <Icon name="cancel" /> {t('actions.cancel')}
      </button>
      <button type="button" className="button is-small is-danger" onClick={() => void removeSelection()}>
        <Icon name="trash" /> {t('actions.remove')}
      </button>
      <span className="spacer" />
      <button type="button" className="button is-small is-ghost" onClick={clearSelection}>
        {t('queue.selection.clear')}
      </button>
    </div>
  );
}

const FILTERS: QueueStateFilter[] = ['all', 'active', 'paused', 'failed', 'completed', 'canceled'];

/**
 * How much of the window the view shows above its rows (title, totals, filters, column heads: 249 px
 * in a 1440-px-wide window, more in a narrower one), rounded down. The first render comes before any
 * layout, so the list guesses its height from the window's: with this it renders the 15 rows a
 * 900-px window shows (with the spare ones) instead of 20, a quarter less work before the first
 * paint. Were it too large, the last rows would appear a frame later (the list's ResizeObserver).
 */
const ABOVE_THE_ROWS = 240;

function QueueList() {
  const total = useFerry((s) => s.queue.total);
  const ready = useFerry((s) => s.queue.ready);
  const { parent, totalSize, items, fast } = usePagedList('queue', total, ROW_HEIGHT, ABOVE_THE_ROWS);
  const slotOf = useRowSlots(items.map((item) => item.index));
  // During a fast scroll rows draw their light form, except the row that holds the keyboard focus.
  const focused = fast ? focusedRowIndex() : null;

  if (!ready && total === 0) return <div className="list-scroll" ref={parent} />;
  return (
    <div className="list-scroll" ref={parent}>
      <div className="list-body" style={{ height: totalSize }}>
        {items.map((item) => (
          <JobRow key={slotOf(item.index)} index={item.index} top={item.start} light={fast && item.index !== focused} />
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
  const { t } = useTranslation();

  let empty: React.ReactNode = null;
  if (booted && accounts === 0) {
    empty = (
      <EmptyState
        icon="accounts"
        title={t('queue.empty.noAccountTitle')}
        actions={
          <button type="button" className="button is-primary" onClick={() => ferryStore.setState({ view: 'accounts' })}>
            <Icon name="plus" /> {t('queue.empty.addAccount')}
          </button>
        }
      >
        {t('queue.empty.noAccountText')}
      </EmptyState>
    );
  } else if (ready && total === 0 && !filtered) {
    empty = (
      <EmptyState
        icon="upload"
        title={t('queue.empty.dropTitle')}
        actions={
          <>
            <FilePickerButton className="button is-primary" />
            <AddLinkButton />
          </>
        }
      >
        {t('queue.empty.dropText')}
      </EmptyState>
    );
  } else if (ready && total === 0) {
    empty = (
      <EmptyState
        icon="search"
        title={t('queue.empty.noMatchTitle')}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void setQueueFilter({ state: 'all', accountId: null, search: '' })}
          >
            {t('queue.empty.showAll')}
          </button>
        }
      >
        {t('queue.empty.noMatchText')}
      </EmptyState>
    );
  }

  return (
    <section className="view" aria-labelledby="queue-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="queue-title">{t('nav.queue')}</h1>
          <div className="header-actions">
            <AddLinkButton />
            <FilePickerButton label={t('queue.addFiles')} />
            <button type="button" className="button" onClick={() => void pauseAll()} disabled={counts.active === 0}>
              <Icon name="pause" /> {t('queue.pauseAll')}
            </button>
            <button type="button" className="button" onClick={() => void resumeAll()} disabled={counts.paused === 0}>
              <Icon name="play" /> {t('queue.resumeAll')}
            </button>
          </div>
        </div>
        <QueueTotals />
        {staging ? (
          <div className="staging-note" role="status">
            <Icon name="upload" />{' '}
            {t('queue.staging', {
              count: staging.files,
              n: formatCount(staging.files),
              sent: formatBytes(staging.sent),
              total: formatBytes(staging.total),
            })}
          </div>
        ) : null}
        <div className="toolbar">
          <Segmented
            label={t('queue.filterByState')}
            value={filter.state}
            options={FILTERS.map((value) => ({ value, label: t(`queue.filter.${value}`), count: counts[value] }))}
            onChange={(state) => void setQueueFilter({ state })}
          />
          <span className="spacer" />
          <AccountFilter value={filter.accountId} onChange={(accountId) => void setQueueFilter({ accountId })} />
          <SearchInput
            label={t('queue.search')}
            placeholder={t('queue.searchPlaceholder')}
            value={filter.search}
            onChange={(search) => void setQueueFilter({ search })}
          />
        </div>
      </header>
      <SelectionBar />
      <div
        className="list"
        role="grid"
        aria-label={t('queue.uploads')}
        aria-rowcount={total + 1}
        aria-multiselectable="true"
        data-selected={rowCount}
      >
        <div className="row row-head" role="row" aria-rowindex={1}>
          <div className="cell cell-check" role="columnheader">
            <span className="visually-hidden">{t('queue.col.selected')}</span>
          </div>
          <div className="cell cell-name" role="columnheader">
            {t('queue.col.name')}
          </div>
          <div className="cell cell-account" role="columnheader">
            {t('queue.col.account')}
          </div>
          <div className="cell cell-num" role="columnheader">
            {t('queue.col.size')}
          </div>
          <div className="cell cell-progress" role="columnheader">
            {t('queue.col.progress')}
          </div>
          <div className="cell cell-num cell-speed" role="columnheader">
            {t('queue.col.speed')}
          </div>
          <div className="cell cell-num cell-eta" role="columnheader">
            {t('queue.col.eta')}
          </div>
          <div className="cell cell-state" role="columnheader">
            {t('queue.col.state')}
          </div>
          <div className="cell cell-actions" role="columnheader">
            <span className="visually-hidden">{t('queue.col.actions')}</span>
          </div>
        </div>
        {empty ?? <QueueList />}
      </div>
    </section>
  );
}
