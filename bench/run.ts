/** `npm run bench`: runs every benchmark in bench/ and prints their tables. */
const suites: { name: string; file: string }[] = [{ name: "queue", file: "./queue.ts" }];

for (const suite of suites) {
  const mod = (await import(suite.file)) as { run: () => Promise<void> };
  console.log(`\n## ${suite.name}\n`);
  await mod.run();
}
