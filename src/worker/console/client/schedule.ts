/**
 * Browser module `schedule.js`: the schedule and file-naming fields of a dataflow, and the same
 * fields per audience (the reference sets both per audience in one activation): an audience can keep
 * the dataflow's schedule and naming, or have its own schedule (or only run on demand) and its own
 * file names. Dataflow fields have the ids `df-…`; an audience's `df-a-<audienceId>-…`.
 */
export const SCHEDULE_JS = String.raw`
import { field, h, val } from './ui.js';

export const FREQUENCIES = [['once', 'Once'], ['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly'], ['hourly', 'Every few hours']];
const NAME_PARTS = [['audienceName', 'Add the audience name'], ['destinationId', 'Add the destination ID'], ['organization', 'Add the organization'], ['sandbox', 'Add the sandbox']];

export function describeSchedule(s) {
  if (!s) return 'On demand';
  const at = s.time === 'afterEvaluation' ? 'after audience evaluation' : 'at ' + s.time + ' UTC';
  const every = s.frequency === 'hourly' ? 'every ' + s.everyHours + ' hours' : s.frequency;
  return every + ' ' + at + ' from ' + s.startDate + (s.endDate ? ' until ' + s.endDate : '');
}

// A schedule's fields: ids p-…, API paths path.…, shown in p-sched once it has a frequency.
export function scheduleFields(p, path, s, label) {
  return h('div', { id: p + '-sched' },
    field({ id: p + '-every', label: label('Every'), path: path + '.everyHours', type: 'select', value: s?.everyHours ?? 6,
      options: [[3, '3 hours'], [6, '6 hours'], [8, '8 hours'], [12, '12 hours']] }),
    field({ id: p + '-time', label: label('Time of day (UTC)'), path: path + '.time', type: 'time', value: s && s.time !== 'afterEvaluation' ? s.time : '00:00' }),
    field({ id: p + '-after', label: label('Run after audience evaluation instead'), path: path + '.afterEvaluation', type: 'checkbox', value: s?.time === 'afterEvaluation' }),
    field({ id: p + '-start', label: label('Start date'), path: path + '.startDate', type: 'date', value: s?.startDate ?? new Date().toISOString().slice(0, 10) }),
    field({ id: p + '-end', label: label('End date (optional, excluded)'), path: path + '.endDate', type: 'date', value: s?.endDate }));
}

export function namingFields(p, path, n, label) {
  return [
    field({ id: p + '-n-dateTime', label: label('Date and time'), path: path + '.dateTime', type: 'select', value: n.dateTime ?? 'datetime',
      options: [['datetime', 'YYYYMMDD_HHMMSS'], ['unix', 'Unix seconds'], ['none', 'None (each export overwrites the previous)']] }),
    NAME_PARTS.map(([k, text]) => field({ id: p + '-n-' + k, label: label(text), path: path + '.' + k, type: 'checkbox', value: n[k] })),
    field({ id: p + '-n-customText', label: label('Custom text (optional)'), path: path + '.customText', value: n.customText, hint: 'Letters, digits, _ - . only.' }),
    field({ id: p + '-n-template', label: label('Template (optional)'), path: path + '.template', value: n.template,
      hint: 'Replaces the parts above, e.g. {destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}. Tokens: {destination} {destination.id} {audience.id} {audience.name} {dataset.id} {organization} {sandbox} {run.id} {datetime} {unix} {date} {YYYY} {MM} {DD} {HH} {MI} {SS} (docs/NAMING.md).' }),
  ];
}

export function readSchedule(p, f) {
  const s = { frequency: f, time: val(p + '-after') ? 'afterEvaluation' : val(p + '-time'), startDate: val(p + '-start') };
  if (f === 'hourly') s.everyHours = Number(val(p + '-every'));
  if (val(p + '-end')) s.endDate = val(p + '-end');
  return s;
}

export function readNaming(p) {
  const n = { dateTime: val(p + '-n-dateTime') };
  for (const [k] of NAME_PARTS) if (val(p + '-n-' + k)) n[k] = true;
  if (val(p + '-n-customText')) n.customText = val(p + '-n-customText');
  // A template replaces the parts (the API refuses parts set beside it).
  if (val(p + '-n-template')) n.template = val(p + '-n-template');
  return n;
}

export function toggleSchedule(p, f) {
  const part = document.getElementById(p + '-sched');
  if (part) part.hidden = !f || f === 'inherit';
  const every = document.getElementById(p + '-every');
  if (every) every.closest('.field').hidden = f !== 'hourly';
}

// An audience's labels, "Gold members: start date", differ from the dataflow's own.
const labelFor = (a) => (text) => a.name + ': ' + text.replace(' (optional)', '').replace('Time of day', 'time').replace(/^./, (c) => c.toLowerCase());

// A button opening an audience's own schedule and naming, both "the dataflow's" until changed.
export function audienceSettings(a, settings, onchange) {
  const p = 'df-a-' + a.id;
  const box = h('div', { id: p + '-own', class: 'aud-own' });
  const open = (focus) => {
    const label = labelFor(a);
    const schedule = settings?.schedule;
    const naming = settings?.naming;
    const fieldset = h('fieldset', { id: p + '-settings', 'data-path': 'audiences[]', 'data-audience': a.id, tabindex: '-1', 'aria-describedby': p + '-settings-error' },
      h('legend', {}, a.name + ': own schedule and file names'),
      field({ id: p + '-freq', label: label('Schedule'), path: 'audiences[].schedule.frequency', type: 'select',
        value: schedule === undefined ? 'inherit' : schedule === null ? '' : schedule.frequency,
        options: [['inherit', "The dataflow's schedule"], ['', 'On demand only (export now, webhook)'], ...FREQUENCIES], attrs: { onchange } }),
      scheduleFields(p, 'audiences[].schedule', schedule || undefined, label),
      field({ id: p + '-naming', label: label('File names'), path: 'audiences[].naming', type: 'select', value: naming ? 'own' : 'inherit',
        options: [['inherit', "The dataflow's file naming"], ['own', 'Its own file naming']], attrs: { onchange } }),
      h('div', { id: p + '-names' }, namingFields(p, 'audiences[].naming', naming || {}, label)),
      h('p', { class: 'error-text', id: p + '-settings-error' }));
    box.replaceChildren(fieldset);
    onchange();
    if (focus) document.getElementById(p + '-freq').focus();
  };
  const opener = h('button', { type: 'button', class: 'secondary small', onclick: () => open(true) }, 'Own schedule and file names for ' + a.name);
  box.append(opener);
  if (settings) queueMicrotask(() => open(false));
  return box;
}

export function toggleAudienceSettings() {
  for (const box of document.querySelectorAll('.aud-own')) {
    const id = box.id.slice('df-a-'.length, -'-own'.length);
    box.hidden = !document.getElementById('df-aud-' + id)?.checked;
    const p = 'df-a-' + id;
    toggleSchedule(p, val(p + '-freq'));
    const names = document.getElementById(p + '-names');
    if (names) names.hidden = val(p + '-naming') !== 'own';
  }
}

// The body's audiences (settings that differ); each fieldset learns its index for audiences[i]… errors.
export function readAudienceSettings(audienceIds) {
  const list = [];
  for (const id of audienceIds) {
    const p = 'df-a-' + id;
    const fieldset = document.getElementById(p + '-settings');
    if (!fieldset) continue;
    const f = val(p + '-freq');
    const entry = { id };
    if (f !== 'inherit') entry.schedule = f ? readSchedule(p, f) : null;
    if (val(p + '-naming') === 'own') entry.naming = readNaming(p);
    if (entry.schedule === undefined && !entry.naming) continue;
    for (const el of [fieldset, ...fieldset.querySelectorAll('[data-path]')])
      el.dataset.path = el.dataset.path.replace(/^audiences\[\d*\]/, 'audiences[' + list.length + ']');
    list.push(entry);
  }
  return list;
}
`;
