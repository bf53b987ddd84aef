import { memo, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { t as translate } from '../i18n.ts';
import type { FinishedState, JobView } from '../../main/api/contract.ts';
import { AccountFilter } from '../components/AccountFilter.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Icon, iconForMime } from '../components/Icon.tsx';
import { LinkCopyMenu } from '../components/LinkCopyMenu.tsx';
import { ProviderMark } from '../components/ProviderMark.tsx';
import { SearchInput } from '../components/SearchInput.tsx';
import { Segmented } from '../components/Segmented.tsx';
import { StateChip } from '../components/StateChip.tsx';
import { useBlurWhenRecycled, useRowSlots, type RowCellsProps } from '../components/rowSlot.ts';
import { usePagedList } from '../components/usePagedList.ts';
import { formatBytes, formatCount, formatTime } from '../lib/format.ts';
import { call } from '../store/api.ts';
import { openDetails } from '../store/details.ts';
import { historyQuery, jobIdAt, reloadList, setHistoryFilter } from '../store/lists.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import { pushToast, toastError } from '../store/toasts.ts';

const ROW = 56;

const HistoryRow = memo(function HistoryRow({ index, top }: { index: number; top: number }) {
  const id = useFerry((s) => jobIdAt(s.history, index));
  const job = useFerry((s) => (id === undefined ? undefined : s.jobs.get(id)));
  // Rows are recycled while scrolling (rowSlot.ts): the focus leaves a row whose job changes.
  const rowRef = useRef<HTMLDivElement>(null);
  useBlurWhenRecycled(rowRef, id);
  // As in the queue (JobRow): a row waiting for its page keeps its last job's elements, hidden under
  // the placeholder's bar, so that the page's arrival patches them instead of building new ones.
  const lastJob = useRef<JobView | undefined>(undefined);
  const shownJob = job ?? lastJob.current;
  if (job) lastJob.current = job;
  const style = { transform: `translateY(${top}px)`, height: ROW };
  if (!shownJob) {
    return (
      <div ref={rowRef} className="row history-row is-placeholder" role="row" aria-rowindex={index + 2} style={style}>
        <div className="skeleton" />
      </div>
    );
  }
  return <HistoryRowCells job={shownJob} loading={!job} index={index} style={style} rowRef={rowRef} />;
});

function HistoryRowCells({ job, loading, index, style, rowRef }: RowCellsProps) {
  const open = useFerry((s) => !loading && s.detailsId === job.id);
  return (
    <div
      ref={rowRef}
      className={`row history-row${open ? ' is-open' : ''}${loading ? ' is-loading' : ''}`}
      role="row"
      aria-rowindex={index + 2}
      data-job-id={loading ? undefined : job.id}
      style={style}
      onClick={(event) => {
        if (!loading && !(event.target as HTMLElement).closest('button, a')) void openDetails(job.id);
      }}
    >
      <div className="cell cell-name" role="gridcell">
        <span className="file-icon" aria-hidden="true">
          <Icon name={job.sourceKind === 'url' ? 'globe' : iconForMime(job.mime)} size={18} />
        </span>
        <div className="name-stack">
          <button type="button" className="name-link" onClick={() => void openDetails(job.id)}>
            {job.name}
          </button>
          <span
            className={`subline${job.state === 'failed' ? ' is-error' : ''}`}
            title={job.error?.message ?? job.result?.url ?? ''}
          >
            {job.state === 'failed' ? job.error?.message : (job.result?.url ?? job.result?.remoteId ?? '')}
          </span>
        </div>
      </div>
      <div className="cell cell-account" role="gridcell">
        <ProviderMark provider={job.provider} />
        <span className="ellipsis">{job.accountName ?? '—'}</span>
      </div>
      <div className="cell cell-num" role="gridcell">
        {formatBytes(job.size)}
      </div>
      <div className="cell cell-num" role="gridcell">
        {formatTime(job.finishedAt)}
      </div>
      <div className="cell cell-state" role="gridcell">
        <StateChip job={job} />
      </div>
      <div className="cell cell-links" role="gridcell">
        {job.result?.url ? <LinkCopyMenu url={job.result.url} name={job.name} mime={job.mime} compact /> : null}
      </div>
    </div>
  );
}

function download(text: string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function exportHistory(format: 'csv' | 'json'): Promise<void> {
  try {
    const text = await call('history.export', { format, ...historyQuery(ferryStore.getState().historyFilter) });
    const stamp = new Date().toISOString().slice(0, 10);
    download(text, `ferry-history-${stamp}.${format}`, format === 'csv' ? 'text/csv' : 'application/json');
    pushToast('success', translate('history.exported', { format: format.toUpperCase() }));
  } catch (error) {
    toastError(error);
  }
}

function HistoryList() {
  const total = useFerry((s) => s.history.total);
  const { parent, totalSize, items } = usePagedList('history', total, ROW);
  const slotOf = useRowSlots(items.map((item) => item.index));
  return (
    <div className="list-scroll" ref={parent}>
      <div className="list-body" style={{ height: totalSize }}>
        {items.map((item) => (
          <HistoryRow key={slotOf(item.index)} index={item.index} top={item.start} />
        ))}
      </div>
    </div>
  );
}

export function HistoryView() {
  const filter = useFerry((s) => s.historyFilter);
  const total = useFerry((s) => s.history.total);
  const ready = useFerry((s) => s.history.ready);
  const [exporting, setExporting] = useState(false);
  const { t } = useTranslation();
  useEffect(() => {
    void reloadList('history');
  }, []);
  const filtered = filter.state !== 'all' || filter.accountId !== null || filter.search.trim() !== '';
  return (
    <section className="view" aria-labelledby="history-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="history-title">{t('nav.history')}</h1>
          <div className="header-actions">
            {(['csv', 'json'] as const).map((format) => (
              <button
                key={format}
                type="button"
                className="button"
                disabled={exporting || total === 0}
                onClick={async () => {
                  setExporting(true);
                  await exportHistory(format);
                  setExporting(false);
                }}
              >
                <Icon name="download" /> {t('history.export', { format: format.toUpperCase() })}
              </button>
            ))}
          </div>
        </div>
        <p className="view-lede">
          {ready
            ? t(filtered ? 'history.countMatching' : 'history.count', { count: total, n: formatCount(total) })
            : t('common.loading')}
        </p>
        <div className="toolbar">
          <Segmented<FinishedState | 'all'>
            label={t('history.filterByResult')}
            value={filter.state}
            options={[
              { value: 'all', label: t('queue.filter.all') },
              { value: 'completed', label: t('queue.filter.completed') },
              { value: 'failed', label: t('queue.filter.failed') },
              { value: 'canceled', label: t('queue.filter.canceled') },
            ]}
            onChange={(state) => void setHistoryFilter({ state })}
          />
          <span className="spacer" />
          <AccountFilter value={filter.accountId} onChange={(accountId) => void setHistoryFilter({ accountId })} />
          <SearchInput
            label={t('history.search')}
            placeholder={t('history.searchPlaceholder')}
            value={filter.search}
            onChange={(search) => void setHistoryFilter({ search })}
          />
        </div>
      </header>
      <div className="list" role="grid" aria-label={t('history.finishedUploads')} aria-rowcount={total + 1}>
        <div className="row row-head history-row" role="row" aria-rowindex={1}>
          <div className="cell cell-name" role="columnheader">
            {t('queue.col.name')}
          </div>
          <div className="cell cell-account" role="columnheader">
            {t('queue.col.account')}
          </div>
          <div className="cell cell-num" role="columnheader">
            {t('queue.col.size')}
          </div>
          <div className="cell cell-num" role="columnheader">
            {t('details.finished')}
          </div>
          <div className="cell cell-state" role="columnheader">
            {t('details.result')}
          </div>
          <div className="cell cell-links" role="columnheader">
            {t('history.copyLinkAs')}
          </div>
        </div>
        {ready && total === 0 ? (
          <EmptyState icon="history" title={filtered ? t('history.empty.noMatch') : t('history.empty.title')}>
            {filtered ? t('history.empty.noMatchText') : t('history.empty.text')}
          </EmptyState>
        ) : (
          <HistoryList />
        )}
      </div>
    </section>
  );
}
