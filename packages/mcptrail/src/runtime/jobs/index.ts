export { JobLimitError, Jobs, type JobState, type JobStatus, type JobsOptions, type SafeJobError } from './jobs.js';
