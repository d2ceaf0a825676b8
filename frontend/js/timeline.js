// One room's messages as the client knows them: confirmed messages by seq (so a
// message arriving twice, live and in a replay, is kept once), my pending sends by
// nonce, and local notices. No DOM here.
//
// Usually what is shown runs without a hole from the oldest page loaded to the newest
// message. Opened at an old message (a search result, the original of a reply), it shows
// the messages around that one instead: `gapAfter` is then the last seq shown, and what
// arrives live is kept, out of sight, until the pages in between are loaded
// (`appendNewer`) or the reader goes back to the newest (`dropWindow`).
//
// Events: `change` (detail: {reason: reset | append | prepend | update | newer | window}),
// and `settled` (detail: {nonce}) when a pending send is stored by the server or discarded.

const NONCE_BYTES = 16;

export function newNonce() {
  // crypto.getRandomValues works on plain http too (randomUUID needs a secure context).
  const bytes = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A copy older than the one held (each change takes a higher rev). */
function staler(message, known) {
  return typeof message.rev === 'number' && typeof known.rev === 'number' && message.rev < known.rev;
}

export class Timeline extends EventTarget {
  #bySeq = new Map();
  #sorted = null; // cached ascending seqs
  #noticeCount = 0;

  constructor(meId) {
    super();
    this.meId = meId;
    this.pending = []; // {nonce, body, replyTo, createdAt, transmitted, sentAt, failed, error, retryAt, attempts}
    this.notices = []; // {key, afterSeq, text, at}
    this.hasOlder = false;
    this.gapAfter = null; // the last seq shown, when newer ones are missing below it
  }

  /** Messages newer than those shown exist (the view is a window onto older ones). */
  get hasNewer() {
    return this.gapAfter !== null;
  }

  /** Held and on screen (not beyond the window's gap, not below the oldest page). */
  shows(seq) {
    return this.#bySeq.has(seq) && (this.gapAfter === null || seq <= this.gapAfter);
  }

  get size() {
    return this.#bySeq.size;
  }

  get newestSeq() {
    const seqs = this.#seqs();
    return seqs.length ? seqs[seqs.length - 1] : null;
  }

  get oldestSeq() {
    const seqs = this.#seqs();
    return seqs.length ? seqs[0] : null;
  }

  get(seq) {
    return this.#bySeq.get(seq);
  }

  /** Replace every message (first history, or after a gap); pending sends stay. */
  reset(messages, hasOlder) {
    this.#bySeq.clear();
    this.notices = [];
    for (const message of messages) this.#bySeq.set(message.seq, message);
    this.#sorted = null;
    this.hasOlder = Boolean(hasOlder);
    this.gapAfter = null;
    this.#matchPending(messages);
    this.#changed('reset');
  }

  /**
   * Show the messages around an old one instead of the newest: `messages` ascending,
   * `hasOlder`/`hasNewer` as their pages said. The newest messages stay held (live ones
   * keep arriving), out of sight until the window reaches them.
   */
  showWindow(messages, { hasOlder, hasNewer }) {
    const tail = this.#newestRun();
    for (const seq of [...this.#bySeq.keys()]) if (!tail.has(seq)) this.#bySeq.delete(seq);
    for (const message of messages) {
      const known = this.#bySeq.get(message.seq);
      if (!known || !staler(message, known)) this.#bySeq.set(message.seq, message);
    }
    this.#sorted = null;
    this.hasOlder = Boolean(hasOlder);
    this.gapAfter = hasNewer && messages.length ? messages[messages.length - 1].seq : null;
    this.#closeGap();
    this.#changed('window');
  }

  /** A page of messages after the window (ascending); `hasMore`: the server has more after it. */
  appendNewer(messages, hasMore) {
    if (this.gapAfter === null) return;
    for (const message of messages) {
      const known = this.#bySeq.get(message.seq);
      if (!known || !staler(message, known)) this.#bySeq.set(message.seq, message);
    }
    this.#sorted = null;
    if (messages.length) this.gapAfter = Math.max(this.gapAfter, messages[messages.length - 1].seq);
    if (!hasMore) this.gapAfter = null;
    else this.#closeGap();
    this.#changed('newer');
  }

  /** Back to the newest messages: the window goes, what arrived meanwhile shows. */
  dropWindow() {
    if (this.gapAfter === null) return;
    const tail = this.#newestRun();
    for (const seq of [...this.#bySeq.keys()]) if (!tail.has(seq)) this.#bySeq.delete(seq);
    this.#sorted = null;
    const oldest = this.oldestSeq;
    this.hasOlder = oldest === null ? this.hasOlder : oldest > 1;
    this.gapAfter = null;
    this.#changed('reset');
  }

  /** Newer messages (live or a replay after reconnecting); returns how many were new. */
  upsert(messages) {
    let added = 0;
    for (const message of messages) {
      const known = this.#bySeq.get(message.seq);
      if (!known) added += 1;
      else if (staler(message, known)) continue;
      this.#bySeq.set(message.seq, message);
    }
    if (added) this.#sorted = null;
    this.#matchPending(messages);
    if (added && this.gapAfter !== null) this.#closeGap();
    this.#changed('append');
    return added;
  }

  /**
   * What changed since a rev (a replay after reconnecting): new messages, and edits and
   * deletions of the ones shown. Changes to messages older than those loaded wait for
   * the page that loads them (it reads their current state).
   */
  applyChanges(messages) {
    const oldest = this.oldestSeq;
    const inRange = messages.filter((message) => oldest === null || !this.hasOlder || message.seq >= oldest);
    return this.upsert(inRange);
  }

  /** An older page loaded on scroll-up. */
  prepend(messages, hasOlder) {
    for (const message of messages) {
      if (!this.#bySeq.has(message.seq)) this.#bySeq.set(message.seq, message);
    }
    this.#sorted = null;
    this.hasOlder = Boolean(hasOlder);
    this.#changed('prepend');
  }

  /** An edit (or a fresher copy) of a message we hold. */
  update(message) {
    const known = this.#bySeq.get(message.seq);
    if (!known || staler(message, known)) return;
    this.#bySeq.set(message.seq, message);
    this.#changed('update');
  }

  /** Deleting a message clears its body and its reactions; `rev` is the deletion's. */
  markDeleted(seq, rev) {
    const message = this.#bySeq.get(seq);
    if (!message) return;
    this.#bySeq.set(seq, { ...message, body: '', deleted: true, reactions: [], rev: rev ?? message.rev });
    this.#changed('update');
  }

  /** A `reaction` frame: one person's emoji added to, or taken from, a message shown. */
  react({ seq, emoji, user, added, rev }) {
    const message = this.#bySeq.get(seq);
    if (!message || (typeof rev === 'number' && typeof message.rev === 'number' && rev <= message.rev)) return;
    const reactions = (message.reactions ?? []).map((r) => ({ ...r, users: [...r.users] }));
    const index = reactions.findIndex((r) => r.emoji === emoji);
    if (added && index < 0) reactions.push({ emoji, count: 1, users: [user.id] });
    else if (added && !reactions[index].users.includes(user.id)) {
      reactions[index].users.push(user.id);
      reactions[index].count += 1;
    } else if (!added && index >= 0 && reactions[index].users.includes(user.id)) {
      reactions[index].users = reactions[index].users.filter((id) => id !== user.id);
      reactions[index].count -= 1;
      if (reactions[index].count <= 0) reactions.splice(index, 1);
    }
    this.#bySeq.set(seq, { ...message, reactions, rev: rev ?? message.rev });
    this.#changed('update');
  }

  /** `replyTo`: the seq of the message it answers, or null. */
  addPending(body, replyTo = null) {
    const item = {
      nonce: newNonce(),
      body,
      replyTo,
      createdAt: new Date(),
      transmitted: false,
      sentAt: 0,
      failed: false,
      error: '',
      retryAt: 0,
      attempts: 0,
    };
    this.pending.push(item);
    this.#changed('append');
    return item;
  }

  /** Unsent messages kept from an earlier page (the outbox): pending again, not yet sent. */
  restorePending(entries) {
    let added = 0;
    for (const entry of entries) {
      if (this.findPending(entry.nonce)) continue;
      const createdAt = new Date(entry.createdAt);
      this.pending.push({
        nonce: entry.nonce,
        body: entry.body,
        replyTo: entry.replyTo ?? null,
        createdAt: Number.isNaN(createdAt.getTime()) ? new Date() : createdAt,
        transmitted: false,
        sentAt: 0,
        failed: Boolean(entry.failed),
        error: entry.error || '',
        retryAt: 0,
        attempts: 0,
      });
      added += 1;
    }
    if (added) this.#changed('append');
  }

  findPending(nonce) {
    return this.pending.find((item) => item.nonce === nonce);
  }

  /** The server stored my message: it replaces the pending one. */
  confirm(nonce, message) {
    this.pending = this.pending.filter((item) => item.nonce !== nonce);
    this.#settled(nonce);
    this.upsert([message]);
  }

  fail(nonce, error) {
    const item = this.findPending(nonce);
    if (!item) return;
    item.failed = true;
    item.error = error;
    this.#changed('update');
  }

  unfail(nonce) {
    const item = this.findPending(nonce);
    if (!item) return null;
    item.failed = false;
    item.error = '';
    this.#changed('update');
    return item;
  }

  discard(nonce) {
    this.pending = this.pending.filter((item) => item.nonce !== nonce);
    this.#settled(nonce);
    this.#changed('update');
  }

  /** Someone's new display name, on the messages already shown. */
  renameAuthor(user) {
    let changed = false;
    for (const [seq, message] of this.#bySeq) {
      if (message.author?.id !== user.id || message.author.display_name === user.display_name) continue;
      this.#bySeq.set(seq, { ...message, author: { ...message.author, display_name: user.display_name } });
      changed = true;
    }
    if (changed) this.#changed('update');
  }

  /** A local line such as "Ada joined", placed after the newest message. */
  notice(text) {
    this.#noticeCount += 1;
    this.notices.push({ key: `n${this.#noticeCount}`, afterSeq: this.newestSeq, text, at: new Date() });
    if (this.notices.length > 200) this.notices.shift();
    this.#changed('append');
  }

  /**
   * Everything to show, in order: messages by seq with notices between, then pending
   * sends. A window onto older messages shows neither the notices nor the sends, which
   * belong after the newest.
   */
  entries() {
    const out = [];
    const gap = this.gapAfter;
    const notices = gap === null ? [...this.notices] : this.notices.filter((notice) => notice.afterSeq !== null && notice.afterSeq <= gap);
    let n = 0;
    while (n < notices.length && (notices[n].afterSeq === null || notices[n].afterSeq < (this.oldestSeq ?? Infinity))) {
      out.push({ kind: 'notice', key: notices[n].key, notice: notices[n] });
      n += 1;
    }
    for (const seq of this.#seqs()) {
      if (gap !== null && seq > gap) break;
      out.push({ kind: 'message', key: `m${seq}`, message: this.#bySeq.get(seq) });
      while (n < notices.length && notices[n].afterSeq !== null && notices[n].afterSeq <= seq) {
        out.push({ kind: 'notice', key: notices[n].key, notice: notices[n] });
        n += 1;
      }
    }
    if (gap !== null) return out;
    for (; n < notices.length; n += 1) out.push({ kind: 'notice', key: notices[n].key, notice: notices[n] });
    for (const item of this.pending) out.push({ kind: 'pending', key: `p${item.nonce}`, pending: item });
    return out;
  }

  /** The seqs of the run without holes that ends at the newest message held. */
  #newestRun() {
    const seqs = this.#seqs();
    const run = new Set();
    for (let i = seqs.length - 1; i >= 0; i -= 1) {
      if (run.size && seqs[i] !== seqs[i + 1] - 1) break;
      run.add(seqs[i]);
    }
    return run;
  }

  /** The window reached what is held after it: no more hole. */
  #closeGap() {
    if (this.gapAfter === null) return;
    let last = this.gapAfter;
    while (this.#bySeq.has(last + 1)) last += 1;
    this.gapAfter = last >= (this.newestSeq ?? last) ? null : last;
  }

  /** My messages replayed after a reconnect settle the pending sends they answer. */
  #matchPending(messages) {
    if (!this.pending.length) return;
    for (const message of messages) {
      if (message.author?.id !== this.meId) continue;
      const index = this.pending.findIndex((item) => item.transmitted && item.body === message.body);
      if (index >= 0) this.#settled(this.pending.splice(index, 1)[0].nonce);
    }
  }

  #seqs() {
    if (!this.#sorted) this.#sorted = [...this.#bySeq.keys()].sort((a, b) => a - b);
    return this.#sorted;
  }

  #settled(nonce) {
    this.dispatchEvent(new CustomEvent('settled', { detail: { nonce } }));
  }

  #changed(reason) {
    this.dispatchEvent(new CustomEvent('change', { detail: { reason } }));
  }
}
