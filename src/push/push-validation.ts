/**
 * Every check on what is pushed lives here: pure functions, used by `@Push()` (at decoration time),
 * `PushService.push()` (per call) and the module options (once, at start-up). A rejected input throws a
 * PushValidationError naming what was wrong and how to fix it; nothing invalid ever reaches Node's http2.
 */
import {
  DEFAULT_DIARY_SIZE,
  DEFAULT_INHERITED_HEADERS,
  DEFAULT_LEARNED_HINTS,
  DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION,
  DEFAULT_MAX_PUSHES_PER_REQUEST,
  DEFAULT_PUSH_TIMEOUT_MS,
} from '../push.constants';
import { PushValidationError } from './push.errors';
import type { PushModuleOptions, ResolvedPushOptions } from '../module/push-module-options.interface';
import type { NormalizedPush, PreloadAs, PushHeaders, PushMethod, PushOptions, PushResource } from './push-resource.interface';
import { inferPreloadAs, preloadParams } from '../hints/preload-link';
import { DEFAULT_CONNECTION_PUSH_BUDGET, type PushBudget } from '../connection/push-allowance';

const MAX_PATH_LENGTH = 8192;
const MAX_VALUE_LENGTH = 8192;
/** Header fields (array items count one each) a push may give: clients cap a header list (Node: 128 fields). */
const MAX_HEADER_FIELDS = 64;
/** Size of the given headers as HPACK counts it (name + value + 32 per field): well inside a client's 64 KiB. */
const MAX_HEADERS_SIZE = 16 * 1024;

// RFC 3986 path-absolute (no "//" start, so it cannot be read as an authority) and query, percent-encoded.
const PATH = /^\/(?!\/)(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
// RFC 9110 token, lowercase only (RFC 9113 §8.2.2).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// Visible ASCII, inner spaces/tabs; no CR, LF, NUL or other controls, no leading/trailing whitespace (RFC 9113 §8.2.1).
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]{2,45}\]$/;

const METHODS: ReadonlySet<string> = new Set<PushMethod>(['GET', 'HEAD']);
const SCHEMES: ReadonlySet<string> = new Set(['http', 'https']);
const OPTION_KEYS: ReadonlySet<string> = new Set(['method', 'scheme', 'host', 'port', 'qs']);
const HINT_KEYS: ReadonlySet<string> = new Set(['as', 'type', 'crossorigin', 'version']);
const RESOURCE_KEYS: ReadonlySet<string> = new Set([...OPTION_KEYS, ...HINT_KEYS, 'path', 'headers']);
const PRELOAD_AS: ReadonlySet<string> = new Set<PreloadAs>(
  ['style', 'script', 'font', 'image', 'fetch', 'document', 'audio', 'video', 'track', 'worker'],
);
const MIME_TYPE = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/;

/** Connection-specific headers (RFC 9113 §8.2.2) and `host`, which `:authority` replaces. */
const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
  'host',
]);
/** Headers Node's http2 sends once: several values for them make it throw (ERR_HTTP2_HEADER_SINGLE_VALUE). */
const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age',
  'authorization', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
  'content-range', 'content-type', 'date', 'dnt', 'etag', 'expires', 'from', 'if-match', 'if-modified-since',
  'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'range', 'referer', 'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent',
  'x-content-type-options',
]);
/** Headers that announce a request body, which a promised request cannot have. */
const BODY_HEADERS: ReadonlySet<string> = new Set(['content-length', 'expect']);
/** Headers that make a request conditional or partial: never copied from the client's request. */
const CONDITIONAL_HEADERS: ReadonlySet<string> = new Set([
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'range',
]);

function invalid(code: PushValidationError['code'], message: string): never {
  throw new PushValidationError(code, message);
}

/**
 * Quotes a user-given value for an error message: escaped, so the message stays one line, bounded work
 * whatever the size, and safe for any value (objects without a prototype or with a throwing toString).
 */
