/** HTML-escapes text placed into the login page. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The demo provider's sign-in form: a plain POST, so scripts and browsers drive it the same way. */
export function loginPage(options: {
  uid: string;
  clientId: string;
  error?: string;
  username?: string;
}): string {
  const error = options.error === undefined ? '' : `<p role="alert">${escapeHtml(options.error)}</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Demo IdP - sign in</title></head>
<body>
<main>
<h1>Demo identity provider</h1>
<p>Sign in to continue to <strong>${escapeHtml(options.clientId)}</strong>.</p>
${error}
<form method="post" action="/interaction/${escapeHtml(options.uid)}/login">
<label>Username <input name="username" autocomplete="username" value="${escapeHtml(options.username ?? '')}" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>`;
}
