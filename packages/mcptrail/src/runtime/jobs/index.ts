export { JobCancelledError, JobLimitError, Jobs, type JobStartOptions, type JobState, type JobStatus, type JobsOptions, type SafeJobError } from './jobs.js';
