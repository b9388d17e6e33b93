import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { assessStart, type FirstSeen, type StartEvents } from '../../../src/kube/start.js';

// Pod fixtures as the watch delivers them, one per stage a pod goes through (or gets stuck in).
const scheduled = { type: 'PodScheduled', status: 'True' };
const pod = (status: V1Pod['status'], nodeName?: string): V1Pod => ({ metadata: { name: 'nixrun-psql-abcde' }, spec: { containers: [], nodeName }, status });
const waiting = (reason: string, message?: string) => pod({ phase: 'Pending', conditions: [scheduled], containerStatuses: [{ name: 'nixrun', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });
const FIXTURES = {
  pending: pod({ phase: 'Pending' }),
  unschedulable: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] }),
  creating: waiting('ContainerCreating'),
  running: pod({ phase: 'Running', conditions: [scheduled], containerStatuses: [{ name: 'nixrun', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(0) } } }] }),
  runningNotYet: pod({ phase: 'Running', conditions: [scheduled], containerStatuses: [{ name: 'nixrun', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }),
  exitedFast: pod({ phase: 'Pending', conditions: [scheduled], containerStatuses: [{ name: 'nixrun', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }] }),
  succeeded: pod({ phase: 'Succeeded' }),
  failed: pod({ phase: 'Failed', reason: 'DeadlineExceeded' }),
  errImagePull: waiting('ErrImagePull', 'rpc error: code = Unknown desc = failed to pull and unpack image "127.0.0.1:5000/jq:latest": dial tcp 127.0.0.1:5000: connect: connection refused'),
  // containerd's words, as the real kubelet reported them for a name the registry 404s.
  errImagePullNotFound: waiting(
    'ErrImagePull',
    'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:43943/nosuch:latest": failed to resolve reference "127.0.0.1:43943/nosuch:latest": 127.0.0.1:43943/nosuch:latest: not found',
  ),
  imagePullBackOff: waiting('ImagePullBackOff', 'Back-off pulling image'),
  invalidImageName: waiting('InvalidImageName', 'couldn\'t parse image reference'),
  configError: waiting('CreateContainerConfigError', 'secret "db" not found'),
  runContainerError: waiting('RunContainerError', 'exec: "psql": executable file not found in $PATH'),
};
const event = (reason: string, message: string): CoreV1Event => ({ metadata: {}, involvedObject: {}, reason, message });
const NOW = 1_000_000;
const GRACE = 20_000;
const quiet: StartEvents = { scaleUp: false };
const assess = (p: V1Pod, o: { events?: StartEvents; firstSeen?: FirstSeen; now?: number } = {}) =>
  assessStart({ name: 'nixrun-psql-abcde', pod: p, events: o.events ?? quiet, firstSeen: o.firstSeen ?? {}, now: o.now ?? NOW, graceMs: GRACE });

describe('assessStart: started, wait, or a typed error', () => {
  it.each([
    ['running', FIXTURES.running],
    ['exited before we looked (terminated)', FIXTURES.exitedFast],
    ['succeeded', FIXTURES.succeeded],
    ['failed (deadline)', FIXTURES.failed],
  ])('%s → started', (_name, p) => {
    expect(assess(p).kind).toBe('started');
  });

  it.each([
    ['pending, not scheduled yet', FIXTURES.pending, 'Scheduling'],
    ['creating the container', FIXTURES.creating, 'ContainerCreating'],
    ['phase Running but the container not yet', FIXTURES.runningNotYet, 'ContainerCreating'],
    ['unschedulable, within the grace period', FIXTURES.unschedulable, 'Scheduling'],
    ['ErrImagePull, within the grace period', FIXTURES.errImagePull, 'ErrImagePull'],
  ])('%s → wait (%s)', (_name, p, stage) => {
    const d = assess(p);
    expect(d.kind).toBe('wait');
    if (d.kind === 'wait') expect(d.progress.stage).toBe(stage);
  });

  it.each([
    ['InvalidImageName', FIXTURES.invalidImageName, /cannot start: InvalidImageName/, ExitCode.cannotRun],
    ['CreateContainerConfigError', FIXTURES.configError, /CreateContainerConfigError: secret "db" not found/, ExitCode.cannotRun],
    ['RunContainerError', FIXTURES.runContainerError, /RunContainerError: exec: "psql"/, ExitCode.cannotRun],
    ['ImagePullBackOff (the kubelet already gave up once)', FIXTURES.imagePullBackOff, /cannot start: ImagePullBackOff/, ExitCode.cannotRun],
    ['ErrImagePull: the registry has no such image (NotFound is final)', FIXTURES.errImagePullNotFound, /cannot start: ErrImagePull: rpc error: code = NotFound .*nosuch:latest: not found/, ExitCode.cannotRun],
  ])('%s → fails at once', (_name, p, message, code) => {
    const d = assess(p);
    expect(d.kind).toBe('failed');
    if (d.kind === 'failed') {
      expect(d.error.message).toMatch(message);
      expect(d.error.exitCode).toBe(code);
    }
  });

  it('a slow failure is timed from when it was first seen, and fails after the grace period', () => {
    const first = assess(FIXTURES.errImagePull);
    expect(first).toMatchObject({ kind: 'wait', firstSeen: { pullError: NOW } });
    const firstSeen = first.kind === 'wait' ? first.firstSeen : {};
    expect(assess(FIXTURES.errImagePull, { firstSeen, now: NOW + GRACE - 1 }).kind).toBe('wait');
    const late = assess(FIXTURES.errImagePull, { firstSeen, now: NOW + GRACE });
    expect(late.kind).toBe('failed');
    if (late.kind === 'failed') expect(late.error.hint).toMatch(/reach the registry/);
  });

  it("the kubelet's pull failure event is the message, when there is one", () => {
    const events = { scaleUp: false, pullFailure: 'Failed to pull image "nixery.dev/x": 404 Not Found' };
    const d = assess(FIXTURES.imagePullBackOff, { events });
    expect(d.kind === 'failed' && d.error.message).toMatch(/ImagePullBackOff: Failed to pull image "nixery.dev\/x": 404 Not Found$/);
  });

  it('unschedulable fails after the grace period, unless the autoscaler is adding a node', () => {
    const firstSeen = { unschedulable: NOW - GRACE };
    const d = assess(FIXTURES.unschedulable, { firstSeen });
    expect(d.kind).toBe('failed');
    if (d.kind === 'failed') {
      expect(d.error.message).toBe('pod nixrun-psql-abcde cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.');
      expect(d.error.exitCode).toBe(ExitCode.cannotRun);
    }
    expect(assess(FIXTURES.unschedulable, { firstSeen, events: { scaleUp: true } }).kind).toBe('wait');
  });

  it('progress follows the newest event once scheduled', () => {
    const pulling = assess(pod({ phase: 'Pending', conditions: [scheduled] }, 'node-1'), { events: { scaleUp: false, latest: event('Pulling', 'Pulling image "x"') } });
    expect(pulling).toMatchObject({ kind: 'wait', progress: { stage: 'Pulling image', detail: 'on node-1' } });
    const pulled = assess(pod({ phase: 'Pending', conditions: [scheduled] }), { events: { scaleUp: false, latest: event('Pulled', 'Successfully pulled image "x" in 2s') } });
    expect(pulled).toMatchObject({ kind: 'wait', progress: { stage: 'Image pulled', detail: 'Successfully pulled image "x" in 2s' } });
  });

  it('does not change the firstSeen it is given (pure)', () => {
    const firstSeen = {};
    assess(FIXTURES.errImagePull, { firstSeen });
    assess(FIXTURES.unschedulable, { firstSeen });
    expect(firstSeen).toEqual({});
  });
});
