// The REST API of SPEC.md, one function per route the client uses.

import { session } from './session.js';

const id = (value) => encodeURIComponent(String(value));
const room = (roomId) => `/api/rooms/${id(roomId)}`;

export const api = {
  me: () => session.authed('GET', '/api/users/me'),
  updateMe: ({ displayName }) => session.authed('PATCH', '/api/users/me', { json: { display_name: displayName } }),

  /** Public rooms and my private ones (for browsing); `limit` 1–500. */
  listRooms: (limit = 500) => session.authed('GET', `/api/rooms?limit=${limit}`),
  /** [{room, role, read_seq, unread, mentions}]: the rooms I belong to, most recently active first. */
  myRooms: () => session.authed('GET', '/api/me/rooms'),
  /** Move my read cursor (never back); {room_id, read_seq, unread, mentions}. */
  markRead: (roomId, seq) => session.authed('PUT', `${room(roomId)}/read`, { json: { seq } }),

  sessions: () => session.authed('GET', '/api/users/me/sessions'),
  endSession: (sessionId) => session.authed('DELETE', `/api/users/me/sessions/${id(sessionId)}`),
  /** My live API tokens, newest first (without their text). */
  tokens: () => session.authed('GET', '/api/me/tokens'),
  /** The new token, with its text (`token`) this once; `expiresDays` null: it never expires. */
  createToken: ({ name, expiresDays }) =>
    session.authed('POST', '/api/me/tokens', { json: expiresDays === null ? { name } : { name, expires_days: expiresDays } }),
  revokeToken: (tokenId) => session.authed('DELETE', `/api/me/tokens/${id(tokenId)}`),
  getRoom: (roomId) => session.authed('GET', room(roomId)),
  createRoom: ({ name, description, isPrivate }) =>
    session.authed('POST', '/api/rooms', { json: { name, description, is_private: isPrivate } }),
  /** `changes`: any of {name, description, is_private}. */
  updateRoom: (roomId, changes) => session.authed('PATCH', room(roomId), { json: changes }),
  deleteRoom: (roomId) => session.authed('DELETE', room(roomId)),
  joinRoom: (roomId) => session.authed('POST', `${room(roomId)}/join`),
  leaveRoom: (roomId) => session.authed('POST', `${room(roomId)}/leave`),

  members: (roomId) => session.authed('GET', `${room(roomId)}/members`),
  invite: (roomId, username, role) =>
    session.authed('POST', `${room(roomId)}/members`, { json: { username, role } }),
  setRole: (roomId, userId, role) =>
    session.authed('PATCH', `${room(roomId)}/members/${id(userId)}`, { json: { role } }),
  removeMember: (roomId, userId) => session.authed('DELETE', `${room(roomId)}/members/${id(userId)}`),

  bans: (roomId) => session.authed('GET', `${room(roomId)}/bans`),
  ban: (roomId, userId) => session.authed('POST', `${room(roomId)}/bans`, { json: { user_id: userId } }),
  unban: (roomId, userId) => session.authed('DELETE', `${room(roomId)}/bans/${id(userId)}`),

  /** {messages, has_more}; `before` pages back, `after` forward, neither gives the newest. */
  messages: (roomId, { before, after, limit = 50 } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined && before !== null) query.set('before', String(before));
    if (after !== undefined && after !== null) query.set('after', String(after));
    return session.authed('GET', `${room(roomId)}/messages?${query}`);
  },
  /** `replyTo`: the seq of the message of this room it answers (or null). */
  sendMessage: (roomId, body, nonce, replyTo = null) =>
    session.authed('POST', `${room(roomId)}/messages`, { json: replyTo ? { body, nonce, reply_to: replyTo } : { body, nonce } }),
  /** One message by its seq (a deleted one too). */
  message: (roomId, seq) => session.authed('GET', `${room(roomId)}/messages/${id(seq)}`),
  editMessage: (roomId, seq, body) =>
    session.authed('PATCH', `${room(roomId)}/messages/${id(seq)}`, { json: { body } }),
  deleteMessage: (roomId, seq) => session.authed('DELETE', `${room(roomId)}/messages/${id(seq)}`),

  /** Add my reaction: the message after. `emoji` is percent-encoded in the path. */
  react: (roomId, seq, emoji) => session.authed('PUT', reactionPath(roomId, seq, emoji)),
  /** Take my reaction back (also when it was not there). */
  unreact: (roomId, seq, emoji) => session.authed('DELETE', reactionPath(roomId, seq, emoji)),

  /** The direct room of me and `username` (made the first time). */
  openDirect: (username) => session.authed('POST', '/api/direct', { json: { username } }),

  /** {messages, has_more}, newest first; `before`: the id of the last message of the page before. */
  search: ({ q, roomId = null, before = null, limit = 20 }, { signal } = {}) => {
    const query = new URLSearchParams({ q, limit: String(limit) });
    if (roomId !== null) query.set('room_id', String(roomId));
    if (before !== null) query.set('before', String(before));
    return session.authed('GET', `/api/search?${query}`, { signal });
  },
  /** {messages, has_more}: messages that mention me, newest first. */
  mentions: ({ before = null, limit = 30 } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== null) query.set('before', String(before));
    return session.authed('GET', `/api/me/mentions?${query}`);
  },

  // Site admins.
  invites: () => session.authed('GET', '/api/admin/invites'),
  createInvite: ({ uses, expiresDays }) =>
    session.authed('POST', '/api/admin/invites', { json: { uses, expires_days: expiresDays } }),
  revokeInvite: (inviteId) => session.authed('DELETE', `/api/admin/invites/${id(inviteId)}`),
};

function reactionPath(roomId, seq, emoji) {
  return `${room(roomId)}/messages/${id(seq)}/reactions/${encodeURIComponent(emoji)}`;
}
