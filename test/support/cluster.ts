import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { NixeryControl, type Faults } from './nixery.js';
// @ts-expect-error: a plain .mjs script shared with `npm run cluster:up`.
import { loadState, restartApiserver as restart } from '../../scripts/testenv.mjs';

export interface TestenvState {
  dir: string;
  /** Verifies the serving certificate with the cluster's CA; the admin's client certificate. */
  kubeconfig: string;
  /** The same admin with a bearer token. */
  tokenKubeconfig: string;
  /** User `limited`, with no permissions unless a test grants some. */
  limitedKubeconfig: string;
  auditLog: string;
  restrictedNamespace: string;
  /** `real`: the kubelet + containerd node that runs pods; `kwok`: an arm64-labelled node that runs nothing. */
  nodes: { real: string; kwok: string };
  ports: Record<string, number>;
  /** The local Nixery: `127.0.0.1:PORT`, for the plugin's pre-flight and the node's pulls alike. */
  registry: { host: string; port: number };
  /** The node's network namespace and the link between it and the host. */
  net: { netns: string; hostIP: string; nodeIP: string; podCIDR: string };
  procs: Record<string, { pid: number }>;
  bins: string;
  /** The components' own kubeconfigs (client certificates), e.g. the kubelet's system:node identity. */
  kubeconfigs: { kubelet: string; kubeProxy: string; coredns: string; controllerManager: string; scheduler: string };
}

export function testenv(): TestenvState {
  return loadState(inject('testenvDir')) as TestenvState;
}

export function kubeconfigPath(): string {
  return inject('kubeconfig');
}

export function core(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc.makeApiClient(CoreV1Api);
}

/** A fresh namespace per test; `restricted` enforces Pod Security restricted. */
export async function createTestNamespace(prefix: string, opts: { restricted?: boolean } = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await core().createNamespace({
    body: {
      metadata: {
        name,
        labels: { 'nixrun.test/e2e': 'true', ...(opts.restricted ? { 'pod-security.kubernetes.io/enforce': 'restricted' } : {}) },
      },
    },
  });
  // kube-controller-manager creates the namespace's default service account; pods wait for it.
  await waitFor(async () => {
    try {
      await core().readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  return name;
}

export async function listPods(namespace: string, labelSelector = 'app.kubernetes.io/managed-by=kubectl-nixrun'): Promise<V1Pod[]> {
  return (await core().listNamespacedPod({ namespace, labelSelector })).items;
}

export async function waitFor<T>(fn: () => Promise<T | false | undefined | null>, timeoutMs: number, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Wait until no pod of ours is left in the namespace (deletion is asynchronous). */
export async function expectNoPodsLeft(namespace: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await listPods(namespace)).length === 0, timeoutMs, `no nixrun pods in ${namespace}`);
}

/** Resolves once the API server is back and the node has reconnected. */
export async function restartApiserver(downMs = 0, opts: { crash?: boolean } = {}): Promise<void> {
  await restart(testenv(), downMs, opts);
}

export interface AuditEvent {
  verb: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  user?: { username?: string };
  requestURI: string;
  stageTimestamp?: string;
}

/** API requests recorded by the apiserver's audit log, optionally filtered. */
export function auditEvents(filter: (e: AuditEvent) => boolean = () => true): AuditEvent[] {
  const text = readFileSync(join(testenv().dir, 'audit.log'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter(filter);
}

/**
 * The environment every e2e run of the CLI gets: the cluster's local Nixery as the registry (the
 * node pulls from it), and a state directory of its own for remembered choices.
 */
export function e2eEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { NIXRUN_REGISTRY: testenv().registry.host, XDG_STATE_HOME: '/tmp/nixrun-e2e-state', ...extra };
}

/**
 * Switch faults on in the cluster's local Nixery (tests run one after another against it);
 * resolves with a function that resets them.
 */
export async function registryFaults(faults: Faults): Promise<() => Promise<void>> {
  const nixery = new NixeryControl(testenv().registry.host);
  await nixery.setFaults(faults);
  return () => nixery.resetFaults();
}
