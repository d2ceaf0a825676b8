// One open room, without DOM: its socket, messages, members, who is online and who
// is typing, and the actions a person can take in it.
//
// Events: timeline ({reason}), connection ({state, retryAt, code, reason}),
// members, typing, access ({status}), older ({loading}), problem ({message}), room.
//
// What it sends goes through the socket; unsent messages are also kept in the outbox,
// so they survive a reload and go out, once each, when the room is open and connected.

import { api } from './api.js';
import { describeError } from './errors.js';
import { displayName, ROLE_LABELS } from './format.js';
import { session } from './session.js';
import { RoomSocket, State } from './socket.js';
import { Timeline } from './timeline.js';

const TYPING_SHOW_MS = 6000;
const TYPING_SEND_EVERY_MS = 3000;
const RESEND_AFTER_MS = 10_000;
const LEAVE_NOTICE_DELAY_MS = 8000; // a leave followed by a join within this is a reload, not news
const QUIET_AFTER_RECONNECT_MS = 30_000;
const MAX_SEND_ATTEMPTS = 4;

const SEND_ERRORS = {
  empty_body: "Can't send an empty message.",
  body_too_long: 'This message is too long (4000 characters at most).',
  invalid_body: 'This message contains characters that are not allowed.',
  invalid_frame: 'This message could not be sent.',
  unavailable: "Not sent: the server's database is unavailable.",
};

