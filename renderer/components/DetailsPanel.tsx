import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { t as translate } from '../i18n.ts';
import type { JobDetail, JobTimelineEntry, JobView } from '../../main/api/contract.ts';
import { copyText } from '../lib/clipboard.ts';
import { formatBytes, formatTime } from '../lib/format.ts';
import { closeDetails } from '../store/details.ts';
import { useFerry } from '../store/store.ts';
import { pushToast, toastError } from '../store/toasts.ts';
import { Icon } from './Icon.tsx';
import { commandsFor } from './jobCommands.ts';
import { ProgressBar } from './ProgressBar.tsx';
import { ProviderMark } from './ProviderMark.tsx';
import { StateChip } from './StateChip.tsx';
import { LinkCopyMenu } from './LinkCopyMenu.tsx';

/** Detail keys shown in their own section, not in the generic facts list. */
const SHOWN_APART = new Set([
  'validations',
  'validationError',
  'warning',
  'note',
  'resumeNote',
  'thumbUrl',
  'previewUrl',
  'squarePreviewUrl',
  'fullUrl',
  'image',
  'isReady',
  'hasError',
  'photoId',
]);

/** Provider detail keys with a translated label (details.fact.*); others are shown as words from their key. */
const LABELS = new Set([
  'uploadId',
  'mediaUploadId',
  'mediaId',
  'fileId',
  'treeId',
  'objectKey',
  'pipelineId',
  'storageType',
  'mimeType',
  'totalSize',
  'convertedToVideo',
  'duration',
  'createdAt',
  'added_at',
  'image_width',
  'image_height',
  'outcomeForm',
  'callbackUrl',
]);

function label(key: string): string {
  if (LABELS.has(key)) return translate(`details.fact.${key}`);
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? translate('details.yes') : translate('details.no');
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value)))
    return formatTime(Date.parse(value));
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

async function copy(text: string, what: string): Promise<void> {
  try {
    await copyText(text);
    pushToast('success', translate('details.copied', { what }));
  } catch (error) {
    toastError(error);
  }
}

function CopyField({
  label: name,
  copyLabel,
  value,
  href,
}: {
  label: string;
  /** "Copy link": its own words, as languages differ in how they fold a label into a sentence. */
  copyLabel: string;
  value: string;
  href?: boolean;
}) {
  return (
    <div className="copy-field">
      <dt>{name}</dt>
      <dd>
        {href ? (
          <a href={value} target="_blank" rel="noreferrer noopener" className="mono ellipsis" title={value}>
            {value}
          </a>
        ) : (
          <span className="mono ellipsis" title={value}>
            {value}
          </span>
        )}
        <button
          type="button"
          className="icon-button"
          aria-label={copyLabel}
          title={copyLabel}
          onClick={() => void copy(value, name)}
        >
          <Icon name="copy" />
        </button>
      </dd>
    </div>
  );
}

interface NetworkValidation {
  isValid: boolean;
  errors: string[];
}

