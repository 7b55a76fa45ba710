/**
 * What a CloudTrail event is about, for SIEM rules and dashboards: one table, versioned, so that a
 * change of category is a visible, dated change (the version is in the README and CHANGELOG).
 * Rules are tried in order; the first that matches names the category.
 */
export const CATEGORY_TABLE_VERSION = '2026-12-03.1';

export const CATEGORIES = [
  'authentication',
  'iam_change',
  'network_security_config',
  'logging_change',
  'data_access',
  'read',
  'resource_change',
  'insight',
  'unknown',
] as const;
export type Category = (typeof CATEGORIES)[number];

interface Rule {
  category: Category;
  /** eventSource without ".amazonaws.com"; any when absent. */
  services?: readonly string[];
  /** eventName patterns; any when absent. */
  names?: RegExp;
  /** Matches only data events (S3 object and Lambda invoke level). */
  dataEvent?: boolean;
}

const READ_NAME = /^(Get|List|Describe|Head|Lookup|Search|Scan|Query|BatchGet|Select|Check|Validate|Simulate|Preview|Estimate)/;

const RULES: readonly Rule[] = [
  // Sign-ins and credential issuance: who got in, and with what.
  { category: 'authentication', services: ['signin', 'sso', 'sso-oauth', 'identitystore-auth'], names: /^(ConsoleLogin|CheckMfa|SwitchRole|ExitRole|RenewRole|Authenticate|CreateToken|Federate|GetRoleCredentials|Logout|CredentialChallenge|CredentialVerification|UserAuthentication)/ },
  { category: 'authentication', services: ['sts'], names: /^(AssumeRole|AssumeRoleWithSAML|AssumeRoleWithWebIdentity|AssumeRoot|GetSessionToken|GetFederationToken)$/ },
  { category: 'authentication', services: ['cognito-idp'], names: /^(InitiateAuth|AdminInitiateAuth|RespondToAuthChallenge|AdminRespondToAuthChallenge)$/ },
  // Who may do what: identities, their keys and policies, organisation-wide guardrails.
  { category: 'iam_change', services: ['iam', 'sso', 'sso-directory', 'identitystore', 'organizations', 'access-analyzer'], names: /^(?!(Get|List|Describe|Generate|Simulate|Search|Validate|Check))/ },
  { category: 'iam_change', services: ['kms'], names: /^(CreateGrant|RetireGrant|RevokeGrant|PutKeyPolicy|DisableKey|ScheduleKeyDeletion|CancelKeyDeletion|EnableKey)$/ },
  { category: 'iam_change', services: ['s3'], names: /^(PutBucketPolicy|DeleteBucketPolicy|PutBucketAcl|PutObjectAcl|PutBucketPublicAccessBlock|DeleteBucketPublicAccessBlock|PutAccountPublicAccessBlock|DeleteAccountPublicAccessBlock|PutBucketOwnershipControls)$/ },
  // What the network lets through, and what watches it.
  { category: 'network_security_config', services: ['ec2'], names: /^(Authorize|Revoke|Modify|Create|Delete|Replace|Update|Associate|Disassociate|Attach|Detach|Accept|Reject|Enable|Disable).*(SecurityGroup|NetworkAcl|Route|Vpc|Subnet|InternetGateway|NatGateway|VpnConnection|VpnGateway|CustomerGateway|TransitGateway|FlowLogs|PeeringConnection|NetworkInterface|Address|EgressOnlyInternetGateway|PrefixList|TrafficMirror)/ },
  { category: 'network_security_config', services: ['network-firewall', 'waf', 'wafv2', 'waf-regional', 'shield', 'fms', 'guardduty', 'securityhub', 'macie2', 'inspector2', 'route53resolver', 'elasticloadbalancing'], names: /^(?!(Get|List|Describe|Search|Check))/ },
  // The audit trail itself: stopping or redirecting it is what attackers do first.
  { category: 'logging_change', services: ['cloudtrail', 'config', 'logs'], names: /^(StopLogging|StartLogging|DeleteTrail|UpdateTrail|CreateTrail|PutEventSelectors|PutInsightSelectors|DeleteEventDataStore|StopEventDataStoreIngestion|StopConfigurationRecorder|DeleteConfigurationRecorder|DeleteDeliveryChannel|PutConfigurationRecorder|PutDeliveryChannel|DeleteLogGroup|DeleteLogStream|PutRetentionPolicy|DeleteRetentionPolicy|DeleteSubscriptionFilter|PutSubscriptionFilter)$/ },
  { category: 'logging_change', services: ['s3'], names: /^(PutBucketLogging|PutBucketLifecycle|DeleteBucketLifecycle)$/ },
  // Reading or changing the data itself, not its configuration.
  { category: 'data_access', dataEvent: true },
  { category: 'data_access', services: ['s3'], names: /^(GetObject|PutObject|DeleteObject|DeleteObjects|CopyObject|UploadPart|CompleteMultipartUpload|RestoreObject|SelectObjectContent)$/ },
  { category: 'data_access', services: ['kms'], names: /^(Decrypt|Encrypt|GenerateDataKey|GenerateDataKeyWithoutPlaintext|ReEncrypt)/ },
  { category: 'data_access', services: ['secretsmanager'], names: /^(GetSecretValue|BatchGetSecretValue)$/ },
  { category: 'data_access', services: ['ssm'], names: /^(GetParameter|GetParameters|GetParametersByPath)$/ },
  { category: 'data_access', services: ['dynamodb', 'lambda'], names: /^(GetItem|PutItem|UpdateItem|DeleteItem|BatchGetItem|BatchWriteItem|Query|Scan|Invoke)$/ },
];

export interface CloudTrailFields {
  category: Category;
  outcome: 'success' | 'failure';
}

/** The category and outcome of one CloudTrail record. */
export function classifyCloudTrail(record: Record<string, unknown>): CloudTrailFields {
  return { category: categoryOf(record), outcome: outcomeOf(record) };
}

function categoryOf(record: Record<string, unknown>): Category {
  // Insights events (CloudTrail-Insight/) describe unusual API activity, not one call.
  if (record.eventType === 'AwsCloudTrailInsight') return 'insight';
  const name = typeof record.eventName === 'string' ? record.eventName : '';
  if (name === '') return 'unknown';
  const source = typeof record.eventSource === 'string' ? record.eventSource.replace(/\.amazonaws\.com$/, '') : '';
  const dataEvent = record.eventCategory === 'Data' || record.managementEvent === false;
  for (const rule of RULES) {
    if (rule.dataEvent !== undefined && rule.dataEvent !== dataEvent) continue;
    if (rule.services && !rule.services.includes(source)) continue;
    if (rule.names && !rule.names.test(name)) continue;
    return rule.category;
  }
  if (record.readOnly === true || READ_NAME.test(name)) return 'read';
  return 'resource_change';
}

/**
 * Failure when CloudTrail records an error code; a console sign-in that failed has none, only
 * `responseElements.ConsoleLogin: "Failure"`.
 */
function outcomeOf(record: Record<string, unknown>): 'success' | 'failure' {
  if (typeof record.errorCode === 'string' && record.errorCode !== '') return 'failure';
  const response = record.responseElements as Record<string, unknown> | null | undefined;
  if (response && typeof response === 'object' && response.ConsoleLogin === 'Failure') return 'failure';
  return 'success';
}
