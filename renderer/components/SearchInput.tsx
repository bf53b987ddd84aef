import { useEffect, useRef, useState } from 'react';
import { Icon } from './Icon.tsx';

/** A search box that tells its owner after typing pauses, not at every key. */
export function SearchInput({
  value,
  onChange,
  label,
  placeholder,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  placeholder: string;
}) {
  const [text, setText] = useState(value);
  // The latest callback, so that re-renders of the owner (progress ticks) do not restart the timer.
  const notify = useRef(onChange);
  notify.current = onChange;
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => notify.current(text), 250);
    return () => clearTimeout(timer);
  }, [text, value]);
  return (
    <label className="search">
      <Icon name="search" />
      <input
        type="search"
        aria-label={label}
        placeholder={placeholder}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
    </label>
  );
}
