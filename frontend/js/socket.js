// The app's one WebSocket, `/ws`: connects with the access token, subscribes the rooms
// that are open (each from the last change it saw, `since_rev`), reconnects with backoff
// and subscribes them again, swaps in fresh tokens, and notices a dead link.
//
// LiveConnection events: `state` (detail: {state, retryAt, code, reason}), `ready`
// (detail: {user, first}), `frame` (detail: a frame about the person rather than one
// open room: room_added, room_updated, room_removed, read, activity, announcement, ...).
// A room is used through its RoomChannel (`connection.channel(roomId)`), which has
// `frame` and `state` events of its own: what a socket to that one room would give.

export const State = Object.freeze({
  CONNECTING: 'connecting', // first connection
  CONNECTED: 'connected', // admitted (for a room: its history received)
  RECONNECTING: 'reconnecting', // lost it; trying again
  OFFLINE: 'offline', // the browser has no network; waiting for it
  STOPPED: 'stopped', // refused for good, or closed by us
});

// Frames about the person, not about an open room (some of them name a room).
const USER_FRAMES = new Set(['ready', 'room_added', 'room_updated', 'room_removed', 'read', 'activity', 'announcement', 'pong', 'auth_ok']);
const MAX_ROOMS_PER_SUBSCRIBE = 100;

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_PING_MS = 20_000; // ping when nothing arrived for this long
const PONG_TIMEOUT_MS = 8_000; // then give the link up when still nothing arrives
const HEARTBEAT_MS = 4_000;

export class LiveConnection extends EventTarget {
  #getToken;
  #refreshToken;
  #ws = null;
  #state = null;
  #detail = {};
  #attempt = 0;
  #authFailures = 0;
  #retryTimer = null;
  #connectTimer = null;
  #heartbeat = null;
  #lastFrameAt = 0;
  #pingSentAt = 0;
  #ready = false;
  #everReady = false;
  #stopped = false;
  #listeners = [];
  #channels = new Map(); // String(room id) -> RoomChannel, the rooms wanted
  #unsubscribing = new Map(); // String(room id) -> unsubscribes sent on this connection, unanswered

  /**
   * getToken(): the current access token; refreshToken(): a promise of a fresh one
   * (rejects with SessionEnded when the login is over).
   */
  constructor({ getToken, refreshToken }) {
    super();
    this.#getToken = getToken;
    this.#refreshToken = refreshToken;
  }

  get state() {
    return this.#state;
  }