function Validations({ validations }: { validations: Record<string, NetworkValidation> }) {
  const { t } = useTranslation();
  return (
    <table className="table">
      <caption>{t('details.validations.caption')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('details.validations.network')}</th>
          <th scope="col">{t('details.validations.result')}</th>
          <th scope="col">{t('details.validations.why')}</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(validations).map(([network, result]) => (
          <tr key={network}>
            <th scope="row">{network}</th>
            <td>
              <span className={`chip tone-${result.isValid ? 'success' : 'danger'}`}>
                <span className="chip-dot" aria-hidden="true" />
                {result.isValid ? t('details.validations.valid') : t('details.validations.invalid')}
              </span>
            </td>
            <td className="muted">{result.errors.length > 0 ? result.errors.join('; ') : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function previewOf(details: Record<string, unknown>): string | null {
  for (const key of ['thumbUrl', 'previewUrl', 'squarePreviewUrl', 'image']) {
    const value = details[key];
    if (typeof value === 'string' && /^https?:\/\//.test(value)) return value;
  }
  return null;
}

function Result({ job }: { job: JobView }) {
  const { t } = useTranslation();
  const result = job.result;
  if (!result) return null;
  const details = result.details;
  const preview = previewOf(details);
  const validations = details.validations as Record<string, NetworkValidation> | undefined;
  const warnings = ['warning', 'validationError', 'note']
    .map((key) => details[key])
    .filter((v): v is string => typeof v === 'string');
  const facts = Object.entries(details).filter(
    ([key, value]) => !SHOWN_APART.has(key) && value !== null && value !== undefined && value !== '',
  );
  return (
    <section className="panel-section" aria-labelledby="result-title">
      <h3 id="result-title">{t('details.result')}</h3>
      {preview ? (
        <img
          className="preview"
          src={preview}
          alt={t('details.preview', { name: job.name })}
          loading="lazy"
          // A preview the provider no longer serves (or needs a login for) is left out, not shown broken.
          onError={(event) => {
            event.currentTarget.hidden = true;
          }}
        />
      ) : null}
      <dl className="facts">
        {result.remoteId ? (
          <CopyField label={t('details.remoteId')} copyLabel={t('details.copyRemoteId')} value={result.remoteId} />
        ) : null}
        {result.url ? (
          <CopyField label={t('details.link')} copyLabel={t('details.copyLink')} value={result.url} href />
        ) : null}
        {typeof details.photoId === 'string' || typeof details.photoId === 'number' ? (
          <CopyField
            label={t('details.photoId')}
            copyLabel={t('details.copyPhotoId')}
            value={String(details.photoId)}
          />
        ) : null}
        {typeof details.isReady === 'boolean' ? (
          <div>
            <dt>{t('details.mediaState')}</dt>
            <dd>
              <span className={`chip tone-${details.isReady ? 'success' : 'teal'}`}>
                <span className="chip-dot" aria-hidden="true" />
                {details.isReady ? t('details.ready') : t('details.processingOnServer')}
              </span>
              {details.hasError === true ? (
                <span className="chip tone-danger">{t('details.errorReported')}</span>
              ) : null}
            </dd>
          </div>
        ) : null}
        {facts.map(([key, value]) => (
          <div key={key}>
            <dt>{label(key)}</dt>
            <dd className="mono ellipsis" title={show(value)}>
              {key === 'totalSize' && typeof value === 'number' ? formatBytes(value) : show(value)}
            </dd>
          </div>
        ))}
      </dl>
      {result.url ? <LinkCopyMenu url={result.url} name={job.name} mime={job.mime} /> : null}
      {warnings.map((text) => (
        <p key={text} className="callout tone-warning">
          <Icon name="alert" /> {text}
        </p>
      ))}
      {validations ? <Validations validations={validations} /> : null}
    </section>
  );
}

function TimelineItem({ entry }: { entry: JobTimelineEntry }) {
  const { t } = useTranslation();
  const tone =
    entry.type === 'error'
      ? 'danger'
      : entry.type === 'attempt'
        ? 'accent'
        : entry.type === 'state'
          ? 'neutral'
          : 'muted';
  return (
    <li className={`timeline-item tone-${tone}`}>
      <span className="timeline-dot" aria-hidden="true" />
      <div className="timeline-body">
        <div className="timeline-head">
          <time dateTime={new Date(entry.at).toISOString()}>{formatTime(entry.at)}</time>
          {entry.attempt !== null ? <span className="tag">{t('details.attempt', { n: entry.attempt })}</span> : null}
          {entry.errorKind ? <span className="tag tone-danger">{entry.errorKind}</span> : null}
          {entry.state ? <span className="tag">{entry.state}</span> : null}
        </div>
        <p className="timeline-message">{entry.message}</p>
      </div>
    </li>
  );
}

function Timeline({ detail }: { detail: JobDetail }) {
  const { t } = useTranslation();
  return (
    <section className="panel-section" aria-labelledby="timeline-title">
      <h3 id="timeline-title">{t('details.timeline')}</h3>
      {detail.timeline.length === 0 ? (
        <p className="muted">{t('details.nothingYet')}</p>
      ) : (
        <ol className="timeline">
          {[...detail.timeline].reverse().map((entry) => (
            <TimelineItem key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
    </section>
  );
}

export function DetailsPanel() {
  const id = useFerry((s) => s.detailsId);
  const job = useFerry((s) => (s.detailsId === null ? undefined : s.jobs.get(s.detailsId)));
  const detail = useFerry((s) => (s.detail && s.detail.job.id === s.detailsId ? s.detail : null));
  const progress = useFerry((s) => (s.detailsId === null ? undefined : s.progress[s.detailsId]));
  const closeRef = useRef<HTMLButtonElement>(null);
  const { t } = useTranslation();
  useEffect(() => {
    if (id !== null) closeRef.current?.focus({ preventScroll: true });
  }, [id]);
  if (id === null) return null;
  const shown = job ?? detail?.job;
  const size = shown?.size ?? null;
  const done = Math.max(progress?.bytesDone ?? 0, shown?.bytesConfirmed ?? 0);
  const percent = shown?.state === 'completed' ? 100 : size ? (done / size) * 100 : null;
  return (
    <aside className="details" role="complementary" aria-labelledby="details-title">
      <header className="details-header">
        <div className="details-title">
          <h2 id="details-title" className="ellipsis" title={shown?.name}>
            {shown?.name ?? t('common.loading')}
          </h2>
          {shown ? (
            <div className="details-sub">
              <ProviderMark provider={shown.provider} />
              <span>{shown.accountName}</span>
              <span className="dot-sep">·</span>
              <span>{formatBytes(shown.size)}</span>
            </div>
          ) : null}
        </div>
        <button
          ref={closeRef}
          type="button"
          className="icon-button"
          aria-label={t('details.close')}
          onClick={closeDetails}
        >
          <Icon name="close" />
        </button>
      </header>
      {shown ? (
        <div className="details-body">
          <div className="details-status">
            <StateChip job={shown} />
            <ProgressBar
              value={percent}
              label={t('job.progressOf', { name: shown.name })}
              tone={shown.state === 'failed' ? 'danger' : shown.state === 'completed' ? 'success' : 'accent'}
            />
            <span className="percent">{percent === null ? '' : `${Math.floor(percent)}%`}</span>
          </div>
          {shown.state === 'failed' && shown.error ? (
            <p className="callout tone-danger" role="alert">
              <Icon name="alert" />
              <span>
                <strong>{t(`errorKind.${shown.error.kind}`)}:</strong> {shown.error.message}
              </span>
            </p>
          ) : null}
          <div className="details-actions">
            {commandsFor(shown)
              // The link has its own copy buttons below, in three formats.
              .filter((command) => command.id !== 'copy')
              .map((command) => (
                <button
                  key={command.id}
                  type="button"
                  className={`button is-small${command.danger ? ' is-danger-ghost' : ''}`}
                  onClick={command.run}
                >
                  <Icon name={command.icon} /> {command.short}
                </button>
              ))}
          </div>
          <Result job={shown} />
          <section className="panel-section" aria-labelledby="source-title">
            <h3 id="source-title">{t('details.source')}</h3>
            <dl className="facts">
              <div>
                <dt>
                  {shown.sourceKind === 'url' ? 'URL' : shown.staged ? t('details.uploadedFrom') : t('details.file')}
                </dt>
                <dd
                  className={shown.staged ? 'ellipsis' : 'mono ellipsis'}
                  title={shown.staged ? t('details.stagedHint') : shown.source}
                >
                  {shown.staged ? t('details.stagedSource') : shown.source}
                </dd>
              </div>
              <div>
                <dt>{t('details.type')}</dt>
                <dd>{shown.mime || '—'}</dd>
              </div>
              <div>
                <dt>{t('details.added')}</dt>
                <dd>{formatTime(shown.createdAt)}</dd>
              </div>
              {shown.finishedAt ? (
                <div>
                  <dt>{t('details.finished')}</dt>
                  <dd>{formatTime(shown.finishedAt)}</dd>
                </div>
              ) : null}
              <div>
                <dt>{t('details.attempts')}</dt>
                <dd>{shown.attempts}</dd>
              </div>
              {detail ? (
                <div>
                  <dt>{t('details.parts')}</dt>
                  <dd>{detail.partsAcknowledged}</dd>
                </div>
              ) : null}
              {Object.entries(shown.options).map(([key, value]) => (
                <div key={key}>
                  <dt>{label(key)}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
            {detail?.resumeNote ? (
              <p className="callout tone-info">
                <Icon name="info" /> {detail.resumeNote}
              </p>
            ) : null}
          </section>
          {detail ? <Timeline detail={detail} /> : <p className="muted">{t('details.loadingTimeline')}</p>}
        </div>
      ) : null}
    </aside>
  );
}
