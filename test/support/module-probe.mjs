// Loaded with `node --import` into a server process: records, in the file MODULE_PROBE_FILE,
// every @opentelemetry module the process imports (the resolve hook sees each ESM import). The
// telemetry test reads it to show which parts of OpenTelemetry were loaded.
import { register } from 'node:module';

register('./module-probe-hooks.mjs', import.meta.url);
