/**
 * Why an artifact could not be fetched. Permanent failures (the object or bucket does not exist,
 * access is denied, the credentials are malformed) are reported at once; transient ones are
 * retried. The message is what the Model's status shows: it names the cause and the fix.
 */
export type ArtifactFailure =
  | 'not-found'
  | 'no-bucket'
  | 'access-denied'
  | 'bad-secret'
  | 'unsupported'
  | 'invalid'
  | 'transient';

export class ArtifactError extends Error {
  constructor(
    readonly failure: ArtifactFailure,
    message: string,
  ) {
    super(message);
  }

  get permanent(): boolean {
    return this.failure !== 'transient';
  }
}

/** What rclone's exit code and error output say about a failed copy. */
export function classifyRclone(code: number | null, stderr: string): ArtifactFailure {
  if (
    /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|AuthenticationFailed|AuthorizationFailure|AuthorizationPermissionMismatch|InvalidAuthenticationInfo|Forbidden|Unauthorized|invalid_grant|could not find default credentials|status code:? 40[13]\b/i.test(
      stderr,
    )
  )
    return 'access-denied';
  if (
    /NoSuchBucket|The specified bucket does not exist|ContainerNotFound|The specified container does not exist/i.test(
      stderr,
    )
  )
    return 'no-bucket';
  if (
    /didn't find (section in config file|backend called)|couldn't find type|invalid (option|value)|unknown (option|flag)|couldn't decode/i.test(
      stderr,
    )
  )
    return 'bad-secret';
  if (code === 3 || code === 4 || /directory not found|object not found|NoSuchKey/i.test(stderr))
    return 'not-found';
  return 'transient';
}

/** Where the credentials came from, as messages name it. */
export type CredentialSource =
  | { kind: 'secret'; secret: string; namespace: string }
  | { kind: 'runtime'; secret: string }
  | { kind: 'built-in'; remote: string };

function describe(c: CredentialSource): string {
  if (c.kind === 'secret') return `Secret "${c.secret}" (namespace ${c.namespace})`;
  if (c.kind === 'runtime') return `the Runtime's default remote from Secret "${c.secret}"`;
  return c.remote === 'gs'
    ? 'the built-in "gs" remote (anonymous reads of public buckets)'
    : `the built-in "${c.remote}" remote (the workload's own credentials)`;
}

/** The fix each permanent failure points to. */
export function fixFor(failure: ArtifactFailure, uri: string, c: CredentialSource): string {
  switch (failure) {
    case 'not-found':
      return `check spec.storageUri: ${uri} holds no files (upload the model folder there, or correct the path)`;
    case 'no-bucket':
      return `check the bucket (or container) name in spec.storageUri ${uri}, and the endpoint used by ${describe(c)}`;
    case 'access-denied':
      return c.kind === 'built-in'
        ? `set spec.secretName to a Secret with an rclone remote that can read ${uri}, or give the workload read access`
        : `give the credentials in ${describe(c)} read access to ${uri}, or correct them`;
    case 'bad-secret':
      return 'write the Secret as Seldon does: one key holding YAML or JSON {name, type, parameters} with an rclone backend type and its options';
    default:
      return '';
  }
}

/** The sentence a failure reports: model, URI, cause, fix. */
export function failureMessage(
  model: string,
  uri: string,
  failure: ArtifactFailure,
  cause: string,
  c: CredentialSource,
): string {
  const what: Record<ArtifactFailure, string> = {
    'not-found': 'no such object',
    'no-bucket': 'no such bucket',
    'access-denied': `access denied with ${describe(c)}`,
    'bad-secret': `the storage credentials of ${describe(c)} are not usable`,
    unsupported: 'unsupported storage URI',
    invalid: 'invalid artifact',
    transient: 'download failed',
  };
  const fix = fixFor(failure, uri, c);
  return `Model ${model}: cannot fetch ${uri}: ${what[failure]} (${cause})${fix ? `. Fix: ${fix}` : ''}`;
}
