import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildPod, OWNER_ANNOTATIONS, podName, type PodInput, type ProfileName } from '../../../src/pod/index.js';

const input = (over: Partial<PodInput> = {}): PodInput => ({
  name: 'nixrun-psql-abcde',
  image: 'nixery.dev/fakenss/postgresql/tini',
  command: ['tini', '-g', '--', 'psql', '-h', 'my-db'],
  stdin: true,
  tty: false,
  env: [],
  profile: 'restricted',
  packages: ['postgresql', 'fakenss', 'tini'],
  exe: 'psql',
  activeDeadlineSeconds: 14400,
  owner: { host: 'laptop', pid: 4242, user: 'ada', startedAt: '2026-11-25T00:00:00.000Z', session: 'cafe' },
  ...over,
});

/** The Pod Security "restricted" checks this plugin can violate, as the admission plugin states them. */
function restrictedViolations(pod: V1Pod): string[] {
  const v: string[] = [];
  const spec = pod.spec!;
  const psc = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push('host namespaces');
  for (const vol of spec.volumes ?? []) if (!vol.emptyDir && !vol.configMap && !vol.secret && !vol.projected && !vol.persistentVolumeClaim) v.push(`volume ${vol.name}`);
  for (const c of spec.containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) v.push('privileged');
    if (sc.allowPrivilegeEscalation !== false) v.push('allowPrivilegeEscalation != false');
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push('capabilities not dropping ALL');
    if ((sc.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE')) v.push('capabilities added');
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) v.push('runAsNonRoot != true');
    if ((sc.runAsUser ?? psc.runAsUser) === 0) v.push('runAsUser=0');
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push('seccompProfile');
  }
  for (const s of psc.sysctls ?? []) if (!['net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start', 'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies'].includes(s.name)) v.push(`sysctl ${s.name}`);
  return v;
}

