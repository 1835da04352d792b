/**
 * One time-skipping test server and one worker per test file, the real
 * remediation workflow (the prebuilt bundle) and stub activities. Each test
 * gets a fresh StubCloud and host; the worker's activities are the current
 * test's. Tests in a file run one after another: time is global to a server.
 */
import type { ComplianceTarget } from '../../../domain/compliance-drift';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { RemediationActivities } from '../../../activities';
import { createDecisionActivities } from '../../../activities/decisions';
import { signDecision, signStart } from '../../../config/decision-signature';
import { newKeysFileText, parseKeys } from '../../../config/keys';
import { decisionAnswers, type OperatorDecision } from '../../../domain/decisions';
import {
  remediationWorkflowId,
  type Phase,
  type RemediationPolicy,
  type RemediationView,
} from '../../../domain/remediation';
import type { ApiRole, Severity } from '../../../domain/types';
import { parsePolicy } from '../../../policies/loader';
import {
  alertUpdate,
  approveUpdate,
  cancelUpdate,
  handBackUpdate,
  rejectUpdate,
  viewQuery,
  type OperatorAction,
} from '../../../workflows/messages';
import type { remediationWorkflow } from '../../../workflows/remediation';
import { StubCloud, type ActivityName } from './stub-cloud';
import { createTimeSkippingEnv } from './time-skipping';

/** A policy as an operator writes it (YAML, validated by the real loader). */
export function policy(yaml: string): RemediationPolicy {
  return parsePolicy('test.yaml', yaml).policy;
}

/** A policy file Shipshape ships (policies/<name>.yaml), with its real waits. */
export function shippedPolicy(name: string): RemediationPolicy {
  const file = join(__dirname, '../../../policies', `${name}.yaml`);
  return parsePolicy(`${name}.yaml`, readFileSync(file, 'utf8')).policy;
}

export interface Remediation {
  cloud: StubCloud;
  remediationId: string;
  workflowId: string;
  /** Server time when the remediation started, in ms. */
  startedAt: number;
  /** The handle of the latest run (it follows continue-as-new). */
  handle: WorkflowHandle<typeof remediationWorkflow>;
  view(): Promise<RemediationView>;
  /** Poll the view, in real time (the server's clock does not move), until the workflow is in `phase`. */
  untilPhase(phase: Phase): Promise<RemediationView>;
  /** Poll the view until the step `name` is running (the workflow waits inside it). */
  untilStep(name: string): Promise<RemediationView>;
  /**
   * The final view, skipping the server's clock over every wait. Once the run
   * has closed, the server may skip far ahead (to a timer of some other run,
   * even a closed one's) before the clock is held again: time a run by its own
   * timestamps (the outcome's `at`, a call's `at`), not by `now()` after this.
   */
  result(): Promise<RemediationView>;
  approve(by?: string): Promise<RemediationView>;
  reject(by: string, comment: string): Promise<RemediationView>;
  handBack(by: string, comment: string): Promise<RemediationView>;
  cancel(by: string, comment: string): Promise<RemediationView>;
  alert(signalId: string, name?: string): Promise<unknown>;
}

export interface StartOptions {
  severity?: Severity;
  requestedBy?: string;
  signal?: string;
  /** A compliance drift's rule: the remediation applies its fix (workflows/compliance-fix.ts). */
  complianceFix?: ComplianceTarget;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  /** Start a remediation of a new host under `policy`; `prepare` sets up its cloud before the workflow runs (`startedAt`: server time). */
  start(
    policy: RemediationPolicy,
    prepare?: (cloud: StubCloud, startedAt: number) => void,
    options?: StartOptions,
  ): Promise<Remediation>;
  /** Server time now, in ms. */
  now(): Promise<number>;
}

const bundlePath = process.env.SHIPSHAPE_TEST_BUNDLE;
/** The keys the harness signs decisions with, as the API does; the worker checks them as in production. */
export const HARNESS_KEYS = parseKeys('harness', newKeysFileText('harness'));

