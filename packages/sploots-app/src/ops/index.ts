/** The ops view (issue 15): mount `OpsPage` at `/ops` in the router. */
export { OpsPage, OPS_POLL_MS } from './OpsPage.tsx';
export { fetchOps, loadToken, saveToken, OPS_TOKEN_KEY } from './ops-api.ts';
