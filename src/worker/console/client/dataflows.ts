/**
 * Browser module `dataflows.js`: list, create/edit (audiences or dataset, mapping, schedule, naming,
 * mode), export now. A new dataflow is reviewed (review.js) before it is activated.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const DATAFLOWS_JS = String.raw`
import { api, listAll } from './api.js';
import { busy, clearIssues, copyButton, field, fill, formatNumber, h, heading, radioValue, radios, savedStatus, showIssues, status, val } from './ui.js';
import { mappingEditor, readMapping } from './mapping.js';
import { audienceSizes, reviewSummary } from './review.js';

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
          h('td', {}, describe(f.schedule)), h('td', {}, f.exportMode), h('td', {}, f.enabled ? 'Yes' : 'No'),
          h('td', {}, exportNow(f)))))));
}

/** "every day at 06:00 UTC from 2026-01-01" */
function describe(s) {
  if (!s) return 'On demand';
  const at = s.time === 'afterEvaluation' ? 'after audience evaluation' : 'at ' + s.time + ' UTC';
  const every = s.frequency === 'hourly' ? 'every ' + s.everyHours + ' hours' : s.frequency;
  return every + ' ' + at + ' from ' + s.startDate + (s.endDate ? ' until ' + s.endDate : '');
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
        audiences.map((a) => h('div', { class: 'field check' },
          h('input', { type: 'checkbox', id: 'df-aud-' + a.id, class: 'aud', value: a.id, checked: chosen.has(a.id) }),
          h('label', { for: 'df-aud-' + a.id }, a.name + ' (' + a.kind + ')'))),
      h('p', { class: 'error-text', id: 'part-audiences-error' })),
    h('div', { id: 'part-dataset' },
      field({ id: 'df-dataset', label: 'Dataset ID', path: 'datasetId', value: flow?.datasetId, attrs: { list: 'df-datasets' },
        hint: 'Exported whole (then incrementally), as JSON or Parquet, into <folder>/<datasetId>/exportTime=YYYYMMDDHHMM/.' }),
      h('datalist', { id: 'df-datasets' }, datasets.map((d) => h('option', { value: d.id }, d.name)))),
    mappingEditor(flow?.mapping),
    h('fieldset', {}, h('legend', {}, 'Schedule (UTC)'),
      field({ id: 'df-freq', label: 'Frequency', path: 'schedule.frequency', type: 'select', value: s?.frequency ?? '',
        options: [['', 'On demand only (export now, webhook)'], ['once', 'Once'], ['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly'], ['hourly', 'Every few hours']],
        attrs: { onchange: toggle } }),
      h('div', { id: 'part-schedule' },
        field({ id: 'df-every', label: 'Every', path: 'schedule.everyHours', type: 'select', value: s?.everyHours ?? 6,
          options: [[3, '3 hours'], [6, '6 hours'], [8, '8 hours'], [12, '12 hours']] }),
        field({ id: 'df-time', label: 'Time of day (UTC)', path: 'schedule.time', type: 'time', value: s && s.time !== 'afterEvaluation' ? s.time : '00:00' }),
        field({ id: 'df-after', label: 'Run after audience evaluation instead', path: 'schedule.afterEvaluation', type: 'checkbox', value: s?.time === 'afterEvaluation' }),
        field({ id: 'df-start', label: 'Start date', path: 'schedule.startDate', type: 'date', value: s?.startDate ?? new Date().toISOString().slice(0, 10) }),
        field({ id: 'df-end', label: 'End date (optional, excluded)', path: 'schedule.endDate', type: 'date', value: s?.endDate }))),
    h('fieldset', {}, h('legend', {}, 'File naming'),
      h('p', { class: 'hint' }, 'Names always start with the destination name and the audience ID.'),
      field({ id: 'df-n-dateTime', label: 'Date and time', path: 'naming.dateTime', type: 'select', value: n.dateTime ?? 'datetime',
        options: [['datetime', 'YYYYMMDD_HHMMSS'], ['unix', 'Unix seconds'], ['none', 'None (each export overwrites the previous)']] }),
      field({ id: 'df-n-audienceName', label: 'Add the audience name', path: 'naming.audienceName', type: 'checkbox', value: n.audienceName }),
      field({ id: 'df-n-destinationId', label: 'Add the destination ID', path: 'naming.destinationId', type: 'checkbox', value: n.destinationId }),
      field({ id: 'df-n-organization', label: 'Add the organization', path: 'naming.organization', type: 'checkbox', value: n.organization }),
      field({ id: 'df-n-sandbox', label: 'Add the sandbox', path: 'naming.sandbox', type: 'checkbox', value: n.sandbox }),
      field({ id: 'df-n-customText', label: 'Custom text (optional)', path: 'naming.customText', value: n.customText, hint: 'Letters, digits, _ - . only.' }),
      field({ id: 'df-n-template', label: 'Template (optional)', path: 'naming.template', value: n.template,
        hint: 'Replaces the parts above, e.g. {destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}. Tokens: {destination} {destination.id} {audience.id} {audience.name} {dataset.id} {organization} {sandbox} {run.id} {datetime} {unix} {date} {YYYY} {MM} {DD} {HH} {MI} {SS}.' })),
    h('fieldset', {}, h('legend', {}, 'Partitioning'),
      field({ id: 'df-p-columns', label: 'Partition by columns (optional)', path: 'partitionBy.columns', value: (flow?.partitionBy?.columns || []).join(', '),
        hint: 'One or two output columns (headers), comma-separated: files go under column=value/ folders (Hive-style); missing values under __HIVE_DEFAULT_PARTITION__.' }),
      field({ id: 'df-p-max', label: 'Most partitions a run may write', path: 'partitionBy.maxPartitions', type: 'number', value: flow?.partitionBy?.maxPartitions ?? 1000,
        attrs: { min: '1', max: '10000' } })),
    radios({ name: 'df-mode', legend: 'Export mode', path: 'exportMode', value: flow?.exportMode ?? 'full',
      options: [['full', 'Full files every time'], ['incremental', 'First full, then incremental (includes exited members)']] }),
    h('fieldset', {}, h('legend', {}, 'Alerts and state'),
      field({ id: 'df-alert', label: 'Alert webhook (optional)', path: 'alertWebhook', type: 'url', value: flow?.alertWebhook,
        hint: 'Receives run started, succeeded, failed, delayed and skipped-rate alerts.' }),
      field({ id: 'df-enabled', label: 'Enabled (scheduled runs happen)', path: 'enabled', type: 'checkbox', value: flow ? flow.enabled : true })),
    h('div', { class: 'bar' }, h('button', { type: 'submit' }, flow ? 'Save changes' : 'Review'), h('a', { href: '#/dataflows' }, 'Cancel')));
  f.addEventListener('submit', (event) => (flow ? save(event, f, flow) : review(event, f, destinations, audiences)));
  queueMicrotask(toggle);
  return f;
}

