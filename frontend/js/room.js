// One open room, without DOM: its messages, members, who is online and who is typing,
// where I stopped reading, and the actions a person can take in it.
//
// Events: timeline ({reason}), connection ({state, retryAt, code, reason}),
// members, typing, access ({status}), older ({loading}), newer ({loading}), problem
// ({message}), room, news ({message}: a new message arrived live), jump ({seq}: the
// message asked for by goTo() is shown now).
//
// Live frames come through a channel (see socket.js: `start(position)`, `stop()`,
// `send(frame)`, `resubscribe()`, `connected`, and `frame` and `state` events), so this
// file knows nothing of the transport. What it sends goes through the channel; unsent
// messages are also kept in the outbox, so they survive a reload and go out, once each,
// when the room is open and connected.

import { api } from './api.js';
import { describeError } from './errors.js';
import { displayName, isDirect, ROLE_LABELS } from './format.js';
import { State } from './socket.js';
import { Timeline } from './timeline.js';

const TYPING_SHOW_MS = 6000;
const TYPING_SEND_EVERY_MS = 3000;
const RESEND_AFTER_MS = 10_000;
const LEAVE_NOTICE_DELAY_MS = 8000; // a leave followed by a join within this is a reload, not news
const QUIET_AFTER_RECONNECT_MS = 30_000;
const MAX_SEND_ATTEMPTS = 4;
const DIVIDER_PAGES = 4; // pages of older messages loaded, at most, to show where reading stopped
const NEAR_PAGES = 4; // a message this many pages older than those shown is reached by paging back
const PAGE = 50;
const AROUND = 25; // messages on each side of one opened far back
const ORIGINAL_RETRY_MS = 15_000; // a reply's original that failed to load is asked again after this

const SEND_ERRORS = {
  empty_body: "Can't send an empty message.",
  body_too_long: 'This message is too long (4000 characters at most).',
  invalid_body: 'This message contains characters that are not allowed.',
  invalid_frame: 'This message could not be sent.',
  invalid_reply: 'The message this answers is not in this room.',
  unavailable: "Not sent: the server's database is unavailable.",
};

