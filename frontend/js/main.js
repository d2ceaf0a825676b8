// Start the client: the app when a session is saved, the sign-in page otherwise.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { Outbox } from './outbox.js';
import { session } from './session.js';
import { renderAuth } from './views/auth-view.js';
import { AppView } from './views/app-view.js';

const root = document.getElementById('app');
let app = null;
let leaveAuth = null;

const ENDED = {
  expired: 'Your session has ended. Please log in again.',
  disabled: 'This account has been deactivated. Ask an administrator to reactivate it.',
  elsewhere: 'You logged out in another tab.',
  everywhere: 'You logged out on every device.',
  logout: '',
};

function showAuth(notice = '') {
  app?.stop();
  app = null;
  leaveAuth?.();
  leaveAuth = renderAuth(root, { onSignedIn: showApp, notice });
}

function showApp() {
  leaveAuth?.();
  leaveAuth = null;
  app?.stop();
  app = new AppView(root, session.user);
  app.start();
}

session.addEventListener('ended', (event) => {
  // Unsent messages wait for a session that merely expired (the same person logs in
  // again); logging out on purpose leaves nothing behind on a shared computer.
  if (app && event.detail.reason !== 'expired') new Outbox(app.me.id).clear();
  showAuth(ENDED[event.detail.reason] ?? '');
});

async function boot() {
  if (!session.restore()) {
    showAuth();
    return;
  }
  if (!session.user) {
    replace(root, h('p', { class: 'boot' }, 'Loading…'));
    try {
      session.setUser(await api.me());
    } catch (error) {
      if (error.name !== 'SessionEnded') showAuth("Can't reach the server. Check your connection and try again.");
      return;
    }
  }
  showApp();
}

boot();
