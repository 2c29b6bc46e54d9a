/**
 * What the queue's figures rest on, and what was tried (issue 17): printed under every run's table
 * in bench/results/queue.md. The before/after figures are those of the change that made them, in
 * two runs of this bench a few minutes apart, not of the run above.
 */
export const QUEUE_NOTES = `Where a job's CPU goes, one commit per transition (SQLite counts, 5,000 jobs): a commit costs
~4.5 µs of CPU before any page (six fcntl lock calls on the -shm file) and ~3.5 µs per WAL page
written (two pwrite calls each); three commits a job by definition of the mode. Pages per job:
enqueue 4.3 (jobs, idx_jobs_ready, idx_jobs_thread_id, sqlite_sequence), claim 3.3 (jobs, ready,
idx_jobs_running), completion 4.3 (jobs, running, idx_jobs_completed, status_counts) — 11.8 in all,
plainjob's 7 (one index). The statements themselves are ~23 µs a job, JavaScript ~3 µs.

Changes of December 2026 (branch wt-h4), before → after, in two runs of this bench one after the
other (load 4.2 / 4.3; the "after" run is the table above): a commit per transition 10,783 → 13,054
jobs/s (plainjob 10,060 / 9,753: 1.07× → 1.40×), CPU per job 0.085 → 0.069 ms (1.39× → 1.04×
plainjob's); batched 38,844 → 54,495 jobs/s (graphile-worker 32,371 / 31,488: 1.03× → 1.68×), CPU
per job 0.025 → 0.018 ms (0.84× → 0.59× graphile-worker's, Postgres included). Over four such pairs
(load 2.6–6.5) the ratios moved: jobs/s to plainjob 0.99–1.64× → 1.25–2.00×, CPU to plainjob's
1.27–1.39× → 1.01–1.07×; jobs/s to graphile-worker batched 0.71–1.24× → 1.41–2.31×, CPU 0.78–0.84×
→ 0.59–0.63×. Throughput ratios swing with the load (the peers suffer more from it); CPU ratios hold.
- status_counts moved two counters at every transition (a page and two upserts each): it now keeps
  only settled statuses, the unfinished ones are counted from their partial indexes (migration 024,
  src/store/jobs/counts.ts): enqueue 5.2 → 4.3 pages, claim 4.3 → 3.3.
- The triggers' WHEN uses comparisons: a NOT IN list inside a trigger is built again as a temporary
  b-tree at every row (it made a batched claim 1.2 µs and a batched completion 2.3 µs dearer).
- No read-back: an insert returns only its id and the completed event's job is built from the
  claimed job (both checked against the stored row in tests); reads name the Job's 33 columns.
- Positional binds (15 named parameters from an object cost ~1 µs more per statement); a one-job
  claim is one \`UPDATE … WHERE id = (SELECT …)\` (\`IN (SELECT …)\` filled a temporary table).
- At capacity the scheduler no longer reads the next retry's time after each job (it was unused).

Tried, not kept:
- One index for queued, retrying and running jobs, (priority DESC, id, status), so that a claim
  moves an entry within one page: 1 WAL page less per job, but no CPU less (a completion deletes
  from a bigger index, +3 µs; claims walk past the running entries).
- Dropping AUTOINCREMENT (sqlite_sequence, a page per insert, ~4 µs): /forget deletes a user's
  jobs, and without it the next job would take the id of a deleted newest one, while job ids are
  public in the API; it would also need the jobs table rebuilt. Left as it is.
- Checkpointing: Hermes' idle checkpoints, none, or SQLite's automatic ones: 70 / 72 / 75 µs a job.
- Promoting dependents by a trigger (a completion in one statement, no BEGIN/COMMIT): saves ~1.5 µs
  only when no write-behind record rides along, which in production it does. Not done.`;
