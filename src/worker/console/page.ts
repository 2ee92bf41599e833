/** The console's single HTML page: a shell the modules fill in; usable by keyboard and screen reader. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-export console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<link rel="modulepreload" href="/console/api.js">
<link rel="modulepreload" href="/console/ui.js">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <p class="brand"><span aria-hidden="true">⇪</span> edge-export</p>
  <nav id="nav" aria-label="Sections" hidden></nav>
  <button type="button" id="signout" class="link" hidden>Sign out</button>
</header>
<div id="status" class="status" role="status" aria-live="polite" aria-atomic="true"></div>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p class="notice">The console needs JavaScript. The API is at <a href="/v1/openapi.json">/v1/openapi.json</a>.</p></noscript>
</body>
</html>
`;