function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value.length > 100 ? value.slice(0, 100) : value);
  else if (value === null || ['number', 'boolean', 'undefined', 'bigint', 'symbol'].includes(typeof value)) text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else if (Array.isArray(value)) text = `an array of ${value.length} items`;
  else text = 'an object';
  text = text.replace(/[\x00-\x1f\x7f\x85\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function validatePath(path: unknown): string {
  if (typeof path !== 'string') invalid('ERR_PUSH_INVALID_PATH', `Push path must be a string, got ${show(path)}.`);
  if (path.length > MAX_PATH_LENGTH) {
    invalid('ERR_PUSH_INVALID_PATH', `Push path is ${path.length} characters long; the limit is ${MAX_PATH_LENGTH}.`);
  }
  if (!PATH.test(path)) {
    const hint = !path.startsWith('/') || path.startsWith('//')
      ? 'it must be absolute: start with a single "/"'
      : /[?#]/.test(path)
        ? 'put the query string in the "qs" option; fragments are never sent'
        : 'percent-encode spaces, control and non-ASCII characters';
    invalid('ERR_PUSH_INVALID_PATH', `Invalid push path ${show(path)}: ${hint}.`);
  }
  return path;
}

function validateQs(qs: unknown): string {
  if (qs === undefined) return '';
  if (typeof qs !== 'string') invalid('ERR_PUSH_INVALID_QS', `Push option "qs" must be a string, got ${show(qs)}.`);
  if (qs.length > MAX_PATH_LENGTH || qs.startsWith('?') || !QUERY.test(qs)) {
    invalid(
      'ERR_PUSH_INVALID_QS',
      `Invalid push query string ${show(qs)}: give it without the leading "?", percent-encoded, at most ` +
        `${MAX_PATH_LENGTH} characters.`,
    );
  }
  return qs;
}

function validateMethod(method: unknown): PushMethod {
  if (method === undefined) return 'GET';
  if (typeof method !== 'string' || !METHODS.has(method)) {
    invalid(
      'ERR_PUSH_INVALID_METHOD',
      `Cannot push with method ${show(method)}: a promised request must be safe and cacheable, so only ` +
        '"GET" and "HEAD" are allowed (RFC 9113 §8.4).',
    );
  }
  return method as PushMethod;
}

/** Lowercases a host name and brackets a bare IPv6 address; rejects anything else. */
export function validateHost(host: unknown): string {
  if (typeof host !== 'string') invalid('ERR_PUSH_INVALID_OPTION', `Push option "host" must be a string, got ${show(host)}.`);
  let name = host.toLowerCase();
  if (name.includes(':') && !name.startsWith('[')) name = `[${name}]`;
  if (!HOST_NAME.test(name) && !IPV6_LITERAL.test(name)) {
    invalid(
      'ERR_PUSH_INVALID_OPTION',
      `Invalid push option "host" ${show(host)}: give a host name or IP address without port or scheme ` +
        '(the port goes in the "port" option).',
    );
  }
  return name;
}

export function validatePort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid push option "port" ${show(port)}: give an integer from 1 to 65535.`);
  }
  return port;
}

function validateScheme(scheme: unknown): 'http' | 'https' {
  if (typeof scheme !== 'string' || !SCHEMES.has(scheme)) {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid push option "scheme" ${show(scheme)}: use "http" or "https".`);
  }
  return scheme as 'http' | 'https';
}

/** Why a header name may not be given to a push, or undefined when it may. */
function headerNameProblem(name: string): string | undefined {
  if (name.startsWith(':')) return 'pseudo-headers are set by the module from the path and options';
  if (name !== name.toLowerCase() && HEADER_NAME.test(name.toLowerCase())) {
    return `header names must be lowercase: use ${show(name.toLowerCase())}`;
  }
  if (!HEADER_NAME.test(name)) return 'it is not a valid header name (RFC 9110 token)';
  // Assigning it would change an object's prototype instead of adding a header, here or in Node.
  if (name === '__proto__') return 'it is reserved in JavaScript objects';
  if (CONNECTION_HEADERS.has(name)) {
    return name === 'host'
      ? 'the authority comes from the current request or the "host"/"port" options'
      : 'connection-specific headers are not allowed in HTTP/2 (RFC 9113 §8.2.2)';
  }
  if (BODY_HEADERS.has(name)) return 'a promised request cannot have a body (RFC 9113 §8.4)';
  return undefined;
}

