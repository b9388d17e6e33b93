import { describe, expect, it } from 'vitest';
import { isAmbiguous, isClearCut, nixeryReach, rankCandidates, type AttrInfo } from '../../../src/resolve/rank.js';

const order = (exe: string, attrs: Array<[string, number]>, overrides = {}) => rankCandidates(exe, attrs.map(([attr, exeCount]) => ({ attr, exeCount })), overrides).map((r) => r.attr);

describe('ranking the providers of one executable', () => {
  it('the canonical unversioned package beats its versioned twins', () => {
    expect(order('psql', [['postgresql_15', 33], ['postgresql_18_jit', 35], ['postgresql', 35], ['postgresql_16', 32]])[0]).toBe('postgresql');
    expect(order('irb', [['ruby_3_3', 14], ['ruby', 14], ['ruby_4_0', 16]])[0]).toBe('ruby');
  });

  it('an attribute named like the executable wins, top-level before nested', () => {
    expect(order('xev', [['xorg.xev', 1], ['xev', 1]])).toEqual(['xev', 'xorg.xev']);
    expect(order('ping', [['unixtools.ping', 1], ['iputils', 4], ['busybox', 402]])[0]).toBe('iputils');
  });

  it('small dedicated packages beat umbrellas and big bundles', () => {
    expect(order('bundle', [['mastodon', 62], ['zammad', 9], ['bundler', 2], ['gotools', 48], ['ruby', 14]])[0]).toBe('bundler');
    expect(order('grep', [['busybox', 402], ['toybox', 239], ['gnugrep', 3], ['minimal-bootstrap.gnugrep', 3]])[0]).toBe('gnugrep');
  });

  it('build variants lose to the plain package', () => {
    expect(order('nc', [['netcat-gnu', 2], ['netcat', 1], ['netcat-openbsd', 1]])[0]).toBe('netcat');
    expect(order('htop', [['htop-vim', 1], ['htop', 1]])[0]).toBe('htop');
  });

  it('reviewed overrides come first, with their reason', () => {
    const r = rankCandidates('curl', [{ attr: 'curlFull', exeCount: 2 }, { attr: 'curl', exeCount: 1 }], { curl: { attr: 'curl', reason: 'alias not in the data' } });
    expect(r[0]!.attr).toBe('curl');
    expect(r[0]!.reasons.join()).toMatch(/overrides: alias not in the data/);
  });

  it('says how clear the choice is', () => {
    const clear = rankCandidates('psql', [{ attr: 'postgresql', exeCount: 35 }, { attr: 'postgresql_15', exeCount: 33 }]);
    expect(isClearCut(clear)).toBe(true);
    const tie = rankCandidates('foo', [{ attr: 'alpha', exeCount: 3 }, { attr: 'bravo', exeCount: 3 }]);
    expect(isClearCut(tie)).toBe(false);
    expect(isAmbiguous(tie)).toBe(true);
  });
});

describe('what Nixery can serve', () => {
  it.each([
    ['htop', 'ok'],
    ['bashInteractive', 'casefold'],
    ['python3Packages.requests', 'casefold'],
    ['haskellPackages.QuickCheck', 'unreachable'],
    ['perlPackages.JSONXS', 'unreachable'],
    ['gtk+', 'unreachable'],
    ['_1password-cli', 'ok'],
  ])('%s → %s', (attr, reach) => {
    expect(nixeryReach(attr)).toBe(reach);
  });
});

describe('the signals of issue 15', () => {
  const info = (attr: string, exeCount: number, more: Partial<AttrInfo> = {}): AttrInfo => ({ attr, exeCount, ...more });

  it('an alias of the -minimal variant loses to the full package (store names)', () => {
    const r = rankCandidates('nsenter', [info('libuuid', 119, { pname: 'util-linux-minimal', version: '2.41.3' }), info('util-linux', 129, { version: '2.41.3' })]);
    expect(r[0]!.attr).toBe('util-linux');
    expect(r[1]!.reasons.join()).toMatch(/util-linux-minimal is a variant of util-linux/);
  });

  it('reimplementations lose to the originals, by pattern', () => {
    expect(order('diff', [['uutils-diffutils', 3], ['diffutils', 4]])[0]).toBe('diffutils');
    expect(order('sed', [['uutils-sed', 1], ['gnused', 1]])[0]).toBe('gnused');
    expect(order('chroot', [['klibcShrunk', 38], ['coreutils', 107]])[0]).toBe('coreutils');
  });

  it("Debian's choice for /usr/bin/X decides between unrelated providers, and beats a namesake", () => {
    const distro = [{ pkg: 'mariadb-client', src: 'mariadb' }];
    expect(rankCandidates('mysqldump', [info('percona-server', 36), info('mysql84', 32, { pname: 'mysql' }), info('mariadb', 85, { pname: 'mariadb-server' })], {}, { distro })[0]!.attr).toBe('mariadb');
    const drill = rankCandidates('drill', [info('drill', 1, { version: '0.9.0' }), info('ldns', 1, { version: '1.8.4' })], {}, { distro: [{ pkg: 'ldnsutils', src: 'ldns' }] });
    expect(drill.map((r) => r.attr)).toEqual(['ldns', 'drill']);
    expect(drill[1]!.reasons.join()).toMatch(/Debian's drill is ldnsutils \(source ldns\)/);
    // kubectl is kubernetes' own client split out (same release): the name still wins.
    const kubectl = rankCandidates('kubectl', [info('kubectl', 1, { version: '1.35.3' }), info('kubernetes', 9, { version: '1.35.3' })], {}, { distro: [{ pkg: 'kubernetes-client', src: 'kubernetes' }] });
    expect(kubectl[0]!.attr).toBe('kubectl');
  });

  it('a big package is no umbrella for an executable named after it, nor beside its own variants', () => {
    expect(order('ip6tables', [['iptables-legacy', 19], ['iptables', 45]])[0]).toBe('iptables');
    expect(order('kafka-topics.sh', [['apacheKafka_3_9', 37], ['apacheKafka', 42]])[0]).toBe('apacheKafka');
  });

  it('on arm64, a provider nixpkgs builds for aarch64-linux beats one it does not', () => {
    const cands = [info('cpuid', 1, { missingOn: ['aarch64-linux'] }), info('cpuid-tools', 2)];
    expect(rankCandidates('cpuid', cands)[0]!.attr).toBe('cpuid');
    const arm = rankCandidates('cpuid', cands, {}, { system: 'aarch64-linux' });
    expect(arm[0]!.attr).toBe('cpuid-tools');
    expect(arm[1]!.reasons.join()).toMatch(/not built for aarch64-linux/);
  });
});
