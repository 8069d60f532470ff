// The page talks to the same HTTP API as any client; the session cookie is HttpOnly, so the script never sees
// the token, only the session-bound CSRF token it must echo on unsafe requests.
let csrfToken = '';

const $ = (id) => document.getElementById(id);

function say(message, isError = false) {
  const status = $('status');
  status.textContent = message;
  status.classList.toggle('error', isError);
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  return { ok: response.ok, status: response.status, data };
}

const when = (ms) => new Date(ms).toLocaleString();

function show(section) {
  $('signin').hidden = section !== 'signin';
  $('idp-totp').hidden = section !== 'idp-totp';
  $('account').hidden = section !== 'account';
}

async function refreshAccount() {
  const current = await api('GET', '/api/me/sessions/current');
  if (!current.ok) {
    show('signin');
    if (
      current.status === 401 &&
      current.data?.code !== 'token.invalid' &&
      current.data?.code !== 'session.missing'
    ) {
      say('You have been signed out.', true);
    }
    return;
  }
  csrfToken = current.data.csrfToken ?? csrfToken;
  const session = current.data.session;
  $('who').textContent = current.data.user?.displayName ?? session.userId;
  $('aal').textContent = String(session.aal);
  $('fresh').textContent = `Last authenticated ${when(session.authenticatedAt)}.`;
  $('admin-link').hidden = !current.data.user?.roles?.includes('admin');
  show('account');
  await Promise.all([renderDevices(), renderActivity()]);
}

async function renderDevices() {
  const list = $('devices');
  const result = await api('GET', '/api/me/sessions');
  list.replaceChildren();
  if (!result.ok) return;
  for (const session of result.data.filter((s) => s.state === 'active')) {
    const item = document.createElement('li');
    item.dataset.sessionId = session.id;
    const title = document.createElement('div');
    title.className = 'device-title';
    title.textContent = session.metadata?.device ?? session.device?.label ?? 'Unknown device';
    if (session.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'This device';
      title.append(badge);
    }
    if (session.deviceBound) {
      const bound = document.createElement('span');
      bound.className = 'badge';
      bound.textContent = 'Bound to this device';
      title.append(bound);
    }
    const meta = document.createElement('div');
    meta.className = 'meta';
    const network = session.metadata?.network ? `Network ${session.metadata.network} · ` : '';
    meta.textContent = `${network}Signed in ${when(session.createdAt)} · Last active ${when(session.lastSeenAt)}`;
    item.append(title, meta);
    const last = session.lastActivity;
    if (last?.request) {
      const request = document.createElement('div');
      request.className = 'meta last-activity';
      const { method, route, status, category } = last.request;
      request.textContent = `Last request ${when(last.at)}: ${method} ${route} → ${status} (${category})`;
      item.append(request);
    }
    if (!session.current) {
      const revoke = document.createElement('button');
      revoke.type = 'button';
      revoke.className = 'secondary';
      revoke.textContent = 'Sign out this device';
      revoke.setAttribute('aria-label', `Sign out ${title.textContent}`);
      revoke.addEventListener('click', async () => {
        const answer = await api('DELETE', `/api/me/sessions/${encodeURIComponent(session.id)}`);
        say(
          answer.ok ? 'Device signed out.' : (answer.data?.title ?? 'Could not sign out that device.'),
          !answer.ok,
        );
        await // The identity-provider path exists only when the app started with DEMO_IDP=1.
        fetch('/auth/idp', { headers: { accept: 'application/json' } }).then((response) => {
          $('idp-row').hidden = !response.ok;
        });

        refreshAccount();
      });
      item.append(revoke);
    }
    list.append(item);
  }
}

async function renderActivity() {
  const list = $('activity');
  const result = await api('GET', '/api/me/activity?limit=10');
  list.replaceChildren();
  for (const entry of result.ok ? result.data.entries : []) {
    const item = document.createElement('li');
    const where = entry.device ? ` — ${entry.device}` : '';
    const what = entry.request
      ? `${entry.request.method} ${entry.request.route} → ${entry.request.status}`
      : `${entry.action} (${entry.outcome})`;
    item.textContent = `${when(entry.at)}: ${what}${where}`;
    list.append(item);
  }
}

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { email: $('email').value, password: $('password').value };
  if (!$('otp-row').hidden && $('otp').value) body.otp = $('otp').value;
  const result = await api('POST', '/api/auth/login', body);
  if (result.ok) {
    csrfToken = result.data.csrfToken ?? '';
    $('password').value = '';
    $('otp').value = '';
    $('otp-row').hidden = true;
    say('Signed in.');
    await // The identity-provider path exists only when the app started with DEMO_IDP=1.
    fetch('/auth/idp', { headers: { accept: 'application/json' } }).then((response) => {
      $('idp-row').hidden = !response.ok;
    });

    refreshAccount();
    return;
  }
  if (result.data?.code === 'otp.required') {
    $('otp-row').hidden = false;
    $('otp').focus();
    say('Enter the one-time code from your authenticator app.');
    return;
  }
  say(result.data?.detail ?? result.data?.title ?? 'Sign-in failed.', true);
});

