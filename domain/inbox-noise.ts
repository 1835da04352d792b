/**
 * The noise report: which monitoring rules make the most inbox items, how
 * many of those automation closed, and which rules flap, so the people who
 * own the rules can fix them. Pure aggregation over item summaries.
 */
import type { InboxStateView } from './inbox';

/** Who closed an item; null while it is open. */
export type ClosedBy = 'automation' | 'person' | 'source' | null;

/** Who closed an item, from its derived state: a verified return is automation's; null while it is not resolved. */
export function closedBy(view: InboxStateView): ClosedBy {
  if (view.state !== 'resolved') return null;
  if (view.how === 'verified') return 'automation';
  return view.how === 'person' ? 'person' : 'source';
}

/** One item, as the report needs it. */
export interface NoiseItem {
  /** The rule: the alert name of the item's first alert, and its source. */
  name: string;
  source: string;
  closedBy: ClosedBy;
  /** Was the item marked flapping at any time? */
  flapping: boolean;
}

/** One rule's line in the report. */
export interface NoiseRow {
  source: string;
  name: string;
  items: number;
  open: number;
  closedByAutomation: number;
  closedByPerson: number;
  /** Resolved by the source before anyone acted: a candidate for a longer `for:`. */
  closedBySource: number;
  /** Closed by automation over all closed, 0–1; null when none closed. */
  automationShare: number | null;
  flapping: number;
}

export interface NoiseReport {
  /** Every rule, most items first (then most flapping, then source and name). */
  rules: NoiseRow[];
  /** Rules with a flapping item, most flapping items first. */
  flappers: NoiseRow[];
  totals: Omit<NoiseRow, 'source' | 'name'>;
}

/** Aggregate item summaries into the noise report. */
export function noiseReport(items: NoiseItem[]): NoiseReport {
  const byRule = new Map<string, NoiseItem[]>();
  for (const item of items) {
    const key = JSON.stringify([item.source, item.name]);
    byRule.set(key, [...(byRule.get(key) ?? []), item]);
  }
  const rules = [...byRule.values()].map((group) => ({
    source: group[0]!.source,
    name: group[0]!.name,
    ...count(group),
  }));
  rules.sort(
    (a, b) =>
      b.items - a.items || b.flapping - a.flapping || a.source.localeCompare(b.source) || a.name.localeCompare(b.name),
  );
  const flappers = rules.filter((r) => r.flapping > 0).sort((a, b) => b.flapping - a.flapping);
  return { rules, flappers, totals: count(items) };
}

function count(items: NoiseItem[]): Omit<NoiseRow, 'source' | 'name'> {
  const by = (c: ClosedBy) => items.filter((i) => i.closedBy === c).length;
  const closedByAutomation = by('automation');
  const closed = items.length - by(null);
  return {
    items: items.length,
    open: by(null),
    closedByAutomation,
    closedByPerson: by('person'),
    closedBySource: by('source'),
    automationShare: closed === 0 ? null : closedByAutomation / closed,
    flapping: items.filter((i) => i.flapping).length,
  };
}