describe('pod manifest builder', () => {
  it('--env-from becomes envFrom; --host-network keeps cluster DNS and fails restricted', () => {
    const plain = buildPod(input());
    expect(plain.spec!.containers[0]!.envFrom).toBeUndefined();
    expect(plain.spec!.hostNetwork).toBeUndefined();
    const pod = buildPod(input({ envFrom: [{ secretRef: { name: 'db' } }], hostNetwork: true }));
    expect(pod.spec!.containers[0]!.envFrom).toEqual([{ secretRef: { name: 'db' } }]);
    expect(pod.spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    expect(restrictedViolations(pod)).toContain('host namespaces');
  });

  it('builds a restartPolicy: Never pod with command, stdio, env, /tmp and backstops', () => {
    const pod = buildPod(input({ env: [{ name: 'PGPASSWORD', value: 's3cret' }, { name: 'HOME', value: '/work' }] }));
    const c = pod.spec!.containers[0]!;
    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nixrun-psql-abcde' } });
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(c.command).toEqual(['tini', '-g', '--', 'psql', '-h', 'my-db']);
    expect(c).toMatchObject({ name: 'nixrun', stdin: true, stdinOnce: true, tty: false });
    expect(c.env).toEqual([
      { name: 'TMPDIR', value: '/tmp' },
      { name: 'NIX_SSL_CERT_FILE', value: '/etc/ssl/certs/ca-bundle.crt' },
      { name: 'PGPASSWORD', value: 's3cret' },
      { name: 'HOME', value: '/work' },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.spec!.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(pod.spec!.activeDeadlineSeconds).toBe(14400);
    expect(pod.spec!.terminationGracePeriodSeconds).toBe(1);
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.enableServiceLinks).toBe(false);
  });

  it('labels and owner annotations let gc find pods and their owners', () => {
    const pod = buildPod(input({ labels: { team: 'sre' }, annotations: { why: 'incident-42' } }));
    expect(pod.metadata!.labels).toEqual({ team: 'sre', 'app.kubernetes.io/managed-by': 'kubectl-nixrun', 'app.kubernetes.io/name': 'nixrun' });
    const a = pod.metadata!.annotations!;
    expect(a.why).toBe('incident-42');
    expect(a[OWNER_ANNOTATIONS.host]).toBe('laptop');
    expect(a[OWNER_ANNOTATIONS.pid]).toBe('4242');
    expect(a[OWNER_ANNOTATIONS.packages]).toBe('postgresql,fakenss,tini');
  });

  it('flags become pod fields: node (as a selector), service account, tolerations, resources, pull policy', () => {
    const pod = buildPod(
      input({
        node: 'node-7',
        serviceAccount: 'debugger',
        tolerations: [{ operator: 'Exists' }],
        requests: { cpu: '100m' },
        limits: { memory: '256Mi' },
        imagePullPolicy: 'IfNotPresent',
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      }),
    );
    expect(pod.spec!.nodeName).toBeUndefined();
    expect(pod.spec!.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'node-7' });
    expect(pod.spec!.serviceAccountName).toBe('debugger');
    expect(pod.spec!.automountServiceAccountToken).toBe(true);
    expect(pod.spec!.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '100m' }, limits: { memory: '256Mi' } });
    expect(pod.spec!.containers[0]!.imagePullPolicy).toBe('IfNotPresent');
  });

  it.each<[ProfileName, number]>([
    ['restricted', 0],
    ['baseline', 2],
    ['netadmin', 4],
    ['sysadmin', 5],
  ])('profile %s: %i Pod Security "restricted" violations (restricted must have none)', (profile, min) => {
    const v = restrictedViolations(buildPod(input({ profile })));
    if (min === 0) expect(v).toEqual([]);
    else expect(v.length).toBeGreaterThanOrEqual(min);
  });

  it('restricted runs as nobody (65534) with seccomp RuntimeDefault; netadmin adds NET_ADMIN and NET_RAW as root', () => {
    const r = buildPod(input()).spec!;
    expect(r.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
    const n = buildPod(input({ profile: 'netadmin' })).spec!;
    expect(n.securityContext!.runAsUser).toBe(0);
    expect(n.containers[0]!.securityContext!.capabilities!.add).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(buildPod(input({ profile: 'sysadmin' })).spec!.containers[0]!.securityContext!.privileged).toBe(true);
  });

  it('ping under restricted gets the safe sysctl for unprivileged ICMP, and stays restricted', () => {
    const pod = buildPod(input({ exe: 'ping', command: ['tini', '-g', '--', 'ping', '-c', '1', 'x'] }));
    expect(pod.spec!.securityContext!.sysctls).toEqual([{ name: 'net.ipv4.ping_group_range', value: '0 2147483647' }]);
    expect(restrictedViolations(pod)).toEqual([]);
    expect(buildPod(input()).spec!.securityContext!.sysctls).toBeUndefined();
  });

  it('--overrides merge strategically: containers by name, volumes appended, null deletes, lists replaced', () => {
    const pod = buildPod(
      input({
        overrides: {
          metadata: { labels: { extra: 'yes' } },
          spec: {
            hostNetwork: true,
            activeDeadlineSeconds: null,
            containers: [{ name: 'nixrun', volumeMounts: [{ name: 'data', mountPath: '/data' }], args: ['x'] }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'pvc-1' } }],
          },
        },
      }),
    );
    const spec = pod.spec!;
    expect(spec.hostNetwork).toBe(true);
    expect(spec.activeDeadlineSeconds).toBeUndefined();
    expect(spec.containers).toHaveLength(1);
    expect(spec.containers[0]!.command).toEqual(['tini', '-g', '--', 'psql', '-h', 'my-db']);
    expect(spec.containers[0]!.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'data', mountPath: '/data' }]);
    expect(spec.volumes!.map((v) => v.name)).toEqual(['tmp', 'data']);
    expect(pod.metadata!.labels!.extra).toBe('yes');
    expect(pod.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('kubectl-nixrun');
  });

  it('$patch: delete removes a list item, $patch: replace replaces an object', () => {
    const pod = buildPod(input({ overrides: { spec: { volumes: [{ name: 'tmp', $patch: 'delete' }], nodeSelector: { $patch: 'replace', pool: 'debug' } } } }));
    expect(pod.spec!.volumes).toEqual([]);
    expect(pod.spec!.nodeSelector).toEqual({ pool: 'debug' });
  });

  it('pod names: nixrun-<exe>-<5 random>, DNS-1123, at most 63', () => {
    expect(podName('psql', () => 'abcde')).toBe('nixrun-psql-abcde');
    expect(podName('Pg_Dump.v2', () => 'abcde')).toBe('nixrun-pg-dump-v2-abcde');
    const long = podName('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(podName('psql')).not.toBe(podName('psql'));
  });
});
