/** The console's stylesheet: system fonts, high contrast, a visible focus ring, no external assets. */
export const CONSOLE_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #fff; --panel: #f6f8fa; --line: #d0d7de;
  --accent: #0a58ca; --ok: #116329; --bad: #b3261e; --warn: #7d4e00; --focus: #0a58ca;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top { display: flex; align-items: center; gap: 1.5rem; padding: .5rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel); flex-wrap: wrap; }
.brand { font-weight: 700; margin: 0; }
nav ul { display: flex; gap: .25rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
nav a { display: block; padding: .35rem .75rem; border-radius: 6px; text-decoration: none; color: var(--fg); }
nav a[aria-current="page"] { background: var(--fg); color: var(--bg); }
#signout { margin-left: auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.status { max-width: 72rem; margin: .5rem auto 0; padding: 0 1.5rem; min-height: 1.5rem; color: var(--muted); }
.status.error { color: var(--bad); font-weight: 600; }
.status.ok { color: var(--ok); font-weight: 600; }
.bar { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin: .75rem 0; }
button, .button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: var(--bg); color: var(--accent); }
button.small { padding: .15rem .5rem; font-size: .875rem; }
button.link { background: none; border: none; color: var(--accent); text-decoration: underline; padding: .25rem; }
button[disabled] { opacity: .6; cursor: progress; }
form { max-width: 48rem; }
fieldset { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem 1rem; margin: 0 0 1rem; min-width: 0; }
legend { font-weight: 600; padding: 0 .25rem; }
.field { margin: .6rem 0; }
.field > label, .field > .label { display: block; font-weight: 600; margin-bottom: .2rem; }
.field.check > label { display: inline; font-weight: 400; margin-left: .35rem; }
.aud-own { margin: 0 0 .6rem 1.6rem; }
.aud-own fieldset { margin: .25rem 0 0; }
.wrap { overflow-wrap: anywhere; }
.hint { color: var(--muted); font-size: .875rem; margin: .15rem 0 0; }
input[type=text], input[type=password], input[type=url], input[type=date], input[type=time], input[type=number], select, textarea {
  font: inherit; width: 100%; max-width: 36rem; padding: .4rem .5rem; border: 1px solid #8c959f; border-radius: 6px; background: var(--bg); color: var(--fg); }
textarea { min-height: 6rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .875rem; }
[aria-invalid="true"] { border-color: var(--bad); border-width: 2px; }
.error-text { color: var(--bad); font-weight: 600; margin: .2rem 0 0; }
.error-text:empty { display: none; }
.summary { border: 2px solid var(--bad); border-radius: 8px; padding: .5rem 1rem; margin: 0 0 1rem; }
.summary h2 { margin: .25rem 0; color: var(--bad); font-size: 1.05rem; }
.notice { border-left: 4px solid var(--accent); background: var(--panel); padding: .5rem 1rem; }
.choices { display: flex; gap: 1.25rem; flex-wrap: wrap; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mapping td { padding: .25rem .35rem; }
.mapping input[type=text] { min-width: 10rem; }
/* A field's functions: chips that wrap within the visible width, even inside a sideways-scrolling table. */
.fns { position: sticky; left: 0; max-width: calc(100vw - 4rem); display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: center; }
.fns ol { display: flex; flex-wrap: wrap; gap: .25rem; list-style: none; margin: 0; padding: 0; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 0 .2rem 0 .6rem; background: var(--panel); }
.fns select { width: auto; padding: .15rem .3rem; }
.mapping input.sep { min-width: 0; width: 3.5rem; padding: 0 .25rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; }
.badge.succeeded, .badge.ok { color: var(--ok); }
.badge.failed, .badge.missing { color: var(--bad); }
.badge.queued, .badge.running { color: var(--warn); }
.badge.warning, .badge.unsupported, .badge.untested { color: var(--warn); }
.badge.error { color: var(--bad); }
.warn-text { color: var(--warn); font-weight: 600; margin: .2rem 0 0; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow: auto; max-height: 24rem; font-size: .85rem; }
dl.props { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.props dt { font-weight: 600; }
dl.props dd { margin: 0; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .875rem; word-break: break-all; }
.chart { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
.chart .bar-ok { fill: var(--accent); }
.chart .bar-failed { fill: var(--bad); }
.chart text { fill: var(--muted); font-size: 11px; }
.chart line { stroke: var(--line); }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: .25rem 1rem 1rem; margin: 1.5rem 0; }
button.danger { background: var(--bg); color: var(--bad); border-color: var(--bad); }
.bar.tight { margin: 0; gap: .5rem; }
ul.scopes { list-style: none; margin: 0; padding: 0; }
.notice.secret code { display: block; padding: .4rem .5rem; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: .5rem 0 1rem; }
.table-wrap > table { margin: 0; }
.review { border: 2px solid var(--accent); border-radius: 8px; padding: .25rem 1rem 1rem; max-width: 48rem; }
.review ol { margin: 0; padding-left: 1.25rem; }
.review .skips { color: var(--warn); }
/* Narrow screens (375 px and up): forms stack; a table.stack shows each row as a card of label: value
   lines (labels from data-label); other tables keep readable columns and scroll in their own box. */
@media (max-width: 40rem) {
  .top { padding: .5rem .75rem; gap: .25rem 1rem; }
  nav a { padding: .3rem .5rem; }
  main { padding: .75rem .75rem 2rem; }
  .status { padding: 0 .75rem; }
  h1 { font-size: 1.35rem; word-break: break-word; }
  fieldset { padding: .5rem .6rem .75rem; }
  .aud-own { margin-left: .5rem; }
  dl.props { grid-template-columns: 1fr; gap: 0; }
  dl.props dd { margin-bottom: .5rem; overflow-wrap: anywhere; }
  .table-wrap > table { min-width: 34rem; }
  .review { padding: .25rem .75rem .75rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
  table.stack td { display: grid; grid-template-columns: 6.5rem minmax(0, 1fr); gap: .5rem; border: none; padding: .15rem 0; }
  table.stack td::before { content: attr(data-label); font-weight: 600; }
}
`;
