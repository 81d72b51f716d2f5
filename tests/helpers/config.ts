import { loadConfig, type Config } from '../../src/lib/server/config.ts';
import { createLogger, setLogger } from '../../src/lib/server/log.ts';

setLogger(createLogger('silent'));

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** A development-mode configuration with a fixed secret and no data folder writes. */
export function testConfig(env: Record<string, string> = {}): Config {
	return loadConfig({ JWT_SECRET_KEY: TEST_SECRET, DATA_DIR: '/tmp/tutor-test-unused', ...env });
}
