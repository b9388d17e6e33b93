import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { rewriteNodePositional } from '../../../src/cli/flags.js';
import { pickPod, selectorString } from '../../../src/kube/targets.js';
import { aboutContainer } from '../../../src/kube/start.js';
import { containerStatus } from '../../../src/kube/pods.js';
import { parseWorkloadRef, validateMode } from '../../../src/plan/mode.js';
import { containerCommand } from '../../../src/pod/command.js';
import { buildPodCopy, copyName } from '../../../src/pod/copy.js';
import { buildEphemeralContainer, chooseContainer, ephemeralPatch, mountsFrom } from '../../../src/pod/ephemeral.js';
import { enforceLevel, fitCandidates, identityOf, levelAllows, psaRefusal } from '../../../src/pod/fit.js';
import { buildNodePod, hostShellCommand } from '../../../src/pod/node.js';
import { runMain } from '../../support/main.js';

const owner = { host: 'h', pid: 1, user: 'u', startedAt: 't', session: 's' };
const auto = { profile: 'restricted' as const, profileExplicit: false };

describe('mode flags → mode (validateMode, exit 2 before any I/O)', () => {
  it.each([
    [{ target: 'pod/web' }, { kind: 'target', ref: { kind: 'pod', name: 'web' } }],
    [{ target: 'pod/web:app' }, { kind: 'target', ref: { kind: 'pod', name: 'web' }, container: 'app' }],
    [{ target: 'deploy/api', container: 'srv' }, { kind: 'target', ref: { kind: 'deployment', name: 'api' }, container: 'srv' }],
    [{ target: 'sts/db' }, { kind: 'target', ref: { kind: 'statefulset', name: 'db' } }],
    [{ copy: 'po/web', replace: 'app' }, { kind: 'copy', ref: { kind: 'pod', name: 'web' }, replace: 'app', sameNode: false }],
    [{ copy: 'pod/web', sameNode: true, shareProcesses: false }, { kind: 'copy', ref: { kind: 'pod', name: 'web' }, shareProcesses: false, sameNode: true }],
    [{ nodeShell: 'n1', hostShell: true }, { kind: 'node', node: 'n1', hostShell: true }],
    [{}, { kind: 'pod' }],
  ])('%j', (m, expected) => {
    expect(validateMode(m, {}, auto)).toMatchObject(expected);
  });

  it.each([
    [{ target: 'web' }, {}, /expected pod\/NAME\[:CONTAINER\].*/],
    [{ target: 'svc/web' }, {}, /unknown kind "svc"/],
    [{ target: 'pod/Web' }, {}, /invalid pod name "Web"/],
    [{ target: 'pod/web:App' }, {}, /container names are lower-case DNS labels/],
    [{ target: 'pod/web:a', container: 'b' }, {}, /two containers named/],
    [{ target: 'pod/web', copy: 'pod/web' }, {}, /--target and --copy cannot be combined/],
    [{ copy: 'pod/web', nodeShell: 'n' }, {}, /cannot be combined/],
    [{ replace: 'app' }, {}, /--replace needs --copy/],
    [{ sameNode: true }, {}, /--same-node needs --copy/],
    [{ hostShell: true }, {}, /--host-shell needs node\/NAME/],
    [{ container: 'app' }, {}, /-c\/--container needs --target/],
    [{ target: 'pod/web' }, { requests: 'cpu=1' }, /--requests does not apply to an ephemeral container: the API forbids resources/],
    [{ target: 'pod/web' }, { labels: ['a=b'] }, /-l\/--labels does not apply/],
    [{ target: 'pod/web' }, { keep: true }, /--keep does not apply/],
    [{ copy: 'pod/web' }, { node: 'n1' }, /--node does not apply to a copy: use --same-node/],
    [{ nodeShell: 'n1' }, { toleration: ['all'] }, /tolerates every taint already/],
    [{ copy: 'pod/web', replace: 'a', container: 'b' }, {}, /disagree/],
  ])('%j %j is refused', (m, pod, re) => {
    expect(() => validateMode(m, pod, auto)).toThrow(re);
  });

  it('node mode refuses an explicit restricted profile', () => {
    expect(() => validateMode({ nodeShell: 'n1' }, {}, { profile: 'restricted', profileExplicit: true })).toThrow(/--profile restricted cannot/);
  });

  it('parses workload kinds as kubectl spells them', () => {
    expect(parseWorkloadRef('--copy', 'deployment.apps/x').ref.kind).toBe('deployment');
    expect(parseWorkloadRef('--copy', 'ds/x').ref.kind).toBe('daemonset');
    expect(parseWorkloadRef('--copy', 'job/x').ref.kind).toBe('job');
  });
});

