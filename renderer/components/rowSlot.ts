import { useLayoutEffect, useRef, type CSSProperties, type RefObject } from 'react';
import type { JobView } from '../../main/api/contract.ts';

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

/**
 * Keys for a list that moved by more than half its rows at once (a fast scroll or a jump). Reusing the
 * leaving rows' keys there makes React move those elements to the other end of the list to keep the
 * DOM in row order, and a moved element has its styles and layout rebuilt like a new one (measured:
 * ~11 moves a frame at a screenful per frame, and a third of the frame's layout and half its style
 * work). Keys by position instead (the n-th row on screen takes the n-th key) keep every element in
 * place and only change what it shows. The row that holds the keyboard focus keeps its key (`pinned`),
 * so a focused button stays with its job while that row is on screen.
 */
export function positionSlots(
  previous: ReadonlyMap<number, number>,
  indexes: readonly number[],
  pinned: number | null,
): Map<number, number> {
  const keep = new Map<number, number>();
  const slot = pinned === null ? undefined : previous.get(pinned);
  if (pinned !== null && slot !== undefined) keep.set(pinned, slot);
  return assignSlots(keep, indexes);
}

/** The index of the list row that holds the keyboard focus (rows carry aria-rowindex = index + 2). */
export function focusedRowIndex(): number | null {
  if (typeof document === 'undefined') return null;
  const row = document.activeElement?.closest('.list-body > [aria-rowindex]');
  const value = Number(row?.getAttribute('aria-rowindex'));
  return Number.isInteger(value) ? value - 2 : null;
}

/**
 * The key of each row index shown. A small move (slow scrolling) keeps each staying row's key and
 * gives the rows that come in the keys of those that left (assignSlots); a move of more than half the
 * rows keys them by position, the focused row excepted (positionSlots).
 */
export function useRowSlots(indexes: readonly number[]): (index: number) => number {
  const slots = useRef<Map<number, number>>(new Map());
  const previous = slots.current;
  let arriving = 0;
  for (const index of indexes) if (!previous.has(index)) arriving += 1;
  // Rendering twice with the same indexes (StrictMode) gives the same keys: the second pass finds them
  // all in `previous` and keeps them.
  const next =
    arriving * 2 > indexes.length
      ? positionSlots(previous, indexes, focusedRowIndex())
      : assignSlots(previous, indexes);
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

/** What a recycled list row (queue or history) hands to the part that draws its job. */
export interface RowCellsProps {
  job: JobView;
  /** The row waits for its page: it still shows its last job, hidden under the loading bar. */
  loading: boolean;
  index: number;
  /** A fast scroll is under way: the row may draw its light form (JobRow). */
  light?: boolean;
  style: CSSProperties;
  rowRef: RefObject<HTMLDivElement | null>;
}
