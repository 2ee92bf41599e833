import { describe, expect, it } from 'vitest';
import { slackProblems } from '../../test/harness/slack.ts';
import { alertBody, consoleLink, slackMessage } from './alert-body.ts';
import { ALERT_EVENTS } from './store/alerts.ts';

const base = { dataflowId: 'dfl_1', runId: 'run_1', trigger: 'schedule', scheduledTime: '2026-04-01T06:00:00.000Z' };

describe('alert bodies', () => {
  it('passes a signed-json payload through unchanged', () => {
    const payload = JSON.stringify({ event: 'run.failed', ...base, error: { code: 'X', message: 'y' } });
    expect(alertBody(payload, { format: 'signed-json', dataflowName: 'n', consoleUrl: 'https://c.example/' })).toBe(payload);
  });

  it('makes a Slack message Block Kit accepts for every event, saying what happened', () => {
    const extra: Record<string, Record<string, unknown>> = {
      'run.started': {},
      'run.succeeded': { rows: 1200, bytes: 5000, files: 2, skipped: {} },
      'run.failed': { error: { code: 'S3_ACCESS_DENIED', message: 'no s3:PutObject' } },
      'run.delayed': { reason: 'late', lateAfterMinutes: 30, status: 'running' },
      'run.skipped_rate': { skippedRate: 0.25, threshold: 0.1 },
      'run.recovered': { rows: 10, bytes: 99, files: 1, skipped: {}, failedRunId: 'run_0' },
    };
    const said = ALERT_EVENTS.map((event) => {
      const message = slackMessage({ event, ...base, ...extra[event] }, { format: 'slack', dataflowName: 'Gold' });
      expect(slackProblems(message), event).toEqual([]);
      return message.text;
    });
    expect(said).toEqual([
      'edge-export: Run started: dataflow Gold (dfl_1), run run_1. The run has started.',
      'edge-export: Run succeeded: dataflow Gold (dfl_1), run run_1. 1200 rows in 2 file(s), 5000 bytes.',
      'edge-export: Run failed: dataflow Gold (dfl_1), run run_1. Error S3_ACCESS_DENIED: no s3:PutObject',
      'edge-export: Run delayed: dataflow Gold (dfl_1), run run_1. Not finished 30 minutes after its slot (status: running).',
      'edge-export: Skipped rows above the threshold: dataflow Gold (dfl_1), run run_1. Skipped 25 % of the rows read (threshold 10 %).',
      'edge-export: Run succeeded after a failure: dataflow Gold (dfl_1), run run_1. 10 rows in 1 file(s), 99 bytes; the run before, run_0, had failed.',
    ]);
    const missed = slackMessage({ event: 'run.delayed', dataflowId: 'dfl_1', reason: 'missedSlots', missedSlots: 2 }, { format: 'slack' });
    expect(slackProblems(missed)).toEqual([]);
    expect(missed.text).toBe('edge-export: Run delayed: dataflow dfl_1. A late cron tick dropped 2 scheduled slot(s).');
  });

  it('escapes mrkdwn control characters and keeps a huge error within Slack\'s limits', () => {
    const message = slackMessage(
      { event: 'run.failed', ...base, error: { code: 'E', message: `<!channel> a & b ${'x'.repeat(5000)}` } },
      { format: 'slack', dataflowName: '<Gold & co>' },
    );
    expect(slackProblems(message)).toEqual([]);
    const text = JSON.stringify(message);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<Gold');
    expect(message.text).toContain('&lt;Gold &amp; co&gt;');
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });

  it('links to the run under the console address, only for http(s) addresses', () => {
    expect(consoleLink('https://export.example.com/console/', 'run_1')).toBe('https://export.example.com/console/#/runs/run_1');
    expect(consoleLink('javascript:alert(1)', 'run_1')).toBeUndefined();
    expect(consoleLink('not a url', 'run_1')).toBeUndefined();
    const linked = slackMessage({ event: 'run.started', ...base }, { format: 'slack', consoleUrl: 'https://export.example.com/' });
    expect(JSON.stringify(linked.blocks)).toContain('<https://export.example.com/#/runs/run_1|Open the run in the console>');
  });
});
