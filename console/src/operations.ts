/**
 * Every operation the console sends, in one place, besides the sign-in steps, which the page's
 * client (gatehouse/client) sends itself. `npm run codegen` reads this file and types each
 * document (console/src/gql/, as strings), so a field the schema lacks fails the typecheck.
 */
import { graphql } from './gql/index.js';

export const SessionRowFields = graphql(`
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
`);

export const MySessionsDocument = graphql(`
  query MySessions {
    me {
      id
      sessions {
        ...SessionRow
      }
    }
  }
`);

export const EndSessionDocument = graphql(`
  mutation EndSession($sessionId: ID!) {
    kickSession(sessionId: $sessionId) {
      id
      active
    }
  }
`);

export const EndOtherSessionsDocument = graphql(`
  mutation EndOtherSessions {
    revokeOtherSessions
  }
`);

export const ChangePasswordDocument = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`);

export const AllSessionsDocument = graphql(`
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
`);

export const SessionEventsDocument = graphql(`
  subscription SessionEvents {
    sessionEvents {
      type
      reason
      session {
        ...SessionRow
      }
    }
  }
`);

export const EndUserSessionsDocument = graphql(`
  mutation EndUserSessions($userId: ID!) {
    revokeUserSessions(userId: $userId)
  }
`);

export const UserRowFields = graphql(`
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
`);

export const UsersDocument = graphql(`
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
`);

export const UsernamesDocument = graphql(`
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
`);

export const CreateUserDocument = graphql(`
  mutation CreateUser($username: String!, $password: String!, $role: Role!) {
    createUser(username: $username, password: $password, role: $role) {
      ...UserRow
    }
  }
`);

export const SetSessionLimitDocument = graphql(`
  mutation SetSessionLimit($userId: ID!, $limit: Int) {
    setUserSessionLimit(userId: $userId, limit: $limit) {
      ...UserRow
    }
  }
`);

export const DisableUserDocument = graphql(`
  mutation DisableUser($userId: ID!) {
    disableUser(userId: $userId) {
      ...UserRow
    }
  }
`);

export const EnableUserDocument = graphql(`
  mutation EnableUser($userId: ID!) {
    enableUser(userId: $userId) {
      ...UserRow
    }
  }
`);

export const DeleteUserDocument = graphql(`
  mutation DeleteUser($userId: ID!) {
    deleteUser(userId: $userId)
  }
`);

export const ResetPasswordDocument = graphql(`
  mutation ResetPassword($userId: ID!, $newPassword: String!) {
    resetPassword(userId: $userId, newPassword: $newPassword) {
      ...UserRow
    }
  }
`);

export const EndEverySessionDocument = graphql(`
  mutation EndEverySession {
    revokeAllSessions
  }
`);

export const ReauthenticateDocument = graphql(`
  mutation Reauthenticate($password: String, $code: String, $passkeyResponse: JSON) {
    reauthenticate(password: $password, code: $code, passkeyResponse: $passkeyResponse) {
      id
      authenticatedAt
    }
  }
`);

export const ResetSecondFactorsDocument = graphql(`
  mutation ResetSecondFactors($userId: ID!) {
    resetSecondFactors(userId: $userId) {
      ...UserRow
    }
  }
`);

export const SecondFactorRowFields = graphql(`
  fragment SecondFactorRow on SecondFactor {
    id
    kind
    name
    createdAt
    lastUsedAt
  }
`);

export const SecondFactorsDocument = graphql(`
  query SecondFactors {
    me {
      id
      secondFactors {
        ...SecondFactorRow
      }
    }
  }
`);

export const StartTotpEnrollmentDocument = graphql(`
  mutation StartTotpEnrollment {
    startTotpEnrollment {
      secret
      otpauthUri
    }
  }
`);

export const ConfirmTotpEnrollmentDocument = graphql(`
  mutation ConfirmTotpEnrollment($code: String!, $name: String) {
    confirmTotpEnrollment(code: $code, name: $name) {
      factor {
        ...SecondFactorRow
      }
      recoveryCodes
    }
  }
`);

export const StartPasskeyRegistrationDocument = graphql(`
  mutation StartPasskeyRegistration {
    startPasskeyRegistration
  }
`);

export const FinishPasskeyRegistrationDocument = graphql(`
  mutation FinishPasskeyRegistration($response: JSON!, $name: String) {
    finishPasskeyRegistration(response: $response, name: $name) {
      factor {
        ...SecondFactorRow
      }
      recoveryCodes
    }
  }
`);

export const RemoveSecondFactorDocument = graphql(`
  mutation RemoveSecondFactor($id: ID!) {
    removeSecondFactor(id: $id)
  }
`);

export const RegenerateRecoveryCodesDocument = graphql(`
  mutation RegenerateRecoveryCodes {
    regenerateRecoveryCodes
  }
`);

export const AuditLogDocument = graphql(`
  query AuditLog($first: Int!, $after: String, $userId: ID, $actorUserId: ID, $types: [AuthEventType!]) {
    authEvents(first: $first, after: $after, userId: $userId, actorUserId: $actorUserId, types: $types) {
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
`);

export const StatsDocument = graphql(`
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
`);

export const WebhookRowFields = graphql(`
  fragment WebhookRow on Webhook {
    id
    url
    events
    enabled
    description
    createdAt
  }
`);

export const DeliveryRowFields = graphql(`
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
`);

export const WebhooksDocument = graphql(`
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
`);

export const CreateWebhookDocument = graphql(`
  mutation ConsoleCreateWebhook($url: String!, $events: [WebhookEventType!]!, $description: String) {
    createWebhook(url: $url, events: $events, description: $description) {
      webhook {
        ...WebhookRow
      }
      secret
    }
  }
`);

export const SetWebhookEnabledDocument = graphql(`
  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {
    updateWebhook(id: $id, enabled: $enabled) {
      ...WebhookRow
    }
  }
`);

export const RotateWebhookSecretDocument = graphql(`
  mutation ConsoleRotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) {
      webhook {
        ...WebhookRow
      }
      secret
    }
  }
`);

export const DeleteWebhookDocument = graphql(`
  mutation ConsoleDeleteWebhook($id: ID!) {
    deleteWebhook(id: $id)
  }
`);

export const RetryDeliveryDocument = graphql(`
  mutation RetryDelivery($id: ID!) {
    retryWebhookDelivery(id: $id) {
      ...DeliveryRow
    }
  }
`);

export const ServiceTokenRowFields = graphql(`
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
`);

export const ServiceTokensDocument = graphql(`
  query ConsoleServiceTokens {
    serviceTokens {
      ...ServiceTokenRow
    }
  }
`);

export const CreateServiceTokenDocument = graphql(`
  mutation ConsoleCreateServiceToken($name: String!, $scopes: [ServiceScope!]!) {
    createServiceToken(name: $name, scopes: $scopes) {
      serviceToken {
        ...ServiceTokenRow
      }
      token
    }
  }
`);

export const RevokeServiceTokenDocument = graphql(`
  mutation ConsoleRevokeServiceToken($id: ID!) {
    revokeServiceToken(id: $id) {
      ...ServiceTokenRow
    }
  }
`);
