/**
 * The run commands' help entries, in a module of their own: commands.ts lists them in `help` and
 * runs.ts reads commands.ts's words, so keeping them in either of the two made an import cycle that
 * failed (TDZ) whenever runs.ts was the first of the two loaded.
 */
export const RUN_COMMANDS: [string, string][] = [
  ['story', 'a long story, typed out as it streams (Stop ends it)'],
  ['weather <city>', 'a (fake) tool call with streamed arguments and a result'],
  ['transfer <amount>', 'an action that asks for your approval first'],
];

/** One `help` line: the longest command (`transfer <amount>`, 17) still gets a space before its text. */
export const helpLine = ([command, description]: [string, string]): string => `  ${command.padEnd(18)}${description}`;
