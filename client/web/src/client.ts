import { HitlClient, type StoredAuth, type TokenStore } from '@hitl/sdk';

const KEY = 'hitl.auth';

/**
 * Tokens in localStorage: they survive a reload, and every tab of the browser shares the pair, so
 * a refresh by one tab is seen by the others rather than racing them.
 */
const localStore: TokenStore = {
  load: () => {
    try {
      const raw = localStorage.getItem(KEY);
      return raw ? (JSON.parse(raw) as StoredAuth) : null;
    } catch {
      return null;
    }
  },
  save: (auth) => {
    if (auth) localStorage.setItem(KEY, JSON.stringify(auth));
    else localStorage.removeItem(KEY);
  },
};

export const client = new HitlClient({ baseUrl: '', tokenStore: localStore });
