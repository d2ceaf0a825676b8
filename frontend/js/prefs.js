// Small per-user preferences kept in this browser: the last room, the members column.

const key = (userId) => `hubbub.prefs.${userId}`;

export function loadPrefs(userId) {
  try {
    const value = JSON.parse(localStorage.getItem(key(userId)) ?? '{}');
    return { lastRoom: null, membersHidden: false, ...value };
  } catch {
    return { lastRoom: null, membersHidden: false };
  }
}

export function savePrefs(userId, prefs) {
  try {
    localStorage.setItem(key(userId), JSON.stringify(prefs));
  } catch {
    /* storage unavailable */
  }
}