// After the identity provider, an account with TOTP still owes its code: the callback sent us to /?idp=totp.
$('idp-totp-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await api('POST', '/auth/idp/totp', { otp: $('idp-otp').value });
  $('idp-otp').value = '';
  if (result.ok || result.data?.code === 'idp.no_pending_sign_in') {
    history.replaceState(null, '', '/');
  }
  if (result.ok) {
    csrfToken = result.data.csrfToken ?? '';
    say('Signed in.');
    refreshAccount();
    return;
  }
  if (result.data?.code === 'idp.no_pending_sign_in') show('signin');
  say(result.data?.title ?? 'Sign-in failed.', true);
});

$('signout').addEventListener('click', async () => {
  await api('POST', '/api/auth/logout');
  csrfToken = '';
  say('Signed out.');
  show('signin');
});

$('signout-others').addEventListener('click', async () => {
  const result = await api('POST', '/api/me/sessions/revoke-others');
  say(
    result.ok ? `Signed out ${result.data.revoked} other session(s).` : 'Could not sign out other sessions.',
    !result.ok,
  );
  await // The identity-provider path exists only when the app started with DEMO_IDP=1.
  fetch('/auth/idp', { headers: { accept: 'application/json' } }).then((response) => {
    $('idp-row').hidden = !response.ok;
  });

  refreshAccount();
});

$('stepup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await api('POST', '/api/auth/step-up', { otp: $('stepup-otp').value });
  $('stepup-otp').value = '';
  if (result.ok) csrfToken = result.data.csrfToken ?? csrfToken;
  say(result.ok ? 'Stepped up: assurance level 2.' : (result.data?.title ?? 'Step-up failed.'), !result.ok);
  await // The identity-provider path exists only when the app started with DEMO_IDP=1.
  fetch('/auth/idp', { headers: { accept: 'application/json' } }).then((response) => {
    $('idp-row').hidden = !response.ok;
  });

  refreshAccount();
});

$('sensitive').addEventListener('click', async () => {
  const result = await api('POST', '/api/me/sensitive');
  say(
    result.ok
      ? 'Sensitive action done.'
      : `${result.data?.title ?? 'Refused'} (${result.data?.code ?? result.status})`,
    !result.ok,
  );
});

let transferWatch;

// The signed-in device asks for a one-time code and shows it with its QR image (drawn by this app's server).
$('transfer-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const mode = new FormData($('transfer-form')).get('mode');
  const created = await api('POST', '/api/transfer/codes', { mode });
  if (!created.ok) {
    say(created.data?.title ?? 'Could not create a code.', true);
    return;
  }
  const { code, expiresAt } = created.data;
  const qr = await fetch('/api/transfer/qr', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    credentials: 'same-origin',
    body: JSON.stringify({ code }),
  });
  const image = new DOMParser().parseFromString(await qr.text(), 'image/svg+xml').documentElement;
  $('transfer-qr').replaceChildren(qr.ok ? document.importNode(image, true) : '');
  $('transfer-code-shown').textContent = code;
  $('transfer-expiry').textContent = `${Math.round((expiresAt - Date.now()) / 60_000)} minutes`;
  $('transfer-offer').hidden = false;
  say('Code ready: use it on your other device.');
  // Until the code expires, notice when it was used: a takeover signs this device out, a fork adds a device.
  clearInterval(transferWatch);
  transferWatch = setInterval(async () => {
    if (Date.now() > expiresAt) {
      clearInterval(transferWatch);
      $('transfer-offer').hidden = true;
      return;
    }
    const current = await api('GET', '/api/me/sessions/current');
    if (current.ok) return renderDevices();
    clearInterval(transferWatch);
    $('transfer-offer').hidden = true;
    show('signin');
    say('This session moved to your other device.');
  }, 2000);
});

// The new device redeems the code: typed in, or from the QR link's fragment (never sent to the server).
$('redeem-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await api('POST', '/api/transfer/redeem', { code: $('transfer-code').value.trim() });
  $('transfer-code').value = '';
  if (!result.ok) {
    say(result.data?.detail ?? result.data?.title ?? 'That code did not work.', true);
    return;
  }
  csrfToken = result.data.csrfToken ?? '';
  say('Signed in with the code from your other device.');
  refreshAccount();
});

// The identity-provider path exists only when the app started with DEMO_IDP=1.
fetch('/auth/idp', { headers: { accept: 'application/json' } }).then((response) => {
  $('idp-row').hidden = !response.ok;
});

const transferLink = /^#transfer=(.+)$/.exec(location.hash);
if (transferLink) {
  history.replaceState(null, '', '/');
  $('transfer-code').value = decodeURIComponent(transferLink[1]);
  say('Choose "Use code" to sign in with the code from your other device.');
}

if (new URLSearchParams(location.search).get('idp') === 'totp') {
  show('idp-totp');
  say('Enter the one-time code from your authenticator app.');
  $('idp-otp').focus();
} else {
  refreshAccount();
}
