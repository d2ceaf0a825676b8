// One room's WebSocket: connects with the access token and `since`, reconnects with
// backoff when the connection drops, swaps in fresh tokens, and notices a dead link.
//
// Events: `frame` (detail: a server frame), `state` (detail: {state, retryAt, code, reason}).

export const State = Object.freeze({
  CONNECTING: 'connecting', // first connection to this room
  CONNECTED: 'connected', // admitted: history received
  RECONNECTING: 'reconnecting', // lost it; trying again
  OFFLINE: 'offline', // the browser has no network; waiting for it
  STOPPED: 'stopped', // refused for good (4404, 1008) or closed by us
});

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_PING_MS = 20_000; // ping when nothing arrived for this long
const PONG_TIMEOUT_MS = 8_000; // then give the link up when still nothing arrives
const HEARTBEAT_MS = 4_000;

export class RoomSocket extends EventTarget {
  #roomId;
  #getToken;
  #refreshToken;
  #getSince;
  #ws = null;
  #state = null;
  #attempt = 0;
  #authFailures = 0;
  #retryTimer = null;
  #connectTimer = null;
  #heartbeat = null;
  #lastFrameAt = 0;
  #pingSentAt = 0;
  #admitted = false;
  #everConnected = false;
  #stopped = false;
  #listeners = [];

  /**
   * getToken(): the current access token; refreshToken(): a promise of a fresh one
   * (rejects with SessionEnded when the login is over); getSince(): the last seq seen, or null.
   */
  constructor({ roomId, getToken, refreshToken, getSince }) {
    super();
    this.#roomId = roomId;
    this.#getToken = getToken;
    this.#refreshToken = refreshToken;
    this.#getSince = getSince;
  }

  get state() {
    return this.#state;
  }

  get connected() {
    return this.#state === State.CONNECTED && this.#ws?.readyState === WebSocket.OPEN;
  }

  start() {
    this.#listen(window, 'online', () => this.retryNow());
    this.#listen(window, 'offline', () => this.#goOffline());
    this.#listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.#state === State.RECONNECTING) this.retryNow();
    });
    this.#heartbeat = setInterval(() => this.#checkLink(), HEARTBEAT_MS);
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retryTimer);
    for (const [target, type, handler] of this.#listeners) target.removeEventListener(type, handler);
    this.#listeners = [];
    this.#abandon();
    this.#setState(State.STOPPED, { reason: 'closed' });
  }

  /** Send a frame now; false when not connected (the caller keeps it for later). */
  send(frame) {
    if (!this.connected) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** A fresh access token for the open connection, before the one it holds expires. */
  swapToken(token) {
    if (this.connected) this.send({ type: 'auth', token });
  }

  retryNow() {
    if (this.#stopped || this.#state === State.CONNECTED || this.#state === State.CONNECTING) return;
    if (this.#ws && !this.#admitted && this.#ws.readyState === WebSocket.CONNECTING) return;
    this.#attempt = 0;
    this.#connect();
  }

  #listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.#listeners.push([target, type, handler]);
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    if (navigator.onLine === false) {
      this.#goOffline();
      return;
    }
    this.#abandon();
    const params = new URLSearchParams({ token: this.#getToken() ?? '' });
    const since = this.#getSince();
    if (since !== null && since !== undefined) params.set('since', String(since));
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${window.location.host}/ws/rooms/${encodeURIComponent(this.#roomId)}?${params}`;

    const ws = new WebSocket(url);
    this.#ws = ws;
    this.#admitted = false;
    const first = !this.#everConnected && this.#attempt === 0;
    this.#setState(first ? State.CONNECTING : State.RECONNECTING);
    ws.onmessage = (event) => this.#onMessage(ws, event);
    ws.onclose = (event) => this.#onClose(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close event always follows
    this.#connectTimer = setTimeout(() => {
      if (this.#ws === ws && !this.#admitted) this.#lost(ws, 0, 'connect_timeout');
    }, CONNECT_TIMEOUT_MS);
  }

  #onMessage(ws, event) {
    if (ws !== this.#ws) return;
    this.#lastFrameAt = Date.now();
    this.#pingSentAt = 0;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== 'string' || frame.type === 'pong') return;
    if (frame.type === 'history') {
      clearTimeout(this.#connectTimer);
      this.#admitted = true;
      this.#attempt = 0;
      this.#authFailures = 0;
      const first = !this.#everConnected;
      this.#everConnected = true;
      this.dispatchEvent(new CustomEvent('frame', { detail: { ...frame, reconnected: !first } }));
      this.#setState(State.CONNECTED);
      return;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  #onClose(ws, code, reason) {
    if (ws !== this.#ws) return; // one we gave up on already
    this.#lost(ws, code, reason);
  }

  #lost(ws, code, reason) {
    this.#abandon();
    if (this.#stopped) return;
    if (code === 4401) {
      // The token is missing, invalid or expired: refresh it, then come straight back.
      this.#authFailures += 1;
      this.#setState(this.#everConnected ? State.RECONNECTING : State.CONNECTING, { code, reason });
      if (this.#authFailures > 3) {
        this.#scheduleRetry(code, reason);
        return;
      }
      this.#refreshToken().then(
        () => this.#connect(),
        (error) => {
          if (error?.name === 'SessionEnded') this.#fatal(code, 'session_ended');
          else this.#scheduleRetry(code, reason);
        },
      );
      return;
    }
    if (code === 4404 || code === 1008) {
      this.#fatal(code, reason);
      return;
    }
    // 1012/1001 (server restart), 1013 (we read too slowly), 1006 (the link dropped),
    // 1011 and the rest: come back with `since` and miss nothing.
    this.#scheduleRetry(code, reason, code === 1013 ? 1000 : 0);
  }

  #scheduleRetry(code, reason, floor = 0) {
    if (navigator.onLine === false) {
      this.#goOffline();
      return;
    }
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.#attempt);
    const delay = Math.max(floor, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
    this.#attempt += 1;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
    this.#setState(State.RECONNECTING, { retryAt: Date.now() + delay, code, reason });
  }

  #fatal(code, reason) {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retryTimer);
    this.#setState(State.STOPPED, { code, reason });
  }

  #goOffline() {
    if (this.#stopped) return;
    this.#abandon();
    clearTimeout(this.#retryTimer);
    this.#setState(State.OFFLINE);
  }

  /** Notice a link that died without a close frame (sleep, network change). */
  #checkLink() {
    if (!this.#ws || !this.#admitted || this.#ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (this.#pingSentAt && now - this.#pingSentAt > PONG_TIMEOUT_MS) {
      this.#lost(this.#ws, 0, 'no_pong');
    } else if (!this.#pingSentAt && now - this.#lastFrameAt > IDLE_PING_MS) {
      this.#pingSentAt = now;
      this.#ws.send(JSON.stringify({ type: 'ping' }));
    }
  }

  #abandon() {
    clearTimeout(this.#connectTimer);
    const ws = this.#ws;
    this.#ws = null;
    this.#admitted = false;
    this.#pingSentAt = 0;
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closing */
      }
    }
  }

  #setState(state, detail = {}) {
    const changed = state !== this.#state;
    this.#state = state;
    if (changed || detail.retryAt || detail.code) {
      this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
    }
  }
}
