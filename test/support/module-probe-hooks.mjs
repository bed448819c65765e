// The resolve hook of module-probe.mjs (it runs on the loader's own thread).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const file = process.env.MODULE_PROBE_FILE;
  if (file && resolved.url.includes('/@opentelemetry/')) appendFileSync(file, resolved.url + '\n');
  return resolved;
}
