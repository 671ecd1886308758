/** Stable codes, so callers can match on `err.code` rather than on message text. */
export type PushErrorCode =
  | 'ERR_PUSH_INVALID_PATH'
  | 'ERR_PUSH_INVALID_QS'
  | 'ERR_PUSH_INVALID_HEADER'
  | 'ERR_PUSH_INVALID_METHOD'
  | 'ERR_PUSH_INVALID_OPTION'
  | 'ERR_PUSH_UNKNOWN_AUTHORITY'
  | 'ERR_PUSH_INVALID_MODULE_OPTION'
  | 'ERR_PUSH_AFTER_RESPONSE'
  | 'ERR_PUSH_OUTSIDE_REQUEST';

/** Every call this module rejects throws a PushError (or a subclass). Nothing has reached the wire then. */
export class PushError extends Error {
  constructor(
    readonly code: PushErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A resource, header, option or module option that cannot be pushed as given. */
export class PushValidationError extends PushError {}

/** `push()` after the response's headers were sent: too late to promise anything on this stream. */
export class PushAfterResponseError extends PushError {
  constructor(path: string) {
    super(
      'ERR_PUSH_AFTER_RESPONSE',
      `Cannot push "${path}": the response has already been sent. Push before replying ` +
        '(with @Res(), push before calling reply.send()).',
    );
  }
}

/** `push()` with no request being handled (a timer, a cron job, module start-up). */
export class PushOutsideRequestError extends PushError {
  constructor() {
    super(
      'ERR_PUSH_OUTSIDE_REQUEST',
      'PushService.push() was called outside a request: call it while a Fastify request is handled ' +
        '(guards, interceptors, pipes, handlers, exception filters). If it was, PushService was reached in a ' +
        'way the module cannot see (e.g. moduleRef.get): set PushModule.forRoot({ requestContext: true }).',
    );
  }
}
