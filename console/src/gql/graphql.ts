/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Who brought an audit event about. */
export type AuthEventOrigin =
  /** A request without a session, such as a sign-in attempt: `ipAddress` and `userAgent` say from where. */
  | 'ANONYMOUS'
  /** The `gatehouse` command, run by an operator on the server. */
  | 'COMMAND_LINE'
  /** Gatehouse itself: expiry, the sweeper, the first admin at start. */
  | 'SYSTEM'
  /** A signed-in user: `actor` (or `actorUserId`) says who. */
  | 'USER';

export type AuthEventType =
  | 'ALL_SESSIONS_REVOKED'
  | 'DEVICE_BOUND'
  | 'LOGIN_FAILED'
  | 'LOGIN_RATE_LIMITED'
  | 'LOGIN_REFUSED_DISABLED'
  | 'LOGIN_SUCCEEDED'
  | 'PASSKEY_COUNTER_REGRESSED'
  | 'PASSWORD_CHANGED'
  | 'PASSWORD_RESET'
  | 'REAUTHENTICATED'
  | 'REAUTHENTICATION_FAILED'
  | 'RECOVERY_CODES_REGENERATED'
  | 'RECOVERY_CODE_USED'
  | 'SECOND_FACTORS_RESET'
  | 'SECOND_FACTOR_ADDED'
  | 'SECOND_FACTOR_FAILED'
  | 'SECOND_FACTOR_REMOVED'
  | 'SECOND_FACTOR_REQUESTED'
  | 'SERVICE_TOKEN_CREATED'
  | 'SERVICE_TOKEN_REVOKED'
  | 'SESSION_ENDED'
  | 'SESSION_LIMIT_CHANGED'
  | 'SESSION_LIMIT_REACHED'
  | 'USER_CREATED'
  | 'USER_DELETED'
  | 'USER_DISABLED'
  | 'USER_ENABLED'
  | 'WEBHOOK_CREATED'
  | 'WEBHOOK_DELETED'
  | 'WEBHOOK_SECRET_ROTATED'
  | 'WEBHOOK_UPDATED';

/** A way a user proved who they are. */
export type AuthenticationMethod =
  /** A passkey (WebAuthn), with user verification. */
  | 'PASSKEY'
  /** The account password. */
  | 'PASSWORD'
  /** One of the recovery codes shown when the first second factor was added. */
  | 'RECOVERY_CODE'
  /** A code from an authenticator app (RFC 6238). */
  | 'TOTP';

export type Role =
  | 'ADMIN'
  | 'USER';

export type SecondFactorKind =
  /** A passkey. */
  | 'PASSKEY'
  /** An authenticator app. */
  | 'TOTP';

/** What a service token may do. VERIFY_SESSIONS: `verifySession` and `sessionEndFeed`. READ_SESSIONS: `activeSessions`, `sessionsByUser`, `sessionStats`. */
export type ServiceScope =
  | 'READ_SESSIONS'
  | 'VERIFY_SESSIONS';

export type SessionEndReason =
  | 'ALL_SESSIONS_REVOKED'
  | 'DEVICE_MISMATCH'
  | 'EXPIRED'
  | 'KICKED'
  | 'LOGOUT'
  | 'PASSWORD_CHANGED'
  | 'SECOND_FACTORS_RESET'
  | 'SUPERSEDED'
  | 'USER_DELETED'
  | 'USER_DISABLED'
  | 'USER_SESSIONS_REVOKED';

export type SessionEventType =
  | 'ENDED'
  | 'STARTED';

export type WebhookDeliveryStatus =
  | 'DELIVERED'
  | 'FAILED'
  | 'PENDING';

export type WebhookEventType =
  | 'SECOND_FACTORS_RESET'
  | 'SECOND_FACTOR_ADDED'
  | 'SECOND_FACTOR_FAILED'
  | 'SECOND_FACTOR_REMOVED'
  | 'SESSION_ENDED'
  | 'SESSION_STARTED'
  | 'USER_CREATED'
  | 'USER_DELETED'
  | 'USER_DISABLED';

