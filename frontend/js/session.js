// Who is signed in, and their tokens: kept in localStorage (so a reload and other
// tabs share them), the access token refreshed before it expires, the refresh token
// rotated each time. One refresh at a time across tabs (a spent refresh token
// presented twice makes the server revoke the whole login).

import { ApiError, request } from './http.js';

const STORAGE_KEY = 'hubbub.session';
const MIN_VALID_MS = 15_000; // an access token closer than this to expiry is refreshed first
const RETRY_MS = 10_000;

export class SessionEnded extends Error {
  constructor(reason) {
    super(`session ended: ${reason}`);
    this.name = 'SessionEnded';
    this.reason = reason; // logout | expired | disabled | elsewhere | everywhere
  }
}

function readStored() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (value?.tokens?.access && value?.tokens?.refresh) return value;
  } catch {
    /* unreadable or unavailable storage: treat as signed out */
  }
  return null;
}

class Session extends EventTarget {
  #tokens = null; // {access, refresh, expiresAt (ms), lifetime (ms)}
  #user = null;
  #refreshing = null;
  #timer = null;

  constructor() {
    super();
    window.addEventListener('storage', (event) => this.#onStorage(event));
    document.addEventListener('visibilitychange', () => {
      // Background tabs run timers late: check the token as soon as we are seen again.
      if (document.visibilityState === 'visible' && this.#tokens) this.ensureFresh().catch(() => {});
    });
  }

  get user() {
    return this.#user;
  }

  get accessToken() {
    return this.#tokens?.access ?? null;
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  /** Pick up a session saved by an earlier visit or another tab. */
  restore() {
    const stored = readStored();
    if (!stored) return false;
    this.#tokens = stored.tokens;
    this.#user = stored.user ?? null;
    this.#schedule();
    return true;
  }

  async login(username, password) {
    const pair = await request('POST', '/api/auth/login', { form: { username, password } });
    this.#adopt(pair, { quiet: true });
    try {
      this.#user = await request('GET', '/api/users/me', { token: pair.access_token });
    } catch (error) {
      this.#clear();
      throw error;
    }
    this.#save();
    return this.#user;
  }

  /** `invite`: the code an invitation gave (needed when signup is invite-only). */
  async signup({ username, password, displayName, invite }) {
    const json = { username, password };
    if (displayName) json.display_name = displayName;
    if (invite) json.invite = invite;
    await request('POST', '/api/auth/signup', { json });
    return this.login(username, password);
  }

  async logout() {
    const refreshToken = this.#tokens?.refresh;
    this.end('logout');
    if (refreshToken) {
      await request('POST', '/api/auth/logout', { json: { refresh_token: refreshToken } }).catch(() => {});
    }
  }

  /**
   * Change the password. The server revokes every refresh token of the user, this one's
   * too, so log in again with the new password; without that, this page would be signed
   * out when its access token expires.
   */
  async changePassword(currentPassword, newPassword) {
    await this.authed('PUT', '/api/users/me/password', {
      json: { current_password: currentPassword, new_password: newPassword },
    });
    const username = this.#user?.username;
    if (!username || !this.#tokens) return;
    try {
      this.#adopt(await request('POST', '/api/auth/login', { form: { username, password: newPassword } }));
    } catch {
      /* this page keeps its access token until it expires, then asks to log in */
    }
  }

  /** End every login of this user (SPEC: POST /api/auth/logout-all), then this one here. */
  async logoutEverywhere() {
    await this.authed('POST', '/api/auth/logout-all');
    this.end('everywhere');
  }

  setUser(user) {
    this.#user = user;
    this.#save();
  }

  /** A usable access token, refreshing first when it is about to expire. */
  async ensureFresh() {
    if (!this.#tokens) throw new SessionEnded('logout');
    if (this.#tokens.expiresAt - Date.now() < Math.min(MIN_VALID_MS, this.#tokens.lifetime / 4)) await this.refresh();
    return this.#tokens.access;
  }

  /** Exchange the refresh token for a new pair; concurrent callers share one exchange. */
  refresh() {
    if (!this.#refreshing) {
      this.#refreshing = this.#rotate().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  /** An authenticated request; on 401 the token is refreshed and the request sent once more. */
  async authed(method, path, options = {}) {
    try {
      await this.ensureFresh();
    } catch (error) {
      if (error instanceof SessionEnded) throw error;
      // The refresh could not reach the server; the request will tell.
    }
    if (!this.#tokens) throw new SessionEnded('logout');
    try {
      return await request(method, path, { ...options, token: this.#tokens.access });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await this.refresh();
      return request(method, path, { ...options, token: this.#tokens.access });
    }
  }

  /** Forget the session locally and tell the app. */
  end(reason) {
    if (!this.#tokens && !this.#user) return;
    this.#clear();
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      /* storage unavailable */
    }
    this.dispatchEvent(new CustomEvent('ended', { detail: { reason } }));
  }

  async #rotate() {
    if (!this.#tokens) throw new SessionEnded('logout');
    const held = this.#tokens.refresh;
    const exchange = async () => {
      const stored = readStored();
      if (stored && stored.tokens.refresh !== held) {
        // Another tab rotated the pair while we waited for the lock: take theirs.
        if (stored.tokens.expiresAt - Date.now() > Math.min(MIN_VALID_MS, stored.tokens.lifetime / 4)) {
          this.#tokens = stored.tokens;
          this.#schedule();
          this.#announce();
          return this.#tokens.access;
        }
      }
      const refreshToken = stored?.tokens.refresh ?? held;
      let pair;
      try {
        pair = await request('POST', '/api/auth/refresh', { json: { refresh_token: refreshToken } });
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 422)) {
          this.end('expired');
          throw new SessionEnded('expired');
        }
        this.#schedule(RETRY_MS);
        throw error;
      }
      if (!this.#tokens) throw new SessionEnded('logout'); // logged out meanwhile
      this.#adopt(pair);
      return pair.access_token;
    };
    if (navigator.locks) return navigator.locks.request('hubbub-token-refresh', exchange);
    // No Web Locks (plain http on a LAN address is not a secure context): a random pause
    // makes it unlikely that two tabs spend the same refresh token; the later one then
    // finds the pair the first stored.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 1500));
    return exchange();
  }

  #adopt(pair, { quiet = false } = {}) {
    const lifetime = Math.max(1, Number(pair.expires_in) || 60) * 1000;
    this.#tokens = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: Date.now() + lifetime,
      lifetime,
    };
    this.#save();
    this.#schedule();
    if (!quiet) this.#announce();
  }

  #announce() {
    this.dispatchEvent(new CustomEvent('token', { detail: { token: this.#tokens.access } }));
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    if (!this.#tokens) return;
    const { expiresAt, lifetime } = this.#tokens;
    // Refresh with a quarter of the lifetime left: at least 15 s before expiry, at
    // most half-way through (short lifetimes).
    const margin = Math.min(Math.max(lifetime / 4, MIN_VALID_MS), lifetime / 2);
    const due = delay ?? expiresAt - margin - Date.now();
    this.#timer = setTimeout(() => this.refresh().catch(() => {}), Math.min(Math.max(0, due), 2 ** 31 - 1));
  }

  #save() {
    if (!this.#tokens) return;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ tokens: this.#tokens, user: this.#user }));
    } catch {
      /* storage full or unavailable: the session lives in this tab only */
    }
  }

  #clear() {
    clearTimeout(this.#timer);
    this.#tokens = null;
    this.#user = null;
  }

  #onStorage(event) {
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    const stored = readStored();
    if (!stored) {
      if (this.#tokens) this.end('elsewhere');
      return;
    }
    if (!this.#tokens || (stored.user && this.#user && stored.user.id !== this.#user.id)) {
      window.location.reload(); // signed in (or as someone else) in another tab
      return;
    }
    if (stored.tokens.access !== this.#tokens.access) {
      this.#tokens = stored.tokens;
      this.#schedule();
      this.#announce();
    }
  }
}

export const session = new Session();