function validateHeaderValue(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    invalid('ERR_PUSH_INVALID_HEADER', `Push header "${name}" must be a string or an array of strings, got ${show(value)}.`);
  }
  if (value.length > MAX_VALUE_LENGTH || !HEADER_VALUE.test(value)) {
    invalid(
      'ERR_PUSH_INVALID_HEADER',
      `Invalid value ${show(value)} for push header "${name}": only visible ASCII with inner spaces, no CR, LF, ` +
        `NUL or other control characters, no leading or trailing whitespace, at most ${MAX_VALUE_LENGTH} characters.`,
    );
  }
  return value;
}

/** Header list size as HPACK and SETTINGS_MAX_HEADER_LIST_SIZE count it: name + value + 32 per field. */
export function headerListSize(headers: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    for (const item of Array.isArray(value) ? value : [value]) size += name.length + String(item).length + 32;
  }
  return size;
}

/** The given headers, checked, and their header list size. */
export function validateHeaders(headers: unknown): { headers: Record<string, string | string[]>; size: number } {
  const result: Record<string, string | string[]> = {};
  if (headers === undefined) return { headers: result, size: 0 };
  if (!isPlainObject(headers)) {
    invalid('ERR_PUSH_INVALID_HEADER', `Push headers must be a plain object of request headers, got ${show(headers)}.`);
  }
  let fields = 0;
  for (const name of Object.keys(headers)) {
    const problem = headerNameProblem(name);
    if (problem) invalid('ERR_PUSH_INVALID_HEADER', `Invalid push header name ${show(name)}: ${problem}.`);
    const value = headers[name];
    // Checked before reading the items: a sparse array's length costs its creator nothing, us every index.
    if (Array.isArray(value) && fields + value.length > MAX_HEADER_FIELDS) {
      invalid('ERR_PUSH_INVALID_HEADER', `A push takes at most ${MAX_HEADER_FIELDS} header fields, got ${fields + value.length} or more.`);
    }
    const values = Array.isArray(value) ? Array.from(value) : [value]; // Array.from turns holes into undefined
    if (values.length === 0) invalid('ERR_PUSH_INVALID_HEADER', `Push header "${name}" has no value: leave it out instead.`);
    if (values.length > 1 && SINGLE_VALUE_HEADERS.has(name)) {
      invalid('ERR_PUSH_INVALID_HEADER', `Push header "${name}" takes a single value, got ${values.length}.`);
    }
    for (const item of values) validateHeaderValue(name, item);
    fields += values.length;
    result[name] = Array.isArray(value) ? (values as string[]) : (value as string);
  }
  if (fields > MAX_HEADER_FIELDS) invalid('ERR_PUSH_INVALID_HEADER', `A push takes at most ${MAX_HEADER_FIELDS} header fields, got ${fields}.`);
  const size = headerListSize(result);
  if (size > MAX_HEADERS_SIZE) {
    invalid('ERR_PUSH_INVALID_HEADER', `Push headers take ${size} bytes (name + value + 32 per field); the limit is ${MAX_HEADERS_SIZE}.`);
  }
  return { headers: result, size };
}

function checkKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      invalid(
        'ERR_PUSH_INVALID_OPTION',
        `Unknown ${what} ${show(key)}: allowed are ${[...allowed].join(', ')}` +
          (key === 'body' ? ' (a promised request cannot have a body, RFC 9113 §8.4).' : '.'),
      );
    }
  }
}

/** What only a `@Push()` resource can give: preload attributes (for the fallback) and a version (digest). */
interface ResourceExtras {
  as?: unknown;
  type?: unknown;
  crossorigin?: unknown;
  version?: unknown;
}

