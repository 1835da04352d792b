/**
 * Debian package versions, compared as dpkg compares them (Debian Policy 5.6.12):
 * `[epoch:]upstream[-revision]`; the epoch numerically, then the upstream
 * version and the revision part by part — non-digit runs by character, where
 * `~` sorts before everything (even the end), letters before other
 * characters, and digit runs numerically.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export const VERSION_OPERATORS = ['<<', '<=', '=', '>=', '>>'] as const;
export type VersionOperator = (typeof VERSION_OPERATORS)[number];

export interface VersionConstraint {
  op: VersionOperator;
  version: DebianVersion;
  /** The constraint as written, normalised: `>= 1:2.3-4`. */
  text: string;
}

const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

/** Read a version, or say why it is not one. */
export function readDebianVersion(text: string): DebianVersion | { problem: string } {
  const v = text.trim();
  if (v === '') return { problem: 'is empty' };
  const colon = v.indexOf(':');
  let epoch = 0;
  let rest = v;
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^[0-9]+$/.test(e)) return { problem: `"${v}": the epoch "${e}" is not a number` };
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (!UPSTREAM.test(upstream))
    return { problem: `"${v}": the upstream version must start with a digit and use only A-Za-z0-9.+~-:` };
  if (dash >= 0 && !REVISION.test(revision))
    return { problem: `"${v}": the revision must be non-empty and use only A-Za-z0-9.+~` };
  return { epoch, upstream, revision };
}

function order(c: string): number {
  if (c === '') return 0;
  if (c >= '0' && c <= '9') return 0;
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

const isDigit = (c: string) => c >= '0' && c <= '9' && c !== '';

/** dpkg's verrevcmp: negative, zero or positive as a sorts before, with or after b. */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charAt(i))) || (j < b.length && !isDigit(b.charAt(j)))) {
      const ac = order(a.charAt(i));
      const bc = order(b.charAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charAt(i) === '0') i++;
    while (b.charAt(j) === '0') j++;
    let firstDiff = 0;
    while (isDigit(a.charAt(i)) && isDigit(b.charAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charAt(i))) return 1;
    if (isDigit(b.charAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** -1, 0 or 1 as a is older than, the same as, or newer than b. */
export function compareDebianVersions(a: DebianVersion, b: DebianVersion): -1 | 0 | 1 {
  const c = a.epoch - b.epoch || compareParts(a.upstream, b.upstream) || compareParts(a.revision, b.revision);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/** Read a constraint such as `>= 1:2.3-4`, `<< 9.2p1`, `= 1.0`; or say why it is not one. */
export function readVersionConstraint(text: string): VersionConstraint | { problem: string } {
  const m = /^\s*(<<|<=|>=|>>|=)\s*(\S+)\s*$/.exec(text);
  if (!m) return { problem: `"${text}" must be an operator (<<, <=, =, >=, >>) and a version, like ">= 1:9.2p1-2"` };
  const version = readDebianVersion(m[2]!);
  if ('problem' in version) return { problem: `the version ${version.problem}` };
  return { op: m[1] as VersionOperator, version, text: `${m[1]} ${m[2]}` };
}

export function satisfies(version: DebianVersion, constraint: VersionConstraint): boolean {
  const c = compareDebianVersions(version, constraint.version);
  switch (constraint.op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
