/**
 * oidc-provider 9 prints "Unsupported runtime. Use Node.js v22.x LTS" when it is imported on
 * Node 20. OpenICS supports Node 20.19+ (its tests run on it; see ARCHITECTURE.md), and the line
 * would be the first thing every `npm start` and command prints. Imported before oidc-provider
 * (provider.ts), this drops that one line; every other warning passes through unchanged.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};
