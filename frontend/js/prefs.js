// Small per-user preferences kept in this browser: the last room, what was read.

const key = (userId) => `hubbub.prefs.${userId}`;

export function loadPrefs(userId) {
  try {
    const value = JSON.parse(localStorage.getItem(key(userId)) ?? '{}');
    return { lastRoom: null, read: {}, membersHidden: false, ...value };
  } catch {
    return { lastRoom: null, read: {}, membersHidden: false };
  }
}

export function savePrefs(userId, prefs) {
  try {
    localStorage.setItem(key(userId), JSON.stringify(prefs));
  } catch {
    /* storage unavailable */
  }
}