function validateExtras(hints: ResourceExtras): {
  as?: PreloadAs;
  type?: string;
  crossorigin?: true | 'anonymous' | 'use-credentials';
  version?: string;
} {
  if (hints.as !== undefined && (typeof hints.as !== 'string' || !PRELOAD_AS.has(hints.as))) {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid preload "as" ${show(hints.as)}: use one of ${[...PRELOAD_AS].join(', ')}.`);
  }
  if (hints.type !== undefined && (typeof hints.type !== 'string' || !MIME_TYPE.test(hints.type))) {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid preload "type" ${show(hints.type)}: give a lowercase MIME type such as "font/woff2".`);
  }
  const cors = hints.crossorigin;
  if (cors !== undefined && cors !== true && cors !== 'anonymous' && cors !== 'use-credentials') {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid preload "crossorigin" ${show(cors)}: use true, "anonymous" or "use-credentials".`);
  }
  if (hints.version !== undefined && (typeof hints.version !== 'string' || !HEADER_VALUE.test(hints.version))) {
    invalid('ERR_PUSH_INVALID_OPTION', `Invalid push "version" ${show(hints.version)}: give a short visible-ASCII string such as a content hash.`);
  }
  return { as: hints.as as PreloadAs | undefined, type: hints.type as string | undefined, crossorigin: cors, version: hints.version as string | undefined };
}

function normalize(path: unknown, headers: unknown, opts: unknown, extras: ResourceExtras): NormalizedPush {
  const validPath = validatePath(path);
  const { headers: validHeaders, size: headersSize } = validateHeaders(headers);
  if (opts !== undefined && !isPlainObject(opts)) {
    invalid('ERR_PUSH_INVALID_OPTION', `Push options must be a plain object, got ${show(opts)}.`);
  }
  const o: Record<string, unknown> = opts ?? {};
  checkKeys(o, OPTION_KEYS, 'push option');
  const method = validateMethod(o.method);
  const qs = validateQs(o.qs);
  const { as, type, crossorigin, version } = validateExtras(extras);
  const sameOrigin = o.scheme === undefined && o.host === undefined && o.port === undefined;
  const accept = validHeaders.accept;
  const url = qs ? `${validPath}?${qs}` : validPath;
  const preload = method === 'GET'
    ? preloadParams(inferPreloadAs(validPath, typeof accept === 'string' ? accept : undefined, as), type, crossorigin)
    : undefined;
  return {
    method,
    path: validPath,
    qs,
    scheme: o.scheme === undefined ? undefined : validateScheme(o.scheme),
    host: o.host === undefined ? undefined : validateHost(o.host),
    port: o.port === undefined ? undefined : validatePort(o.port),
    headers: validHeaders,
    url,
    headersSize,
    version,
    // Only GET resources can be hinted; a relative link when the resource is on the current authority.
    link: preload !== undefined && sameOrigin ? `<${url}>${preload}` : undefined,
    preload: sameOrigin ? undefined : preload,
  };
}

/** `PushService.push(path, headers, opts)`, checked and normalized. */
export function normalizePush(path: unknown, headers?: PushHeaders, opts?: PushOptions): NormalizedPush {
  return normalize(path, headers, opts, {});
}

/** A `@Push()` argument: a path, or `{ path, headers?, ...opts, as?, type?, crossorigin?, version? }`. */
export function normalizeResource(resource: unknown): NormalizedPush {
  if (typeof resource === 'string') return normalizePush(resource);
  if (!isPlainObject(resource)) {
    invalid('ERR_PUSH_INVALID_PATH', `A pushed resource is a path string or { path, headers?, ...options }, got ${show(resource)}.`);
  }
  checkKeys(resource, RESOURCE_KEYS, 'push resource field');
  const { path, headers, as, type, crossorigin, version, ...opts } = resource as unknown as PushResource;
  return normalize(path, headers, opts, { as, type, crossorigin, version });
}

/** Splits `host[:port]` (or `[v6]:port`) as found in `:authority`; undefined when it is not one. */
export function parseAuthority(authority: unknown): { host: string; port?: number } | undefined {
  if (typeof authority !== 'string' || authority.length === 0) return undefined;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: match[1].toLowerCase(), port };
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/** `host[:port]`, leaving out the scheme's default port as clients do. */
export function formatAuthority(host: string, port: number | undefined, scheme: string): string {
  return port === undefined || DEFAULT_PORTS[scheme] === port ? host : `${host}:${port}`;
}

function invalidModuleOption(message: string): never {
  invalid('ERR_PUSH_INVALID_MODULE_OPTION', message);
}

/** Applies defaults to the module options and checks them once, at start-up. */
export function resolvePushOptions(options: PushModuleOptions = {}): ResolvedPushOptions {
  const max = options.maxPushesPerRequest ?? DEFAULT_MAX_PUSHES_PER_REQUEST;
  if (!Number.isInteger(max) || max < 0) {
    invalidModuleOption(`PushModule option "maxPushesPerRequest" must be an integer >= 0, got ${show(max)}.`);
  }
  const perConnection = options.maxConcurrentPushesPerConnection ?? DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION;
  if (!Number.isInteger(perConnection) || perConnection < 0) {
    invalidModuleOption(`PushModule option "maxConcurrentPushesPerConnection" must be an integer >= 0, got ${show(perConnection)}.`);
  }
  const pushTimeoutMs = options.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  if (!Number.isInteger(pushTimeoutMs) || pushTimeoutMs < 0 || pushTimeoutMs > 2 ** 31 - 1) {
    invalidModuleOption(`PushModule option "pushTimeoutMs" must be an integer of milliseconds >= 0, got ${show(pushTimeoutMs)}.`);
  }
  const inheritHeaders = options.inheritHeaders ?? DEFAULT_INHERITED_HEADERS;
  if (!Array.isArray(inheritHeaders)) invalidModuleOption('PushModule option "inheritHeaders" must be an array of header names.');
  for (const name of inheritHeaders) {
    const problem = typeof name !== 'string'
      ? 'it is not a string'
      : CONDITIONAL_HEADERS.has(name) || name.startsWith('content-')
        ? 'conditional, range and body headers of the page request do not apply to the pushed resource'
        : headerNameProblem(name);
    if (problem) invalidModuleOption(`PushModule option "inheritHeaders" cannot contain ${show(name)}: ${problem}.`);
  }
  const authorities = (options.authorities ?? []).map((entry) => {
    const parsed = parseAuthority(entry);
    if (!parsed) invalidModuleOption(`PushModule option "authorities" has ${show(entry)}: give "host" or "host:port".`);
    try {
      return { host: validateHost(parsed.host), port: parsed.port };
    } catch {
      return invalidModuleOption(`PushModule option "authorities" has ${show(entry)}: not a valid host name.`);
    }
  });
  const diarySize = options.diarySize ?? DEFAULT_DIARY_SIZE;
  if (!Number.isInteger(diarySize) || diarySize < 0) {
    invalidModuleOption(`PushModule option "diarySize" must be an integer >= 0, got ${show(diarySize)}.`);
  }
  if (options.requestContext !== undefined && typeof options.requestContext !== 'boolean') {
    invalidModuleOption('PushModule option "requestContext" must be true, false or left out (auto).');
  }
  if (options.onPush !== undefined && typeof options.onPush !== 'function') {
    invalidModuleOption('PushModule option "onPush" must be a function taking a PushEvent.');
  }
  const fallback = resolveFallback(options.fallback);
  if (options.logEvents !== undefined && typeof options.logEvents !== 'boolean') {
    invalidModuleOption('PushModule option "logEvents" must be true or false.');
  }
  if (options.telemetry !== undefined && typeof options.telemetry !== 'boolean') {
    invalidModuleOption('PushModule option "telemetry" must be true, false or left out (on when @opentelemetry/api is installed).');
  }
  return {
    maxPushesPerRequest: max,
    maxConcurrentPushesPerConnection: perConnection,
    connectionPushBudget: resolveConnectionPushBudget(options.connectionPushBudget),
    pushTimeoutMs,
    inheritHeaders: [...inheritHeaders],
    authorities,
    fallback,
    diarySize,
    pushLinkHeaders: options.pushLinkHeaders === true,
    requestContext: options.requestContext,
    digestCookie: resolveDigestCookie(options.digestCookie),
    onPush: options.onPush,
    learnedHints: resolveLearnedHints(options.learnedHints, fallback),
    logEvents: options.logEvents === true,
    telemetry: options.telemetry,
  };
}

function resolveLearnedHints(option: PushModuleOptions['learnedHints'], fallback: ResolvedPushOptions['fallback']): ResolvedPushOptions['learnedHints'] {
  if (option === undefined || option === false) return undefined;
  if (option !== true && !isPlainObject(option)) {
    invalidModuleOption('PushModule option "learnedHints" must be a boolean or { maxPaths?, maxLinksPerPath?, maxBytes?, navigationsOnly? }.');
  }
  if (!fallback.earlyHints) {
    invalidModuleOption('PushModule option "learnedHints" sends 103 Early Hints: it needs fallback.earlyHints (on by default).');
  }
  const resolved = { ...DEFAULT_LEARNED_HINTS, ...(option === true ? {} : option) };
  for (const [key, value] of Object.entries(resolved)) {
    if (!(key in DEFAULT_LEARNED_HINTS)) {
      invalidModuleOption(`PushModule option "learnedHints.${key}" is not known (maxPaths, maxLinksPerPath, maxBytes, navigationsOnly).`);
    }
    if (key === 'navigationsOnly' ? typeof value !== 'boolean' : !Number.isInteger(value) || (value as number) < 1) {
      invalidModuleOption(`PushModule option "learnedHints.${key}" must be ${key === 'navigationsOnly' ? 'a boolean' : 'an integer >= 1'}, got ${show(value)}.`);
    }
  }
  return resolved;
}

function resolveConnectionPushBudget(option: PushModuleOptions['connectionPushBudget']): PushBudget | false | undefined {
  if (option === false || option === undefined) return option;
  if (!isPlainObject(option)) {
    invalidModuleOption('PushModule option "connectionPushBudget" must be false or { burst?, perSecond? }.');
  }
  const resolved = { ...DEFAULT_CONNECTION_PUSH_BUDGET, ...option };
  for (const key of Object.keys(resolved)) {
    if (key !== 'burst' && key !== 'perSecond') {
      invalidModuleOption(`PushModule option "connectionPushBudget.${key}" is not a known option (burst, perSecond).`);
    }
  }
  if (!Number.isInteger(resolved.burst) || resolved.burst < 1) {
    invalidModuleOption(`PushModule option "connectionPushBudget.burst" must be an integer >= 1, got ${show(resolved.burst)}.`);
  }
  if (typeof resolved.perSecond !== 'number' || !Number.isFinite(resolved.perSecond) || resolved.perSecond < 0) {
    invalidModuleOption(`PushModule option "connectionPushBudget.perSecond" must be a number >= 0, got ${show(resolved.perSecond)}.`);
  }
  return resolved;
}

function resolveDigestCookie(option: PushModuleOptions['digestCookie']): ResolvedPushOptions['digestCookie'] {
  if (option === undefined || option === false) return undefined;
  if (option !== true && !isPlainObject(option)) {
    invalidModuleOption('PushModule option "digestCookie" must be a boolean or { name?, maxAge?, bits? }.');
  }
  const resolved = { name: 'h2push', maxAge: 7 * 24 * 3600, bits: 512, ...(option === true ? {} : option) };
  if (typeof resolved.name !== 'string' || !HEADER_NAME.test(resolved.name.toLowerCase())) {
    invalidModuleOption(`PushModule option "digestCookie.name" ${show(resolved.name)} is not a valid cookie name.`);
  }
  if (!Number.isInteger(resolved.maxAge) || resolved.maxAge < 1) {
    invalidModuleOption(`PushModule option "digestCookie.maxAge" must be a positive integer of seconds, got ${show(resolved.maxAge)}.`);
  }
  if (!Number.isInteger(resolved.bits) || resolved.bits % 8 !== 0 || resolved.bits < 64 || resolved.bits > 4096) {
    invalidModuleOption(`PushModule option "digestCookie.bits" must be a multiple of 8 from 64 to 4096, got ${show(resolved.bits)}.`);
  }
  return resolved;
}

function resolveFallback(fallback: PushModuleOptions['fallback']): ResolvedPushOptions['fallback'] {
  if (fallback === false) return { earlyHints: false, linkHeader: false, nopush: false };
  if (fallback !== undefined && !isPlainObject(fallback)) {
    invalidModuleOption('PushModule option "fallback" must be false or { earlyHints?, linkHeader?, nopush? }.');
  }
  const resolved = { earlyHints: true, linkHeader: true, nopush: false, ...fallback };
  for (const [key, value] of Object.entries(resolved)) {
    if (!['earlyHints', 'linkHeader', 'nopush'].includes(key) || typeof value !== 'boolean') {
      invalidModuleOption(`PushModule option "fallback.${key}" is not a known boolean option (earlyHints, linkHeader, nopush).`);
    }
  }
  return resolved;
}
