/**
 * Browser module `review.js`: the review of a new dataflow before it is activated — a summary of what
 * was chosen, and each audience's size now (members, and those the mapping would skip).
 */
export const REVIEW_JS = String.raw`
import { formatNumber, h } from './ui.js';
import { describeSchedule } from './schedule.js';

const MODE_LABELS = {
  full: 'Full files every time',
  incremental: 'First full, then incremental',
  'insert-only': 'Insert only: members that joined since the last run',
  diff: 'Diff: added, changed and removed files',
};

/** What the review lists: destination, what is exported, schedule, mode, mapping, file names, alerts. */
export function reviewSummary(body, destination, chosen, scheduleText) {
  const m = body.mapping;
  const columns = m ? h('ol', { id: 'review-mapping' }, m.fields.map((f) => h('li', {},
    h('code', { class: 'mono' }, headerOf(f)), ' ← ', h('code', { class: 'mono' }, f.source), f.transforms && f.transforms.length ? ' → ' + f.transforms.map((t) => (typeof t === 'string' ? t : t.name)).join(' → ') : '',
    f.mandatory ? ' (mandatory)' : ''))) : 'None';
  const dedup = m && m.dedup ? (m.dedup.identity ? 'identity ' + m.dedup.identity : 'attributes ' + m.dedup.attributes.join(' + ')) : 'none';
  const rows = [
    ['Destination', destination ? destination.name + ': s3://' + destination.bucket + '/' + (destination.folderPath || '') : body.destinationId || 'none chosen'],
    ['Exports', body.datasetId ? 'Dataset ' + body.datasetId : chosen.length ? chosen.map((a) => a.name).join(', ') : 'no audience chosen'],
    ['Schedule', scheduleText],
    ['Export mode', MODE_LABELS[body.exportMode] ?? body.exportMode],
    ['Mapping', [columns, m ? h('p', { class: 'hint' }, 'Deduplication key: ' + dedup) : '']],
    ['File names', h('code', { class: 'mono', id: 'review-name' }, exampleName(body.naming, destination, chosen[0]))],
    ['Partitioning', body.partitionBy ? h('code', { class: 'mono', id: 'review-partition' }, body.partitionBy.columns.map((c) => c + '=<value>').join('/') + '/') : 'none'],
    ...(body.audiences ? [['Per audience', h('ul', { id: 'review-audiences' }, body.audiences.map((s) => perAudience(s, destination, chosen)))]] : []),
    ['Alerts', body.alertWebhook ? body.alertWebhook + ' (' + (body.alertFormat === 'slack' ? 'Slack' : 'JSON') + '): ' + body.alertEvents.join(', ') +
      (body.lateAfterMinutes ? '; late after ' + body.lateAfterMinutes + ' minutes' : '') : 'none'],
    ['Enabled', body.enabled ? 'Yes: scheduled runs happen' : 'No: only on demand'],
  ];
  return h('dl', { class: 'props', id: 'review-summary' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** "Gold members: daily at 07:00 UTC from …; files Moto_bucket_aud_1_….csv" (what differs from the dataflow's). */
function perAudience(s, destination, chosen) {
  const a = chosen.find((c) => c.id === s.id) || { id: s.id, name: s.id };
  const parts = [];
  if (s.schedule !== undefined) parts.push(s.schedule ? describeSchedule(s.schedule) : 'on demand only');
  if (s.naming) parts.push('files ' + exampleName(s.naming, destination, a));
  return h('li', { class: 'wrap' }, a.name + ': ' + parts.join('; '));
}

/** A header as the export names it: the target, else the source without "attributes.", "." → "_". */
function headerOf(f) {
  return (f.target || f.source.replace(/^attributes\./, '')).replaceAll('.', '_');
}

/** The first file's name, in the parts' order (src/core/naming.ts), with placeholders for what a run sets. */
function exampleName(naming, destination, audience) {
  const n = naming || {};
  const ext = destination ? '.' + destination.fileType + ({ gzip: '.gz', zstd: '.zst' }[destination.compression] ?? '') : '';
  if (n.template) return n.template + ext;
  const parts = [destination ? destination.name : 'destination', audience ? audience.id : '<dataset id>'];
  if (n.audienceName && audience) parts.push(audience.name);
  if (n.dateTime === 'datetime') parts.push('YYYYMMDD_HHMMSS');
  if (n.dateTime === 'unix') parts.push('<unix seconds>');
  if (n.customText) parts.push(n.customText);
  if (n.destinationId && destination) parts.push(destination.id);
  if (n.organization) parts.push('<organization>');
  if (n.sandbox) parts.push('<sandbox>');
  return parts.map((p) => String(p).replace(/\s+/g, '_')).join('_') + ext;
}

/** Each audience's size now (POST /v1/audiences/{id}/preview), and what the mapping would skip. */
export function audienceSizes(chosen, previews, mapping) {
  const estimated = previews.find((p) => !p.complete);
  return [
    h('h3', { id: 'sizes-heading' }, 'Audience size now'),
    h('table', { id: 'review-sizes', 'aria-labelledby': 'sizes-heading' },
      h('thead', {}, h('tr', {}, [['Audience', ''], ['Members', 'num'], ['Skipped', 'num'], ['Would be exported', 'num']].map(([t, c]) => h('th', { scope: 'col', class: c }, t)))),
      h('tbody', {}, previews.map((p, i) => h('tr', {},
        h('td', {}, chosen[i].name),
        h('td', { class: 'num' }, formatNumber(p.members)),
        h('td', { class: 'num' }, formatNumber(p.skipped)),
        h('td', { class: 'num' }, formatNumber(p.members - p.skipped)))))),
    previews.some((p) => p.skipped > 0) && h('ul', { class: 'skips', id: 'review-skips', 'aria-label': 'Why members would be skipped' },
      previews.flatMap((p, i) => Object.entries(p.skippedBy).map(([reason, n]) => h('li', {}, chosen[i].name + ': ' + formatNumber(n) + ' ' + skipText(reason))))),
    h('p', { class: 'hint' }, mapping ? 'Members are profiles in the audience now; skipped ones lack a mandatory field, hold a value its column cannot take, or have no deduplication key.' : 'Members are profiles in the audience now.',
      estimated ? ' Estimated from the first ' + formatNumber(estimated.sample.profiles) + ' of ' + formatNumber(estimated.profiles) + ' profiles.' : ''),
  ];
}

/** "missing:attributes.email" → "without attributes.email (mandatory)". */
function skipText(reason) {
  const [kind, field] = [reason.slice(0, reason.indexOf(':')), reason.slice(reason.indexOf(':') + 1)];
  return kind === 'missing' ? 'without ' + field + ' (mandatory or deduplication key)' : kind === 'invalid' ? 'with a value of ' + field + ' its column cannot hold' : reason;
}
`;
