/**
 * The checks of POST /auth/verify, in the order that keeps them cheap and the nonce safe:
 * parse → origin/chain → times → nonce (peek) → signature → nonce (burn). A bad signature never
 * burns a nonce, so nobody can spend a victim's challenge by posting garbage for it.
 */
import { type SiweError, SiweErrorType, SiweMessage, type SiweConfig } from '@signinwithethereum/siwe';
import { getAddress, hashMessage, verifyMessage } from 'ethers';
import type { HttpErrorCode } from '@agent-bridge/common';
import type { NonceState, NonceStore } from './nonce-store.ts';
import type { SiweOrigin } from './origin.ts';

/** Longest message we try to parse: an EIP-4361 text is a few hundred bytes. */
export const MAX_MESSAGE_CHARS = 4096;
/** EOA signatures only (65 bytes): contract wallets would need an RPC provider (EIP-1271). */
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/** EOA recovery with ethers v6; no provider, so no EIP-1271 / EIP-6492 network calls. */
const ETHERS_CONFIG: SiweConfig = { verifyMessage, hashMessage, getAddress };

export type VerifyFailure = { ok: false; status: 400 | 401; code: HttpErrorCode; message: string };
export type VerifySuccess = { ok: true; address: string; nonce: string };
export type VerifyResult = VerifySuccess | VerifyFailure;

export interface SiweVerifierOptions {
  /**
   * Read per request: the web server may learn its public origin only once it listens. Several:
   * in development the loopback spellings of one origin are all accepted.
   */
  origin: () => SiweOrigin | readonly SiweOrigin[];
  chainIds: readonly number[];
  nonces: NonceStore;
  /** Forgives a wallet clock that runs ahead (issued-at, not-before). Expiry is not extended. */
  clockToleranceMs?: number;
  now?: () => number;
}

const fail = (status: 400 | 401, code: HttpErrorCode, message: string): VerifyFailure => ({ ok: false, status, code, message });

const NONCE_FAILURE: Record<Exclude<NonceState, 'ok'>, VerifyFailure> = {
  unknown: fail(401, 'siwe_nonce_unknown', 'the nonce was not issued by this server (or is long gone)'),
  used: fail(401, 'siwe_nonce_used', 'the nonce has already been used; request a new challenge'),
  expired: fail(401, 'siwe_expired', 'the challenge has expired; request a new one'),
};