export class RoomSession extends EventTarget {
  /** outbox: where unsent messages are kept (an Outbox, or null to keep them in memory only). */
  constructor(room, me, { outbox = null } = {}) {
    super();
    this.room = room; // {id, name?, ...}: filled in by refreshRoom()
    this.me = me;
    this.outbox = outbox;
    this.timeline = new Timeline(me.id);
    this.members = [];
    this.membersLoaded = false;
    this.online = new Map(); // user id -> user
    this.typing = new Map(); // user id -> {user, timer}
    this.role = null;
    this.access = 'unknown'; // unknown | member | not-member | gone | removed | left | banned | error
    this.connection = { state: State.CONNECTING };
    this.loadingOlder = false;
    this.historyLastSeq = null;
    this.socket = null;
    this.closed = false;
    this.#onToken = (event) => this.socket?.swapToken(event.detail.token);
    this.timeline.addEventListener('change', (event) => this.#emit('timeline', event.detail));
    this.timeline.addEventListener('settled', (event) => this.outbox?.remove(this.room.id, event.detail.nonce));
  }

  #onToken;
  #typingSentAt = 0;
  #resendTimer = null;
  #leaveTimers = new Map();
  #quietUsers = new Set();
  #quietUntil = 0;
  #membersTimer = null;
  #askedSince = null; // the seq the current socket was opened with: its history is a replay

  start() {
    session.addEventListener('token', this.#onToken);
    this.#resendTimer = setInterval(() => this.#resendStale(), 2000);
    if (this.outbox) this.timeline.restorePending(this.outbox.list(this.room.id));
    this.#openSocket();
    this.refreshRoom();
    this.refreshMembers();
  }

  stop() {
    this.closed = true;
    session.removeEventListener('token', this.#onToken);
    clearInterval(this.#resendTimer);
    clearTimeout(this.#membersTimer);
    for (const timer of this.#leaveTimers.values()) clearTimeout(timer);
    for (const { timer } of this.typing.values()) clearTimeout(timer);
    this.socket?.stop();
    this.socket = null;
  }

  get lastSeq() {
    return this.timeline.newestSeq ?? this.historyLastSeq;
  }

  get isManager() {
    return this.role === 'owner' || this.role === 'admin';
  }

  get connected() {
    return this.connection.state === State.CONNECTED;
  }

  /** Who is online is only known while connected; otherwise the page must not guess. */
  get presenceKnown() {
    return this.connected;
  }

  // What the SPEC lets each person do: owners, room admins and site admins change the
  // room; owners and site admins delete it; owners and room admins manage bans.
  get canEditRoom() {
    return this.isManager || Boolean(this.me.is_admin);
  }

  get canDeleteRoom() {
    return this.role === 'owner' || Boolean(this.me.is_admin);
  }

  get canModerate() {
    return this.isManager;
  }

  get canDeleteMessages() {
    return this.isManager || Boolean(this.me.is_admin);
  }

  retryNow() {
    this.socket?.retryNow();
  }

  // --- loading -----------------------------------------------------------

  async refreshRoom() {
    try {
      this.applyRoom(await api.getRoom(this.room.id));
    } catch (error) {
      if (error.status === 404) this.#setAccess('gone');
    }
  }

  /** A fresher copy of the room (from the room list, or a change of our own). */
  applyRoom(room) {
    const before = this.room;
    this.room = { ...before, ...room };
    if (['name', 'description', 'is_private'].some((field) => before[field] !== room[field])) this.#emit('room');
  }

  async refreshMembers() {
    try {
      const members = await api.members(this.room.id);
      if (this.closed) return;
      this.members = members;
      this.membersLoaded = true;
      this.online = new Map(members.filter((m) => m.online).map((m) => [m.user.id, m.user]));
      if (this.socket?.connected) this.online.set(this.me.id, this.me);
      const mine = members.find((m) => m.user.id === this.me.id);
      this.role = mine?.role ?? null;
      // A close reason (removed, banned, left, gone) says more than "not a member".
      if (!mine && (this.access === 'unknown' || this.access === 'member')) this.#setAccess('not-member');
      else if (mine && (this.access === 'unknown' || this.access === 'not-member')) this.#setAccess('member');
      this.#emit('members');
    } catch (error) {
      if (this.closed) return;
      // The socket and this request race to say we are not in the room; whichever lands
      // first decides the card, and a refusal is never also an error (a 403 or 404 here
      // only repeats what the socket says).
      const settled = this.access !== 'unknown' && this.access !== 'member';
      if (error.status === 403) {
        if (!settled) this.#setAccess('not-member');
      } else if (error.status === 404) {
        this.#setAccess('gone');
      } else if (error.name !== 'SessionEnded') {
        this.#problem(describeError(error, 'members'));
      }
    }
  }

  async loadOlder() {
    const oldest = this.timeline.oldestSeq;
    if (this.loadingOlder || !this.timeline.hasOlder || oldest === null) return;
    this.loadingOlder = true;
    this.#emit('older', { loading: true });
    try {
      const page = await api.messages(this.room.id, { before: oldest, limit: 50 });
      if (!this.closed) this.timeline.prepend(page.messages, page.has_more);
    } catch (error) {
      if (error.name !== 'SessionEnded') this.#problem(describeError(error, 'load'));
    } finally {
      this.loadingOlder = false;
      this.#emit('older', { loading: false });
    }
  }

  // --- sending -----------------------------------------------------------

  send(body) {
    const item = this.timeline.addPending(body);
    this.outbox?.put(this.room.id, item);
    this.#transmit(item);
  }

  retrySend(nonce) {
    const item = this.timeline.unfail(nonce);
    if (!item) return;
    item.attempts = 0;
    this.outbox?.put(this.room.id, item);
    this.#transmit(item);
  }

  discardSend(nonce) {
    this.timeline.discard(nonce);
  }

  notifyTyping() {
    const now = Date.now();
    if (now - this.#typingSentAt < TYPING_SEND_EVERY_MS) return;
    if (this.socket?.send({ type: 'typing' })) this.#typingSentAt = now;
  }

  async edit(seq, body) {
    const message = await api.editMessage(this.room.id, seq, body);
    this.timeline.update(message);
  }

  async remove(seq) {
    await api.deleteMessage(this.room.id, seq);
    this.timeline.markDeleted(seq);
  }

  // --- membership ---------------------------------------------------------

  async join() {
    await api.joinRoom(this.room.id);
    this.#setAccess('member');
    this.#openSocket();
    await Promise.all([this.refreshMembers(), this.refreshRoom()]);
  }

  async leave() {
    await api.leaveRoom(this.room.id);
    this.socket?.stop();
    this.#setAccess('left');
  }

  async invite(username, role) {
    await api.invite(this.room.id, username, role);
    await this.refreshMembers();
  }

  async setRole(userId, role) {
    await api.setRole(this.room.id, userId, role);
    await this.refreshMembers();
  }

  async removeMember(userId) {
    await api.removeMember(this.room.id, userId);
    await this.refreshMembers();
  }

  // --- the room itself, and bans --------------------------------------------

  /** `changes`: any of {name, description, is_private}. */
  async update(changes) {
    this.applyRoom(await api.updateRoom(this.room.id, changes));
  }

  async deleteRoom() {
    await api.deleteRoom(this.room.id);
  }

  bans() {
    return api.bans(this.room.id);
  }

  async ban(userId) {
    await api.ban(this.room.id, userId);
    await this.refreshMembers();
  }

  unban(userId) {
    return api.unban(this.room.id, userId);
  }

  /** My new display name: shown at once, and a new connection so the server sends it too. */
  setMe(me) {
    this.me = me;
    this.timeline.renameAuthor(me);
    if (this.online.has(me.id)) this.online.set(me.id, me);
    this.members = this.members.map((m) => (m.user.id === me.id ? { ...m, user: { ...m.user, ...me } } : m));
    this.#emit('members');
    if (this.socket && this.access === 'member') this.#openSocket();
  }

  // --- the socket ---------------------------------------------------------

  #openSocket() {
    this.socket?.stop();
    const socket = new RoomSocket({
      roomId: this.room.id,
      getToken: () => session.accessToken,
      refreshToken: () => session.refresh(),
      getSince: () => {
        this.#askedSince = this.lastSeq;
        return this.#askedSince;
      },
    });
    socket.addEventListener('frame', (event) => this.#onFrame(event.detail));
    socket.addEventListener('state', (event) => this.#onState(event.detail));
    this.socket = socket;
    socket.start();
  }

  #onState(detail) {
    const previous = this.connection.state;
    this.connection = detail;
    if (detail.state === State.CONNECTED) {
      this.online.set(this.me.id, this.me);
      this.#flushPending();
      if (this.access === 'unknown') this.#setAccess('member');
    } else if (previous === State.CONNECTED) {
      // Whoever was here when we lost the link is probably coming back with us.
      this.#quietUsers = new Set(this.online.keys());
    }
    if (detail.state === State.STOPPED && detail.reason !== 'closed') this.#onRefused(detail.code, detail.reason);
    this.#emit('connection', detail);
    this.#emit('members');
  }

  #onRefused(code, reason) {
    if (reason === 'account_disabled') {
      session.end('disabled');
      return;
    }
    if (reason === 'session_ended') return; // the session announces it
    const statuses = { not_member: 'not-member', removed: 'removed', left: 'left', banned: 'banned' };
    if (code === 4404) this.#setAccess('gone');
    else this.#setAccess(statuses[reason] ?? 'error');
    this.online.delete(this.me.id);
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'history':
        return this.#onHistory(frame);
      case 'presence':
        this.online = new Map(frame.users.map((user) => [user.id, user]));
        this.online.set(this.me.id, this.me);
        this.#quietUntil = Date.now() + QUIET_AFTER_RECONNECT_MS;
        return this.#emit('members');
      case 'join':
        return this.#onJoin(frame.user);
      case 'leave':
        return this.#onLeave(frame.user);
      case 'message':
        return this.#onMessage(frame);
      case 'edit':
        return this.timeline.update(frame.message);
      case 'delete':
        return this.timeline.markDeleted(frame.seq);
      case 'typing':
        return this.#onTyping(frame.user);
      case 'membership':
        return this.#onMembership(frame);
      case 'error':
        return this.#onError(frame);
      default:
        return undefined; // auth_ok, and frames newer than this client
    }
  }

  #onHistory(frame) {
    this.historyLastSeq = frame.last_seq;
    const replay = this.#askedSince !== null && this.#askedSince !== undefined;
    if (!replay || frame.truncated || this.timeline.size === 0) {
      // First look at the room, or more was missed than one replay holds: start over
      // from the newest messages; older ones page in over HTTP.
      const first = frame.messages[0];
      this.timeline.reset(frame.messages, frame.truncated || (first !== undefined && first.seq > 1));
    } else {
      this.timeline.upsert(frame.messages);
      this.#resyncRecent();
    }
  }

  /** Edits and deletions of messages we already hold are not replayed: read them again. */
  async #resyncRecent() {
    const newest = this.timeline.newestSeq;
    const oldest = this.timeline.oldestSeq;
    if (newest === null) return;
    try {
      const after = Math.max(oldest, newest - 100) - 1;
      const page = await api.messages(this.room.id, { after, limit: 200 });
      for (const message of page.messages) {
        const known = this.timeline.get(message.seq);
        if (known && (known.edited_at !== message.edited_at || known.deleted !== message.deleted)) {
          this.timeline.update(message);
        }
      }
    } catch {
      /* best effort */
    }
  }

  #onMessage(frame) {
    const message = frame.message;
    if (frame.nonce && this.timeline.findPending(frame.nonce)) this.timeline.confirm(frame.nonce, message);
    else this.timeline.upsert([message]);
    const typing = this.typing.get(message.author.id);
    if (typing) {
      clearTimeout(typing.timer);
      this.typing.delete(message.author.id);
      this.#emit('typing');
    }
  }

  #onError(frame) {
    if (!frame.nonce) {
      // invalid_token (the held token stays) and flood warnings need nothing from us.
      if (frame.code === 'unavailable') this.#problem("The server's database is unavailable right now.");
      return;
    }
    const item = this.timeline.findPending(frame.nonce);
    if (!item) return;
    if (frame.code === 'rate_limited' || (frame.code === 'unavailable' && item.attempts < MAX_SEND_ATTEMPTS)) {
      // Try again later with the same nonce; the message shows as sending meanwhile.
      const seconds = Number(/([\d.]+)\s*s/.exec(frame.detail ?? '')?.[1] ?? 2);
      item.transmitted = false;
      item.retryAt = Date.now() + Math.max(0.5, frame.code === 'unavailable' ? 2 ** item.attempts : seconds) * 1000;
      return;
    }
    this.timeline.fail(frame.nonce, SEND_ERRORS[frame.code] ?? `Not sent: ${frame.detail || frame.code}.`);
    this.outbox?.put(this.room.id, item);
  }

  #transmit(item) {
    if (item.failed) return;
    const frame = { type: 'message', body: item.body, nonce: item.nonce };
    if (this.socket?.send(frame)) {
      item.attempts = (item.attempts ?? 0) + 1;
      item.transmitted = true;
      item.sentAt = Date.now();
      item.retryAt = 0;
    }
  }

