// Dates, names and the small visual identity of a person (initials and a colour).

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

export function parseTime(iso) {
  return iso instanceof Date ? iso : new Date(iso);
}

export function formatTime(date) {
  return timeFormat.format(parseTime(date));
}

export function formatFull(date) {
  return fullFormat.format(parseTime(date));
}

export function formatDateTime(date) {
  return dateTimeFormat.format(parseTime(date));
}

/** The local calendar day of a date, as a sortable key. */
export function dayKey(date) {
  const d = parseTime(date);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function dayLabel(date) {
  const d = parseTime(date);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(d) === dayKey(today)) return 'Today';
  if (dayKey(d) === dayKey(yesterday)) return 'Yesterday';
  return d.getFullYear() === today.getFullYear() ? dayFormat.format(d) : dayYearFormat.format(d);
}

export function displayName(user) {
  return (user?.display_name || user?.username || 'Someone').trim() || user?.username || 'Someone';
}

// What can start an initial: a letter, a digit or a pictograph, never punctuation or markup.
const INITIAL = /[\p{L}\p{N}\p{Extended_Pictographic}]/u;

export function initials(name) {
  const firsts = String(name)
    .trim()
    .split(/\s+/)
    .map((word) => INITIAL.exec(word)?.[0])
    .filter(Boolean);
  if (!firsts.length) return '?';
  const second = firsts.length > 1 ? firsts[firsts.length - 1] : '';
  return (firsts[0] + second).toUpperCase();
}

/** A stable hue for a user id, so a person keeps their colour everywhere. */
export function hueFor(id) {
  let hash = 0;
  for (const ch of String(id)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return (hash * 137) % 360;
}

export function formatWait(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

export function formatClock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Length as the server counts it: Unicode code points. */
export function codePoints(text) {
  return [...text].length;
}

export const ROLE_LABELS = { owner: 'Owner', admin: 'Admin', member: 'Member' };
