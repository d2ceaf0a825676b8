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

/** A message's text on one line, cut to `max` characters (for quotes and previews). */
export function oneLine(text, max = 160) {
  const line = String(text).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Length as the server counts it: Unicode code points. */
export function codePoints(text) {
  return [...text].length;
}

export const ROLE_LABELS = { owner: 'Owner', admin: 'Admin', member: 'Member' };

// --- rooms --------------------------------------------------------------------------

/** A direct room's other person (its name is both usernames joined by ", "). */
export function directPartner(room, me) {
  const names = String(room?.name ?? '').split(', ').filter(Boolean);
  const mine = String(me?.username ?? '').toLowerCase();
  return names.find((name) => name.toLowerCase() !== mine) ?? null;
}

export function isDirect(room) {
  return room?.kind === 'direct'; // rooms from before direct rooms existed have no kind
}

/** What a room is called on screen: "#design", "launch-plans", or the other person's name. */
export function roomLabel(room, me) {
  if (!room?.name) return '';
  if (isDirect(room)) return directPartner(room, me) ?? `${room.name} (you)`;
  return `${room.is_private ? '' : '#'}${room.name}`;
}

/** The name without the "#" (headings draw the icon instead). */
export function roomName(room, me) {
  if (!room?.name) return '';
  if (isDirect(room)) return directPartner(room, me) ?? `${room.name} (you)`;
  return room.name;
}

export function roomIcon(room) {
  if (isDirect(room)) return 'at';
  return room?.is_private ? 'lock' : 'hash';
}

// --- devices ------------------------------------------------------------------------

const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\/([\d]+)/, 'Edge'],
  [/\bOPR\/([\d]+)/, 'Opera'],
  [/\bSamsungBrowser\/([\d]+)/, 'Samsung Internet'],
  [/\bFirefox\/([\d]+)|\bFxiOS\/([\d]+)/, 'Firefox'],
  [/\bHeadlessChrome\/([\d]+)/, 'Headless Chrome'],
  [/\bCriOS\/([\d]+)|\bChrome\/([\d]+)/, 'Chrome'],
  [/\bChromium\/([\d]+)/, 'Chromium'],
  [/\bVersion\/([\d]+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const SYSTEMS = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/**
 * A User-Agent header as a person reads it: "Firefox 128 on Windows". Anything else (a
 * script, a bot) is shown as its first product token; `mobile` says which icon fits.
 */
export function describeUserAgent(ua) {
  if (!ua) return { text: 'Unknown device', mobile: false };
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  const mobile = /\b(iPhone|Android.*Mobile|Mobile Safari|iPod)\b/.test(ua);
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua);
    if (!match) continue;
    const version = match.slice(1).find(Boolean);
    const browser = version ? `${name} ${version}` : name;
    return { text: system ? `${browser} on ${system}` : browser, mobile };
  }
  const product = /^[^\s(]+/.exec(ua.trim())?.[0] ?? ua;
  return { text: system ? `${product.replace('/', ' ')} on ${system}` : product.replace('/', ' '), mobile };
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "just now", "5 minutes ago", "yesterday", then the date. */
export function formatAgo(date, now = Date.now()) {
  const seconds = Math.round((parseTime(date).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return formatDateTime(date);
}
