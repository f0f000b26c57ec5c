import { randomUUID } from 'node:crypto';

export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What the agent sees of a failure: a code and a fixed message, never the thrown message. */
export interface SafeJobError {
  code: string;
  message: string;
}

export interface JobStatus {
  state: JobState;
  result?: unknown;
  error?: SafeJobError;
  startedAt: string;
  finishedAt?: string;
}

export interface JobStartOptions {
  /** Who may read and cancel the job besides its tenant (e.g. the agent); checked when given to `status`/`cancel`. */
  owner?: string;
  /** Called once when the job settles: its final status and, for a failure, what it threw. */
  onSettled?: (status: JobStatus, error: unknown) => void;
}

/** The abort reason of a cancelled job. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
  readonly code = 'job_cancelled';
  constructor() {
    super('the job was cancelled');
  }
}

export interface JobsOptions {
  /** How long a finished job stays readable. Default 1 h. */
  ttlMs?: number;
  /** Running jobs are aborted (and fail with code `job_timeout`) after this. Default 15 min. */
  maxRuntimeMs?: number;
  /** Running jobs per tenant. Default 20. */
  maxRunningPerTenant?: number;
  /** Maps a thrown error to what the agent may see. Default: its `code` if it looks like one, fixed message. */
  safeError?: (err: unknown) => SafeJobError;
}

export class JobLimitError extends Error {
  override readonly name = 'JobLimitError';
  readonly code = 'job_limit';
  constructor() {
    super('Too many jobs running for this tenant; wait for one to finish.');
  }
}

interface Job {
  tenantId: string;
  owner: string | undefined;
  status: JobStatus;
  expiresAt: number;
  controller: AbortController;
}

const CODE = /^[a-z][a-z0-9_.-]{0,63}$/i;

function defaultSafeError(err: unknown): SafeJobError {
  const code = (err as { code?: unknown })?.code;
  if (code === 'job_timeout') return { code, message: 'The job ran out of time.' };
  return { code: typeof code === 'string' && CODE.test(code) ? code : 'job_failed', message: 'The job failed.' };
}

/**
 * For tools that need more than ~30 s: start returns a job id at once, the
 * agent polls status (e.g. through a `get_job_status` tool). Jobs are
 * tenant-scoped: another tenant's id reads as unknown. In memory, per process.
 */
export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxRuntimeMs: number;
  private readonly maxRunning: number;
  private readonly safeError: (err: unknown) => SafeJobError;

  constructor(options: JobsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.maxRuntimeMs = options.maxRuntimeMs ?? 15 * 60_000;
    this.maxRunning = options.maxRunningPerTenant ?? 20;
    this.safeError = options.safeError ?? defaultSafeError;
  }

  /** The longest a job can be read from its start: its run time and then its retention. */
  get lifetimeMs(): number {
    return this.maxRuntimeMs + this.ttlMs;
  }

  start(tenantId: string, fn: (signal: AbortSignal) => Promise<unknown>, opts: JobStartOptions = {}): { job_id: string } {
    this.sweep();
    const running = this.running.get(tenantId) ?? 0;
    if (running >= this.maxRunning) throw new JobLimitError();
    this.running.set(tenantId, running + 1);

    const jobId = randomUUID();
    const status: JobStatus = { state: 'running', startedAt: new Date().toISOString() };
    const controller = new AbortController();
    const job: Job = { tenantId, owner: opts.owner, status, expiresAt: Infinity, controller };
    this.jobs.set(jobId, job);

    const timer = setTimeout(() => controller.abort(Object.assign(new Error('job timeout'), { code: 'job_timeout' })), this.maxRuntimeMs);
    timer.unref();
    const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    Promise.race([Promise.resolve().then(() => fn(controller.signal)), stopped])
      .then(
        (result) => {
          job.status = { ...status, state: 'succeeded', result, finishedAt: new Date().toISOString() };
          opts.onSettled?.(job.status, undefined);
        },
        (err: unknown) => {
          const cancelled = err instanceof JobCancelledError;
          job.status = cancelled
            ? { ...status, state: 'cancelled', finishedAt: new Date().toISOString() }
            : { ...status, state: 'failed', error: this.safeError(err), finishedAt: new Date().toISOString() };
          opts.onSettled?.(job.status, err);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        job.expiresAt = Date.now() + this.ttlMs;
        const left = (this.running.get(tenantId) ?? 1) - 1;
        if (left <= 0) this.running.delete(tenantId);
        else this.running.set(tenantId, left);
      });
    return { job_id: jobId };
  }

  /** undefined for unknown, expired and other tenants' (or, with `owner`, other owners') jobs alike, so ids leak nothing. */
  status(tenantId: string, jobId: string, owner?: string): JobStatus | undefined {
    return this.find(tenantId, jobId, owner)?.status;
  }

  /**
   * Asks a running job to stop (its signal aborts with a JobCancelledError;
   * it ends `cancelled` unless it finishes first). False for jobs `status`
   * would not show; true (and nothing changes) for one already finished.
   */
  cancel(tenantId: string, jobId: string, owner?: string): boolean {
    const job = this.find(tenantId, jobId, owner);
    if (!job) return false;
    if (job.status.state === 'running') job.controller.abort(new JobCancelledError());
    return true;
  }

  private find(tenantId: string, jobId: string, owner: string | undefined): Job | undefined {
    const job = this.jobs.get(jobId);
    if (!job || job.tenantId !== tenantId || (owner !== undefined && job.owner !== undefined && job.owner !== owner)) return undefined;
    if (job.expiresAt <= Date.now()) {
      this.jobs.delete(jobId);
      return undefined;
    }
    return job;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, job] of this.jobs) if (job.expiresAt <= now) this.jobs.delete(id);
  }
}
