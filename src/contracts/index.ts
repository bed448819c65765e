/**
 * The wire contract as a package (`@hitl/contracts`): the types and constants the server, the
 * client SDK and the web page share. The JSON schemas are at `@hitl/contracts/schemas` (events,
 * state) and `@hitl/contracts/socket-schemas` (client payloads and acks). Nothing
 * here imports the server, so a browser bundle or a Node script can depend on it alone.
 */
export * from './error-codes.js';
export * from './events.js';
export * from './rest.js';
export * from './rest-admin.js';
export * from './session.js';
export * from './socket.js';
