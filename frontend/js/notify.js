// Desktop notifications for mentions. Permission is asked only when the person clicks
// the control that offers them (browsers distrust, and people dislike, a prompt on load).
//
// Event `change` on `notifications` when the permission changes.

class Notifications extends EventTarget {
  /** The browser has them, and this page may use them (they need HTTPS, or localhost). */
  get supported() {
    return 'Notification' in window && window.isSecureContext;
  }

  /** 'granted', 'denied', 'default' (not asked yet), or 'unsupported'. */
  get permission() {
    return this.supported ? Notification.permission : 'unsupported';
  }

  /** Ask the browser (call from a click). Resolves to the permission now. */
  async ask() {
    if (!this.supported) return 'unsupported';
    let answer;
    try {
      answer = await Notification.requestPermission();
    } catch {
      answer = Notification.permission;
    }
    this.dispatchEvent(new CustomEvent('change', { detail: { permission: answer } }));
    return answer;
  }

  /**
   * Show one, when allowed; `tag` makes tabs of one person show a single notification
   * for a single mention. `onClick` runs when it is clicked (the window comes forward).
   */
  show({ title, body, tag, onClick }) {
    if (this.permission !== 'granted') return null;
    let notification;
    try {
      notification = new Notification(title, { body, tag, icon: '/favicon.svg' });
    } catch {
      return null; // Android's Chrome only shows them from a service worker
    }
    notification.addEventListener('click', () => {
      window.focus();
      onClick?.();
      notification.close();
    });
    return notification;
  }
}

export const notifications = new Notifications();
