import { Attach, KubeConfig } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { core, createTestNamespace, kubeconfigPath, listPods, registryFaults, restartApiserver, testenv, waitFor } from '../support/cluster.js';

/** A stdout that client-node treats as a terminal: it has rows/columns and emits 'resize'. */
class FakeTerminal extends Writable {
  text = '';
  rows = 24;
  columns = 80;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  resizeTo(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

describe('the local cluster (kube-apiserver, etcd, a kubelet + containerd node, kwok)', () => {
  it('a pod that prints, reads stdin and exits 3: attach with stdin+tty, echo, resize, exit code 3, deleted', async () => {
    const ns = await createTestNamespace('cluster');
    const api = core();
    const name = 'attach-probe';
    await api.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: `${testenv().registry.host}/shell`,
              // Report the terminal size, then echo one line back and exit 3.
              command: ['bash', '-c', 'read -r line; echo "size=$(stty size)"; echo "got:$line"; exit 3'],
              stdin: true,
              stdinOnce: true,
              tty: true,
            },
          ],
        },
      },
    });
    await waitFor(async () => (await api.readNamespacedPod({ name, namespace: ns })).status?.phase === 'Running', 30_000, 'Running');

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    const out = new FakeTerminal();
    const stdin = new PassThrough();
    const ws = await new Attach(kc).attach(ns, name, 'main', out, null, stdin, true);
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    out.resizeTo(101, 33);
    await new Promise((r) => setTimeout(r, 300));
    stdin.write('hello\r');
    await closed;
    expect(out.text).toContain('hello'); // the pty's echo of what we typed
    expect(out.text).toContain('size=33 101'); // the resize reached the pty
    expect(out.text).toContain('got:hello');

    const pod = await waitFor(async () => {
      const p = await api.readNamespacedPod({ name, namespace: ns });
      // The kubelet reports the container's end first and the pod's phase on a later sync.
      return p.status?.containerStatuses?.[0]?.state?.terminated && p.status.phase !== 'Running' ? p : undefined;
    }, 15_000, 'terminated');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(pod.status?.phase).toBe('Failed');

    await api.deleteNamespacedPod({ name, namespace: ns });
    await waitFor(async () => (await listPods(ns, '')).length === 0, 15_000, 'no pods');
  });

  it('the kubelet’s events for a pull that waits for the registry’s build', async () => {
    const ns = await createTestNamespace('events');
    const api = core();
    const reset = await registryFaults({ delayMs: 1000, delayOnly: ['jq'] });
    try {
      await api.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: 'slow' },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: `${testenv().registry.host}/jq`, command: ['jq', '--version'] }] },
        },
      });
      const reasons = await waitFor(async () => {
        const evs = await api.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=slow' });
        const r = evs.items.map((e) => e.reason);
        return r.includes('Started') ? r : undefined;
      }, 30_000, 'Started event');
      expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']));
    } finally {
      await reset();
    }
  });

  it('the arm64 kwok node is Ready and tainted; the real node is the only untainted one', async () => {
    const nodes = (await core().listNode()).items;
    const kwok = nodes.find((n) => n.metadata?.name === testenv().nodes.kwok)!;
    expect(kwok.metadata?.labels?.['kubernetes.io/arch']).toBe('arm64');
    expect(kwok.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(kwok.spec?.taints?.map((t) => t.key)).toContain('nixrun.test/kwok');
    const untainted = nodes.filter((n) => !n.spec?.taints?.length).map((n) => n.metadata?.name);
    expect(untainted).toEqual([testenv().nodes.real]);
  });

  it('survives an apiserver restart', async () => {
    await restartApiserver(500);
    const ns = await createTestNamespace('after-restart');
    expect(ns).toMatch(/^after-restart-/);
  });
});
