/**
 * The project's error classes. One rule decides exit codes: a BadInputError
 * (a flag, a config file, a genotype, a dataset file: the message names it)
 * exits 2; anything else that escapes a command exits 1.
 */

/** Bad usage or input; the message names the flag or file and what was expected. Exit code 2. */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration field or flag value out of its range. */
export class ConfigError extends BadInputError {}

/** A file could not be written completely; the previous file (if any) is left intact. Exit code 1. */
export class WriteError extends Error {
  constructor(readonly file: string, cause: unknown) {
    super(`${file}: could not be written (${cause instanceof Error ? cause.message : String(cause)}); the previous version, if any, is intact`);
    this.name = 'WriteError';
  }
}
