import { describe, expect, it } from 'vitest';
import { isAmbiguous, isClearCut, nixeryReach, rankCandidates } from '../../../src/resolve/rank.js';

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
