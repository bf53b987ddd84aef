import type { ReactNode } from 'react';
import type { Theme } from '../../main/api/contract.ts';
import { Segmented } from '../components/Segmented.tsx';
import { changeSettings } from '../store/catalog.ts';
import { useFerry } from '../store/store.ts';

function SettingRow({ id, label, hint, children }: { id: string; label: string; hint: string; children: ReactNode }) {
  return (
    <div className="setting-row">
      <div className="setting-text">
        <label htmlFor={id} className="setting-label" id={`${id}-label`}>
          {label}
        </label>
        <p className="setting-hint" id={`${id}-hint`}>
          {hint}
        </p>
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

export function SettingsView() {
  const settings = useFerry((s) => s.settings);
  const kind = useFerry((s) => s.transportKind);
  const status = useFerry((s) => s.status);
  if (!settings) return null;
  return (
    <section className="view view-narrow" aria-labelledby="settings-title">
      <header className="view-header">
        <h1 id="settings-title">Settings</h1>
        <p className="view-lede">Changes apply at once.</p>
      </header>
      <div className="view-scroll">
        <div className="card settings-card">
          <h2 className="card-title">Uploads</h2>
          <SettingRow
            id="set-concurrency"
            label="Uploads at once"
            hint="How many files upload at the same time across every account. Each account also has its own limit."
          >
            <NumberInput
              id="set-concurrency"
              value={settings.globalConcurrency}
              min={1}
              max={64}
              onCommit={(globalConcurrency) => void changeSettings({ globalConcurrency })}
            />
          </SettingRow>
        </div>
        <div className="card settings-card">
          <h2 className="card-title">Desktop</h2>
          <SettingRow
            id="set-tray"
            label="Close to tray"
            hint={`Closing the window keeps Ferry uploading from the tray.${kind === 'serve' ? ' (Desktop app only.)' : ''}`}
          >
            <Toggle
              id="set-tray"
              checked={settings.closeToTray}
              onChange={(closeToTray) => void changeSettings({ closeToTray })}
            />
          </SettingRow>
          <SettingRow
            id="set-login"
            label="Start at login"
            hint={`Open Ferry in the background when you log in.${kind === 'serve' ? ' (Desktop app only.)' : ''}`}
          >
            <Toggle
              id="set-login"
              checked={settings.startAtLogin}
              onChange={(startAtLogin) => void changeSettings({ startAtLogin })}
            />
          </SettingRow>
          <SettingRow
            id="set-notify"
            label="Notifications"
            hint="Tell me when uploads finish or fail while the window is hidden."
          >
            <Toggle
              id="set-notify"
              checked={settings.notifications}
              onChange={(notifications) => void changeSettings({ notifications })}
            />
          </SettingRow>
        </div>
        <div className="card settings-card">
          <h2 className="card-title">Appearance</h2>
          <div className="setting-row">
            <div className="setting-text">
              <span className="setting-label" id="set-theme-label">
                Theme
              </span>
              <p className="setting-hint">System follows your computer's light or dark setting.</p>
            </div>
            <div className="setting-control">
              <Segmented<Theme>
                label="Theme"
                value={settings.theme}
                options={[
                  { value: 'system', label: 'System' },
                  { value: 'light', label: 'Light' },
                  { value: 'dark', label: 'Dark' },
                ]}
                onChange={(theme) => void changeSettings({ theme })}
              />
            </div>
          </div>
        </div>
        {status ? (
          <p className="muted about">
            Ferry {status.version}
            {status.engineRunning ? '' : ` · ${status.engineNote ?? 'the engine runs in another process'}`}
          </p>
        ) : null}
      </div>
    </section>
  );
}
