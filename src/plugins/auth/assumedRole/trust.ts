/** The trust policy a customer's role needs so the platform may assume it. Pure, plain JSON out. */
import type { PolicyDocument } from '../../../core/types.ts';

export interface TrustPolicyInput {
  /** The platform identity allowed to assume the role: a user/role ARN or an account root ARN. */
  readonly platformPrincipalArn: string;
  /** The external id the platform presents; guards against the confused-deputy problem. */
  readonly externalId: string;
}

/**
 * The role trust policy: only the platform principal may assume the role, and only with the
 * destination's external id.
 *
 * @example trustPolicy({ platformPrincipalArn: 'arn:aws:iam::111122223333:user/edge-export', externalId: 'ext-1' })
 */
export function trustPolicy(input: TrustPolicyInput): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AssumeWithExternalId',
        Effect: 'Allow',
        Principal: { AWS: input.platformPrincipalArn },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': input.externalId } },
      },
    ],
  };
}