export class SiweVerifier {
  private readonly toleranceMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SiweVerifierOptions) {
    this.toleranceMs = opts.clockToleranceMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  async verify(text: string, signature: string): Promise<VerifyResult> {
    const parsed = parse(text);
    if (!parsed.ok) return parsed;
    const msg = parsed.msg;

    const given = this.opts.origin();
    const origins = Array.isArray(given) ? (given as readonly SiweOrigin[]) : [given as SiweOrigin];
    // EIP-4361: a message without a scheme means https.
    const origin = origins.find((o) => msg.domain === o.domain && (msg.scheme ?? 'https') === o.scheme);
    if (!origin) {
      const first = origins[0]!;
      return fail(401, 'siwe_domain_mismatch', `the message must be for ${first.scheme}://${first.domain}`);
    }
    if (msg.uri !== origin.uri) return fail(401, 'siwe_uri_mismatch', `the message URI must be ${origin.uri}`);
    if (!this.opts.chainIds.includes(msg.chainId)) {
      return fail(401, 'siwe_chain_mismatch', `chain id ${msg.chainId} is not accepted here`);
    }

    const now = this.now();
    const issuedAt = Date.parse(msg.issuedAt ?? '');
    const notBefore = msg.notBefore === undefined ? undefined : Date.parse(msg.notBefore);
    const expiresAt = msg.expirationTime === undefined ? undefined : Date.parse(msg.expirationTime);
    if ([issuedAt, notBefore ?? 0, expiresAt ?? 0].some(Number.isNaN)) {
      return fail(400, 'siwe_invalid_message', 'a time in the message is not a valid date');
    }
    if (issuedAt > now + this.toleranceMs) return fail(401, 'siwe_issued_in_future', 'the message is issued in the future');
    if (notBefore !== undefined && notBefore > now + this.toleranceMs) {
      return fail(401, 'siwe_not_yet_valid', 'the message is not valid yet (not-before)');
    }
    if (expiresAt !== undefined && expiresAt <= now) return fail(401, 'siwe_expired', 'the message has expired');

    const state = await this.opts.nonces.peek(msg.nonce);
    if (state !== 'ok') return NONCE_FAILURE[state];
    // The nonce vouches only for the text it was issued with: any other statement, resources,
    // expiry or address under it is a different request the user never asked for.
    if ((await this.opts.nonces.issuedMessage(msg.nonce)) !== text) {
      return fail(401, 'siwe_message_mismatch', 'the message is not the one issued with this nonce; request a new challenge');
    }

    if (!SIGNATURE_RE.test(signature)) return fail(401, 'siwe_invalid_signature', 'the signature is not 65 hex-encoded bytes');
    const checked = await this.checkSignature(msg, signature, origin, now, notBefore, expiresAt);
    if (!checked.ok) return checked;

    // Only now may the nonce burn. Another request may have won the race since the peek.
    const burnt = await this.opts.nonces.consume(msg.nonce);
    if (burnt !== 'ok') return NONCE_FAILURE[burnt];
    return { ok: true, address: getAddress(msg.address), nonce: msg.nonce };
  }

  /**
   * The library re-checks domain, URI, chain and nonce against what we expect and recovers the
   * signer (strict mode). It has no clock tolerance, so it is given a `time` inside the window
   * our own checks above already accepted.
   */
  private async checkSignature(
    msg: SiweMessage,
    signature: string,
    origin: SiweOrigin,
    now: number,
    notBefore: number | undefined,
    expiresAt: number | undefined,
  ): Promise<{ ok: true } | VerifyFailure> {
    let time = now;
    if (notBefore !== undefined) time = Math.max(time, notBefore);
    if (expiresAt !== undefined) time = Math.min(time, expiresAt - 1);
    const res = await msg.verify(
      {
        signature,
        scheme: msg.scheme,
        domain: origin.domain,
        nonce: msg.nonce,
        uri: origin.uri,
        chainId: msg.chainId,
        time: new Date(time).toISOString(),
      },
      { strict: true, suppressExceptions: true, config: ETHERS_CONFIG },
    );
    if (res.success) return { ok: true };
    return libraryFailure(res.error);
  }
}

function parse(text: string): { ok: true; msg: SiweMessage } | VerifyFailure {
  if (text.length > MAX_MESSAGE_CHARS) return fail(400, 'siwe_invalid_message', `the message is longer than ${MAX_MESSAGE_CHARS} characters`);
  let msg: SiweMessage;
  try {
    msg = new SiweMessage(text);
  } catch {
    return fail(400, 'siwe_invalid_message', 'the message is not an EIP-4361 sign-in message');
  }
  // The library verifies the text it re-serialises; insist that is exactly the text signed,
  // so what we checked and what the wallet showed cannot differ.
  if (msg.prepareMessage() !== text) {
    return fail(400, 'siwe_invalid_message', 'the message is not in canonical EIP-4361 form');
  }
  if (msg.version !== '1') return fail(400, 'siwe_invalid_message', 'only EIP-4361 version 1 is supported');
  if (!msg.issuedAt) return fail(400, 'siwe_invalid_message', 'the message has no issued-at time');
  return { ok: true, msg };
}

/** Our own checks run first; these only fire if the library is stricter than we are. */
function libraryFailure(err: SiweError | undefined): VerifyFailure {
  switch (err?.type) {
    case SiweErrorType.DOMAIN_MISMATCH:
    case SiweErrorType.SCHEME_MISMATCH:
      return fail(401, 'siwe_domain_mismatch', 'the message is for another domain');
    case SiweErrorType.URI_MISMATCH:
      return fail(401, 'siwe_uri_mismatch', 'the message is for another URI');
    case SiweErrorType.CHAIN_ID_MISMATCH:
      return fail(401, 'siwe_chain_mismatch', 'the message is for another chain');
    case SiweErrorType.EXPIRED_MESSAGE:
      return fail(401, 'siwe_expired', 'the message has expired');
    case SiweErrorType.NOT_YET_VALID_MESSAGE:
      return fail(401, 'siwe_not_yet_valid', 'the message is not valid yet (not-before)');
    case SiweErrorType.INVALID_SIGNATURE:
      return fail(401, 'siwe_invalid_signature', 'the signature was not made by the address in the message');
    default:
      return fail(400, 'siwe_invalid_message', err?.type ?? 'the message could not be verified');
  }
}
