import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AutoCopyLink, Language, Settings, Theme } from '../../main/api/contract.ts';
import { Segmented } from '../components/Segmented.tsx';
import { changeSettings, saveSettings } from '../store/catalog.ts';
import { transport } from '../store/api.ts';
import { useFerry } from '../store/store.ts';
import { toastError } from '../store/toasts.ts';

/**
 * One setting: its label and hint, and the control. `group`: the control is a group of buttons
 * (Segmented) that names itself, so the label is text rather than a <label> of one input.
 */
function SettingRow({
  id,
  label,
  hint,
  error,
  group = false,
  children,
}: {
  id: string;
  label: string;
  hint: ReactNode;
  error?: string | null;
  group?: boolean;
  children: ReactNode;
}) {
  return (
    <div className="setting-row">
      <div className="setting-text">
        {group ? (
          <span className="setting-label" id={`${id}-label`}>
            {label}
          </span>
        ) : (
          <label htmlFor={id} className="setting-label" id={`${id}-label`}>
            {label}
          </label>
        )}
        <p className="setting-hint" id={`${id}-hint`}>
          {hint}
        </p>
        {error ? (
          <p className="setting-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        ) : null}
      </div>
      <div className="setting-control">{children}</div>
    </div>
  );
}

function Toggle({ id, checked, onChange }: { id: string; checked: boolean; onChange: (value: boolean) => void }) {
  return (
    <input
      id={id}
      type="checkbox"
      role="switch"
      className="switch"
      checked={checked}
      aria-describedby={`${id}-hint`}
      onChange={(event) => onChange(event.target.checked)}
    />
  );
}

function NumberInput({
  id,
  value,
  min,
  max,
  onCommit,
  suffix,
}: {
  id: string;
  value: number;
  min: number;
  max: number;
  onCommit: (value: number) => void;
  suffix?: string;
}) {
  return (
    <span className="number-input">
      <input
        id={id}
        type="number"
        className="input is-narrow"
        min={min}
        max={max}
        defaultValue={value}
        key={value}
        aria-describedby={`${id}-hint`}
        onBlur={(event) => {
          const next = Number(event.target.value);
          if (Number.isInteger(next) && next >= min && next <= max && next !== value) onCommit(next);
          else event.target.value = String(value);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') (event.target as HTMLInputElement).blur();
        }}
      />
      {suffix ? <span className="suffix">{suffix}</span> : null}
    </span>
  );
}

type TextKey = 'bwlimit' | 'proxy' | 'clipboardHotkey' | 'updateUrl';

/**
 * A text setting saved on Enter or when the field loses focus. When the server refuses the value, its
 * one-line reason shows under the label and the typed text stays, so it can be corrected; nothing is
 * saved half-way.
 */
function TextSetting({
  id,
  name,
  label,
  hint,
  placeholder,
  wide = false,
}: {
  id: string;
  name: TextKey;
  label: string;
  hint: ReactNode;
  placeholder?: string;
  wide?: boolean;
}) {
  const saved = useFerry((s) => s.settings?.[name] ?? '');
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const commit = async (): Promise<void> => {
    if (draft === null) return;
    const value = draft.trim();
    if (value === saved) {
      setDraft(null);
      setError(null);
      return;
    }
    try {
      await saveSettings({ [name]: value } as Partial<Settings>);
      setDraft(null);
      setError(null);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };
  return (
    <SettingRow id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        className={`input mono ${wide ? 'is-wide' : 'is-medium'}`}
        value={draft ?? saved}
        placeholder={placeholder}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error ${id}-hint` : `${id}-hint`}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={() => void commit()}
        onKeyDown={(event) => {
          if (event.key === 'Enter') void commit();
          if (event.key === 'Escape') {
            setDraft(null);
            setError(null);
          }
        }}
      />
    </SettingRow>
  );
}

type ProxyMode = 'system' | 'direct' | 'url';

/** The proxy: the system's, none, or a URL typed in (checked by the server like the other text settings). */
function ProxySetting() {
  const { t } = useTranslation();
  const proxy = useFerry((s) => s.settings?.proxy ?? 'system');
  const [custom, setCustom] = useState(false);
  const mode: ProxyMode = custom ? 'url' : proxy === 'system' || proxy === 'direct' ? proxy : 'url';
  return (
    <>
      <SettingRow id="set-proxy-mode" label={t('settings.proxy.label')} hint={t('settings.proxy.hint')} group>
        <Segmented<ProxyMode>
          label={t('settings.proxy.label')}
          value={mode}
          options={[
            { value: 'system', label: t('settings.proxy.system') },
            { value: 'direct', label: t('settings.proxy.direct') },
            { value: 'url', label: t('settings.proxy.url') },
          ]}
          onChange={(next) => {
            setCustom(next === 'url');
            if (next !== 'url') void changeSettings({ proxy: next });
          }}
        />
      </SettingRow>
      {mode === 'url' ? (
        <TextSetting
          id="set-proxy"
          name="proxy"
          label={t('settings.proxy.urlLabel')}
          hint={t('settings.proxy.urlHint')}
          placeholder="http://proxy.example:3128"
          wide
        />
      ) : null}
    </>
  );
}

export function SettingsView() {
  const { t } = useTranslation();
  const settings = useFerry((s) => s.settings);
  const kind = useFerry((s) => s.transportKind);
  const status = useFerry((s) => s.status);
  if (!settings) return null;
  const desktop = kind === 'electron';
  const onlyDesktop = kind === 'serve' ? ` ${t('settings.desktopOnly')}` : '';
  let openLogFolder: (() => Promise<void>) | null = null;
  try {
    openLogFolder = desktop ? transport().openLogFolder : null;
  } catch {
    openLogFolder = null;
  }
  return (
    <section className="view view-narrow" aria-labelledby="settings-title">
      <header className="view-header">
        <h1 id="settings-title">{t('nav.settings')}</h1>
        <p className="view-lede">{t('settings.lede')}</p>
      </header>
      <div className="view-scroll">
        <div className="card settings-card">
          <h2 className="card-title">{t('settings.uploads')}</h2>
          <SettingRow
            id="set-concurrency"
            label={t('settings.concurrency.label')}
            hint={t('settings.concurrency.hint')}
          >
            <NumberInput
              id="set-concurrency"
              value={settings.globalConcurrency}
              min={1}
              max={64}
              onCommit={(globalConcurrency) => void changeSettings({ globalConcurrency })}
            />
          </SettingRow>
          <TextSetting
            id="set-bwlimit"
            name="bwlimit"
            label={t('settings.bwlimit.label')}
            hint={t('settings.bwlimit.hint')}
            placeholder="off"
            wide
          />
          <ProxySetting />
        </div>
        <div className="card settings-card">
          <h2 className="card-title">{t('settings.links')}</h2>
          <SettingRow
            id="set-autocopy"
            label={t('settings.autoCopy.label')}
            hint={desktop ? t('settings.autoCopy.hintDesktop') : t('settings.autoCopy.hintServe')}
            group
          >
            <Segmented<AutoCopyLink>
              label={t('settings.autoCopy.label')}
              value={settings.autoCopyLink}
              options={[
                { value: 'off', label: t('settings.autoCopy.off') },
                { value: 'url', label: 'URL' },
                { value: 'markdown', label: 'Markdown' },
                { value: 'html', label: 'HTML' },
              ]}
              onChange={(autoCopyLink) => void changeSettings({ autoCopyLink })}
            />
          </SettingRow>
        </div>
        <div className="card settings-card">
          <h2 className="card-title">{t('settings.folders')}</h2>
          <SettingRow id="set-quiet" label={t('settings.quiet.label')} hint={t('settings.quiet.hint')}>
            <NumberInput
              id="set-quiet"
              value={settings.syncQuietSeconds}
              min={0}
              max={86_400}
              suffix={t('settings.quiet.suffix')}
              onCommit={(syncQuietSeconds) => void changeSettings({ syncQuietSeconds })}
            />
          </SettingRow>
          <SettingRow id="set-trash" label={t('settings.trashDays.label')} hint={t('settings.trashDays.hint')}>
            <NumberInput
              id="set-trash"
              value={settings.syncTrashDays}
              min={1}
              max={3650}
              suffix={t('settings.trashDays.suffix')}
              onCommit={(syncTrashDays) => void changeSettings({ syncTrashDays })}
            />
          </SettingRow>
        </div>
        <div className="card settings-card">
          <h2 className="card-title">{t('settings.desktop')}</h2>
          <SettingRow id="set-tray" label={t('settings.tray.label')} hint={`${t('settings.tray.hint')}${onlyDesktop}`}>
            <Toggle
              id="set-tray"
              checked={settings.closeToTray}
              onChange={(closeToTray) => void changeSettings({ closeToTray })}
            />
          </SettingRow>
          <SettingRow
            id="set-login"
            label={t('settings.login.label')}
            hint={`${t('settings.login.hint')}${onlyDesktop}`}
          >
            <Toggle
              id="set-login"
              checked={settings.startAtLogin}
              onChange={(startAtLogin) => void changeSettings({ startAtLogin })}
            />
          </SettingRow>
          <SettingRow id="set-notify" label={t('settings.notify.label')} hint={t('settings.notify.hint')}>
            <Toggle
              id="set-notify"
              checked={settings.notifications}
              onChange={(notifications) => void changeSettings({ notifications })}
            />
          </SettingRow>
          {desktop ? (
            <>
              <TextSetting
                id="set-hotkey"
                name="clipboardHotkey"
                label={t('settings.hotkey.label')}
                hint={t('settings.hotkey.hint')}
                placeholder="CommandOrControl+Shift+U"
                wide
              />
              <SettingRow id="set-update" label={t('settings.update.label')} hint={t('settings.update.hint')}>
                <Toggle
                  id="set-update"
                  checked={settings.autoUpdate}
                  onChange={(autoUpdate) => void changeSettings({ autoUpdate })}
                />
              </SettingRow>
              <TextSetting
                id="set-update-url"
                name="updateUrl"
                label={t('settings.updateUrl.label')}
                hint={t('settings.updateUrl.hint')}
                placeholder="https://updates.example.com/ferry/"
                wide
              />
            </>
          ) : null}
          {openLogFolder ? (
            <SettingRow id="set-logs" label={t('settings.logs.label')} hint={t('settings.logs.hint')} group>
              <button type="button" className="button" onClick={() => void openLogFolder().catch(toastError)}>
                {t('settings.logs.open')}
              </button>
            </SettingRow>
          ) : null}
        </div>
        <div className="card settings-card">
          <h2 className="card-title">{t('settings.appearance')}</h2>
          <SettingRow id="set-language" label={t('settings.language.label')} hint={t('settings.language.hint')} group>
            <Segmented<Language>
              label={t('settings.language.label')}
              value={settings.language}
              options={[
                { value: 'system', label: t('settings.language.system') },
                // Each language is named in itself, so that someone who cannot read the current one finds theirs.
                { value: 'en', label: t('settings.language.en') },
                { value: 'de', label: t('settings.language.de') },
              ]}
              onChange={(language) => void changeSettings({ language })}
            />
          </SettingRow>
          <SettingRow id="set-theme" label={t('settings.theme.label')} hint={t('settings.theme.hint')} group>
            <Segmented<Theme>
              label={t('settings.theme.label')}
              value={settings.theme}
              options={[
                { value: 'system', label: t('settings.theme.system') },
                { value: 'light', label: t('settings.theme.light') },
                { value: 'dark', label: t('settings.theme.dark') },
              ]}
              onChange={(theme) => void changeSettings({ theme })}
            />
          </SettingRow>
        </div>
        {status ? (
          <p className="muted about">
            {t('settings.version', { version: status.version })}
            {status.engineRunning ? '' : ` · ${status.engineNote ?? t('settings.engineElsewhere')}`}
          </p>
        ) : null}
      </div>
    </section>
  );
}