export class RoomSession extends EventTarget {
  /**
   * channel: this room's live frames (a RoomChannel); outbox: where unsent messages are
   * kept (an Outbox, or null to keep them in memory only); readSeq: my read cursor here,
   * when I am a member.
   */
  constructor(room, me, { channel, outbox = null, readSeq = null } = {}) {
    super();
    this.channel = channel;
    this.room = room; // {id, name?, ...}: filled in by refreshRoom()
    this.me = me;
    this.outbox = outbox;
    this.timeline = new Timeline(me.id);
    this.members = [];
    this.memberById = new Map(); // user id -> member ({user: {…, is_bot}, role, …})
    this.membersLoaded = false;
    this.online = new Map(); // user id -> user
    this.typing = new Map(); // user id -> {user, timer}
    this.role = null;
    this.access = 'unknown'; // unknown | member | not-member | gone | removed | left | banned | error
    this.connection = { state: State.CONNECTING };
    this.loadingOlder = false;
    this.loadingNewer = false;
    this.historyLastSeq = null;
    this.lastRev = null; // the newest change seen: where a reconnect resumes
    this.readSeq = readSeq;
    this.dividerSeq = null; // "New messages" go after this seq
    this.dividerLoading = false; // older pages are on their way to where it goes
    this.closed = false;
    this.#onFrame = (event) => this.#frame(event.detail);
    this.#onChannelState = (event) => this.#onState(event.detail);
    this.timeline.addEventListener('change', (event) => this.#emit('timeline', event.detail));
    this.timeline.addEventListener('settled', (event) => this.outbox?.remove(this.room.id, event.detail.nonce));
  }

  #onFrame;
  #onChannelState;
  #typingSentAt = 0;
  #readAsked = null;
  #firstHistory = true;
  #olderLoad = null;
  #resendTimer = null;
  #leaveTimers = new Map();
  #quietUsers = new Set();
  #quietUntil = 0;
  #membersTimer = null;
  #askedRev = null; // the rev the current subscription started after: its history is a replay
  #newerLoad = null;
  #target = null; // the seq goTo() is on its way to
  #originals = new Map(); // seq -> message: originals of replies that are not loaded
  #fetching = new Set(); // seqs of those on their way

  start() {
    this.channel.addEventListener('frame', this.#onFrame);
    this.channel.addEventListener('state', this.#onChannelState);
    this.#resendTimer = setInterval(() => this.#resendStale(), 2000);
    if (this.outbox) this.timeline.restorePending(this.outbox.list(this.room.id));
    this.#subscribe();
    this.refreshRoom();
    this.refreshMembers();
  }

  stop() {
    this.closed = true;
    clearInterval(this.#resendTimer);
    clearTimeout(this.#membersTimer);
    for (const timer of this.#leaveTimers.values()) clearTimeout(timer);
    for (const { timer } of this.typing.values()) clearTimeout(timer);
    this.channel.stop();
    this.channel.removeEventListener('frame', this.#onFrame);
    this.channel.removeEventListener('state', this.#onChannelState);
  }

  get lastSeq() {
    return this.timeline.newestSeq ?? this.historyLastSeq;
  }

  get isManager() {
    return this.role === 'owner' || this.role === 'admin';
  }

  /** A conversation of two: nobody joins, leaves, is invited, or changes it (SPEC). */
  get isDirect() {
    return isDirect(this.room);
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
    return !this.isDirect && (this.isManager || Boolean(this.me.is_admin));
  }

  get canDeleteRoom() {
    return !this.isDirect && (this.role === 'owner' || Boolean(this.me.is_admin));
  }

  get canModerate() {
    return !this.isDirect && this.isManager;
  }

  get canLeave() {
    return !this.isDirect;
  }

  get canDeleteMessages() {
    return this.isManager || Boolean(this.me.is_admin);
  }

  retryNow() {
    this.channel.retryNow();
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
    if (['name', 'description', 'is_private', 'kind'].some((field) => before[field] !== this.room[field])) this.#emit('room');
  }

  async refreshMembers() {
    try {
      const members = await api.members(this.room.id);
      if (this.closed) return;
      this.members = members;
      this.memberById = new Map(members.map((m) => [m.user.id, m]));
      this.membersLoaded = true;
      this.online = new Map(members.filter((m) => m.online).map((m) => [m.user.id, m.user]));
      if (this.channel.connected) this.online.set(this.me.id, this.me);
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

  /** A bot's account (known from the room's members; messages' authors do not say). */
  isBot(userId) {
    return Boolean(this.memberById.get(userId)?.user.is_bot);
  }

  /** What to call someone here: "you", a member's name, or null for someone who left. */
  nameOf(userId) {
    if (userId === this.me.id) return 'you';
    const member = this.memberById.get(userId);
    return member ? displayName(member.user) : null;
  }

  /** The page before the oldest message shown; callers at once share one request. */
  loadOlder() {
    const oldest = this.timeline.oldestSeq;
    if (this.#olderLoad) return this.#olderLoad;
    if (!this.timeline.hasOlder || oldest === null) return Promise.resolve();
    this.loadingOlder = true;
    this.#emit('older', { loading: true });
    this.#olderLoad = (async () => {
      try {
        const page = await api.messages(this.room.id, { before: oldest, limit: PAGE });
        if (!this.closed) this.timeline.prepend(page.messages, page.has_more);
      } catch (error) {
        if (error.name !== 'SessionEnded') this.#problem(describeError(error, 'load'));
      } finally {
        this.loadingOlder = false;
        this.#olderLoad = null;
        this.#emit('older', { loading: false });
      }
    })();
    return this.#olderLoad;
  }

  /** The page after a window onto older messages (see Timeline); callers at once share one. */
  loadNewer() {
    const after = this.timeline.gapAfter;
    if (this.#newerLoad) return this.#newerLoad;
    if (after === null) return Promise.resolve();
    this.loadingNewer = true;
    this.#emit('newer', { loading: true });
    this.#newerLoad = (async () => {
      try {
        const page = await api.messages(this.room.id, { after, limit: PAGE });
        if (!this.closed && this.timeline.gapAfter === after) this.timeline.appendNewer(page.messages, page.has_more);
      } catch (error) {
        if (error.name !== 'SessionEnded') this.#problem(describeError(error, 'load'));
      } finally {
        this.loadingNewer = false;
        this.#newerLoad = null;
        this.#emit('newer', { loading: false });
      }
    })();
    return this.#newerLoad;
  }

  /** Leave a window onto older messages for the newest ones. */
  showNewest() {
    this.#target = null;
    this.timeline.dropWindow();
  }

  /**
   * Show the message `seq` (a search result, a mention, the original of a reply): loaded
   * first when it is not (older pages when it is near those shown, otherwise the messages
   * around it), then the `jump` event says it is there. The latest call wins.
   */
  async goTo(seq) {
    this.#target = seq;
    if (this.historyLastSeq === null) return; // the first history brings us back here
    const timeline = this.timeline;
    try {
      if (!timeline.shows(seq) && timeline.get(seq) && timeline.hasNewer) {
        timeline.dropWindow(); // among the newest, beyond the window
      } else if (!timeline.shows(seq)) {
        const oldest = timeline.oldestSeq;
        const near = !timeline.hasNewer && oldest !== null && seq < oldest && oldest - seq <= NEAR_PAGES * PAGE;
        for (let page = 0; near && page <= NEAR_PAGES && timeline.hasOlder && !timeline.shows(seq); page += 1) {
          if (this.#target !== seq) return;
          const before = timeline.oldestSeq;
          await this.loadOlder();
          if (timeline.oldestSeq === before) break; // it failed (and said so)
        }
        if (!timeline.shows(seq) && this.#target === seq) await this.#loadAround(seq);
      }
    } catch (error) {
      if (error.name !== 'SessionEnded' && this.#target === seq) this.#problem(describeError(error, 'load'));
      if (this.#target === seq) this.#target = null;
      return;
    }
    if (this.#target !== seq || this.closed) return;
    this.#target = null;
    if (timeline.shows(seq)) this.#emit('jump', { seq });
    else this.#problem('That message is not in this room any more.');
  }

  async #loadAround(seq) {
    const [before, after] = await Promise.all([
      api.messages(this.room.id, { before: seq + 1, limit: AROUND }),
      api.messages(this.room.id, { after: seq, limit: AROUND }),
    ]);
    if (this.closed || this.#target !== seq) return;
    this.timeline.showWindow([...before.messages, ...after.messages], { hasOlder: before.has_more, hasNewer: after.has_more });
  }

  /**
   * The message a reply answers, as far as it is known here; null while it is fetched
   * (a `timeline` event follows), `{missing: true}` when the server has none.
   */
  original(seq) {
    const held = this.timeline.get(seq) ?? this.#originals.get(seq);
    if (held) return held;
    if (!this.#fetching.has(seq)) {
      this.#fetching.add(seq);
      api.message(this.room.id, seq).then(
        (message) => this.#noteOriginal(message),
        (error) => {
          if (error.status !== 404) {
            // Asked again when drawn after a while, not on every redraw while the server fails.
            setTimeout(() => this.#fetching.delete(seq), ORIGINAL_RETRY_MS);
            return;
          }
          this.#originals.set(seq, { seq, missing: true });
          this.#emit('timeline', { reason: 'update' });
        },
      );
    }
    return null;
  }

  #noteOriginal(message) {
    const known = this.#originals.get(message.seq);
    if (known && typeof known.rev === 'number' && message.rev < known.rev) return;
    this.#originals.set(message.seq, message);
    this.#emit('timeline', { reason: 'update' });
  }

  // --- reactions -------------------------------------------------------------

  /** Whether I am among those who reacted to `message` with `emoji`. */
  reacted(message, emoji) {
    return (message?.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(this.me.id));
  }

  /** Add my `emoji` to the message `seq`, or take it back when I have it already. */
  async toggleReaction(seq, emoji) {
    const message = this.timeline.get(seq);
    if (!message) return;
    try {
      if (this.reacted(message, emoji)) {
        await api.unreact(this.room.id, seq, emoji);
        // Stored: shown at once, whatever the connection does (its frame then changes nothing).
        this.timeline.react({ seq, emoji, user: this.me, added: false });
      } else {
        this.timeline.update(await api.react(this.room.id, seq, emoji));
      }
    } catch (error) {
      // Deleted meanwhile, most likely: show the message as it is now.
      if (error.status === 409) api.message(this.room.id, seq).then((fresh) => this.timeline.update(fresh), () => {});
      throw error;
    }
  }

  // --- sending -----------------------------------------------------------

  /** `replyTo`: the seq of the message this answers, or null. */
  send(body, replyTo = null) {
    if (this.timeline.hasNewer) this.showNewest(); // what I write goes after the newest
    const item = this.timeline.addPending(body, replyTo);
    this.outbox?.put(this.room.id, item);
    this.#transmit(item);
    // Writing, I have caught up: the server moves my cursor to this message.
    if (this.dividerSeq !== null) {
      this.dividerSeq = null;
      this.#emit('timeline', { reason: 'update' });
    }
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
    if (this.channel.send({ type: 'typing' })) this.#typingSentAt = now;
  }

  // --- reading -------------------------------------------------------------

  /**
   * I have seen up to `seq`: move my cursor there (never back). Over the connection when
   * it is up, over HTTP otherwise; the answer reaches every tab of mine as a `read` frame.
   */
  markRead(seq) {
    if (seq === null || seq === undefined || this.access !== 'member') return;
    // Looking at older messages opened far back: the newest are not seen yet.
    if (this.timeline.hasNewer) return;
    if (this.readSeq !== null && seq <= this.readSeq) return;
    if (this.#readAsked !== null && seq <= this.#readAsked) return;
    this.#readAsked = seq;
    if (this.channel.send({ type: 'read', seq })) return;
    api.markRead(this.room.id, seq).then(
      (state) => this.noteRead(state.read_seq),
      () => {
        if (this.#readAsked === seq) this.#readAsked = null; // try again on the next look
      },
    );
  }

  /** Where my cursor is now (from any tab or device of mine). */
  noteRead(readSeq) {
    if (typeof readSeq !== 'number') return;
    if (this.readSeq === null || readSeq > this.readSeq) this.readSeq = readSeq;
  }

  /**
   * New messages came while I was not looking: mark where they start (where my cursor
   * is now, once I have read past an earlier mark).
   */
  markUnseenStart() {
    if (this.readSeq === null || (this.lastSeq ?? 0) <= this.readSeq) return;
    if (this.dividerSeq !== null && this.dividerSeq >= this.readSeq) return;
    this.dividerSeq = this.readSeq;
    this.#emit('timeline', { reason: 'update' });
  }

  /** Older pages until where I stopped reading is loaded (a few at most). */
  async #loadToDivider() {
    this.dividerLoading = true;
    try {
      for (let page = 0; page < DIVIDER_PAGES; page += 1) {
        const oldest = this.timeline.oldestSeq;
        if (this.closed || this.dividerSeq === null || oldest === null || oldest <= this.dividerSeq + 1) return;
        if (!this.timeline.hasOlder) return;
        await this.loadOlder();
      }
    } finally {
      this.dividerLoading = false;
      this.#emit('timeline', { reason: 'update' }); // the mark goes where it can now
    }
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
    this.#subscribe();
    await Promise.all([this.refreshMembers(), this.refreshRoom()]);
  }

  async leave() {
    await api.leaveRoom(this.room.id);
    this.channel.stop();
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

  /** My new display name, shown at once (the app reconnects so the server has it too). */
  setMe(me) {
    this.me = me;
    this.timeline.renameAuthor(me);
    if (this.online.has(me.id)) this.online.set(me.id, me);
    this.members = this.members.map((m) => (m.user.id === me.id ? { ...m, user: { ...m.user, ...me } } : m));
    this.memberById = new Map(this.members.map((m) => [m.user.id, m]));
    this.#emit('members');
  }

  // --- the channel ----------------------------------------------------------

  #subscribe() {
    this.channel.start(() => {
      // After a first history, resume after the newest change seen: a replay of every
      // message, edit and deletion since, nothing twice.
      this.#askedRev = this.lastRev;
      return this.lastRev === null ? {} : { since_rev: this.lastRev };
    });
  }

  #onState(detail) {
    const previous = this.connection.state;
    this.connection = detail;
    if (detail.state === State.CONNECTED) {
      this.online.set(this.me.id, this.me);
      this.#readAsked = null;
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

  /** The subscription ended (SPEC: the reason a room socket would close with). */
  #onRefused(code, reason) {
    // The whole connection ended (the account, or the login): the app says why.
    if (reason === 'account_disabled' || reason === 'session_ended' || reason === 'closed') return;
    const statuses = {
      not_member: 'not-member',
      removed: 'removed',
      left: 'left',
      banned: 'banned',
      room_not_found: 'gone',
      room_deleted: 'gone',
    };
    this.#setAccess(statuses[reason] ?? 'error');
    this.online.delete(this.me.id);
  }

  #frame(frame) {
    if (typeof frame.rev === 'number' && frame.type !== 'history') this.lastRev = Math.max(this.lastRev ?? 0, frame.rev);
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
        if (this.#originals.has(frame.message.seq)) this.#noteOriginal(frame.message);
        return this.timeline.update(frame.message);
      case 'delete':
        if (this.#originals.has(frame.seq)) this.#noteOriginal({ ...this.#originals.get(frame.seq), body: '', deleted: true, rev: frame.rev });
        return this.timeline.markDeleted(frame.seq, frame.rev);
      case 'reaction':
        return this.timeline.react(frame);
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
    const replay = this.#askedRev !== null && this.#askedRev !== undefined;
    if (replay && frame.truncated) {
      // More changed than one replay holds: start over from the newest messages (the
      // older ones page in over HTTP as the reader scrolls up).
      this.#askedRev = null;
      this.lastRev = null;
      this.channel.resubscribe();
      return;
    }
    this.historyLastSeq = frame.last_seq;
    if (typeof frame.last_rev === 'number') this.lastRev = frame.last_rev;
    if (this.#firstHistory) {
      this.#firstHistory = false;
      // Where I stopped reading, shown once when the room opens.
      if (this.readSeq !== null && frame.last_seq > this.readSeq) this.dividerSeq = this.readSeq;
    }
    if (!replay || this.timeline.size === 0) {
      const first = frame.messages[0];
      const target = this.#target;
      // (until #loadToDivider says where it goes; opened at a message, it goes where it can)
      this.dividerLoading = this.dividerSeq !== null && target === null;
      this.timeline.reset(frame.messages, frame.truncated || (first !== undefined && first.seq > 1));
      if (target === null) this.#loadToDivider();
      else this.goTo(target);
    } else {
      this.timeline.applyChanges(frame.messages);
    }
  }

  #onMessage(frame) {
    const message = frame.message;
    const isNew = !this.timeline.get(message.seq);
    if (frame.nonce && this.timeline.findPending(frame.nonce)) this.timeline.confirm(frame.nonce, message);
    else this.timeline.upsert([message]);
    if (isNew) this.#emit('news', { message });
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
    if (frame.code === 'not_subscribed') {
      // Sent as the subscription was starting over: it goes again once it is back.
      item.transmitted = false;
      item.retryAt = Date.now() + 1000;
      return;
    }
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
    if (item.replyTo) frame.reply_to = item.replyTo;
    if (this.channel.send(frame)) {
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
    if (!this.channel.connected) return;
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
