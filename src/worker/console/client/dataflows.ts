/**
 * Browser module `dataflows.js`: list, create/edit (audiences or dataset, mapping, schedule, naming,
 * mode, alerts), export now. A new dataflow is reviewed (review.js) before it is activated.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const DATAFLOWS_JS = String.raw`
import { api, listAll } from './api.js';
import { busy, clearIssues, copyButton, field, fill, formatNumber, h, heading, radioValue, radios, savedStatus, showIssues, status, val } from './ui.js';
import { mappingEditor, readMapping } from './mapping.js';
import { audienceSizes, reviewSummary } from './review.js';
import { FREQUENCIES, audienceSettings, describeSchedule as describe, namingFields, readAudienceSettings, readNaming, readSchedule, scheduleFields, toggleAudienceSettings, toggleSchedule } from './schedule.js';

let created;

/** Renders the list ('' id), the new form ('new') or one dataflow with "Export now". */
export async function render(main, id) {
  const [destinations, audiences] = await Promise.all([listAll('/destinations'), listAll('/audiences')]);
  if (!id) return list(main, destinations);
  // Datasets are listed in one page; an older server without /v1/datasets just gets no suggestions.
  const datasets = await api('GET', '/datasets').then((r) => r.items, () => []);
  const flow = id === 'new' ? undefined : await api('GET', '/dataflows/' + encodeURIComponent(id));
  fill(main, heading(flow ? 'Dataflow: ' + flow.name : 'New dataflow'));
  if (flow) {
    main.append(h('div', { class: 'bar' }, exportNow(flow), h('a', { href: '#/runs?dataflow=' + flow.id }, 'Runs of this dataflow')));
    if (created && created.id === flow.id) main.append(secretNotice(created));
    created = undefined;
  }
  if (destinations.length === 0)
    main.append(h('p', { class: 'notice' }, 'Create a ', h('a', { href: '#/destinations/new' }, 'destination'), ' first.'));
  main.append(form(flow, destinations, audiences, datasets));
}

