import { useLayoutEffect, useRef, type RefObject } from 'react';

/**
 * Keys for the rows of a virtual list that let React recycle them. Keyed by index, a list scrolled
 * a screenful removes the ~40 DOM nodes of each row that left and creates those of each row that came
 * in, which was most of a frame's work at a screenful per frame. Here a row that stays keeps its key,
 * and a row that comes in takes the key of one that left: React then only updates its text and
 * attributes.
 */
export function assignSlots(previous: ReadonlyMap<number, number>, indexes: readonly number[]): Map<number, number> {
  const next = new Map<number, number>();
  const taken = new Set<number>();
  for (const index of indexes) {
    const slot = previous.get(index);
    if (slot !== undefined) {
      next.set(index, slot);
      taken.add(slot);
    }
  }
  let candidate = 0;
  for (const index of indexes) {
    if (next.has(index)) continue;
    while (taken.has(candidate)) candidate += 1;
    next.set(index, candidate);
    taken.add(candidate);
  }
  return next;
}

/** The key of each row index shown, stable while the row stays on screen (see assignSlots). */
export function useRowSlots(indexes: readonly number[]): (index: number) => number {
  const slots = useRef<Map<number, number>>(new Map());
  // Rendering twice with the same indexes (StrictMode) gives the same keys: the second pass finds them all.
  const next = assignSlots(slots.current, indexes);
  slots.current = next;
  return (index) => next.get(index)!;
}

/**
 * For a recycled row: the element that held one job's buttons is handed to another job. A button
 * focused in it would then act on a job the person never chose (Enter on "Cancel" would cancel a
 * different upload), so the focus leaves a row whose job changes.
 */
export function useBlurWhenRecycled(row: RefObject<HTMLElement | null>, id: number | undefined): void {
  const shownId = useRef(id);
  useLayoutEffect(() => {
    if (shownId.current === id) return;
    shownId.current = id;
    const active = document.activeElement;
    if (active instanceof HTMLElement && row.current?.contains(active)) active.blur();
  }, [row, id]);
}
