// Messages a person wrote that the server has not stored yet, kept in localStorage so
// that a reload, a crash or a phone that drops the tab loses none of them. Each keeps
// its nonce: sending it again after a reload cannot store it twice.
//
// Every change reads, edits and writes the stored lists, so two tabs of one person
// writing at once keep each other's messages.

const key = (userId) => `hubbub.outbox.${userId}`;

/** One unsent message as stored: {nonce, body, replyTo (a seq or null), createdAt (ISO), failed, error}. */
function record(item) {
  return {
    nonce: item.nonce,
    body: item.body,
    replyTo: asSeq(item.replyTo),
    createdAt: new Date(item.createdAt).toISOString(),
    failed: Boolean(item.failed),
    error: item.error || '',
  };
}

/** The seq a message answers, when it is one (stored values are not trusted). */
function asSeq(value) {
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

function valid(entry) {
  return entry && typeof entry.nonce === 'string' && typeof entry.body === 'string' && entry.body !== '';
}

export class Outbox {
  #key;

  constructor(userId) {
    this.#key = key(userId);
  }

  /** The unsent messages of one room, oldest first. */
  list(roomId) {
    const entries = this.#read()[String(roomId)];
    // What another version of the page stored, or anyone who could write to it: checked.
    return Array.isArray(entries) ? entries.filter(valid).map((entry) => ({ ...entry, replyTo: asSeq(entry.replyTo) })) : [];
  }

  /** The rooms that have unsent messages. */
  rooms() {
    return Object.keys(this.#read()).filter((roomId) => this.list(roomId).length > 0);
  }

  /** Keep a message (a pending item of the timeline), or store its new state. */
  put(roomId, item) {
    this.#change(roomId, (entries) => {
      const index = entries.findIndex((entry) => entry.nonce === item.nonce);
      if (index >= 0) entries[index] = record(item);
      else entries.push(record(item));
      return entries;
    });
  }

  /** Forget every unsent message (logging out on purpose: nothing stays behind). */
  clear() {
    this.#write({});
  }

  remove(roomId, nonce) {
    this.#change(roomId, (entries) => entries.filter((entry) => entry.nonce !== nonce));
  }

  #change(roomId, edit) {
    const all = this.#read();
    const room = String(roomId);
    const entries = edit(Array.isArray(all[room]) ? all[room].filter(valid) : []);
    if (entries.length) all[room] = entries;
    else delete all[room];
    this.#write(all);
  }

  #read() {
    try {
      const value = JSON.parse(localStorage.getItem(this.#key) ?? '{}');
      return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    } catch {
      return {};
    }
  }

  #write(all) {
    try {
      if (Object.keys(all).length) localStorage.setItem(this.#key, JSON.stringify(all));
      else localStorage.removeItem(this.#key);
    } catch {
      /* storage full or unavailable: the message lives in this page only, as before */
    }
  }
}
