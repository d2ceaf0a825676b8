// What to tell a person when a request fails: one clear sentence per error the API gives.

import { formatWait } from './format.js';

const FIELD_NAMES = {
  username: 'Username',
  password: 'Password',
  display_name: 'Display name',
  name: 'Room name',
  description: 'Description',
  body: 'Message',
  role: 'Role',
  current_password: 'Current password',
  new_password: 'New password',
  invite: 'Invite code',
  q: 'Search',
  uses: 'Uses',
  expires_days: 'Days until it expires',
  emoji: 'Reaction',
};

/** The server's rule for usernames, and how the page says it. */
export const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
export const USERNAME_RULE = 'Use 3–32 letters, digits, dots, dashes or underscores (no spaces).';

/**
 * Friendlier wording for the validation messages pydantic produces. `name`: what the form
 * calls the field, where it differs from the usual (a token's name is not a room's).
 */
export function describeField(field, message, name = FIELD_NAMES[field] ?? field) {
  if (/pattern/i.test(message) && field === 'username') {
    return USERNAME_RULE;
  }
  if (/at least (\d+) character/.test(message)) {
    return `${name} must be at least ${message.match(/at least (\d+)/)[1]} characters.`;
  }
  if (/at most (\d+) character/.test(message)) {
    return `${name} must be at most ${message.match(/at most (\d+)/)[1]} characters.`;
  }
  if (/greater than or equal to (\d+)/.test(message)) {
    return `${name} must be at least ${message.match(/greater than or equal to (\d+)/)[1]}.`;
  }
  if (/less than or equal to (\d+)/.test(message)) {
    return `${name} must be at most ${message.match(/less than or equal to (\d+)/)[1]}.`;
  }
  if (/must not be empty/.test(message)) return `${name} can't be empty.`;
  if (/control characters/.test(message)) return `${name} contains characters that aren't allowed.`;
  return `${name}: ${message.charAt(0).toLowerCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
}

/**
 * action: login, signup, createRoom, updateRoom, deleteRoom, join, leave, invite, role, kick, ban,
 * unban, send, edit, delete, load, members, profile, password, logoutAll, react, direct,
 * search, createInvite, revokeInvite, createToken, revokeToken
 */
export function describeError(error, action = 'load') {
  if (!error || typeof error.status !== 'number') return 'Something went wrong. Please try again.';
  const { status, detail } = error;
  if (status === 0) return "Can't reach the server. Check your connection and try again.";
  if (status === 503) return "The server can't reach its database right now. Try again in a moment.";
  if (status >= 500) return 'Something went wrong on the server. Please try again.';
  if (status === 422) {
    const fields = Object.entries(error.fields ?? {});
    if (fields.length) return fields.map(([field, msg]) => describeField(field, msg)).join(' ');
    return detail ? sentence(detail) : 'Some of what you entered is not valid.';
  }
  if (status === 429) {
    const wait = error.retryAfter ? formatWait(error.retryAfter) : 'a little while';
    if (action === 'login') return `Too many failed attempts for this username. Try again in ${wait}.`;
    if (action === 'password') return `Too many wrong passwords. Try again in ${wait}.`;
    if (action === 'signup') return `Too many accounts were created from your network address. Try again in ${wait}.`;
    if (action === 'react') return `You're reacting too fast. Try again in ${wait}.`;
    return `You're going too fast. Try again in ${wait}.`;
  }
  switch (action) {
    case 'login':
      if (status === 401) return 'Wrong username or password.';
      if (status === 403) return 'This account has been deactivated. Ask an administrator to reactivate it.';
      break;
    case 'signup':
      if (status === 409) return 'That username is already taken. Pick another one.';
      if (status === 403) return "Signing up on this server needs an invitation. Ask an administrator for one.";
      break;
    case 'invite-code':
      if (status === 403) return "This invite code doesn't work: it may have expired, been used up or been revoked. Ask for a new one.";
      break;
    case 'endSession':
      if (status === 404) return 'That device was already logged out.';
      break;
    case 'createRoom':
    case 'updateRoom':
      if (status === 409) return 'A room with that name already exists. Pick another name.';
      if (status === 403) return "You can't change this room's settings.";
      break;
    case 'deleteRoom':
      if (status === 403) return 'Only an owner can delete this room.';
      if (status === 404) return 'This room is already gone.';
      break;
    case 'ban':
      if (status === 403 && /owner/i.test(detail)) return "A room admin can't ban an owner.";
      if (status === 403) return "You can't ban people from this room.";
      if (status === 404) return 'That person no longer exists.';
      break;
    case 'unban':
      if (status === 404) return 'That ban was already lifted.';
      break;
    case 'password':
      if (status === 403) return "That isn't your current password.";
      break;
    case 'logoutAll':
      if (status === 404 || status === 405) return "This server can't log out other devices yet.";
      break;
    case 'join':
      if (status === 403) return "You've been banned from this room.";
      if (status === 404) return 'This room no longer exists, or it is private.';
      break;
    case 'leave':
      if (status === 409) return "You're the room's last owner. Make someone else an owner first, or delete the room in its settings.";
      break;
    case 'invite':
      if (status === 404 && /user/i.test(detail)) return 'Nobody has that username.';
      if (status === 409) return 'That person is already a member.';
      if (status === 403 && /banned/i.test(detail)) return 'That person is banned from this room.';
      break;
    case 'role':
    case 'kick':
      if (status === 409) return 'The room must keep at least one owner. Make someone else an owner first.';
      if (status === 404) return 'That person is no longer a member.';
      break;
    case 'edit':
      if (status === 409) return 'A deleted message cannot be edited.';
      if (status === 403) return 'You can only edit your own messages.';
      break;
    case 'delete':
      if (status === 403) return "You can't delete this message.";
      if (status === 404) return 'That message no longer exists.';
      break;
    case 'react':
      if (status === 409 && /deleted/i.test(detail)) return 'That message was deleted: it takes no reactions.';
      if (status === 409) return 'That message has 50 different reactions already. Add yours to one of them.';
      if (status === 404) return 'That message no longer exists.';
      if (status === 403) return 'Only members of the room can react.';
      break;
    case 'direct':
      if (status === 404) return 'Nobody has that username, or the account is deactivated.';
      break;
    case 'search':
      if (status === 404) return 'That room is no longer one of yours.';
      break;
    case 'revokeInvite':
      if (status === 404) return 'That invitation was already revoked.';
      break;
    default:
      break;
  }
  if (status === 401) return 'Your session has ended. Please log in again.';
  if (status === 404) return detail ? sentence(detail) : 'Not found.';
  return detail ? sentence(detail) : 'That did not work. Please try again.';
}

function sentence(text) {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
