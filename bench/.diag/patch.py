import sys
p=sys.argv[1]
s=open(p).read()
s=s.replace("""  await scheduler.stop(0);
  await database.close();
  return results;""","""  if (process.env.DIAG) {
    for (const t of TYPES) {
      const ex = await flow.explain(t);
      const share = Object.fromEntries(SLOTS.map((s) => [s, CARE[t][s]]));
      console.log(t, JSON.stringify(Object.fromEntries(SLOTS.map((s) => [s, [ex.gains[s].mean, ex.gains[s].sd, share[s]]]))));
    }
    const rows = database.sqlite.prepare(`SELECT t.idea_type, c.question_type, count(*) n, sum(c.response_type='clarification') dk, avg(c.response_time_seconds) s FROM conversations c JOIN idea_threads t ON t.id=c.thread_id WHERE c.conversation_position IS NOT NULL GROUP BY 1,2`).all();
    console.log(JSON.stringify(rows));
    console.log(JSON.stringify(database.sqlite.prepare(`SELECT count(*) n, avg(confidence_level) c, sum(validation_count) v, sum(success_count) s FROM learned_patterns`).get()));
    console.log(JSON.stringify(database.sqlite.prepare(`SELECT count(*) n FROM conversations WHERE conversation_position IS NULL`).get()));
  }
  await scheduler.stop(0);
  await database.close();
  return results;""")
open(p,'w').write(s)
