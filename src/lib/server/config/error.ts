/**
 * The one error configuration throws: every problem found, so an operator fixes them in one pass.
 *
 * @example
 * throw new ConfigError(['PORT must be a whole number']);
 */
export class ConfigError extends Error {
	constructor(public readonly problems: string[]) {
		super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
		this.name = 'ConfigError';
	}
}