  get detail() {
    return { state: this.#state, ...this.#detail };
  }

  /** Admitted (`ready` received) and open. */
  get connected() {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
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

  /** A channel to one room; nothing is subscribed until its `start()`. */
  channel(roomId) {
    return new RoomChannel(this, roomId);
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
    if (this.#ws && !this.#ready && this.#ws.readyState === WebSocket.CONNECTING) return;
    this.#attempt = 0;
    this.#connect();
  }

  /** A new connection at once (the server then knows the person as they are now). */
  reconnect() {
    if (this.#stopped) return;
    this.#attempt = 0;
    this.#connect();
  }

  // --- used by RoomChannel ----------------------------------------------------

  _want(channel) {
    const key = String(channel.roomId);
    const old = this.#channels.get(key);
    if (old && old !== channel) old._ended('closed');
    this.#channels.set(key, channel);
    if (this.connected) this.#subscribe([channel]);
    channel._connectionState(this.detail, this.connected);
  }

  _resubscribe(channel) {
    if (this.#channels.get(String(channel.roomId)) === channel && this.connected) this.#subscribe([channel]);
  }

  _unwant(channel) {
    const key = String(channel.roomId);
    if (this.#channels.get(key) !== channel) return;
    this.#channels.delete(key);
    if (this.connected && channel.subscribed !== false) {
      this.#unsubscribing.set(key, (this.#unsubscribing.get(key) ?? 0) + 1);
      this.send({ type: 'unsubscribe', room_id: channel.roomId });
    }
  }

  // --- the socket ----------------------------------------------------------------

  #subscribe(channels) {
    for (let i = 0; i < channels.length; i += MAX_ROOMS_PER_SUBSCRIBE) {
      const rooms = channels.slice(i, i + MAX_ROOMS_PER_SUBSCRIBE).map((channel) => channel._request());
      this.send({ type: 'subscribe', rooms });
    }
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
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${window.location.host}/ws?${params}`);
    this.#ws = ws;
    this.#ready = false;
    this.#unsubscribing.clear();
    this.#setState(this.#everReady || this.#attempt > 0 ? State.RECONNECTING : State.CONNECTING);
    ws.onmessage = (event) => this.#onMessage(ws, event);
    ws.onclose = (event) => this.#onClose(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close event always follows
    this.#connectTimer = setTimeout(() => {
      if (this.#ws === ws && !this.#ready) this.#lost(ws, 0, 'connect_timeout');
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
    if (!frame || typeof frame.type !== 'string') return;
    if (frame.type === 'ready') {
      this.#onReady(frame);
      return;
    }
    if (frame.type === 'pong' || frame.type === 'auth_ok') return;
    if (frame.type === 'unsubscribed') {
      this.#onUnsubscribed(frame);
      return;
    }
    const channel = frame.room_id === undefined || frame.room_id === null ? null : this.#channels.get(String(frame.room_id));
    if (channel && !USER_FRAMES.has(frame.type)) {
      channel._receive(frame);
      return;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  #onReady(frame) {
    clearTimeout(this.#connectTimer);
    this.#ready = true;
    this.#attempt = 0;
    this.#authFailures = 0;
    const first = !this.#everReady;
    this.#everReady = true;
    this.#setState(State.CONNECTED);
    const channels = [...this.#channels.values()];
    for (const channel of channels) channel._connectionState(this.detail, true);
    this.#subscribe(channels);
    this.dispatchEvent(new CustomEvent('ready', { detail: { user: frame.user, first } }));
  }

  #onUnsubscribed(frame) {
    const key = String(frame.room_id);
    const asked = this.#unsubscribing.get(key) ?? 0;
    if (frame.reason === 'unsubscribed' && asked > 0) {
      // The answer to an unsubscribe of ours (the room may have been opened again since).
      if (asked === 1) this.#unsubscribing.delete(key);
      else this.#unsubscribing.set(key, asked - 1);
      return;
    }
    const channel = this.#channels.get(key);
    if (!channel) return;
    this.#channels.delete(key);
    channel._ended(frame.reason);
  }

  #onClose(ws, code, reason) {
    if (ws !== this.#ws) return; // one we gave up on already
    this.#lost(ws, code, reason);
  }

  #lost(ws, code, reason) {
    this.#abandon();
    if (this.#stopped) return;
    if (code === 4401) {
      // The token is missing, invalid, expired or revoked: refresh it, then come back.
      this.#authFailures += 1;
      this.#setState(this.#everReady ? State.RECONNECTING : State.CONNECTING, { code, reason });
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
    if (code === 1008) {
      this.#fatal(code, reason); // account_disabled: nothing to come back to
      return;
    }
    // 1012/1001 (server restart), 1013 (we read too slowly), 1006 (the link dropped),
    // 1011 and the rest: come back and subscribe every room from where it was.
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
    if (!this.#ws || !this.#ready || this.#ws.readyState !== WebSocket.OPEN) return;
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
    this.#ready = false;
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
    this.#detail = detail;
    if (!changed && !detail.retryAt && !detail.code) return;
    if (state !== State.CONNECTED) {
      for (const channel of this.#channels.values()) channel._connectionState(this.detail, false);
    }
    this.dispatchEvent(new CustomEvent('state', { detail: this.detail }));
  }
}

/**
 * One room over the shared connection: subscribed while started, from the position
 * `start(position)` gives ({since_rev} or {}), again after every reconnect.
 */
export class RoomChannel extends EventTarget {
  #connection;
  #position = () => ({});
  #wanted = false;
  #awaitingHistory = true;
  #everConnected = false;
  #state = State.CONNECTING;

  constructor(connection, roomId) {
    super();
    this.#connection = connection;
    this.roomId = roomId;
  }

  get state() {
    return this.#state;
  }

  /** Subscribed, its history received, and the connection open: frames can go out. */
  get connected() {
    return this.#wanted && !this.#awaitingHistory && this.#connection.connected;
  }

  /** False once the server ended the subscription (nothing left to unsubscribe). */
  get subscribed() {
    return this.#wanted;
  }

  /** position(): where to start when (re)subscribing: {since_rev: n}, or {} for the newest. */
  start(position = () => ({})) {
    this.#position = position;
    this.#wanted = true;
    this.#awaitingHistory = true;
    this.#connection._want(this);
  }

  /** Start over from the newest messages (history, presence and live frames again). */
  resubscribe() {
    if (!this.#wanted) return;
    this.#awaitingHistory = true;
    this.#connection._resubscribe(this);
  }

  stop() {
    if (!this.#wanted) return;
    this.#connection._unwant(this);
    this.#wanted = false;
    this.#setState(State.STOPPED, { reason: 'closed' });
  }

  /** A frame for this room (it gets the `room_id`); false when it cannot go out now. */
  send(frame) {
    if (!this.connected) return false;
    return this.#connection.send({ ...frame, room_id: this.roomId });
  }

  retryNow() {
    this.#connection.retryNow();
  }

  // --- used by LiveConnection ---------------------------------------------------

  _request() {
    this.#awaitingHistory = true;
    const position = this.#position() ?? {};
    return { room_id: this.roomId, ...position };
  }

  _receive(frame) {
    if (!this.#wanted) return;
    if (frame.type === 'history') {
      this.#awaitingHistory = false;
      this.#everConnected = true;
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
      this.#setState(State.CONNECTED);
      return;
    }
    // Until its history, what arrives is the tail of an earlier subscription.
    if (this.#awaitingHistory && frame.type !== 'error') return;
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  _ended(reason) {
    if (!this.#wanted) return;
    this.#wanted = false;
    this.#setState(State.STOPPED, { reason });
  }

  _connectionState(detail, open) {
    if (!this.#wanted) return;
    const { state } = detail;
    if (open || state === State.CONNECTED) {
      if (this.#awaitingHistory) this.#setState(this.#everConnected ? State.RECONNECTING : State.CONNECTING);
      return;
    }
    this.#awaitingHistory = true;
    if (state === State.STOPPED) {
      this.#wanted = false;
      this.#setState(State.STOPPED, { code: detail.code, reason: detail.reason });
    } else if (state === State.CONNECTING && !this.#everConnected) {
      this.#setState(State.CONNECTING, detail);
    } else if (state === State.OFFLINE) {
      this.#setState(State.OFFLINE, detail);
    } else {
      this.#setState(State.RECONNECTING, detail);
    }
  }

  #setState(state, detail = {}) {
    const changed = state !== this.#state;
    this.#state = state;
    if (changed || detail.retryAt || detail.code) {
      this.dispatchEvent(new CustomEvent('state', { detail: { ...detail, state } }));
    }
  }
}
