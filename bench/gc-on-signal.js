// Preloaded into both benchmark servers (`--expose-gc --import`): SIGUSR2 runs a full garbage
// collection and then writes process.memoryUsage() to BENCH_MEMORY_DIR/bench-memory-<pid>.json, so both servers are
// measured the same way, after the handshakes' garbage is gone.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

process.on('SIGUSR2', () => {
	globalThis.gc?.();
	globalThis.gc?.();
	const dir = process.env.BENCH_MEMORY_DIR;
	if (dir)
		writeFileSync(
			path.join(dir, `bench-memory-${process.pid}.json`),
			JSON.stringify(process.memoryUsage())
		);
});
