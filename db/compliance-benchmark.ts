/**
 * What the compliance benchmark (bench/compliance-scan.ts) and its test count
 * after a scan: the findings and their history, and the space they take.
 * Read only.
 */
import type { Queryable } from './pool';

export interface FindingsFootprint {
  findings: number;
  historyRows: number;
  /** compliance_findings and compliance_finding_history with their indexes. */
  bytes: number;
  /** Findings per result state. */
  byResult: Record<string, number>;
  /** Hosts with at least one finding. */
  hosts: number;
}

export async function findingsFootprint(db: Queryable): Promise<FindingsFootprint> {
  const { rows } = await db.query<{ findings: string; history: string; bytes: string; hosts: string }>(
    `SELECT (SELECT count(*) FROM compliance_findings) AS findings,
            (SELECT count(*) FROM compliance_finding_history) AS history,
            (SELECT count(DISTINCT host) FROM compliance_findings) AS hosts,
            pg_total_relation_size('compliance_findings') + pg_total_relation_size('compliance_finding_history') AS bytes`,
  );
  const states = await db.query<{ result_state: string; n: string }>(
    `SELECT result_state, count(*) AS n FROM compliance_findings GROUP BY result_state`,
  );
  const r = rows[0]!;
  return {
    findings: Number(r.findings),
    historyRows: Number(r.history),
    bytes: Number(r.bytes),
    hosts: Number(r.hosts),
    byResult: Object.fromEntries(states.rows.map((s) => [s.result_state, Number(s.n)])),
  };
}
