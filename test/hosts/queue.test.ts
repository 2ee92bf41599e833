import { describe, expect, it } from 'vitest';
import { LocalQueue } from '../../src/hosts/queue.ts';
import type { QueueMessage } from '../../src/worker/env.ts';
import { fakeTimers } from './fake-timers.ts';

type Handler = (message: QueueMessage<string>) => Promise<void> | void;

/** A queue whose consumer records each delivery as `body#attempts` and then runs `handler`. */
function queue(handler: Handler, options: { maxRetries?: number } = {}) {
  const timers = fakeTimers();
  const deliveries: string[] = [];
  const dropped: string[] = [];
  const q = new LocalQueue<string>(
    async (batch) => {
      for (const message of batch.messages) {
        deliveries.push(`${message.body}#${message.attempts}`);
        await handler(message);
      }
    },
    { ...options, ...timers, onDrop: (body, attempts) => dropped.push(`${body}#${attempts}`) },
  );
  return { q, timers, deliveries, dropped };
}

describe('LocalQueue (Queues semantics in one process)', () => {
  it('delivers a message once when the consumer acks it', async () => {
    const { q, deliveries } = queue((m) => m.ack());
    await q.send('a');
    await q.idle();
    expect(deliveries).toEqual(['a#1']);
  });

  it('acks implicitly when the handler returns without ack or retry', async () => {
    const { q, deliveries, timers } = queue(() => {});
    await q.send('a');
    await q.idle();
    expect(deliveries).toEqual(['a#1']);
    expect(timers.delays()).toEqual([]);
  });

  it('redelivers after retry({ delaySeconds }) with attempts + 1', async () => {
    const { q, deliveries, timers } = queue((m) =>
      m.attempts === 1 ? m.retry({ delaySeconds: 30 }) : m.ack(),
    );
    await q.send('a');
    await until(() => timers.delays().length === 1);
    expect(timers.delays()).toEqual([30_000]);
    expect(deliveries).toEqual(['a#1']);
    timers.fireAll();
    await q.idle();
    expect(deliveries).toEqual(['a#1', 'a#2']);
  });

  it('redelivers when the handler throws, unless the message was acked first', async () => {
    const { q, deliveries, timers } = queue((m) => {
      if (m.body === 'acked') m.ack();
      if (m.attempts === 1) throw new Error('crash');
    });
    await q.send('plain');
    await q.send('acked');
    await q.idle();
    expect(timers.delays()).toEqual([]);
    expect(deliveries).toEqual(['plain#1', 'acked#1', 'plain#2']);
  });

  it('drops a message after maxRetries redeliveries and reports it', async () => {
    const { q, deliveries, dropped } = queue(
      () => {
        throw new Error('always');
      },
      { maxRetries: 2 },
    );
    await q.send('a');
    await q.idle();
    expect(deliveries).toEqual(['a#1', 'a#2', 'a#3']);
    expect(dropped).toEqual(['a#3']);
  });

  it('holds a message sent with delaySeconds until its timer fires', async () => {
    const { q, deliveries, timers } = queue((m) => m.ack());
    await q.send('later', { delaySeconds: 5 });
    expect(timers.delays()).toEqual([5_000]);
    expect(deliveries).toEqual([]);
    timers.fireAll();
    await q.idle();
    expect(deliveries).toEqual(['later#1']);
  });

  it('delivers one message at a time by default', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { q, deliveries } = queue(async (m) => {
      if (m.body === 'first') await gate;
    });
    await q.send('first');
    await q.send('second');
    await until(() => deliveries.length === 1);
    expect(deliveries).toEqual(['first#1']);
    release();
    await q.idle();
    expect(deliveries).toEqual(['first#1', 'second#1']);
  });

  it('refuses sends after close and drops delayed messages', async () => {
    const { q, timers } = queue((m) => m.ack());
    await q.send('later', { delaySeconds: 60 });
    q.close();
    expect(timers.delays()).toEqual([]);
    await q.idle();
    await expect(q.send('x')).rejects.toThrow(/closed/);
  });
});

/** Lets microtasks run until `condition` holds (bounded: a broken queue fails, not hangs). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise<void>((r) => setTimeout(r, 0));
  expect(condition()).toBe(true);
}
