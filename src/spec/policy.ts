/**
 * The workload policy checks `mlops validate` and synthesis run on pod templates, and how an
 * object records that its reviewers accepted one of them.
 */

/** Checks an object may accept, each with a reason reviewers read in the manifest. */
export const ACCEPTABLE_POLICY_CHECKS = [
  'pss-host-namespaces',
  'pss-volume-type',
  'pss-privileged',
  'pss-privilege-escalation',
  'pss-run-as-non-root',
  'pss-seccomp',
  'pss-capabilities',
  'pss-host-ports',
  'image-tag',
  'resources',
  'probes',
] as const;

/** A workload policy check an object may accept. */
export type AcceptablePolicyCheck = (typeof ACCEPTABLE_POLICY_CHECKS)[number];

/**
 * Annotation keys `review.cdk8s-mlops.io/accept-<check>`: the value is the reason. Secrets in
 * Git have no such key: nothing justifies them.
 */
export const ACCEPTED_POLICY_PREFIX = 'review.cdk8s-mlops.io/accept-';

export function acceptedPolicyAnnotation(check: AcceptablePolicyCheck): string {
  return `${ACCEPTED_POLICY_PREFIX}${check}`;
}

export function isAcceptablePolicyCheck(check: string): check is AcceptablePolicyCheck {
  return (ACCEPTABLE_POLICY_CHECKS as readonly string[]).includes(check);
}
