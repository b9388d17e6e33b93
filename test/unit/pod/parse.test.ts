import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { parseDuration } from '../../../src/duration.js';
import { capabilityAdvice, parseEnv, parseEnvFrom, parseKeyValues, parseOverrides, parseResources, parseTolerations } from '../../../src/pod/index.js';

describe('flag parsing', () => {
  it('env: K=V, values may hold = and be empty', () => {
    expect(parseEnv(['A=1', 'B=x=y', 'C=', 'my.var-2=ok'])).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
      { name: 'C', value: '' },
      { name: 'my.var-2', value: 'ok' },
    ]);
    for (const bad of ['A', '=1', '1A=x', 'A B=x']) expect(() => parseEnv([bad]), bad).toThrow(UsageError);
  });

  it('env-from: secret/NAME and configmap/NAME (cm/, plurals), nothing else', () => {
    expect(parseEnvFrom(['secret/db-creds', 'configmap/app.cfg', 'cm/x', 'secrets/y', 'configmaps/z'])).toEqual([
      { secretRef: { name: 'db-creds' } },
      { configMapRef: { name: 'app.cfg' } },
      { configMapRef: { name: 'x' } },
      { secretRef: { name: 'y' } },
      { configMapRef: { name: 'z' } },
    ]);
    for (const bad of ['db-creds', 'secret/', 'secret/Bad_Name', 'pod/x', 'secret/a/b', `secret/${'a'.repeat(254)}`, 'secret/$(reboot)']) {
      expect(() => parseEnvFrom([bad]), bad).toThrow(/invalid --env-from/);
    }
  });

  it('labels and annotations: Kubernetes key rules; label values too', () => {
    expect(parseKeyValues(['team=sre', 'example.com/owner=ada', 'empty='], 'label')).toEqual({ team: 'sre', 'example.com/owner': 'ada', empty: '' });
    expect(parseKeyValues(['note=anything at all: yes!'], 'annotation')).toEqual({ note: 'anything at all: yes!' });
    for (const bad of ['team', 'bad key=x', 'UPPER.com/x=y', `${'k'.repeat(64)}=v`, 'a=has space']) expect(() => parseKeyValues([bad], 'label'), bad).toThrow(UsageError);
  });

  it('tolerations: key[=value][:Effect] or all', () => {
    expect(parseTolerations(['all'])).toEqual([{ operator: 'Exists' }]);
    expect(parseTolerations(['dedicated=debug:NoSchedule', 'gpu', 'spot:NoExecute'])).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'debug', effect: 'NoSchedule' },
      { key: 'gpu', operator: 'Exists' },
      { key: 'spot', operator: 'Exists', effect: 'NoExecute' },
    ]);
    expect(() => parseTolerations(['k=v:Sometimes'])).toThrow(/effect/);
  });

  it('resources', () => {
    expect(parseResources('cpu=100m,memory=128Mi')).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(parseResources('nvidia.com/gpu=1')).toEqual({ 'nvidia.com/gpu': '1' });
    for (const bad of ['cpu=lots', 'cpu', '', 'memory=1GB']) expect(() => parseResources(bad), bad).toThrow(UsageError);
  });

  it.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['4h', 14400],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['2d', 172800],
  ])('duration %s = %i s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it('rejects bad durations', () => {
    for (const bad of ['soon', '5y', '-5m', '', 'm5', '5 m']) expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });

  it('overrides: a JSON object, v1 Pod if it says so', () => {
    expect(parseOverrides('{"spec":{"hostNetwork":true}}')).toEqual({ spec: { hostNetwork: true } });
    expect(() => parseOverrides('{spec')).toThrow(/not valid JSON/);
    expect(() => parseOverrides('[1]')).toThrow(/JSON object/);
    expect(() => parseOverrides('{"kind":"Deployment"}')).toThrow(/kind must be Pod/);
  });

  it('capability advice names the tools and the profile to use', () => {
    expect(capabilityAdvice(['tcpdump'], 'restricted')).toMatch(/tcpdump needs root with NET_ADMIN\/NET_RAW.*--profile netadmin/);
    expect(capabilityAdvice(['iptables', 'nft'], 'baseline')).toMatch(/iptables, nft need/);
    expect(capabilityAdvice(['tcpdump'], 'netadmin')).toBeUndefined();
    expect(capabilityAdvice(['ping', 'curl'], 'restricted')).toBeUndefined();
    expect(capabilityAdvice(['strace'], 'restricted')).toMatch(/--profile sysadmin/);
  });
});