function toggle() {
  const dataset = radioValue('df-subject') === 'dataset';
  document.getElementById('part-audiences').hidden = dataset;
  document.getElementById('part-dataset').hidden = !dataset;
  document.getElementById('part-schedule').hidden = val('df-freq') === '';
  document.getElementById('df-every').closest('.field').hidden = val('df-freq') !== 'hourly';
}

function collect() {
  const body = { name: val('df-name'), destinationId: val('df-destination'), exportMode: radioValue('df-mode'), enabled: val('df-enabled') };
  if (radioValue('df-subject') === 'dataset') body.datasetId = val('df-dataset');
  else body.audienceIds = [...document.querySelectorAll('input.aud:checked')].map((el) => el.value);
  const mapping = readMapping();
  if (mapping) body.mapping = mapping;
  if (val('df-freq')) {
    body.schedule = { frequency: val('df-freq'), time: val('df-after') ? 'afterEvaluation' : val('df-time'), startDate: val('df-start') };
    if (val('df-freq') === 'hourly') body.schedule.everyHours = Number(val('df-every'));
    if (val('df-end')) body.schedule.endDate = val('df-end');
  }
  body.naming = { dateTime: val('df-n-dateTime') };
  for (const k of ['audienceName', 'destinationId', 'organization', 'sandbox']) if (val('df-n-' + k)) body.naming[k] = true;
  if (val('df-n-customText')) body.naming.customText = val('df-n-customText');
  // A template replaces the parts: it goes alone (the API refuses parts set beside it).
  if (val('df-n-template')) body.naming = { ...body.naming, template: val('df-n-template') };
  const columns = val('df-p-columns').split(',').map((c) => c.trim()).filter(Boolean);
  if (columns.length) body.partitionBy = { columns, maxPartitions: Number(val('df-p-max')) };
  if (val('df-alert')) body.alertWebhook = val('df-alert');
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
