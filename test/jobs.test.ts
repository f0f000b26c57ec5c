import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobLimitError, Jobs } from '../packages/mcptrail/src/runtime/jobs/index.js';

/** Resolves a promise from outside, so tests control when a job finishes. */
function gate<T>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

async function until<T>(read: () => T, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = read();
    if (done(v)) return v;
    await sleep(5);
  }
  return read();
}

describe('jobs', () => {
  it('start → running → succeeded with the result', async () => {
    const jobs = new Jobs();
    const g = gate<{ rows: number }>();
    const { job_id } = jobs.start('A', () => g.promise);
    assert.match(job_id, /^[0-9a-f-]{36}$/);
    assert.equal(jobs.status('A', job_id)?.state, 'running');
    g.open({ rows: 42 });
    const done = await until(() => jobs.status('A', job_id), (s) => s?.state !== 'running');
    assert.equal(done?.state, 'succeeded');
    assert.deepEqual(done?.result, { rows: 42 });
    assert.ok(done?.finishedAt);
  });

  it("tenant B cannot read tenant A's job", async () => {
    const jobs = new Jobs();
    const { job_id } = jobs.start('A', async () => 'a-secret');
    assert.equal(jobs.status('B', job_id), undefined);
    await until(() => jobs.status('A', job_id), (s) => s?.state === 'succeeded');
    assert.equal(jobs.status('B', job_id), undefined);
    assert.equal(jobs.status('B', 'no-such-job'), undefined, 'unknown and foreign ids look the same');
  });

  it('a failure exposes a safe code and message, never the thrown message', async () => {
    const jobs = new Jobs();
    const { job_id } = jobs.start('A', async () => {
      throw Object.assign(new Error('SELECT * FROM users WHERE email = ceo@acme.com'), { code: 'crm_export_failed' });
    });
    const s = await until(() => jobs.status('A', job_id), (v) => v?.state === 'failed');
    assert.deepEqual(s?.error, { code: 'crm_export_failed', message: 'The job failed.' });
    assert.ok(!JSON.stringify(s).includes('ceo@acme.com'));
  });

  it('runtime limit aborts the job; finished jobs expire; running jobs are capped per tenant', async () => {
    const jobs = new Jobs({ maxRuntimeMs: 30, ttlMs: 40, maxRunningPerTenant: 1 });
    let aborted = false;
    const { job_id } = jobs.start('A', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('x'))))));
    assert.throws(() => jobs.start('A', async () => 1), JobLimitError);
    assert.doesNotThrow(() => jobs.start('B', async () => 1), 'the cap is per tenant');
    const s = await until(() => jobs.status('A', job_id), (v) => v?.state === 'failed');
    assert.equal(s?.error?.code, 'job_timeout');
    assert.equal(aborted, true);
    await sleep(60);
    assert.equal(jobs.status('A', job_id), undefined, 'expired after the TTL');
    assert.doesNotThrow(() => jobs.start('A', async () => 1), 'a finished job frees its slot');
  });
});
