// The rooms a person belongs to, with their read state: loaded from GET /api/me/rooms,
// then kept current by the connection's frames (room_added, room_updated, room_removed,
// read, activity) and by the messages of the open room. No DOM here.
//
// Event `change` (detail: {kind, roomId, entry, reason, mention, author, message}) where
// kind is load | added | updated | removed | read | activity.

const key = (roomId) => String(roomId);

export class MyRooms extends EventTarget {
  #entries = new Map(); // room id -> {room, role, read_seq, unread, mentions}
  #order = []; // room ids, most recently active first
  #queue = null; // frames that arrived while a load was under way
  #before = null; // the rooms known when it started
  #loads = 0;

  constructor(meId) {
    super();
    this.meId = meId;
    this.loaded = false;
  }

  get(roomId) {
    return this.#entries.get(key(roomId)) ?? null;
  }

  has(roomId) {
    return this.#entries.has(key(roomId));
  }

  /** Every entry, most recently active first. */
  list() {
    return this.#order.map((id) => this.#entries.get(id));
  }

  get totalUnread() {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.unread;
    return total;
  }

  /**
   * Replace everything with what the server says now. Frames arriving meanwhile wait and
   * are applied after, where they say something newer than the answer.
   */
  async load(fetchRooms) {
    this.#loads += 1;
    this.#queue ??= [];
    this.#before ??= new Set(this.#entries.keys());
    let list = null;
    try {
      list = await fetchRooms();
    } finally {
      this.#loads -= 1;
      if (list) {
        this.#entries = new Map(list.map((item) => [key(item.room.id), this.#entry(item)]));
        this.#order = list.map((item) => key(item.room.id));
        this.loaded = true;
      }
      if (this.#loads === 0) {
        // The frames that waited, on what the server said (or, when it could not be
        // asked, on what was known before).
        const queued = this.#queue ?? [];
        const before = this.#before;
        this.#queue = null;
        this.#before = null;
        if (list) this.#emit({ kind: 'load' });
        for (const frame of queued) this.apply(frame, { replayed: true, before });
      }
    }
  }

  /** A frame from the connection. */
  apply(frame, { replayed = false, before = null } = {}) {
    if (this.#queue && !replayed) {
      this.#queue.push(frame);
      return;
    }
    switch (frame.type) {
      case 'room_added':
      case 'room_updated':
        this.#added(frame, frame.type === 'room_added' ? 'added' : 'updated', before);
        break;
      case 'room_removed':
        this.#removed(frame.room_id, frame.reason);
        break;
      case 'read':
        this.#read(frame, replayed);
        break;
      case 'activity':
        this.#activity(frame.room_id, { seq: frame.seq, author: frame.author, mention: Boolean(frame.mention) });
        break;
      default:
        break;
    }
  }

  /** A new message live in a room this page has open (no `activity` comes for it). */
  noteMessage(message) {
    const mention = Array.isArray(message.mentions) && message.mentions.includes(this.meId);
    this.#activity(message.room_id, { seq: message.seq, author: message.author, mention, message });
  }

  /** The room as changed here (renamed by me): the list follows without waiting. */
  updateRoom(room) {
    const entry = this.get(room.id);
    if (!entry) return;
    entry.room = { ...entry.room, ...room, last_seq: Math.max(entry.room.last_seq ?? 0, room.last_seq ?? 0) };
    this.#emit({ kind: 'updated', roomId: room.id, entry });
  }

  #entry(item) {
    return {
      room: { kind: 'room', ...item.room },
      role: item.role,
      read_seq: item.read_seq,
      unread: Math.max(0, item.unread),
      mentions: Math.max(0, item.mentions),
    };
  }

  #added(frame, kind, before) {
    const id = key(frame.room.id);
    const entry = this.#entries.get(id);
    if (entry) {
      entry.room = { ...entry.room, ...frame.room, last_seq: Math.max(entry.room.last_seq ?? 0, frame.room.last_seq ?? 0) };
      if (frame.role) entry.role = frame.role;
      // Added while the list was loading (the answer had it already): still news.
      const news = kind === 'added' && before !== null && !before.has(id);
      this.#emit({ kind: news ? 'added' : 'updated', roomId: frame.room.id, entry });
      return;
    }
    if (kind === 'updated') return; // about a room we no longer have: nothing to update
    // A new membership's cursor starts at the room's newest message (SPEC).
    const added = this.#entry({ room: frame.room, role: frame.role, read_seq: frame.room.last_seq ?? 0, unread: 0, mentions: 0 });
    this.#entries.set(id, added);
    this.#order.unshift(id);
    this.#emit({ kind: 'added', roomId: frame.room.id, entry: added });
  }

  #removed(roomId, reason) {
    const id = key(roomId);
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#order = this.#order.filter((other) => other !== id);
    this.#emit({ kind: 'removed', roomId, entry, reason });
  }

  #read(frame, replayed) {
    const entry = this.get(frame.room_id);
    if (!entry) return;
    // The cursor never moves back; an answer at the same place is news only when live
    // (a replayed one may be older than the list just loaded).
    if (frame.read_seq < entry.read_seq || (replayed && frame.read_seq === entry.read_seq)) return;
    entry.read_seq = frame.read_seq;
    entry.unread = Math.max(0, frame.unread);
    entry.mentions = Math.max(0, frame.mentions);
    this.#emit({ kind: 'read', roomId: frame.room_id, entry });
  }

  #activity(roomId, { seq, author, mention, message = null }) {
    const id = key(roomId);
    const entry = this.#entries.get(id);
    if (!entry) return;
    const lastSeq = entry.room.last_seq ?? 0;
    if (seq <= lastSeq) return; // counted already (the list loaded after it)
    entry.room = { ...entry.room, last_seq: seq };
    const mine = author?.id === this.meId;
    const unread = !mine && seq > entry.read_seq;
    if (unread) {
      entry.unread += 1;
      if (mention) entry.mentions += 1;
    }
    this.#order = [id, ...this.#order.filter((other) => other !== id)];
    this.#emit({ kind: 'activity', roomId, entry, author, mention: unread && mention, unread, message, seq });
  }

  #emit(detail) {
    this.dispatchEvent(new CustomEvent('change', { detail }));
  }
}
