import { createSecretKey, type KeyObject } from 'node:crypto';

const keys = new Map<string, KeyObject>();

/**
 * The HS* secret as a KeyObject, made once. Given a string, jsonwebtoken first tries (and fails)
 * to parse it as a PEM public key on every sign and verify, which the profile showed as the
 * largest single cost of a handshake; given a KeyObject it uses it as is. The libraries' option
 * types say string | Buffer, so callers cast: the runtime accepts a KeyObject.
 */
export function jwtKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret));
    keys.set(secret, key);
  }
  return key;
}
