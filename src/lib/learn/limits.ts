/** Limits shared by the lesson workspace and the server. */
export const CODE_MAX_CHARS = 20_000;
/** How long a run or a check may take before the Python worker is stopped and restarted. */
export const RUN_TIME_LIMIT_MS = 10_000;
/** Autosave waits this long after the last keystroke. */
export const AUTOSAVE_DELAY_MS = 800;