/** Registers the file's beforeAll/afterEach/afterAll; the returned object is usable inside tests. */
export function useHarness(): Harness {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let current: StubCloud | null = null;
  let hosts = 0;
  const open: string[] = [];
  const taskQueue = 'fast-remediation';

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    // The worker's activities are the current test's stubs.
    const template = new StubCloud('template');
    const activities = Object.fromEntries(
      (Object.keys(template.activities) as ActivityName[]).map((name) => [
        name,
        (...args: unknown[]) => {
          if (!current) throw new Error(`${name} called between tests`);
          return (current.activities[name] as (...a: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    ) as unknown as RemediationActivities;
    Object.assign(activities, createDecisionActivities(HARNESS_KEYS.decisionKeys));
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      ...(bundlePath
        ? { workflowBundle: { codePath: bundlePath } }
        : { workflowsPath: require.resolve('../../../workflows') }),
    });
    running = worker.run();
  });

  afterEach(async () => {
    // A test that left its remediation waiting (for an operator, say) ends it, so it cannot call the next test's stubs.
    for (const id of open.splice(0)) {
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    current = null;
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const now = () => env.currentTimeMs();

  async function start(
    policy: RemediationPolicy,
    prepare?: (cloud: StubCloud, startedAt: number) => void,
    options: StartOptions = {},
  ): Promise<Remediation> {
    const host = `cmp-${++hosts}`;
    const cloud = new StubCloud(host);
    const startedAt = await now();
    prepare?.(cloud, startedAt);
    current = cloud;
    const remediationId = `rem-${host}`;
    const workflowId = remediationWorkflowId(host);
    const requestedBy = options.requestedBy ?? 'alertmanager';
    const input = {
      remediationId,
      host,
      zone: 'zone-a',
      policy,
      trigger: {
        signalId: `sig-${host}`,
        name: options.signal ?? 'HostDown',
        fingerprint: `fp-${host}`,
        severity: options.severity ?? 'critical',
        status: 'firing' as const,
      },
      requestedBy,
      ...(options.complianceFix ? { complianceFix: options.complianceFix } : {}),
    };
    // Signed as the API signs the remediations it starts; the worker checks it.
    const startSignature = signStart(HARNESS_KEYS.decisionKeys, workflowId, input);
    await env.client.workflow.start('remediationWorkflow', {
      taskQueue,
      workflowId,
      args: [{ ...input, startSignature }],
    });
    open.push(workflowId);
    const handle = env.client.workflow.getHandle<typeof remediationWorkflow>(workflowId);
    const view = () => handle.query(viewQuery);
    /** A decision as the API sends it: signed over this workflow, remediation and what it answers. */
    const act = async (
      decision: OperatorDecision,
      by: string,
      role: ApiRole,
      comment = '',
    ): Promise<OperatorAction> => {
      const issuedAt = new Date().toISOString();
      const answers = decisionAnswers(decision, await view());
      const claim = { workflowId, remediationId, decision, by, role, comment, fixedBy: null, answers, issuedAt };
      return { remediationId, by, role, comment, issuedAt, signature: signDecision(HARNESS_KEYS.decisionKeys, claim) };
    };
    const until = async (what: string, holds: (v: RemediationView) => boolean): Promise<RemediationView> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const v = await view();
        if (holds(v)) return v;
        if (Date.now() > deadline)
          throw new Error(
            `${workflowId} is not ${what}: ${v.phase}; steps: ${v.steps.map((s) => `${s.name} (${s.status})`).join(', ')}`,
          );
        await new Promise((ok) => setTimeout(ok, 20));
      }
    };
    return {
      cloud,
      remediationId,
      workflowId,
      startedAt,
      handle,
      view,
      // In the phase, and its entry recorded: the view changes a moment before the record of it is written.
      untilPhase: (phase) =>
        until(`in ${phase}`, (v) => v.phase === phase && cloud.records.some((rec) => rec.view.phase === phase)),
      untilStep: (name) =>
        until(`in step ${name}`, (v) => v.steps.at(-1)?.name === name && v.steps.at(-1)?.status === 'running'),
      result: () => handle.result(),
      approve: async (by = 'approver-1') =>
        handle.executeUpdate(approveUpdate, { args: [await act('approve', by, 'approver', 'go ahead')] }),
      reject: async (by, comment) =>
        handle.executeUpdate(rejectUpdate, { args: [await act('reject', by, 'approver', comment)] }),
      handBack: async (by, comment) =>
        handle.executeUpdate(handBackUpdate, { args: [await act('hand-back', by, 'operator', comment)] }),
      cancel: async (by, comment) =>
        handle.executeUpdate(cancelUpdate, { args: [await act('cancel', by, 'operator', comment)] }),
      alert: (signalId, name = 'HostDown') =>
        handle.executeUpdate(alertUpdate, {
          args: [{ signalId, name, fingerprint: `fp-${host}`, severity: 'critical', status: 'firing' }],
        }),
    };
  }

  return {
    get env() {
      return env;
    },
    start,
    now,
  };
}