  #flushPending() {
    for (const item of this.timeline.pending) this.#transmit(item);
  }

  /** A send the server has not answered: send it again (the nonce makes that safe). */
  #resendStale() {
    if (!this.socket?.connected) return;
    const now = Date.now();
    for (const item of this.timeline.pending) {
      if (item.failed) continue;
      if (!item.transmitted && item.retryAt <= now) this.#transmit(item);
      else if (item.transmitted && now - item.sentAt > RESEND_AFTER_MS) this.#transmit(item);
    }
  }

  // --- presence, typing, notices -----------------------------------------

  #onJoin(user) {
    this.online.set(user.id, user);
    this.#emit('members');
    if (user.id === this.me.id) return;
    const leaving = this.#leaveTimers.get(user.id);
    if (leaving) {
      clearTimeout(leaving);
      this.#leaveTimers.delete(user.id);
      return;
    }
    if (Date.now() < this.#quietUntil && this.#quietUsers.has(user.id)) return;
    this.timeline.notice(`${displayName(user)} joined`);
  }

  #onLeave(user) {
    this.online.delete(user.id);
    this.#emit('members');
    if (user.id === this.me.id) return;
    clearTimeout(this.#leaveTimers.get(user.id));
    this.#leaveTimers.set(
      user.id,
      setTimeout(() => {
        this.#leaveTimers.delete(user.id);
        if (!this.closed && !this.online.has(user.id)) this.timeline.notice(`${displayName(user)} left`);
      }, LEAVE_NOTICE_DELAY_MS),
    );
  }

  #onTyping(user) {
    if (user.id === this.me.id) return;
    const previous = this.typing.get(user.id);
    clearTimeout(previous?.timer);
    const timer = setTimeout(() => {
      this.typing.delete(user.id);
      this.#emit('typing');
    }, TYPING_SHOW_MS);
    this.typing.set(user.id, { user, timer });
    if (!previous) this.#emit('typing');
  }

  #onMembership(frame) {
    if (frame.event === 'renamed') {
      this.#onRenamed(frame.user);
    }
    const name = frame.user.id === this.me.id ? 'You' : displayName(frame.user);
    const role = ROLE_LABELS[frame.role]?.toLowerCase();
    if (frame.event === 'added') this.timeline.notice(`${name} ${name === 'You' ? 'are' : 'is'} now a member`);
    else if (frame.event === 'removed') this.timeline.notice(`${name} ${name === 'You' ? 'are' : 'is'} no longer a member`);
    else if (frame.event === 'updated' && role) {
      this.timeline.notice(`${name} ${name === 'You' ? 'are' : 'is'} now ${role === 'admin' || role === 'owner' ? `an ${role}` : 'a member'}`);
    }
    clearTimeout(this.#membersTimer);
    this.#membersTimer = setTimeout(() => this.refreshMembers(), 250);
  }

  /** Someone's new display name: on their messages, in presence and in who is typing. */
  #onRenamed(user) {
    this.timeline.renameAuthor(user);
    if (this.online.has(user.id)) this.online.set(user.id, { ...this.online.get(user.id), ...user });
    const typing = this.typing.get(user.id);
    if (typing) typing.user = { ...typing.user, ...user };
  }

  // --- plumbing -----------------------------------------------------------

  #setAccess(status) {
    if (this.access === status) return;
    this.access = status;
    this.#emit('access', { status });
  }

  #problem(message) {
    this.#emit('problem', { message });
  }

  #emit(type, detail = {}) {
    if (!this.closed) this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
