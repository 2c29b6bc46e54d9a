import type { SqliteHandle } from "../database.ts";
import { GroupCommit } from "../group-commit.ts";
import type { ConversationRow } from "../schema.ts";
import { type NewQuestion, QUESTION_COLUMNS, questionRow } from "./conversations-repo.ts";
import { type ThreadLearningUpdate, threadColumns } from "./learning-repo.ts";

/**
 * The writes of one asked question, all or nothing: the question's row, its
 * template's use, and the thread's conversation state (with whatever else the step changed on the
 * thread, e.g. what was learned before the first question). Three autocommits were three commits
 * (each ~50 µs and a rewrite of the pages it touched, the thread's twice); one transaction is one,
 * and a crash leaves either the question with the state that counts it, or neither.
 *
 * Synchronous on the raw handle (README.md, rule 3), so that it never spans an await, in a
 * savepoint of the turn's group commit (README.md, rule 5): under load one commit carries several
 * ideas' questions, submits and completions.
 */
export class QuestionStepRepo {
  private readonly sqlite: SqliteHandle;
  private readonly commits: GroupCommit;
  private readonly insertQuestion;
  private readonly useTemplate;
  /** UPDATE idea_threads statements by the set of columns they write (a handful of shapes). */
  private readonly threadUpdates = new Map<string, ReturnType<SqliteHandle["prepare"]>>();
  private readonly askTx: (q: NewQuestion, thread: ThreadLearningUpdate) => ConversationRow;

  constructor(sqlite: SqliteHandle) {
    this.sqlite = sqlite;
    this.commits = GroupCommit.of(sqlite);
    this.insertQuestion = sqlite.prepare(
      `INSERT INTO conversations (${QUESTION_COLUMNS.join(", ")})
       VALUES (${QUESTION_COLUMNS.map((c) => `@${c}`).join(", ")}) RETURNING *`,
    );
    this.useTemplate = sqlite.prepare(
      `UPDATE question_templates SET usage_count = usage_count + 1, last_used = @now, last_updated = @now
       WHERE id = @id`,
    );
    this.askTx = sqlite.transaction((q: NewQuestion, thread: ThreadLearningUpdate) => {
      const row = this.insertQuestion.get(questionRow(q)) as ConversationRow | undefined;
      if (!row) throw new Error("conversations: the insert returned no row");
      if (q.templateId !== null) this.useTemplate.run({ id: q.templateId, now: q.askedDate });
      this.updateThread(q.threadId, thread);
      return row;
    });
  }

  /**
   * Stores an asked question, counts a use of its template (when it has one) and saves the
   * thread's fields (`thread`: at least the conversation state that counts the question), all or
   * nothing. Resolves with the question's row once it is committed.
   */
  ask(q: NewQuestion, thread: ThreadLearningUpdate): Promise<ConversationRow> {
    return this.commits.run(() => this.askTx(q, thread));
  }

  private updateThread(id: number, u: ThreadLearningUpdate): void {
    const set = threadColumns(u);
    const columns = Object.keys(set);
    const key = columns.join(",");
    let update = this.threadUpdates.get(key);
    if (!update) {
      // The column names come from threadColumns (a fixed list), never from input.
      update = this.sqlite.prepare(
        `UPDATE idea_threads SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE id = @id`,
      );
      this.threadUpdates.set(key, update);
    }
    update.run({ ...set, id });
  }
}