async function list(main, destinations) {
  const flows = await listAll('/dataflows');
  const names = Object.fromEntries(destinations.map((d) => [d.id, d.name]));
  fill(main, heading('Dataflows'),
    h('div', { class: 'bar' }, h('a', { class: 'button', href: '#/dataflows/new' }, 'New dataflow')),
    flows.length === 0 ? h('p', {}, 'No dataflows yet: a dataflow sends audiences or a dataset to a destination.') :
      h('table', {}, h('caption', { class: 'sr-only' }, 'Dataflows'),
        h('thead', {}, h('tr', {}, ['Name', 'Destination', 'Exports', 'Schedule', 'Mode', 'Enabled', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, flows.map((f) => h('tr', {},
          h('td', {}, h('a', { href: '#/dataflows/' + f.id }, f.name)),
          h('td', {}, names[f.destinationId] || f.destinationId),
          h('td', {}, f.datasetId ? 'Dataset ' + f.datasetId : formatNumber(f.audienceIds.length) + ' audience(s)'),
          h('td', {}, describe(f.schedule) + ownSchedules(f)), h('td', {}, f.exportMode), h('td', {}, f.enabled ? 'Yes' : 'No'),
          h('td', {}, exportNow(f)))))));
}

/** "; 1 audience on its own schedule" when audiences of the dataflow have their own. */
function ownSchedules(f) {
  const n = (f.audiences || []).filter((a) => a.schedule !== undefined).length;
  return n === 0 ? '' : '; ' + n + (n === 1 ? ' audience' : ' audiences') + ' on its own schedule';
}

function exportNow(flow) {
  const button = h('button', { type: 'button', 'aria-label': 'Export now: ' + flow.name, onclick: () => busy(button, async () => {
    try {
      const run = await api('POST', '/dataflows/' + flow.id + '/run');
      status('Export of ' + flow.name + ' queued', 'ok');
      location.hash = '#/runs/' + run.id;
    } catch (error) {
      status('Export now failed: ' + error.message, 'error');
    }
  }) }, 'Export now');
  return button;
}

function secretNotice(flow) {
  return h('div', { class: 'notice', role: 'note' },
    h('p', {}, 'Webhook trigger: POST ', h('code', { class: 'mono' }, flow.webhookUrl), ' signed with this secret. It is shown only now:'),
    h('p', {}, h('code', { class: 'mono' }, flow.webhookSecret), ' ', copyButton('Copy webhook secret', () => flow.webhookSecret)));
}

function form(flow, destinations, audiences, datasets) {
  const s = flow?.schedule;
  const n = flow?.naming || {};
  const subject = flow?.datasetId ? 'dataset' : 'audiences';
  const chosen = new Set(flow?.audienceIds || []);
  const own = Object.fromEntries((flow?.audiences || []).map((a) => [a.id, a]));
  const f = h('form', { novalidate: true, 'aria-label': 'Dataflow settings' },
    h('fieldset', {}, h('legend', {}, 'Dataflow'),
      field({ id: 'df-name', label: 'Name', path: 'name', value: flow?.name }),
      field({ id: 'df-destination', label: 'Destination', path: 'destinationId', type: 'select', value: flow?.destinationId,
        options: destinations.map((d) => [d.id, d.name + ' (' + d.bucket + ')']) })),
    radios({ name: 'df-subject', legend: 'What to export', path: 'subject', value: subject, onchange: toggle,
      options: [['audiences', 'Audiences'], ['dataset', 'A dataset']] }),
    // The list is the audienceIds field: its errors sit under the list, labelled "Audiences".
    h('fieldset', { id: 'part-audiences', 'data-path': 'audienceIds', tabindex: '-1', 'aria-describedby': 'part-audiences-error' }, h('legend', {}, 'Audiences'),
      audiences.length === 0 ? h('p', {}, 'No audiences yet: ', h('a', { href: '#/audiences' }, 'create one'), '.') :
        audiences.map((a) => [h('div', { class: 'field check' },
          h('input', { type: 'checkbox', id: 'df-aud-' + a.id, class: 'aud', value: a.id, checked: chosen.has(a.id), onchange: toggle }),
          h('label', { for: 'df-aud-' + a.id }, a.name + ' (' + a.kind + ')')),
          audienceSettings(a, own[a.id], toggle)]),
      h('p', { class: 'error-text', id: 'part-audiences-error' })),
    h('div', { id: 'part-dataset' },
      field({ id: 'df-dataset', label: 'Dataset ID', path: 'datasetId', value: flow?.datasetId, attrs: { list: 'df-datasets' },
        hint: 'Exported whole (then incrementally), as JSON or Parquet, into <folder>/<datasetId>/exportTime=YYYYMMDDHHMM/.' }),
      h('datalist', { id: 'df-datasets' }, datasets.map((d) => h('option', { value: d.id }, d.name)))),
    mappingEditor(flow?.mapping),
    h('fieldset', {}, h('legend', {}, 'Schedule (UTC)'),
      field({ id: 'df-freq', label: 'Frequency', path: 'schedule.frequency', type: 'select', value: s?.frequency ?? '',
        options: [['', 'On demand only (export now, webhook)'], ...FREQUENCIES],
        attrs: { onchange: toggle } }),
      scheduleFields('df', 'schedule', s, (text) => text)),
    h('fieldset', {}, h('legend', {}, 'File naming'),
      h('p', { class: 'hint' }, 'Names always start with the destination name and the audience ID.'),
      namingFields('df', 'naming', n, (text) => text)),
    h('fieldset', {}, h('legend', {}, 'Partitioning'),
      field({ id: 'df-p-columns', label: 'Partition by columns (optional)', path: 'partitionBy.columns', value: (flow?.partitionBy?.columns || []).join(', '),
        hint: 'One or two output columns (headers), comma-separated: files go under column=value/ folders (Hive-style); missing values under __HIVE_DEFAULT_PARTITION__.' }),
      field({ id: 'df-p-max', label: 'Most partitions a run may write', path: 'partitionBy.maxPartitions', type: 'number', value: flow?.partitionBy?.maxPartitions ?? 1000,
        attrs: { min: '1', max: '10000' } })),
    radios({ name: 'df-mode', legend: 'Export mode', path: 'exportMode', value: flow?.exportMode ?? 'full',
      options: [['full', 'Full files every time'], ['incremental', 'First full, then incremental (includes exited members)'],
        ['insert-only', 'Insert only: members that joined since the last run (audiences)'],
        ['diff', 'Diff: added, changed and removed members as separate files (audiences)']] }),
    h('fieldset', {}, h('legend', {}, 'Alerts and state'),
      field({ id: 'df-alert', label: 'Alert webhook (optional)', path: 'alertWebhook', type: 'url', value: flow?.alertWebhook,
        hint: 'Receives the alerts chosen below, as signed JSON or as a Slack message.' }),
      field({ id: 'df-alert-format', label: 'Alert format', path: 'alertFormat', type: 'select', value: flow?.alertFormat ?? 'signed-json',
        options: [['signed-json', 'JSON (signed when a secret is set)'], ['slack', 'Slack incoming webhook']] }),
      alertEventChoices(flow),
      field({ id: 'df-alert-secret', label: 'Alert signing secret (optional)', path: 'alertSecret', type: 'password',
        hint: flow?.alertSigned ? 'Set: leave empty to keep it.' : 'At least 16 characters; alerts then carry X-Edge-Export-Signature.' }),
      field({ id: 'df-late', label: 'Late after, minutes (optional)', path: 'lateAfterMinutes', type: 'number', value: flow?.lateAfterMinutes,
        attrs: { min: 1, max: 10080, step: 1 }, hint: 'A scheduled run not finished this long after its slot sends one "Run delayed" alert.' }),
      field({ id: 'df-skipped', label: 'Skipped-rate threshold, 0 to 1 (optional)', path: 'skippedRateThreshold', type: 'number', value: flow?.skippedRateThreshold,
        attrs: { min: 0, max: 1, step: 0.01 }, hint: 'Alert when skipped rows exceed this share of the rows read.' }),
      field({ id: 'df-enabled', label: 'Enabled (scheduled runs happen)', path: 'enabled', type: 'checkbox', value: flow ? flow.enabled : true })),
    h('div', { class: 'bar' }, h('button', { type: 'submit' }, flow ? 'Save changes' : 'Review'), h('a', { href: '#/dataflows' }, 'Cancel')));
  f.addEventListener('submit', (event) => (flow ? save(event, f, flow) : review(event, f, destinations, audiences)));
  queueMicrotask(toggle);
  return f;
}

/** The events the alert webhook receives (the alertEvents field: its errors sit under the group). */
const ALERT_EVENTS = [['run.started', 'Run started'], ['run.succeeded', 'Run succeeded'], ['run.failed', 'Run failed'],
  ['run.delayed', 'Run delayed (missed slots, or late)'], ['run.skipped_rate', 'Skipped rows above the threshold'],
  ['run.recovered', 'Recovered (a success after a failure)']];

function alertEventChoices(flow) {
  // A new dataflow starts with the API's default: every event but run.recovered.
  const chosen = new Set(flow?.alertEvents ?? ALERT_EVENTS.map(([e]) => e).filter((e) => e !== 'run.recovered'));
  return h('fieldset', { id: 'df-alert-events', 'data-path': 'alertEvents', tabindex: '-1', 'aria-describedby': 'df-alert-events-error' },
    h('legend', {}, 'Alert on'),
    ALERT_EVENTS.map(([event, label]) => h('div', { class: 'field check' },
      h('input', { type: 'checkbox', id: 'df-ev-' + event, class: 'alert-event', value: event, checked: chosen.has(event) }),
      h('label', { for: 'df-ev-' + event }, label))),
    h('p', { class: 'error-text', id: 'df-alert-events-error' }));
}

function toggle() {
  const dataset = radioValue('df-subject') === 'dataset';
  document.getElementById('part-audiences').hidden = dataset;
  document.getElementById('part-dataset').hidden = !dataset;
  toggleSchedule('df', val('df-freq'));
  toggleAudienceSettings();
}

function collect() {
  const body = { name: val('df-name'), destinationId: val('df-destination'), exportMode: radioValue('df-mode'), enabled: val('df-enabled') };
  if (radioValue('df-subject') === 'dataset') body.datasetId = val('df-dataset');
  else {
    body.audienceIds = [...document.querySelectorAll('input.aud:checked')].map((el) => el.value);
    const audiences = readAudienceSettings(body.audienceIds);
    if (audiences.length > 0) body.audiences = audiences;
  }
  const mapping = readMapping();
  if (mapping) body.mapping = mapping;
  if (val('df-freq')) body.schedule = readSchedule('df', val('df-freq'));
  body.naming = readNaming('df');
  if (val('df-alert')) {
    body.alertWebhook = val('df-alert');
    body.alertFormat = val('df-alert-format');
    body.alertEvents = [...document.querySelectorAll('input.alert-event:checked')].map((el) => el.value);
  }
  if (val('df-alert-secret')) body.alertSecret = val('df-alert-secret');
  if (val('df-late') !== '') body.lateAfterMinutes = Number(val('df-late'));
  if (val('df-skipped') !== '') body.skippedRateThreshold = Number(val('df-skipped'));
  const columns = val('df-p-columns').split(',').map((c) => c.trim()).filter(Boolean);
  if (columns.length) body.partitionBy = { columns, maxPartitions: Number(val('df-p-max')) };
  return body;
}

/**
 * The review step of a new dataflow: the audiences' sizes are asked first (the API checks the mapping
 * then, so a bad field is shown on the form at once), then the summary replaces the form until
 * "Activate" (which creates it) or "Back to edit".
 */
async function review(event, f, destinations, audiences) {
  event.preventDefault();
  const submit = f.querySelector('button[type=submit]');
  await busy(submit, async () => {
    clearIssues(f);
    const body = collect();
    const chosen = audiences.filter((a) => (body.audienceIds || []).includes(a.id));
    let previews;
    try {
      previews = await Promise.all(chosen.map((a) =>
        api('POST', '/audiences/' + encodeURIComponent(a.id) + '/preview', body.mapping ? { mapping: body.mapping } : {})));
    } catch (error) {
      showIssues(f, error);
      status('Nothing to review yet: see the problems listed', 'error');
      return;
    }
    const destination = destinations.find((d) => d.id === body.destinationId);
    const back = h('button', { type: 'button', class: 'secondary' }, 'Back to edit');
    const activate = h('button', { type: 'button', id: 'activate' }, body.enabled ? 'Activate' : 'Create (not enabled)');
    const panel = h('section', { class: 'review', id: 'review', 'aria-labelledby': 'review-heading' },
      h('h2', { id: 'review-heading', tabindex: '-1' }, 'Review before activating'),
      reviewSummary(body, destination, chosen, body.schedule ? describe(body.schedule) : 'On demand only (export now, webhook)'),
      chosen.length > 0 && audienceSizes(chosen, previews, body.mapping),
      h('div', { class: 'bar' }, activate, back));
    const edit = () => {
      panel.remove();
      f.hidden = false;
      submit.focus();
    };
    back.addEventListener('click', edit);
    activate.addEventListener('click', () => busy(activate, async () => {
      try {
        const saved = await api('POST', '/dataflows', body);
        savedStatus('Dataflow ' + saved.name + (saved.enabled ? ' activated' : ' created'), saved);
        created = saved;
        location.hash = '#/dataflows/' + saved.id;
      } catch (error) {
        edit();
        showIssues(f, error);
        status('The dataflow was not activated: see the problems listed', 'error');
      }
    }));
    f.hidden = true;
    f.after(panel);
    panel.querySelector('h2').focus();
  });
}

async function save(event, f, flow) {
  event.preventDefault();
  await busy(f.querySelector('button[type=submit]'), async () => {
    try {
      clearIssues(f);
      const saved = flow ? await api('PUT', '/dataflows/' + flow.id, collect()) : await api('POST', '/dataflows', collect());
      savedStatus('Dataflow ' + saved.name + ' saved', saved);
      if (flow) await render(document.getElementById('main'), flow.id);
      else {
        created = saved;
        location.hash = '#/dataflows/' + saved.id;
      }
    } catch (error) {
      showIssues(f, error);
      status('The dataflow was not saved: see the problems listed', 'error');
    }
  });
}

`;
