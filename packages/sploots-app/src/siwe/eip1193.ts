/**
 * The injected wallet (EIP-1193 `window.ethereum`), without a library: three RPC calls are all
 * sign-in needs, and ethers would cost the first paint far more than it saves.
 */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** What wallets throw: `{code, message}` (4001 = the user rejected the request). */
export interface ProviderRpcError {
  code: number;
  message: string;
}

export const USER_REJECTED = 4001;

export function injectedProvider(): Eip1193Provider | undefined {
  const eth = (globalThis as { ethereum?: unknown }).ethereum;
  if (eth && typeof (eth as Eip1193Provider).request === 'function') return eth as Eip1193Provider;
  return undefined;
}

/** `personal_sign` takes the message as 0x-hex of its UTF-8 bytes (what wallets show decoded). */
export function utf8ToHex(text: string): string {
  let hex = '0x';
  for (const b of new TextEncoder().encode(text)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export async function requestAccount(provider: Eip1193Provider): Promise<string> {
  const accounts = await provider.request({ method: 'eth_requestAccounts' });
  const first = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof first !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(first)) throw new Error('the wallet returned no account');
  return first;
}

/** The wallet's current chain, or undefined if it will not say. */
export async function currentChainId(provider: Eip1193Provider): Promise<number | undefined> {
  try {
    const hex = await provider.request({ method: 'eth_chainId' });
    const n = typeof hex === 'string' ? Number.parseInt(hex, hex.startsWith('0x') ? 16 : 10) : Number.NaN;
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function personalSign(provider: Eip1193Provider, message: string, address: string): Promise<string> {
  const signature = await provider.request({ method: 'personal_sign', params: [utf8ToHex(message), address] });
  if (typeof signature !== 'string') throw new Error('the wallet returned no signature');
  return signature;
}

export function isUserRejection(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as ProviderRpcError).code === USER_REJECTED;
}

/** `0x1234…abcd` */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}