export type SessionRowFragment = { id: string, current: boolean, createdAt: string, lastSeenAt: string, userAgent: string | null, ipAddress: string | null, authenticationMethods: Array<AuthenticationMethod>, deviceBound: boolean, deviceBoundAt: string | null, user: { id: string, username: string } };

export type MySessionsQueryVariables = Exact<{ [key: string]: never; }>;


export type MySessionsQuery = { me: { id: string, sessions: Array<{ id: string, current: boolean, createdAt: string, lastSeenAt: string, userAgent: string | null, ipAddress: string | null, authenticationMethods: Array<AuthenticationMethod>, deviceBound: boolean, deviceBoundAt: string | null, user: { id: string, username: string } }> } | null };

export type EndSessionMutationVariables = Exact<{
  sessionId: string;
}>;


export type EndSessionMutation = { kickSession: { id: string, active: boolean } };

export type EndOtherSessionsMutationVariables = Exact<{ [key: string]: never; }>;


export type EndOtherSessionsMutation = { revokeOtherSessions: number };

export type ChangePasswordMutationVariables = Exact<{
  currentPassword: string;
  newPassword: string;
}>;


export type ChangePasswordMutation = { changePassword: boolean };

export type AllSessionsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  userId?: string | null | undefined;
}>;


export type AllSessionsQuery = { activeSessions: { totalCount: number, edges: Array<{ node: { id: string, current: boolean, createdAt: string, lastSeenAt: string, userAgent: string | null, ipAddress: string | null, authenticationMethods: Array<AuthenticationMethod>, deviceBound: boolean, deviceBoundAt: string | null, user: { id: string, username: string } } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type SessionEventsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type SessionEventsSubscription = { sessionEvents: { type: SessionEventType, reason: SessionEndReason | null, session: { id: string, current: boolean, createdAt: string, lastSeenAt: string, userAgent: string | null, ipAddress: string | null, authenticationMethods: Array<AuthenticationMethod>, deviceBound: boolean, deviceBoundAt: string | null, user: { id: string, username: string } } } };

export type EndUserSessionsMutationVariables = Exact<{
  userId: string;
}>;


export type EndUserSessionsMutation = { revokeUserSessions: number };

export type UserRowFragment = { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> };

export type UsersQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  usernameContains?: string | null | undefined;
}>;


export type UsersQuery = { users: { totalCount: number, edges: Array<{ node: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type UsernamesQueryVariables = Exact<{
  first: number;
  usernameContains?: string | null | undefined;
}>;


export type UsernamesQuery = { users: { totalCount: number, edges: Array<{ node: { id: string, username: string } }> } };

export type CreateUserMutationVariables = Exact<{
  username: string;
  password: string;
  role: Role;
}>;


export type CreateUserMutation = { createUser: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type SetSessionLimitMutationVariables = Exact<{
  userId: string;
  limit?: number | null | undefined;
}>;


export type SetSessionLimitMutation = { setUserSessionLimit: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type DisableUserMutationVariables = Exact<{
  userId: string;
}>;


export type DisableUserMutation = { disableUser: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type EnableUserMutationVariables = Exact<{
  userId: string;
}>;


export type EnableUserMutation = { enableUser: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type DeleteUserMutationVariables = Exact<{
  userId: string;
}>;


export type DeleteUserMutation = { deleteUser: boolean };

export type ResetPasswordMutationVariables = Exact<{
  userId: string;
  newPassword: string;
}>;


export type ResetPasswordMutation = { resetPassword: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type EndEverySessionMutationVariables = Exact<{ [key: string]: never; }>;


export type EndEverySessionMutation = { revokeAllSessions: number };

export type ReauthenticateMutationVariables = Exact<{
  password?: string | null | undefined;
  code?: string | null | undefined;
  passkeyResponse?: unknown;
}>;


export type ReauthenticateMutation = { reauthenticate: { id: string, authenticatedAt: string } };

export type ResetSecondFactorsMutationVariables = Exact<{
  userId: string;
}>;


export type ResetSecondFactorsMutation = { resetSecondFactors: { id: string, username: string, role: Role, disabled: boolean, activeSessionCount: number, sessionLimit: number | null, secondFactors: Array<{ id: string, kind: SecondFactorKind }> } };

export type SecondFactorRowFragment = { id: string, kind: SecondFactorKind, name: string, createdAt: string, lastUsedAt: string | null };

export type SecondFactorsQueryVariables = Exact<{ [key: string]: never; }>;


export type SecondFactorsQuery = { me: { id: string, secondFactors: Array<{ id: string, kind: SecondFactorKind, name: string, createdAt: string, lastUsedAt: string | null }> } | null };

export type StartTotpEnrollmentMutationVariables = Exact<{ [key: string]: never; }>;


export type StartTotpEnrollmentMutation = { startTotpEnrollment: { secret: string, otpauthUri: string } };

export type ConfirmTotpEnrollmentMutationVariables = Exact<{
  code: string;
  name?: string | null | undefined;
}>;


export type ConfirmTotpEnrollmentMutation = { confirmTotpEnrollment: { recoveryCodes: Array<string>, factor: { id: string, kind: SecondFactorKind, name: string, createdAt: string, lastUsedAt: string | null } } };

export type StartPasskeyRegistrationMutationVariables = Exact<{ [key: string]: never; }>;


export type StartPasskeyRegistrationMutation = { startPasskeyRegistration: unknown };

export type FinishPasskeyRegistrationMutationVariables = Exact<{
  response: unknown;
  name?: string | null | undefined;
}>;


export type FinishPasskeyRegistrationMutation = { finishPasskeyRegistration: { recoveryCodes: Array<string>, factor: { id: string, kind: SecondFactorKind, name: string, createdAt: string, lastUsedAt: string | null } } };

export type RemoveSecondFactorMutationVariables = Exact<{
  id: string;
}>;


export type RemoveSecondFactorMutation = { removeSecondFactor: boolean };

export type RegenerateRecoveryCodesMutationVariables = Exact<{ [key: string]: never; }>;


export type RegenerateRecoveryCodesMutation = { regenerateRecoveryCodes: Array<string> };

export type AuditLogQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  userId?: string | null | undefined;
  actorUserId?: string | null | undefined;
  types?: Array<AuthEventType> | AuthEventType | null | undefined;
}>;


export type AuditLogQuery = { authEvents: { totalCount: number, edges: Array<{ node: { id: string, type: AuthEventType, reason: SessionEndReason | null, method: AuthenticationMethod | null, recoveryCodesLeft: number | null, createdAt: string, origin: AuthEventOrigin, userId: string | null, actorUserId: string | null, username: string | null, ipAddress: string | null, userAgent: string | null, user: { username: string } | null, actor: { username: string } | null } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type StatsQueryVariables = Exact<{ [key: string]: never; }>;


export type StatsQuery = { sessionStats: { activeSessions: number, activeUsers: number, sessionsStartedLast24h: number, sessionsEndedLast24h: number, endReasonsLast24h: Array<{ reason: SessionEndReason, count: number }> } };

export type WebhookRowFragment = { id: string, url: string, events: Array<WebhookEventType>, enabled: boolean, description: string | null, createdAt: string };

export type DeliveryRowFragment = { id: string, eventType: WebhookEventType, status: WebhookDeliveryStatus, attempts: number, lastStatusCode: number | null, lastError: string | null, lastAttemptAt: string | null, nextAttemptAt: string | null, createdAt: string, deliveredAt: string | null };

export type ConsoleWebhooksQueryVariables = Exact<{
  deliveries: number;
}>;


export type ConsoleWebhooksQuery = { webhooks: Array<{ id: string, url: string, events: Array<WebhookEventType>, enabled: boolean, description: string | null, createdAt: string, deliveries: { totalCount: number, edges: Array<{ node: { id: string, eventType: WebhookEventType, status: WebhookDeliveryStatus, attempts: number, lastStatusCode: number | null, lastError: string | null, lastAttemptAt: string | null, nextAttemptAt: string | null, createdAt: string, deliveredAt: string | null } }> } }> };

export type ConsoleCreateWebhookMutationVariables = Exact<{
  url: string;
  events: Array<WebhookEventType> | WebhookEventType;
  description?: string | null | undefined;
}>;


export type ConsoleCreateWebhookMutation = { createWebhook: { secret: string, webhook: { id: string, url: string, events: Array<WebhookEventType>, enabled: boolean, description: string | null, createdAt: string } } };

export type SetWebhookEnabledMutationVariables = Exact<{
  id: string;
  enabled: boolean;
}>;


export type SetWebhookEnabledMutation = { updateWebhook: { id: string, url: string, events: Array<WebhookEventType>, enabled: boolean, description: string | null, createdAt: string } };

export type ConsoleRotateWebhookSecretMutationVariables = Exact<{
  id: string;
}>;


export type ConsoleRotateWebhookSecretMutation = { rotateWebhookSecret: { secret: string, webhook: { id: string, url: string, events: Array<WebhookEventType>, enabled: boolean, description: string | null, createdAt: string } } };

export type ConsoleDeleteWebhookMutationVariables = Exact<{
  id: string;
}>;


export type ConsoleDeleteWebhookMutation = { deleteWebhook: boolean };

export type RetryDeliveryMutationVariables = Exact<{
  id: string;
}>;


export type RetryDeliveryMutation = { retryWebhookDelivery: { id: string, eventType: WebhookEventType, status: WebhookDeliveryStatus, attempts: number, lastStatusCode: number | null, lastError: string | null, lastAttemptAt: string | null, nextAttemptAt: string | null, createdAt: string, deliveredAt: string | null } };

export type ServiceTokenRowFragment = { id: string, name: string, scopes: Array<ServiceScope>, createdAt: string, lastUsedAt: string | null, revokedAt: string | null, createdBy: { id: string, username: string } | null };

export type ConsoleServiceTokensQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleServiceTokensQuery = { serviceTokens: Array<{ id: string, name: string, scopes: Array<ServiceScope>, createdAt: string, lastUsedAt: string | null, revokedAt: string | null, createdBy: { id: string, username: string } | null }> };

export type ConsoleCreateServiceTokenMutationVariables = Exact<{
  name: string;
  scopes: Array<ServiceScope> | ServiceScope;
}>;


export type ConsoleCreateServiceTokenMutation = { createServiceToken: { token: string, serviceToken: { id: string, name: string, scopes: Array<ServiceScope>, createdAt: string, lastUsedAt: string | null, revokedAt: string | null, createdBy: { id: string, username: string } | null } } };

export type ConsoleRevokeServiceTokenMutationVariables = Exact<{
  id: string;
}>;


export type ConsoleRevokeServiceTokenMutation = { revokeServiceToken: { id: string, name: string, scopes: Array<ServiceScope>, createdAt: string, lastUsedAt: string | null, revokedAt: string | null, createdBy: { id: string, username: string } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const SessionRowFragmentDoc = new TypedDocumentString(`
    fragment SessionRow on Session {
  id
  current
  createdAt
  lastSeenAt
  userAgent
  ipAddress
  authenticationMethods
  deviceBound
  deviceBoundAt
  user {
    id
    username
  }
}
    `, {"fragmentName":"SessionRow"}) as unknown as TypedDocumentString<SessionRowFragment, unknown>;
export const UserRowFragmentDoc = new TypedDocumentString(`
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}
    `, {"fragmentName":"UserRow"}) as unknown as TypedDocumentString<UserRowFragment, unknown>;
export const SecondFactorRowFragmentDoc = new TypedDocumentString(`
    fragment SecondFactorRow on SecondFactor {
  id
  kind
  name
  createdAt
  lastUsedAt
}
    `, {"fragmentName":"SecondFactorRow"}) as unknown as TypedDocumentString<SecondFactorRowFragment, unknown>;
export const WebhookRowFragmentDoc = new TypedDocumentString(`
    fragment WebhookRow on Webhook {
  id
  url
  events
  enabled
  description
  createdAt
}
    `, {"fragmentName":"WebhookRow"}) as unknown as TypedDocumentString<WebhookRowFragment, unknown>;
export const DeliveryRowFragmentDoc = new TypedDocumentString(`
    fragment DeliveryRow on WebhookDelivery {
  id
  eventType
  status
  attempts
  lastStatusCode
  lastError
  lastAttemptAt
  nextAttemptAt
  createdAt
  deliveredAt
}
    `, {"fragmentName":"DeliveryRow"}) as unknown as TypedDocumentString<DeliveryRowFragment, unknown>;
export const ServiceTokenRowFragmentDoc = new TypedDocumentString(`
    fragment ServiceTokenRow on ServiceToken {
  id
  name
  scopes
  createdAt
  createdBy {
    id
    username
  }
  lastUsedAt
  revokedAt
}
    `, {"fragmentName":"ServiceTokenRow"}) as unknown as TypedDocumentString<ServiceTokenRowFragment, unknown>;
export const MySessionsDocument = new TypedDocumentString(`
    query MySessions {
  me {
    id
    sessions {
      ...SessionRow
    }
  }
}
    fragment SessionRow on Session {
  id
  current
  createdAt
  lastSeenAt
  userAgent
  ipAddress
  authenticationMethods
  deviceBound
  deviceBoundAt
  user {
    id
    username
  }
}`) as unknown as TypedDocumentString<MySessionsQuery, MySessionsQueryVariables>;
export const EndSessionDocument = new TypedDocumentString(`
    mutation EndSession($sessionId: ID!) {
  kickSession(sessionId: $sessionId) {
    id
    active
  }
}
    `) as unknown as TypedDocumentString<EndSessionMutation, EndSessionMutationVariables>;
export const EndOtherSessionsDocument = new TypedDocumentString(`
    mutation EndOtherSessions {
  revokeOtherSessions
}
    `) as unknown as TypedDocumentString<EndOtherSessionsMutation, EndOtherSessionsMutationVariables>;
export const ChangePasswordDocument = new TypedDocumentString(`
    mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
}
    `) as unknown as TypedDocumentString<ChangePasswordMutation, ChangePasswordMutationVariables>;
export const AllSessionsDocument = new TypedDocumentString(`
    query AllSessions($first: Int!, $after: String, $userId: ID) {
  activeSessions(first: $first, after: $after, userId: $userId) {
    totalCount
    edges {
      node {
        ...SessionRow
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    fragment SessionRow on Session {
  id
  current
  createdAt
  lastSeenAt
  userAgent
  ipAddress
  authenticationMethods
  deviceBound
  deviceBoundAt
  user {
    id
    username
  }
}`) as unknown as TypedDocumentString<AllSessionsQuery, AllSessionsQueryVariables>;
export const SessionEventsDocument = new TypedDocumentString(`
    subscription SessionEvents {
  sessionEvents {
    type
    reason
    session {
      ...SessionRow
    }
  }
}
    fragment SessionRow on Session {
  id
  current
  createdAt
  lastSeenAt
  userAgent
  ipAddress
  authenticationMethods
  deviceBound
  deviceBoundAt
  user {
    id
    username
  }
}`) as unknown as TypedDocumentString<SessionEventsSubscription, SessionEventsSubscriptionVariables>;
export const EndUserSessionsDocument = new TypedDocumentString(`
    mutation EndUserSessions($userId: ID!) {
  revokeUserSessions(userId: $userId)
}
    `) as unknown as TypedDocumentString<EndUserSessionsMutation, EndUserSessionsMutationVariables>;
export const UsersDocument = new TypedDocumentString(`
    query Users($first: Int!, $after: String, $usernameContains: String) {
  users(first: $first, after: $after, usernameContains: $usernameContains) {
    totalCount
    edges {
      node {
        ...UserRow
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<UsersQuery, UsersQueryVariables>;
export const UsernamesDocument = new TypedDocumentString(`
    query Usernames($first: Int!, $usernameContains: String) {
  users(first: $first, usernameContains: $usernameContains) {
    totalCount
    edges {
      node {
        id
        username
      }
    }
  }
}
    `) as unknown as TypedDocumentString<UsernamesQuery, UsernamesQueryVariables>;
export const CreateUserDocument = new TypedDocumentString(`
    mutation CreateUser($username: String!, $password: String!, $role: Role!) {
  createUser(username: $username, password: $password, role: $role) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<CreateUserMutation, CreateUserMutationVariables>;
export const SetSessionLimitDocument = new TypedDocumentString(`
    mutation SetSessionLimit($userId: ID!, $limit: Int) {
  setUserSessionLimit(userId: $userId, limit: $limit) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<SetSessionLimitMutation, SetSessionLimitMutationVariables>;
export const DisableUserDocument = new TypedDocumentString(`
    mutation DisableUser($userId: ID!) {
  disableUser(userId: $userId) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<DisableUserMutation, DisableUserMutationVariables>;
export const EnableUserDocument = new TypedDocumentString(`
    mutation EnableUser($userId: ID!) {
  enableUser(userId: $userId) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<EnableUserMutation, EnableUserMutationVariables>;
export const DeleteUserDocument = new TypedDocumentString(`
    mutation DeleteUser($userId: ID!) {
  deleteUser(userId: $userId)
}
    `) as unknown as TypedDocumentString<DeleteUserMutation, DeleteUserMutationVariables>;
export const ResetPasswordDocument = new TypedDocumentString(`
    mutation ResetPassword($userId: ID!, $newPassword: String!) {
  resetPassword(userId: $userId, newPassword: $newPassword) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<ResetPasswordMutation, ResetPasswordMutationVariables>;
export const EndEverySessionDocument = new TypedDocumentString(`
    mutation EndEverySession {
  revokeAllSessions
}
    `) as unknown as TypedDocumentString<EndEverySessionMutation, EndEverySessionMutationVariables>;
export const ReauthenticateDocument = new TypedDocumentString(`
    mutation Reauthenticate($password: String, $code: String, $passkeyResponse: JSON) {
  reauthenticate(
    password: $password
    code: $code
    passkeyResponse: $passkeyResponse
  ) {
    id
    authenticatedAt
  }
}
    `) as unknown as TypedDocumentString<ReauthenticateMutation, ReauthenticateMutationVariables>;
export const ResetSecondFactorsDocument = new TypedDocumentString(`
    mutation ResetSecondFactors($userId: ID!) {
  resetSecondFactors(userId: $userId) {
    ...UserRow
  }
}
    fragment UserRow on User {
  id
  username
  role
  disabled
  activeSessionCount
  sessionLimit
  secondFactors {
    id
    kind
  }
}`) as unknown as TypedDocumentString<ResetSecondFactorsMutation, ResetSecondFactorsMutationVariables>;
export const SecondFactorsDocument = new TypedDocumentString(`
    query SecondFactors {
  me {
    id
    secondFactors {
      ...SecondFactorRow
    }
  }
}
    fragment SecondFactorRow on SecondFactor {
  id
  kind
  name
  createdAt
  lastUsedAt
}`) as unknown as TypedDocumentString<SecondFactorsQuery, SecondFactorsQueryVariables>;
export const StartTotpEnrollmentDocument = new TypedDocumentString(`
    mutation StartTotpEnrollment {
  startTotpEnrollment {
    secret
    otpauthUri
  }
}
    `) as unknown as TypedDocumentString<StartTotpEnrollmentMutation, StartTotpEnrollmentMutationVariables>;
export const ConfirmTotpEnrollmentDocument = new TypedDocumentString(`
    mutation ConfirmTotpEnrollment($code: String!, $name: String) {
  confirmTotpEnrollment(code: $code, name: $name) {
    factor {
      ...SecondFactorRow
    }
    recoveryCodes
  }
}
    fragment SecondFactorRow on SecondFactor {
  id
  kind
  name
  createdAt
  lastUsedAt
}`) as unknown as TypedDocumentString<ConfirmTotpEnrollmentMutation, ConfirmTotpEnrollmentMutationVariables>;
export const StartPasskeyRegistrationDocument = new TypedDocumentString(`
    mutation StartPasskeyRegistration {
  startPasskeyRegistration
}
    `) as unknown as TypedDocumentString<StartPasskeyRegistrationMutation, StartPasskeyRegistrationMutationVariables>;
export const FinishPasskeyRegistrationDocument = new TypedDocumentString(`
    mutation FinishPasskeyRegistration($response: JSON!, $name: String) {
  finishPasskeyRegistration(response: $response, name: $name) {
    factor {
      ...SecondFactorRow
    }
    recoveryCodes
  }
}
    fragment SecondFactorRow on SecondFactor {
  id
  kind
  name
  createdAt
  lastUsedAt
}`) as unknown as TypedDocumentString<FinishPasskeyRegistrationMutation, FinishPasskeyRegistrationMutationVariables>;
export const RemoveSecondFactorDocument = new TypedDocumentString(`
    mutation RemoveSecondFactor($id: ID!) {
  removeSecondFactor(id: $id)
}
    `) as unknown as TypedDocumentString<RemoveSecondFactorMutation, RemoveSecondFactorMutationVariables>;
export const RegenerateRecoveryCodesDocument = new TypedDocumentString(`
    mutation RegenerateRecoveryCodes {
  regenerateRecoveryCodes
}
    `) as unknown as TypedDocumentString<RegenerateRecoveryCodesMutation, RegenerateRecoveryCodesMutationVariables>;
export const AuditLogDocument = new TypedDocumentString(`
    query AuditLog($first: Int!, $after: String, $userId: ID, $actorUserId: ID, $types: [AuthEventType!]) {
  authEvents(
    first: $first
    after: $after
    userId: $userId
    actorUserId: $actorUserId
    types: $types
  ) {
    totalCount
    edges {
      node {
        id
        type
        reason
        method
        recoveryCodesLeft
        createdAt
        origin
        userId
        user {
          username
        }
        actorUserId
        actor {
          username
        }
        username
        ipAddress
        userAgent
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    `) as unknown as TypedDocumentString<AuditLogQuery, AuditLogQueryVariables>;
export const StatsDocument = new TypedDocumentString(`
    query Stats {
  sessionStats {
    activeSessions
    activeUsers
    sessionsStartedLast24h
    sessionsEndedLast24h
    endReasonsLast24h {
      reason
      count
    }
  }
}
    `) as unknown as TypedDocumentString<StatsQuery, StatsQueryVariables>;
export const ConsoleWebhooksDocument = new TypedDocumentString(`
    query ConsoleWebhooks($deliveries: Int!) {
  webhooks {
    ...WebhookRow
    deliveries(first: $deliveries) {
      totalCount
      edges {
        node {
          ...DeliveryRow
        }
      }
    }
  }
}
    fragment WebhookRow on Webhook {
  id
  url
  events
  enabled
  description
  createdAt
}
fragment DeliveryRow on WebhookDelivery {
  id
  eventType
  status
  attempts
  lastStatusCode
  lastError
  lastAttemptAt
  nextAttemptAt
  createdAt
  deliveredAt
}`) as unknown as TypedDocumentString<ConsoleWebhooksQuery, ConsoleWebhooksQueryVariables>;
export const ConsoleCreateWebhookDocument = new TypedDocumentString(`
    mutation ConsoleCreateWebhook($url: String!, $events: [WebhookEventType!]!, $description: String) {
  createWebhook(url: $url, events: $events, description: $description) {
    webhook {
      ...WebhookRow
    }
    secret
  }
}
    fragment WebhookRow on Webhook {
  id
  url
  events
  enabled
  description
  createdAt
}`) as unknown as TypedDocumentString<ConsoleCreateWebhookMutation, ConsoleCreateWebhookMutationVariables>;
export const SetWebhookEnabledDocument = new TypedDocumentString(`
    mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {
  updateWebhook(id: $id, enabled: $enabled) {
    ...WebhookRow
  }
}
    fragment WebhookRow on Webhook {
  id
  url
  events
  enabled
  description
  createdAt
}`) as unknown as TypedDocumentString<SetWebhookEnabledMutation, SetWebhookEnabledMutationVariables>;
export const ConsoleRotateWebhookSecretDocument = new TypedDocumentString(`
    mutation ConsoleRotateWebhookSecret($id: ID!) {
  rotateWebhookSecret(id: $id) {
    webhook {
      ...WebhookRow
    }
    secret
  }
}
    fragment WebhookRow on Webhook {
  id
  url
  events
  enabled
  description
  createdAt
}`) as unknown as TypedDocumentString<ConsoleRotateWebhookSecretMutation, ConsoleRotateWebhookSecretMutationVariables>;
export const ConsoleDeleteWebhookDocument = new TypedDocumentString(`
    mutation ConsoleDeleteWebhook($id: ID!) {
  deleteWebhook(id: $id)
}
    `) as unknown as TypedDocumentString<ConsoleDeleteWebhookMutation, ConsoleDeleteWebhookMutationVariables>;
export const RetryDeliveryDocument = new TypedDocumentString(`
    mutation RetryDelivery($id: ID!) {
  retryWebhookDelivery(id: $id) {
    ...DeliveryRow
  }
}
    fragment DeliveryRow on WebhookDelivery {
  id
  eventType
  status
  attempts
  lastStatusCode
  lastError
  lastAttemptAt
  nextAttemptAt
  createdAt
  deliveredAt
}`) as unknown as TypedDocumentString<RetryDeliveryMutation, RetryDeliveryMutationVariables>;
export const ConsoleServiceTokensDocument = new TypedDocumentString(`
    query ConsoleServiceTokens {
  serviceTokens {
    ...ServiceTokenRow
  }
}
    fragment ServiceTokenRow on ServiceToken {
  id
  name
  scopes
  createdAt
  createdBy {
    id
    username
  }
  lastUsedAt
  revokedAt
}`) as unknown as TypedDocumentString<ConsoleServiceTokensQuery, ConsoleServiceTokensQueryVariables>;
export const ConsoleCreateServiceTokenDocument = new TypedDocumentString(`
    mutation ConsoleCreateServiceToken($name: String!, $scopes: [ServiceScope!]!) {
  createServiceToken(name: $name, scopes: $scopes) {
    serviceToken {
      ...ServiceTokenRow
    }
    token
  }
}
    fragment ServiceTokenRow on ServiceToken {
  id
  name
  scopes
  createdAt
  createdBy {
    id
    username
  }
  lastUsedAt
  revokedAt
}`) as unknown as TypedDocumentString<ConsoleCreateServiceTokenMutation, ConsoleCreateServiceTokenMutationVariables>;
export const ConsoleRevokeServiceTokenDocument = new TypedDocumentString(`
    mutation ConsoleRevokeServiceToken($id: ID!) {
  revokeServiceToken(id: $id) {
    ...ServiceTokenRow
  }
}
    fragment ServiceTokenRow on ServiceToken {
  id
  name
  scopes
  createdAt
  createdBy {
    id
    username
  }
  lastUsedAt
  revokedAt
}`) as unknown as TypedDocumentString<ConsoleRevokeServiceTokenMutation, ConsoleRevokeServiceTokenMutationVariables>;