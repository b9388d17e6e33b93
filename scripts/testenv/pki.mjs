// The cluster's identities, as kubeadm makes them: one CA; the API server's serving certificate;
// a client certificate per component (the Node authorizer and NodeRestriction admission scope the
// kubelet's to its own node); the kubelet's serving certificate, which the API server verifies.
// EC keys through the openssl command line: quick to make.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CLIENT = 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n';
const SERVER = 'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n';

/**
 * @param {string} dir
 * @param {{ apiserverIPs: string[], nodeName: string, nodeIP: string }} names
 */
export function makePki(dir, { apiserverIPs, nodeName, nodeIP }) {
  mkdirSync(dir, { recursive: true });
  const f = (n) => join(dir, n);
  const ossl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3', '-subj', '/CN=nixrun-test-ca']);
  const sign = (name, subj, ext) => {
    ossl(['req', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subj]);
    writeFileSync(f(`${name}.ext`), ext);
    const serial = `0x${randomBytes(8).toString('hex')}`;
    ossl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial, '-out', f(`${name}.crt`), '-days', '3', '-extfile', f(`${name}.ext`)]);
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  const svcNames = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'];
  const sans = [...apiserverIPs.map((ip) => `IP:${ip}`), ...svcNames.map((n) => `DNS:${n}`)].join(',');
  return {
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    apiserver: sign('apiserver', '/CN=kube-apiserver', `subjectAltName=${sans}\n${SERVER}`),
    admin: sign('admin', '/O=system:masters/CN=admin', CLIENT),
    // The API server's identity towards kubelets (attach, logs, exec).
    apiserverKubeletClient: sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', CLIENT),
    controllerManager: sign('controller-manager', '/CN=system:kube-controller-manager', CLIENT),
    scheduler: sign('scheduler', '/CN=system:kube-scheduler', CLIENT),
    kubeProxy: sign('kube-proxy', '/CN=system:kube-proxy', CLIENT),
    coredns: sign('coredns', '/CN=system:coredns', CLIENT),
    node: sign('node', `/O=system:nodes/CN=system:node:${nodeName}`, CLIENT),
    kubeletServing: sign('kubelet-serving', `/O=system:nodes/CN=system:node:${nodeName}`, `subjectAltName=IP:${nodeIP},DNS:${nodeName}\n${SERVER}`),
  };
}

/**
 * A kubeconfig that verifies the server against the CA (embedded, so the file can be copied);
 * `user` lines go under `user:`.
 */
export function kubeconfig({ server, caCert, user, namespace = 'default' }) {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: nixrun-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${readFileSync(caCert).toString('base64')}`,
    'users:',
    '- name: admin',
    '  user:',
    ...user.map((l) => `    ${l}`),
    'contexts:',
    '- name: nixrun-test',
    `  context: {cluster: nixrun-test, user: admin, namespace: ${namespace}}`,
    'current-context: nixrun-test',
    '',
  ].join('\n');
}
