// The admin console talks to /api/admin like any client: the cookie session (admin role, AAL 2) and the
// session-bound CSRF token on every unsafe request.
import { drawBarChart } from './admin-charts.js';

const $ = (id) => document.getElementById(id);
const DAY_MS = 86_400_000;
const PAGE_SIZE = 20;
let csrfToken = '';
let nextCursor;

function say(message, isError = false) {
  $('status').textContent = message;
  $('status').classList.toggle('error', isError);
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
  return { ok: response.ok, status: response.status, data: text ? JSON.parse(text) : undefined };
}

const when = (ms) => new Date(ms).toLocaleString();

function deny(reason) {
  $('console').hidden = true;
  $('denied').hidden = false;
  $('denied-reason').textContent = reason;
}

async function renderCharts() {
  const [insights, active, stats] = await Promise.all([
    api('GET', '/api/admin/insights?days=14'),
    api('GET', '/api/admin/sessions?state=active&limit=500'),
    api('GET', '/api/admin/statistics'),
  ]);
  if (!insights.ok) return insights;
  const days = insights.data.days.map((day) => day.slice(5));
  const series = (values) => values.map((value, index) => ({ label: days[index], value }));
  drawBarChart($('chart-started'), series(insights.data.started), { titleId: 'chart-started-title' });
  drawBarChart($('chart-revoked'), series(insights.data.revoked), {
    titleId: 'chart-revoked-title',
    tone: 'warn',
  });
  drawBarChart($('chart-reuse'), series(insights.data.reuseDetected), {
    titleId: 'chart-reuse-title',
    tone: 'danger',
  });
  const byType = new Map();
  for (const session of active.ok ? active.data.sessions : []) {
    const type = session.deviceType ?? 'unknown';
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
  drawBarChart(
    $('chart-devices'),
    [...byType].sort(([a], [b]) => a.localeCompare(b)).map(([label, value]) => ({ label, value })),
    { titleId: 'chart-devices-title' },
  );
  if (stats.ok) {
    const { live, created, revoked, expired } = stats.data;
    $('totals').textContent =
      `Live now: ${live}. In the last 24 hours: ${created} started, ${revoked} revoked, ${expired} expired.`;
  }
  return insights;
}

function filterQuery() {
  const form = new FormData($('filters'));
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const name of ['userId', 'state', 'deviceType']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) query.set(name, value);
  }
  const from = String(form.get('createdFrom') ?? '');
  const to = String(form.get('createdTo') ?? '');
  if (from) query.set('createdFrom', String(Date.parse(`${from}T00:00:00Z`)));
  if (to) query.set('createdTo', String(Date.parse(`${to}T00:00:00Z`) + DAY_MS));
  return query;
}

function actionButton(label, session, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = label === 'Revoke' ? 'secondary' : '';
  button.textContent = label;
  button.dataset.action = label.toLowerCase();
  const device = session.device?.label ?? session.deviceType ?? 'unknown device';
  button.setAttribute('aria-label', `${label} session of ${session.userId} on ${device}`);
  button.addEventListener('click', onClick);
  return button;
}

async function act(session, action) {
  const result = await api('POST', `/api/admin/sessions/${encodeURIComponent(session.id)}/${action}`, {});
  const done = { suspend: 'suspended', resume: 'resumed', revoke: 'revoked' }[action];
  say(
    result.ok ? `Session of ${session.userId} ${done}.` : (result.data?.title ?? `Could not ${action} it.`),
    !result.ok,
  );
  await Promise.all([renderSessions(), renderCharts()]);
  // Keyboard users keep their place: focus goes to the same row's first remaining action, else the table.
  const row = document.querySelector(`tr[data-session-id="${CSS.escape(session.id)}"]`);
  const next = row?.querySelector('button') ?? $('sessions');
  next.focus();
}

function sessionRow(session) {
  const row = document.createElement('tr');
  row.dataset.sessionId = session.id;
  const cells = [
    session.userId,
    session.state,
    [session.device?.label, session.deviceType].filter(Boolean).join(' · ') || 'unknown',
    when(session.createdAt),
    when(session.lastSeenAt),
    String(session.aal),
  ];
  for (const [index, text] of cells.entries()) {
    const cell = document.createElement('td');
    cell.textContent = text;
    if (index === 1) cell.className = `state-${session.state}`;
    row.append(cell);
  }
  const actions = document.createElement('td');
  if (session.state === 'active')
    actions.append(actionButton('Suspend', session, () => act(session, 'suspend')));
  if (session.state === 'suspended')
    actions.append(actionButton('Resume', session, () => act(session, 'resume')));
  if (session.state === 'active' || session.state === 'suspended') {
    actions.append(actionButton('Revoke', session, () => act(session, 'revoke')));
  }
  row.append(actions);
  return row;
}

async function renderSessions(cursor) {
  const query = filterQuery();
  if (cursor) query.set('cursor', cursor);
  const result = await api('GET', `/api/admin/sessions?${query}`);
  const body = $('sessions').querySelector('tbody');
  if (!result.ok) {
    say(result.data?.detail ?? result.data?.title ?? 'Could not list sessions.', true);
    return;
  }
  if (!cursor) body.replaceChildren();
  for (const session of result.data.sessions) body.append(sessionRow(session));
  nextCursor = result.data.nextCursor;
  $('next-page').hidden = nextCursor === undefined;
  $('sessions-caption').textContent = `Sessions, newest first: ${body.rows.length} shown`;
}

$('filters').addEventListener('submit', async (event) => {
  event.preventDefault();
  await renderSessions();
  say(`Filters applied: ${$('sessions').querySelector('tbody').rows.length} session(s) shown.`);
});

$('next-page').addEventListener('click', () => renderSessions(nextCursor));

// The table itself takes focus after an action whose row has no action left, so focus is never lost.
$('sessions').tabIndex = -1;

async function start() {
  const current = await api('GET', '/api/me/sessions/current');
  if (!current.ok) return deny('Sign in first, on the account page.');
  csrfToken = current.data.csrfToken ?? '';
  if (!current.data.user?.roles?.includes('admin')) return deny('Your account does not have the admin role.');
  const charts = await renderCharts();
  if (!charts.ok) {
    return deny(
      charts.data?.code === 'aal.insufficient'
        ? 'The console needs assurance level 2: step up with your one-time code on the account page.'
        : (charts.data?.title ?? 'The admin API refused.'),
    );
  }
  $('console').hidden = false;
  await renderSessions();
}

start();