describe('node/NAME as the first positional becomes --node-shell', () => {
  it.each([
    [['node/n1', 'htop'], ['--node-shell', 'n1', 'htop']],
    [['-n', 'x', 'node/n1', '--', 'ps'], ['-n', 'x', '--node-shell', 'n1', '--', 'ps']],
    [['-l', 'node/x', 'htop'], ['-l', 'node/x', 'htop']],
    [['htop', 'node/n1'], ['htop', 'node/n1']],
    [['--', 'node/n1'], ['--', 'node/n1']],
    [['which', 'node/x'], ['which', 'node/x']],
  ])('%j → %j', (argv, out) => {
    expect(rewriteNodePositional(argv)).toEqual(out);
  });
});

describe('Pod Security fitting (pure)', () => {
  it('reads the enforce label; none means privileged', () => {
    expect(enforceLevel({})).toBe('privileged');
    expect(enforceLevel({ 'pod-security.kubernetes.io/enforce': 'baseline' })).toBe('baseline');
    expect(levelAllows('baseline', 'netadmin')).toBe(false);
    expect(levelAllows('privileged', 'sysadmin')).toBe(true);
    expect(levelAllows('restricted', 'restricted')).toBe(true);
  });

  it.each([
    ['non-root target: its own user, restricted', { uid: 1000, gid: 2000 }, 'restricted', ['restricted'], 1000],
    ['root target, privileged ns: root + SYS_PTRACE first', {}, 'privileged', ['general', 'baseline', 'restricted'], 0],
    ['root target, baseline ns: root, nothing added', { uid: 0 }, 'baseline', ['baseline', 'restricted'], 0],
    ['root target, restricted ns: nobody', {}, 'restricted', ['restricted'], 65534],
    ['runAsNonRoot without a UID: nobody', { runAsNonRoot: true }, 'privileged', ['restricted'], 65534],
    ['level unknown: the ladder for the dry runs', {}, undefined, ['general', 'baseline', 'restricted'], 0],
  ] as const)('%s', (_what, target, level, profiles, uid) => {
    const fits = fitCandidates({ target, level, namespace: 'ns', what: 'x' });
    expect(fits.map((f) => f.profile)).toEqual(profiles);
    expect(fits[0]!.uid).toBe(uid);
  });

  it('the restricted fit passes the restricted checks and takes the target’s group', () => {
    const [fit] = fitCandidates({ target: { uid: 1000, gid: 2000 }, level: 'restricted', namespace: 'ns', what: 'x' });
    expect(fit!.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('root profiles say runAsNonRoot: false, so a runAsNonRoot pod does not refuse them for good', () => {
    const [fit] = fitCandidates({ explicit: 'netadmin', target: {}, level: 'privileged', namespace: 'ns', what: 'x' });
    expect(fit!.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
  });

  it('an explicit profile the namespace forbids is refused with the label to set', () => {
    expect(() => fitCandidates({ explicit: 'sysadmin', target: {}, level: 'baseline', namespace: 'team', what: 'an ephemeral container' })).toThrow(/namespace team enforces Pod Security "baseline", which does not allow a privileged container/);
    const e = psaRefusal({ namespace: 'team', level: 'restricted', profile: 'node', what: 'a node pod' });
    expect(e.exitCode).toBe(126);
    expect(e.hint).toBe('allow it: kubectl label namespace team pod-security.kubernetes.io/enforce=privileged --overwrite, or use -n a namespace at "privileged"');
  });

  it('the identity is the container’s, else the pod’s', () => {
    const pod: V1Pod = { spec: { securityContext: { runAsUser: 5, runAsGroup: 6 }, containers: [{ name: 'a', securityContext: { runAsUser: 7 } }] } };
    expect(identityOf(pod, pod.spec!.containers[0])).toEqual({ uid: 7, gid: 6, runAsNonRoot: undefined });
  });
});

const source: V1Pod = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u1', labels: { app: 'web', 'pod-template-hash': 'abc' }, annotations: { note: 'x' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'r1' }], resourceVersion: '9' },
  spec: {
    nodeName: 'n1',
    restartPolicy: 'Always',
    containers: [
      { name: 'app', image: 'app:1', command: ['/app'], args: ['--x'], livenessProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } }, ports: [{ containerPort: 80, hostPort: 80 }], volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' }], env: [{ name: 'A', value: '1' }] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }],
    ephemeralContainers: [{ name: 'old', image: 'x' }],
  },
  status: { phase: 'Running' },
};
const copyInput = { source, name: 'web-nixrun-xxxxx', image: 'r/x@sha256:' + 'a'.repeat(64), command: ['tini', '--', 'ps'], stdin: true, tty: false, env: [], securityContext: { runAsUser: 0 }, sameNode: false, arch: 'amd64', activeDeadlineSeconds: 60, packages: ['procps'], exe: 'ps', owner };

describe('the copy (pure)', () => {
  it('adds our container, strips what would tie the copy to the original', () => {
    const pod = buildPodCopy(copyInput);
    expect(pod.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubectl-nixrun', 'app.kubernetes.io/name': 'nixrun', 'nixrun.dev/mode': 'copy' });
    expect(pod.metadata?.ownerReferences).toBeUndefined();
    expect(pod.metadata?.annotations?.note).toBeUndefined();
    expect(pod.metadata?.annotations?.['nixrun.dev/copy-of']).toBe('pod/web');
    expect(pod.metadata?.annotations?.['nixrun.dev/owner-pid']).toBe('1');
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(pod.spec?.restartPolicy).toBe('Never');
    expect(pod.spec?.activeDeadlineSeconds).toBe(60);
    expect(pod.spec?.ephemeralContainers).toBeUndefined();
    expect(pod.spec?.shareProcessNamespace).toBe(true);
    const [app, ours] = pod.spec!.containers;
    expect(app!.livenessProbe).toBeUndefined();
    expect(app!.readinessProbe).toBeUndefined();
    expect(app!.ports).toEqual([{ containerPort: 80 }]);
    expect(ours).toMatchObject({ name: 'nixrun', command: ['tini', '--', 'ps'], stdin: true, stdinOnce: true, imagePullPolicy: 'IfNotPresent', securityContext: { runAsUser: 0 } });
    expect(ours!.volumeMounts).toEqual([{ name: 'nixrun-tmp', mountPath: '/tmp' }]);
    expect(source.spec?.nodeName).toBe('n1'); // the source is not touched
  });

  it('--replace swaps image and command, keeps the app’s env, and --same-node keeps the node', () => {
    const pod = buildPodCopy({ ...copyInput, replace: 'app', sameNode: true, env: [{ name: 'B', value: '2' }] });
    expect(pod.spec?.containers).toHaveLength(1);
    const c = pod.spec!.containers[0]!;
    expect(c.image).toBe(copyInput.image);
    expect(c.command).toEqual(['tini', '--', 'ps']);
    expect(c.args).toBeUndefined();
    expect(c.env?.map((e) => e.name)).toEqual(['A', 'HOME', 'TMPDIR', 'NIX_SSL_CERT_FILE', 'B']);
    expect(pod.spec?.nodeName).toBe('n1');
    expect(pod.spec?.shareProcessNamespace).toBeUndefined();
    expect(() => buildPodCopy({ ...copyInput, replace: 'nope' })).toThrow(/has no container "nope" \(--replace\)/);
  });

  it('names the copy after its original, within 63 characters', () => {
    expect(copyName('web', () => 'abcde')).toBe('web-nixrun-abcde');
    expect(copyName('x'.repeat(80), () => 'abcde').length).toBeLessThanOrEqual(63);
  });
});

describe('the ephemeral container (pure)', () => {
  it('is a Pod patch adding one uniquely named container with stdinOnce and the target', () => {
    let n = 0;
    const rand = () => (n++ === 0 ? 'taken' : 'fresh');
    const ec = buildEphemeralContainer({ taken: ['nixrun-ps-taken'], exe: 'ps', image: 'r/x@sha256:' + 'b'.repeat(64), command: ['ps'], target: 'app', stdin: true, tty: true, env: [], securityContext: {}, rand });
    expect(ec.name).toBe('nixrun-ps-fresh');
    expect(ec).toMatchObject({ targetContainerName: 'app', stdin: true, stdinOnce: true, tty: true, imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'FallbackToLogsOnError' });
    expect(ephemeralPatch(ec)).toEqual({ spec: { ephemeralContainers: [ec] } });
    expect(Object.keys(ec)).not.toContain('resources');
  });

  it('--mount-from leaves out subPath mounts, which the API forbids', () => {
    expect(mountsFrom(source.spec!.containers[0]!, { allowSubPath: false })).toEqual({ mounts: [{ name: 'data', mountPath: '/data' }], skipped: ['/etc/app.conf'] });
    expect(mountsFrom(source.spec!.containers[0]!, { allowSubPath: true }).mounts).toHaveLength(2);
  });

  it('picks the container as kubectl does: named, annotation, first', () => {
    const pod: V1Pod = { metadata: { name: 'p', annotations: { 'kubectl.kubernetes.io/default-container': 'b' } }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } };
    expect(chooseContainer(pod, undefined).name).toBe('b');
    expect(chooseContainer(pod, 'a').name).toBe('a');
    expect(chooseContainer({ ...pod, metadata: { name: 'p' } }, undefined).name).toBe('a');
    expect(() => chooseContainer(pod, 'c')).toThrow(/pod p has no container "c"/);
  });

  it('tini as a subreaper, then the deadline, then the gate, then the command', () => {
    expect(containerCommand(['ps'], { init: true, gate: false, subreaper: true, timeoutSeconds: 60 })).toEqual(['tini', '-s', '-g', '--', 'timeout', '--foreground', '--kill-after=10', '60s', 'ps']);
    expect(containerCommand(['ps'], { init: true, gate: false })).toEqual(['tini', '-g', '--', 'ps']);
  });

  it('statuses are found by name among ephemeral ones; events filtered by fieldPath', () => {
    const pod: V1Pod = { status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0 }], ephemeralContainerStatuses: [{ name: 'e', image: '', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] } };
    expect(containerStatus(pod, 'e')?.state?.running).toEqual({});
    expect(containerStatus(pod, 'x')).toBeUndefined();
    expect(aboutContainer({ involvedObject: { fieldPath: 'spec.ephemeralContainers{e}' } } as never, 'e')).toBe(true);
    expect(aboutContainer({ involvedObject: { fieldPath: 'spec.containers{app}' } } as never, 'e')).toBe(false);
    expect(aboutContainer({ involvedObject: {} } as never, 'e')).toBe(true);
  });
});

describe('the node pod (pure)', () => {
  it('is bound to the node, tolerates everything, has the host’s namespaces and / at /host', () => {
    const pod = buildNodePod({ name: 'nixrun-node-n1-xxxxx', image: 'r/x', command: ['ps'], stdin: true, tty: false, env: [], profile: 'sysadmin', packages: [], exe: 'ps', activeDeadlineSeconds: 60, owner, node: 'n1', arch: 'amd64' });
    expect(pod.spec).toMatchObject({ nodeName: 'n1', tolerations: [{ operator: 'Exists' }], hostPID: true, hostNetwork: true, hostIPC: true, restartPolicy: 'Never', dnsPolicy: 'ClusterFirstWithHostNet' });
    expect(pod.spec?.nodeSelector).toBeUndefined();
    expect(pod.spec?.volumes).toContainEqual({ name: 'host-root', hostPath: { path: '/', type: 'Directory' } });
    expect(pod.spec?.containers[0]?.volumeMounts).toContainEqual({ name: 'host-root', mountPath: '/host' });
    expect(pod.spec?.containers[0]?.securityContext).toEqual({ privileged: true });
    expect(pod.metadata?.labels?.['nixrun.dev/mode']).toBe('node');
  });

  it('--host-shell: nsenter into PID 1, the user’s command as arguments (never shell text)', () => {
    expect(hostShellCommand(['cat', '/etc/os-release; rm -rf /'])).toEqual(['nsenter', '--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--', 'cat', '/etc/os-release; rm -rf /']);
    expect(hostShellCommand([]).slice(-3, -1)).toEqual(['/bin/sh', '-c']);
  });
});

describe('workloads → one pod, as kubectl exec picks it', () => {
  it('builds the selector and prefers a running, ready, newer pod', () => {
    expect(selectorString({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 't', operator: 'In', values: ['x', 'y'] }, { key: 'k', operator: 'Exists' }] })).toBe('app=a,t in (x,y),k');
    const p = (name: string, phase: string, ready: boolean, t: string): V1Pod => ({ metadata: { name, creationTimestamp: new Date(t) }, spec: { nodeName: 'n', containers: [] }, status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    expect(pickPod([p('pending', 'Pending', false, '2026-01-03'), p('old', 'Running', true, '2026-01-01'), p('new', 'Running', true, '2026-01-02'), p('unready', 'Running', false, '2026-01-04')])?.metadata?.name).toBe('new');
  });
});

describe('--dry-run of node/NAME needs no cluster', () => {
  it('prints the node pod', async () => {
    const r = await runMain(['--dry-run', '-o', 'json', 'node/n1', '--pkgs', 'procps', '--', 'ps', '-ef']);
    expect(r.code, r.stderr).toBe(0);
    const pod = JSON.parse(r.stdout) as V1Pod;
    expect(pod.spec?.nodeName).toBe('n1');
    expect(pod.spec?.containers[0]?.command?.slice(0, 4)).toEqual(['tini', '-s', '-g', '--']);
    expect(r.kubeCalls).toEqual([]);
  });

  it('--target without a cluster: the pod must be read first', async () => {
    const r = await runMain(['--dry-run', '--target', 'pod/web', '--', 'ps']);
    expect(r.kubeCalls).toHaveLength(1);
    expect(r.code).toBe(125);
  });
});
