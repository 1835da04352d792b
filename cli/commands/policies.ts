/** `shipshape policies`: the policies in force, and validate, simulate, apply and delete. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { SimulatedResult } from '../../domain/simulate';
import { segment } from '../client';
import { collect, withApi } from '../context';
import { UsageError } from '../errors';
import { namingLocalFiles, readLocalFile } from './files';

interface PolicySummary {
  name: string;
  version: string;
  file: string;
  priority: number;
  signals: string[];
}

interface PolicyDetail extends PolicySummary {
  content: string;
  versions: Array<{ version: string; author: string; createdAt: string; deleted: boolean }>;
}

interface SimulateAnswer {
  policies: PolicySummary[];
  summary: Record<string, number>;
  results: SimulatedResult[];
}

/** The name a policy file gives itself, for `apply` without --name. */
function nameInFile(path: string, text: string): string {
  let name: unknown;
  try {
    name = (parseYaml(text) as { name?: unknown } | null)?.name;
  } catch {
    name = undefined; // the API says what is wrong with the YAML
  }
  if (typeof name === 'string' && name) return name;
  throw new UsageError(`${path}: no name in the file; pass --name`);
}

export function registerPolicies(program: Command): void {
  const group = program.command('policies').description('remediation policies: read, validate, simulate, apply');

  group
    .command('list')
    .description('the policies in force, in match order')
    .action(
      withApi(async (ctx) => {
        const body = await ctx.api.get<{ policies: PolicySummary[] }>('/v1/policies');
        if (ctx.json) return ctx.print.json(body);
        ctx.print.table(
          ['NAME', 'VERSION', 'PRIORITY', 'FILE', 'SIGNALS'],
          body.policies.map((p) => [p.name, p.version, p.priority, p.file, p.signals]),
          'no policies',
        );
      }),
    );

  group
    .command('show <name>')
    .description('one policy: its file as applied and every version')
    .action(
      withApi(async (ctx, [name]) => {
        const p = await ctx.api.get<PolicyDetail>(`/v1/policies/${segment(name!)}`);
        if (ctx.json) return ctx.print.json(p);
        ctx.print.fields([
          ['Policy', p.name],
          ['Version', p.version],
          ['File', p.file],
          ['Priority', p.priority],
          ['Signals', p.signals],
        ]);
        ctx.print.line();
        ctx.print.table(
          ['VERSION', 'AUTHOR', 'CREATED', 'DELETED'],
          p.versions.map((v) => [v.version, v.author, v.createdAt, v.deleted ? 'yes' : '']),
        );
        ctx.print.line();
        ctx.print.line(p.content.trimEnd());
      }),
    );

  group
    .command('validate <file>')
    .description('check a policy file without applying it (role operator); problems as file:line:column')
    .action(
      withApi(async (ctx, [file]) => {
        const content = readLocalFile(file!);
        const p = await ctx.api
          .post<PolicySummary & { valid: true }>('/v1/policies/validate', { content })
          .catch((err: unknown) => Promise.reject(namingLocalFiles(err, () => file)));
        if (ctx.json) return ctx.print.json(p);
        ctx.print.line(`${file}: valid: policy ${p.name}, version ${p.version}, signals ${p.signals.join(', ')}`);
      }),
    );

  group
    .command('simulate')
    .description('replay recorded signals against the policies in force, or against drafts (role operator)')
    .option('--draft <file>', 'a policy file to simulate instead of those in force (repeatable)', collect, [])
    .option('--since-days <n>', 'replay the signals of the last N days (up to 90)', parseFloat)
    .action(
      withApi<{ draft: string[]; sinceDays?: number }>(async (ctx, _args, o) => {
        if (o.sinceDays !== undefined && !(o.sinceDays > 0 && o.sinceDays <= 90))
          throw new UsageError('--since-days: must be a number above 0 and at most 90');
        const drafts = o.draft.length ? o.draft.map(readLocalFile) : undefined;
        const answer = await ctx.api
          .post<SimulateAnswer>('/v1/policies/simulate', { drafts, sinceDays: o.sinceDays })
          .catch((err: unknown) =>
            Promise.reject(namingLocalFiles(err, (f) => o.draft[Number(/^drafts\.(\d+)\.yaml$/.exec(f)?.[1])])),
          );
        if (ctx.json) return ctx.print.json(answer);
        const s = answer.summary;
        ctx.print.fields([
          ['Policies', answer.policies.map((p) => p.name)],
          ['Signals', s.signals],
          ['Would start', s.wouldStart],
          ['Would wait', s.wouldWait],
          ['Would join', s.wouldJoin],
          ['No policy', s.noPolicy],
          ['Ignored', s.ignored],
          ['Approvals asked', s.approvalsAsked],
        ]);
        ctx.print.line();
        ctx.print.table(
          ['SIGNAL', 'HOST', 'OUTCOME', 'POLICY', 'BLOCKED BY', 'APPROVAL'],
          answer.results.map((r) => [
            r.name,
            r.host,
            r.outcome,
            r.policy?.name,
            r.blockedBy.map((b) => `${b.guard}: ${b.reason}`).join('; '),
            r.approval,
          ]),
          'no signals to replay',
        );
      }),
    );

  group
    .command('apply <file>')
    .description('write a policy file to the policy folder as a new version (role admin)')
    .option('--name <name>', 'the policy’s name (default: the name in the file)')
    .action(
      withApi<{ name?: string }>(async (ctx, [file], o) => {
        const content = readLocalFile(file!);
        const name = o.name ?? nameInFile(file!, content);
        const p = await ctx.api
          .request<PolicySummary>('PUT', `/v1/policies/${segment(name)}`, { yaml: content })
          .catch((err: unknown) => Promise.reject(namingLocalFiles(err, () => file)));
        if (ctx.json) return ctx.print.json(p);
        ctx.print.line(`applied ${basename(file!)}: policy ${p.name}, version ${p.version}, in ${p.file}`);
      }),
    );

  group
    .command('delete <name>')
    .description('remove a policy from the policy folder; its versions stay recorded (role admin)')
    .action(
      withApi(async (ctx, [name]) => {
        await ctx.api.request<null>('DELETE', `/v1/policies/${segment(name!)}`);
        if (ctx.json) return ctx.print.json({ deleted: name });
        ctx.print.line(`deleted policy ${name}`);
      }),
    );
}
