/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment SessionRow on Session {\n    id\n    current\n    createdAt\n    lastSeenAt\n    userAgent\n    ipAddress\n    authenticationMethods\n    deviceBound\n    deviceBoundAt\n    user {\n      id\n      username\n    }\n  }\n": typeof types.SessionRowFragmentDoc,
    "\n  query MySessions {\n    me {\n      id\n      sessions {\n        ...SessionRow\n      }\n    }\n  }\n": typeof types.MySessionsDocument,
    "\n  mutation EndSession($sessionId: ID!) {\n    kickSession(sessionId: $sessionId) {\n      id\n      active\n    }\n  }\n": typeof types.EndSessionDocument,
    "\n  mutation EndOtherSessions {\n    revokeOtherSessions\n  }\n": typeof types.EndOtherSessionsDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  query AllSessions($first: Int!, $after: String, $userId: ID) {\n    activeSessions(first: $first, after: $after, userId: $userId) {\n      totalCount\n      edges {\n        node {\n          ...SessionRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.AllSessionsDocument,
    "\n  subscription SessionEvents {\n    sessionEvents {\n      type\n      reason\n      session {\n        ...SessionRow\n      }\n    }\n  }\n": typeof types.SessionEventsDocument,
    "\n  mutation EndUserSessions($userId: ID!) {\n    revokeUserSessions(userId: $userId)\n  }\n": typeof types.EndUserSessionsDocument,
    "\n  fragment UserRow on User {\n    id\n    username\n    role\n    disabled\n    activeSessionCount\n    sessionLimit\n    secondFactors {\n      id\n      kind\n    }\n  }\n": typeof types.UserRowFragmentDoc,
    "\n  query Users($first: Int!, $after: String, $usernameContains: String) {\n    users(first: $first, after: $after, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          ...UserRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  query Usernames($first: Int!, $usernameContains: String) {\n    users(first: $first, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          id\n          username\n        }\n      }\n    }\n  }\n": typeof types.UsernamesDocument,
    "\n  mutation CreateUser($username: String!, $password: String!, $role: Role!) {\n    createUser(username: $username, password: $password, role: $role) {\n      ...UserRow\n    }\n  }\n": typeof types.CreateUserDocument,
    "\n  mutation SetSessionLimit($userId: ID!, $limit: Int) {\n    setUserSessionLimit(userId: $userId, limit: $limit) {\n      ...UserRow\n    }\n  }\n": typeof types.SetSessionLimitDocument,
    "\n  mutation DisableUser($userId: ID!) {\n    disableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n": typeof types.DisableUserDocument,
    "\n  mutation EnableUser($userId: ID!) {\n    enableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n": typeof types.EnableUserDocument,
    "\n  mutation DeleteUser($userId: ID!) {\n    deleteUser(userId: $userId)\n  }\n": typeof types.DeleteUserDocument,
    "\n  mutation ResetPassword($userId: ID!, $newPassword: String!) {\n    resetPassword(userId: $userId, newPassword: $newPassword) {\n      ...UserRow\n    }\n  }\n": typeof types.ResetPasswordDocument,
    "\n  mutation EndEverySession {\n    revokeAllSessions\n  }\n": typeof types.EndEverySessionDocument,
    "\n  mutation Reauthenticate($password: String, $code: String, $passkeyResponse: JSON) {\n    reauthenticate(password: $password, code: $code, passkeyResponse: $passkeyResponse) {\n      id\n      authenticatedAt\n    }\n  }\n": typeof types.ReauthenticateDocument,
    "\n  mutation ResetSecondFactors($userId: ID!) {\n    resetSecondFactors(userId: $userId) {\n      ...UserRow\n    }\n  }\n": typeof types.ResetSecondFactorsDocument,
    "\n  fragment SecondFactorRow on SecondFactor {\n    id\n    kind\n    name\n    createdAt\n    lastUsedAt\n  }\n": typeof types.SecondFactorRowFragmentDoc,
    "\n  query SecondFactors {\n    me {\n      id\n      secondFactors {\n        ...SecondFactorRow\n      }\n    }\n  }\n": typeof types.SecondFactorsDocument,
    "\n  mutation StartTotpEnrollment {\n    startTotpEnrollment {\n      secret\n      otpauthUri\n    }\n  }\n": typeof types.StartTotpEnrollmentDocument,
    "\n  mutation ConfirmTotpEnrollment($code: String!, $name: String) {\n    confirmTotpEnrollment(code: $code, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n": typeof types.ConfirmTotpEnrollmentDocument,
    "\n  mutation StartPasskeyRegistration {\n    startPasskeyRegistration\n  }\n": typeof types.StartPasskeyRegistrationDocument,
    "\n  mutation FinishPasskeyRegistration($response: JSON!, $name: String) {\n    finishPasskeyRegistration(response: $response, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n": typeof types.FinishPasskeyRegistrationDocument,
    "\n  mutation RemoveSecondFactor($id: ID!) {\n    removeSecondFactor(id: $id)\n  }\n": typeof types.RemoveSecondFactorDocument,
    "\n  mutation RegenerateRecoveryCodes {\n    regenerateRecoveryCodes\n  }\n": typeof types.RegenerateRecoveryCodesDocument,
    "\n  query AuditLog($first: Int!, $after: String, $userId: ID, $actorUserId: ID, $types: [AuthEventType!]) {\n    authEvents(first: $first, after: $after, userId: $userId, actorUserId: $actorUserId, types: $types) {\n      totalCount\n      edges {\n        node {\n          id\n          type\n          reason\n          method\n          recoveryCodesLeft\n          createdAt\n          origin\n          userId\n          user {\n            username\n          }\n          actorUserId\n          actor {\n            username\n          }\n          username\n          ipAddress\n          userAgent\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query Stats {\n    sessionStats {\n      activeSessions\n      activeUsers\n      sessionsStartedLast24h\n      sessionsEndedLast24h\n      endReasonsLast24h {\n        reason\n        count\n      }\n    }\n  }\n": typeof types.StatsDocument,
    "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    events\n    enabled\n    description\n    createdAt\n  }\n": typeof types.WebhookRowFragmentDoc,
    "\n  fragment DeliveryRow on WebhookDelivery {\n    id\n    eventType\n    status\n    attempts\n    lastStatusCode\n    lastError\n    lastAttemptAt\n    nextAttemptAt\n    createdAt\n    deliveredAt\n  }\n": typeof types.DeliveryRowFragmentDoc,
    "\n  query ConsoleWebhooks($deliveries: Int!) {\n    webhooks {\n      ...WebhookRow\n      deliveries(first: $deliveries) {\n        totalCount\n        edges {\n          node {\n            ...DeliveryRow\n          }\n        }\n      }\n    }\n  }\n": typeof types.ConsoleWebhooksDocument,
    "\n  mutation ConsoleCreateWebhook($url: String!, $events: [WebhookEventType!]!, $description: String) {\n    createWebhook(url: $url, events: $events, description: $description) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n": typeof types.ConsoleCreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, enabled: $enabled) {\n      ...WebhookRow\n    }\n  }\n": typeof types.SetWebhookEnabledDocument,
    "\n  mutation ConsoleRotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n": typeof types.ConsoleRotateWebhookSecretDocument,
    "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": typeof types.ConsoleDeleteWebhookDocument,
    "\n  mutation RetryDelivery($id: ID!) {\n    retryWebhookDelivery(id: $id) {\n      ...DeliveryRow\n    }\n  }\n": typeof types.RetryDeliveryDocument,
    "\n  fragment ServiceTokenRow on ServiceToken {\n    id\n    name\n    scopes\n    createdAt\n    createdBy {\n      id\n      username\n    }\n    lastUsedAt\n    revokedAt\n  }\n": typeof types.ServiceTokenRowFragmentDoc,
    "\n  query ConsoleServiceTokens {\n    serviceTokens {\n      ...ServiceTokenRow\n    }\n  }\n": typeof types.ConsoleServiceTokensDocument,
    "\n  mutation ConsoleCreateServiceToken($name: String!, $scopes: [ServiceScope!]!) {\n    createServiceToken(name: $name, scopes: $scopes) {\n      serviceToken {\n        ...ServiceTokenRow\n      }\n      token\n    }\n  }\n": typeof types.ConsoleCreateServiceTokenDocument,
    "\n  mutation ConsoleRevokeServiceToken($id: ID!) {\n    revokeServiceToken(id: $id) {\n      ...ServiceTokenRow\n    }\n  }\n": typeof types.ConsoleRevokeServiceTokenDocument,
};
const documents: Documents = {
    "\n  fragment SessionRow on Session {\n    id\n    current\n    createdAt\n    lastSeenAt\n    userAgent\n    ipAddress\n    authenticationMethods\n    deviceBound\n    deviceBoundAt\n    user {\n      id\n      username\n    }\n  }\n": types.SessionRowFragmentDoc,
    "\n  query MySessions {\n    me {\n      id\n      sessions {\n        ...SessionRow\n      }\n    }\n  }\n": types.MySessionsDocument,
    "\n  mutation EndSession($sessionId: ID!) {\n    kickSession(sessionId: $sessionId) {\n      id\n      active\n    }\n  }\n": types.EndSessionDocument,
    "\n  mutation EndOtherSessions {\n    revokeOtherSessions\n  }\n": types.EndOtherSessionsDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n  }\n": types.ChangePasswordDocument,
    "\n  query AllSessions($first: Int!, $after: String, $userId: ID) {\n    activeSessions(first: $first, after: $after, userId: $userId) {\n      totalCount\n      edges {\n        node {\n          ...SessionRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.AllSessionsDocument,
    "\n  subscription SessionEvents {\n    sessionEvents {\n      type\n      reason\n      session {\n        ...SessionRow\n      }\n    }\n  }\n": types.SessionEventsDocument,
    "\n  mutation EndUserSessions($userId: ID!) {\n    revokeUserSessions(userId: $userId)\n  }\n": types.EndUserSessionsDocument,
    "\n  fragment UserRow on User {\n    id\n    username\n    role\n    disabled\n    activeSessionCount\n    sessionLimit\n    secondFactors {\n      id\n      kind\n    }\n  }\n": types.UserRowFragmentDoc,
    "\n  query Users($first: Int!, $after: String, $usernameContains: String) {\n    users(first: $first, after: $after, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          ...UserRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.UsersDocument,
    "\n  query Usernames($first: Int!, $usernameContains: String) {\n    users(first: $first, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          id\n          username\n        }\n      }\n    }\n  }\n": types.UsernamesDocument,
    "\n  mutation CreateUser($username: String!, $password: String!, $role: Role!) {\n    createUser(username: $username, password: $password, role: $role) {\n      ...UserRow\n    }\n  }\n": types.CreateUserDocument,
    "\n  mutation SetSessionLimit($userId: ID!, $limit: Int) {\n    setUserSessionLimit(userId: $userId, limit: $limit) {\n      ...UserRow\n    }\n  }\n": types.SetSessionLimitDocument,
    "\n  mutation DisableUser($userId: ID!) {\n    disableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n": types.DisableUserDocument,
    "\n  mutation EnableUser($userId: ID!) {\n    enableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n": types.EnableUserDocument,
    "\n  mutation DeleteUser($userId: ID!) {\n    deleteUser(userId: $userId)\n  }\n": types.DeleteUserDocument,
    "\n  mutation ResetPassword($userId: ID!, $newPassword: String!) {\n    resetPassword(userId: $userId, newPassword: $newPassword) {\n      ...UserRow\n    }\n  }\n": types.ResetPasswordDocument,
    "\n  mutation EndEverySession {\n    revokeAllSessions\n  }\n": types.EndEverySessionDocument,
    "\n  mutation Reauthenticate($password: String, $code: String, $passkeyResponse: JSON) {\n    reauthenticate(password: $password, code: $code, passkeyResponse: $passkeyResponse) {\n      id\n      authenticatedAt\n    }\n  }\n": types.ReauthenticateDocument,
    "\n  mutation ResetSecondFactors($userId: ID!) {\n    resetSecondFactors(userId: $userId) {\n      ...UserRow\n    }\n  }\n": types.ResetSecondFactorsDocument,
    "\n  fragment SecondFactorRow on SecondFactor {\n    id\n    kind\n    name\n    createdAt\n    lastUsedAt\n  }\n": types.SecondFactorRowFragmentDoc,
    "\n  query SecondFactors {\n    me {\n      id\n      secondFactors {\n        ...SecondFactorRow\n      }\n    }\n  }\n": types.SecondFactorsDocument,
    "\n  mutation StartTotpEnrollment {\n    startTotpEnrollment {\n      secret\n      otpauthUri\n    }\n  }\n": types.StartTotpEnrollmentDocument,
    "\n  mutation ConfirmTotpEnrollment($code: String!, $name: String) {\n    confirmTotpEnrollment(code: $code, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n": types.ConfirmTotpEnrollmentDocument,
    "\n  mutation StartPasskeyRegistration {\n    startPasskeyRegistration\n  }\n": types.StartPasskeyRegistrationDocument,
    "\n  mutation FinishPasskeyRegistration($response: JSON!, $name: String) {\n    finishPasskeyRegistration(response: $response, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n": types.FinishPasskeyRegistrationDocument,
    "\n  mutation RemoveSecondFactor($id: ID!) {\n    removeSecondFactor(id: $id)\n  }\n": types.RemoveSecondFactorDocument,
    "\n  mutation RegenerateRecoveryCodes {\n    regenerateRecoveryCodes\n  }\n": types.RegenerateRecoveryCodesDocument,
    "\n  query AuditLog($first: Int!, $after: String, $userId: ID, $actorUserId: ID, $types: [AuthEventType!]) {\n    authEvents(first: $first, after: $after, userId: $userId, actorUserId: $actorUserId, types: $types) {\n      totalCount\n      edges {\n        node {\n          id\n          type\n          reason\n          method\n          recoveryCodesLeft\n          createdAt\n          origin\n          userId\n          user {\n            username\n          }\n          actorUserId\n          actor {\n            username\n          }\n          username\n          ipAddress\n          userAgent\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query Stats {\n    sessionStats {\n      activeSessions\n      activeUsers\n      sessionsStartedLast24h\n      sessionsEndedLast24h\n      endReasonsLast24h {\n        reason\n        count\n      }\n    }\n  }\n": types.StatsDocument,
    "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    events\n    enabled\n    description\n    createdAt\n  }\n": types.WebhookRowFragmentDoc,
    "\n  fragment DeliveryRow on WebhookDelivery {\n    id\n    eventType\n    status\n    attempts\n    lastStatusCode\n    lastError\n    lastAttemptAt\n    nextAttemptAt\n    createdAt\n    deliveredAt\n  }\n": types.DeliveryRowFragmentDoc,
    "\n  query ConsoleWebhooks($deliveries: Int!) {\n    webhooks {\n      ...WebhookRow\n      deliveries(first: $deliveries) {\n        totalCount\n        edges {\n          node {\n            ...DeliveryRow\n          }\n        }\n      }\n    }\n  }\n": types.ConsoleWebhooksDocument,
    "\n  mutation ConsoleCreateWebhook($url: String!, $events: [WebhookEventType!]!, $description: String) {\n    createWebhook(url: $url, events: $events, description: $description) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n": types.ConsoleCreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, enabled: $enabled) {\n      ...WebhookRow\n    }\n  }\n": types.SetWebhookEnabledDocument,
    "\n  mutation ConsoleRotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n": types.ConsoleRotateWebhookSecretDocument,
    "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n": types.ConsoleDeleteWebhookDocument,
    "\n  mutation RetryDelivery($id: ID!) {\n    retryWebhookDelivery(id: $id) {\n      ...DeliveryRow\n    }\n  }\n": types.RetryDeliveryDocument,
    "\n  fragment ServiceTokenRow on ServiceToken {\n    id\n    name\n    scopes\n    createdAt\n    createdBy {\n      id\n      username\n    }\n    lastUsedAt\n    revokedAt\n  }\n": types.ServiceTokenRowFragmentDoc,
    "\n  query ConsoleServiceTokens {\n    serviceTokens {\n      ...ServiceTokenRow\n    }\n  }\n": types.ConsoleServiceTokensDocument,
    "\n  mutation ConsoleCreateServiceToken($name: String!, $scopes: [ServiceScope!]!) {\n    createServiceToken(name: $name, scopes: $scopes) {\n      serviceToken {\n        ...ServiceTokenRow\n      }\n      token\n    }\n  }\n": types.ConsoleCreateServiceTokenDocument,
    "\n  mutation ConsoleRevokeServiceToken($id: ID!) {\n    revokeServiceToken(id: $id) {\n      ...ServiceTokenRow\n    }\n  }\n": types.ConsoleRevokeServiceTokenDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SessionRow on Session {\n    id\n    current\n    createdAt\n    lastSeenAt\n    userAgent\n    ipAddress\n    authenticationMethods\n    deviceBound\n    deviceBoundAt\n    user {\n      id\n      username\n    }\n  }\n"): typeof import('./graphql').SessionRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MySessions {\n    me {\n      id\n      sessions {\n        ...SessionRow\n      }\n    }\n  }\n"): typeof import('./graphql').MySessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndSession($sessionId: ID!) {\n    kickSession(sessionId: $sessionId) {\n      id\n      active\n    }\n  }\n"): typeof import('./graphql').EndSessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndOtherSessions {\n    revokeOtherSessions\n  }\n"): typeof import('./graphql').EndOtherSessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n  }\n"): typeof import('./graphql').ChangePasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AllSessions($first: Int!, $after: String, $userId: ID) {\n    activeSessions(first: $first, after: $after, userId: $userId) {\n      totalCount\n      edges {\n        node {\n          ...SessionRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').AllSessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionEvents {\n    sessionEvents {\n      type\n      reason\n      session {\n        ...SessionRow\n      }\n    }\n  }\n"): typeof import('./graphql').SessionEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndUserSessions($userId: ID!) {\n    revokeUserSessions(userId: $userId)\n  }\n"): typeof import('./graphql').EndUserSessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UserRow on User {\n    id\n    username\n    role\n    disabled\n    activeSessionCount\n    sessionLimit\n    secondFactors {\n      id\n      kind\n    }\n  }\n"): typeof import('./graphql').UserRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($first: Int!, $after: String, $usernameContains: String) {\n    users(first: $first, after: $after, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          ...UserRow\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').UsersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Usernames($first: Int!, $usernameContains: String) {\n    users(first: $first, usernameContains: $usernameContains) {\n      totalCount\n      edges {\n        node {\n          id\n          username\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').UsernamesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUser($username: String!, $password: String!, $role: Role!) {\n    createUser(username: $username, password: $password, role: $role) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').CreateUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetSessionLimit($userId: ID!, $limit: Int) {\n    setUserSessionLimit(userId: $userId, limit: $limit) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').SetSessionLimitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableUser($userId: ID!) {\n    disableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').DisableUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnableUser($userId: ID!) {\n    enableUser(userId: $userId) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').EnableUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteUser($userId: ID!) {\n    deleteUser(userId: $userId)\n  }\n"): typeof import('./graphql').DeleteUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($userId: ID!, $newPassword: String!) {\n    resetPassword(userId: $userId, newPassword: $newPassword) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').ResetPasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndEverySession {\n    revokeAllSessions\n  }\n"): typeof import('./graphql').EndEverySessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Reauthenticate($password: String, $code: String, $passkeyResponse: JSON) {\n    reauthenticate(password: $password, code: $code, passkeyResponse: $passkeyResponse) {\n      id\n      authenticatedAt\n    }\n  }\n"): typeof import('./graphql').ReauthenticateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetSecondFactors($userId: ID!) {\n    resetSecondFactors(userId: $userId) {\n      ...UserRow\n    }\n  }\n"): typeof import('./graphql').ResetSecondFactorsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SecondFactorRow on SecondFactor {\n    id\n    kind\n    name\n    createdAt\n    lastUsedAt\n  }\n"): typeof import('./graphql').SecondFactorRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SecondFactors {\n    me {\n      id\n      secondFactors {\n        ...SecondFactorRow\n      }\n    }\n  }\n"): typeof import('./graphql').SecondFactorsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartTotpEnrollment {\n    startTotpEnrollment {\n      secret\n      otpauthUri\n    }\n  }\n"): typeof import('./graphql').StartTotpEnrollmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTotpEnrollment($code: String!, $name: String) {\n    confirmTotpEnrollment(code: $code, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n"): typeof import('./graphql').ConfirmTotpEnrollmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartPasskeyRegistration {\n    startPasskeyRegistration\n  }\n"): typeof import('./graphql').StartPasskeyRegistrationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FinishPasskeyRegistration($response: JSON!, $name: String) {\n    finishPasskeyRegistration(response: $response, name: $name) {\n      factor {\n        ...SecondFactorRow\n      }\n      recoveryCodes\n    }\n  }\n"): typeof import('./graphql').FinishPasskeyRegistrationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveSecondFactor($id: ID!) {\n    removeSecondFactor(id: $id)\n  }\n"): typeof import('./graphql').RemoveSecondFactorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegenerateRecoveryCodes {\n    regenerateRecoveryCodes\n  }\n"): typeof import('./graphql').RegenerateRecoveryCodesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($first: Int!, $after: String, $userId: ID, $actorUserId: ID, $types: [AuthEventType!]) {\n    authEvents(first: $first, after: $after, userId: $userId, actorUserId: $actorUserId, types: $types) {\n      totalCount\n      edges {\n        node {\n          id\n          type\n          reason\n          method\n          recoveryCodesLeft\n          createdAt\n          origin\n          userId\n          user {\n            username\n          }\n          actorUserId\n          actor {\n            username\n          }\n          username\n          ipAddress\n          userAgent\n        }\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): typeof import('./graphql').AuditLogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Stats {\n    sessionStats {\n      activeSessions\n      activeUsers\n      sessionsStartedLast24h\n      sessionsEndedLast24h\n      endReasonsLast24h {\n        reason\n        count\n      }\n    }\n  }\n"): typeof import('./graphql').StatsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookRow on Webhook {\n    id\n    url\n    events\n    enabled\n    description\n    createdAt\n  }\n"): typeof import('./graphql').WebhookRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeliveryRow on WebhookDelivery {\n    id\n    eventType\n    status\n    attempts\n    lastStatusCode\n    lastError\n    lastAttemptAt\n    nextAttemptAt\n    createdAt\n    deliveredAt\n  }\n"): typeof import('./graphql').DeliveryRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleWebhooks($deliveries: Int!) {\n    webhooks {\n      ...WebhookRow\n      deliveries(first: $deliveries) {\n        totalCount\n        edges {\n          node {\n            ...DeliveryRow\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleWebhooksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateWebhook($url: String!, $events: [WebhookEventType!]!, $description: String) {\n    createWebhook(url: $url, events: $events, description: $description) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, enabled: $enabled) {\n      ...WebhookRow\n    }\n  }\n"): typeof import('./graphql').SetWebhookEnabledDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      webhook {\n        ...WebhookRow\n      }\n      secret\n    }\n  }\n"): typeof import('./graphql').ConsoleRotateWebhookSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id)\n  }\n"): typeof import('./graphql').ConsoleDeleteWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryDelivery($id: ID!) {\n    retryWebhookDelivery(id: $id) {\n      ...DeliveryRow\n    }\n  }\n"): typeof import('./graphql').RetryDeliveryDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ServiceTokenRow on ServiceToken {\n    id\n    name\n    scopes\n    createdAt\n    createdBy {\n      id\n      username\n    }\n    lastUsedAt\n    revokedAt\n  }\n"): typeof import('./graphql').ServiceTokenRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleServiceTokens {\n    serviceTokens {\n      ...ServiceTokenRow\n    }\n  }\n"): typeof import('./graphql').ConsoleServiceTokensDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateServiceToken($name: String!, $scopes: [ServiceScope!]!) {\n    createServiceToken(name: $name, scopes: $scopes) {\n      serviceToken {\n        ...ServiceTokenRow\n      }\n      token\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateServiceTokenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRevokeServiceToken($id: ID!) {\n    revokeServiceToken(id: $id) {\n      ...ServiceTokenRow\n    }\n  }\n"): typeof import('./graphql').ConsoleRevokeServiceTokenDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
