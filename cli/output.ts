/** What the tool prints: aligned tables and key/value blocks for people, the API's JSON as is for scripts. */

/** A cell as a person reads it: nothing is `-`, lists are comma-separated, times are UTC to the second. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cell).join(',') : '-';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value))
    return `${value.slice(0, 10)} ${value.slice(11, 19)}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s*\n\s*/g, ' ');
}

export interface Printer {
  /** Print the API's answer as is (`--json`). */
  json(body: unknown): void;
  /** Aligned columns under a header; `empty` is printed instead when there are no rows. */
  table(headers: string[], rows: unknown[][], empty?: string): void;
  /** Aligned `key: value` lines; pairs with an undefined value are left out. */
  fields(pairs: Array<[string, unknown]>): void;
  line(text?: string): void;
  /** A note on stderr (paging hints, truncation), so stdout stays the answer. */
  note(text: string): void;
}

export interface Streams {
  stdout: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
}

/** Bold headers only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function styler(stream: Streams['stdout'], env: NodeJS.ProcessEnv): (s: string) => string {
  const colour = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return colour ? (s) => `\u001b[1m${s}\u001b[22m` : (s) => s;
}

export function createPrinter(streams: Streams = process, env: NodeJS.ProcessEnv = process.env): Printer {
  const bold = styler(streams.stdout, env);
  const out = (s: string) => streams.stdout.write(`${s}\n`);
  return {
    json: (body) => out(JSON.stringify(body, null, 2)),
    table(headers, rows, empty) {
      if (rows.length === 0) {
        out(empty ?? '(none)');
        return;
      }
      const text = rows.map((r) => r.map(cell));
      const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
      const pad = (cells: string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd();
      out(bold(pad(headers)));
      for (const r of text) out(pad(r));
    },
    fields(pairs) {
      const shown = pairs.filter(([, v]) => v !== undefined);
      const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
      for (const [k, v] of shown) out(`${bold(`${k}:`.padEnd(width))}  ${cell(v)}`);
    },
    line: (text = '') => out(text),
    note: (text) => streams.stderr.write(`${text}\n`),
  };
}
